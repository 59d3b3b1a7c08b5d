/**
 * Loads `.env` and `.env.sip` with dotenv, validates every variable with its zod rule, and reports
 * every problem at once — one line per variable, naming it and what is expected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'dotenv';
import { VARIABLES, type VariableGroup, type VariableSpec } from './variables.js';

/** The validated configuration: every variable by name; unset optional ones are absent. */
export type AppConfig = Readonly<Record<string, string | undefined>> & {
  readonly LIVEKIT_URL: string;
  readonly LIVEKIT_API_KEY: string;
  readonly LIVEKIT_API_SECRET: string;
  readonly AGENT_NAME: string;
  readonly DATABASE_PATH: string;
  readonly CLINIC_NAME: string;
  readonly CLINIC_TIMEZONE: string;
  readonly PHONE_DEFAULT_COUNTRY: string;
  readonly MENU_TIMEOUT_MS: string;
  readonly WORKER_PORT: string;
  readonly WORKER_MAX_CALLS: string;
  readonly WORKER_IDLE_PROCESSES: string;
  readonly OUTBOUND_RINGING_TIMEOUT_S: string;
  readonly OUTBOUND_MAX_CALL_S: string;
  readonly GEMINI_MODEL: string;
  readonly GEMINI_VOICE: string;
  readonly SIP_LANGUAGE: string;
  readonly WEB_LANGUAGE: string;
  readonly GOOGLE_GEMINI_BASE_URL?: string;
  readonly LOG_LEVEL: string;
  readonly LOG_FORMAT: 'json' | 'pretty';
  readonly GOOGLE_API_KEY?: string;
  readonly VOICE_MODEL?: 'gemini' | 'openai' | 'keypad';
  readonly OPENAI_API_KEY?: string;
  readonly OPENAI_REALTIME_MODEL: string;
  readonly OPENAI_VOICE: string;
  readonly OPENAI_BASE_URL?: string;
  readonly AGENT_PROMPT_FILE?: string;
  readonly TELNYX_PHONE_NUMBER?: string;
  readonly TELNYX_SIP_SERVER?: string;
  readonly TELNYX_SIP_USER?: string;
  readonly TELNYX_SIP_PASSWORD?: string;
  readonly INBOUND_TRUNK_ID?: string;
  readonly OUTBOUND_TRUNK_ID?: string;
  readonly DISPATCH_RULE_ID?: string;
};

/** Thrown when the configuration is incomplete or malformed; `problems` holds one line each. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`configuration invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
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

function checkOne(spec: VariableSpec, raw: string | undefined, required: boolean): string | undefined {
  const value = raw?.trim();
  if (value === undefined || value === '') {
    if (!required) return undefined;
    return `${spec.name}: missing; expected ${spec.expected} (set it in ${spec.file})`;
  }
  if (spec.schema.safeParse(value).success) return undefined;
  const shown = spec.secret ? 'the value' : JSON.stringify(value);
  return `${spec.name}: ${shown} is not valid; expected ${spec.expected}`;
}

/**
 * Loads and validates the configuration.
 * @throws {ConfigError} listing every missing required variable and every malformed one, set or not required.
 */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const cwd = options.cwd ?? process.cwd();
  const files = options.files ?? [resolve(cwd, '.env'), resolve(cwd, '.env.sip')];
  const fromFiles = readEnvFiles(files);
  const env = options.env ?? process.env;
  const need = new Set<VariableGroup>(['livekit', ...(options.need ?? [])]);

  const problems: string[] = [];
  const config: Record<string, string | undefined> = {};
  for (const spec of VARIABLES) {
    const raw = env[spec.name] ?? fromFiles[spec.name];
    const problem = checkOne(spec, raw, need.has(spec.group));
    if (problem) {
      problems.push(problem);
      continue;
    }
    const value = raw?.trim() || spec.default;
    if (value !== undefined) config[spec.name] = value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config) as AppConfig;
}
