/**
 * Configuration: owns reading `.env` / `.env.sip` and validating every variable the product uses.
 * Nothing else in `src/` reads `process.env` directly.
 */
export { configAsEnv, loadConfig, readEnvFiles, ConfigError, ProblemsError, type AppConfig, type LoadConfigOptions } from './load.js';
export { VARIABLES, e164, hostPort, type VariableSpec, type VariableGroup } from './variables.js';
export { parseOpeningHours, isOpen, nextOpening, OpeningHoursError, type OpeningHours, type DayHours } from './hours.js';
