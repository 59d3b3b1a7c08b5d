/**
 * Loads `.env` and `.env.sip` with dotenv, validates every variable with its zod rule, and reports
 * every problem at once — one line per variable, naming it and what is expected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'dotenv';
import { VARIABLES, type AppConfig, type VariableGroup, type VariableSpec } from './variables.js';

export type { AppConfig };

/**
 * An error made of problems an operator can fix, one line each (a variable, a file's field):
 * commands print the lines as they are (src/cli/index.ts).
 */
export class ProblemsError extends Error {
  constructor(
    readonly problems: readonly string[],
    message = problems.join('\n'),
  ) {
    super(message);
    this.name = 'ProblemsError';
  }
}

/** Thrown when the configuration is incomplete or malformed; `problems` holds one line each. */
export class ConfigError extends ProblemsError {
  constructor(problems: readonly string[]) {
    super(problems, `configuration invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Groups whose variables must be set; `livekit` is always included. */
  readonly need?: readonly VariableGroup[];
  /** The process environment; it wins over the files. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Env files read in order (the first to set a variable wins). Default `.env`, `.env.sip` in `cwd`. */
  readonly files?: readonly string[];
  /** Folder the default files are looked up in. Default `process.cwd()`. */
  readonly cwd?: string;
}

/** Reads env files that exist (a missing file is not an error: the environment may hold everything). */
export function readEnvFiles(files: readonly string[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const file of files) {
    if (!existsSync(file)) continue;
    const parsed = parse(readFileSync(file));
    for (const [key, value] of Object.entries(parsed)) {
      if (!(key in merged)) merged[key] = value;
    }
  }
  return merged;
}

/** One variable's typed value (absent: undefined), or the line saying what is wrong with it. */
function readOne(spec: VariableSpec, raw: string | undefined, required: boolean): { value?: unknown; problem?: string } {
  const value = raw?.trim() || undefined;
  if (value === undefined && spec.default === undefined) {
    return required ? { problem: `${spec.name}: missing; expected ${spec.expected} (set it in ${spec.file})` } : {};
  }
  const parsed = spec.schema.safeParse(value ?? spec.default);
  if (parsed.success) return { value: parsed.data };
  const shown = spec.secret ? 'the value' : JSON.stringify(value);
  // A rule's own words (a custom issue, e.g. CLINIC_HOURS naming the entry that is wrong) say more than "not valid".
  const own = spec.secret ? undefined : parsed.error.issues.find((i) => i.code === 'custom' && i.message && i.message !== 'Invalid input')?.message;
  return { problem: `${spec.name}: ${shown} is not valid${own ? ` (${own})` : ''}; expected ${spec.expected}` };
}

/**
 * Loads and validates the configuration, once per process (the worker hands its result to its job
 * processes: src/worker/handoff.ts).
 * @throws {ConfigError} listing every missing required variable and every malformed one, set or not required.
 */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const cwd = options.cwd ?? process.cwd();
  const files = options.files ?? [resolve(cwd, '.env'), resolve(cwd, '.env.sip')];
  const fromFiles = readEnvFiles(files);
  const env = options.env ?? process.env;
  const need = new Set<VariableGroup>(['livekit', ...(options.need ?? [])]);

  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const spec of VARIABLES) {
    const { value, problem } = readOne(spec, env[spec.name] ?? fromFiles[spec.name], need.has(spec.group));
    if (problem) problems.push(problem);
    else if (value !== undefined) config[spec.name] = value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config) as AppConfig;
}

/**
 * The configuration as environment text (every set value as a string), e.g. for the `${VAR}`
 * placeholders of sip_config/.
 */
export function configAsEnv(config: AppConfig): Record<string, string> {
  return Object.fromEntries(Object.entries(config).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])));
}
