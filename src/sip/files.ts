/**
 * Reading the trunk and dispatch rule files of `sip_config/`: JSON in the shapes LiveKit's
 * `lk sip inbound|outbound|dispatch create` accept, with `${VAR}` placeholders filled from the
 * environment (`.env`, `.env.sip`, then the process environment, which wins).
 */
import { readFileSync } from 'node:fs';
import { ProblemsError } from '../config/index.js';

/** Problems with the files, each reported as `file: field problem; fix`. */
export class SipConfigError extends ProblemsError {
  override name = 'SipConfigError';
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces every `${VAR}` in the string values of `value` (at any depth) with `env[VAR]`.
 * Each placeholder without a value adds one problem naming it and the file.
 */
export function fillPlaceholders(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
  problems: string[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (whole, name: string) => {
      const v = env[name]?.trim();
      if (v) return v;
      const message = `${file}: placeholder \${${name}} has no value; set ${name} in .env.sip (or .env)`;
      if (!problems.includes(message)) problems.push(message);
      return whole;
    });
  }
  if (Array.isArray(value)) return value.map((v) => fillPlaceholders(v, env, file, problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillPlaceholders(v, env, file, problems)]));
  }
  return value;
}

/**
 * Reads a JSON file and fills its placeholders.
 * @throws {SipConfigError} when the file is missing, is not JSON, or has placeholders without values.
 */
export function readConfigFile(path: string, label: string, env: Readonly<Record<string, string | undefined>>): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new SipConfigError([`${label}: file not found; create it (see sip_config/ in the repository for the shape)`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SipConfigError([`${label}: not valid JSON (${(err as Error).message})`]);
  }
  const problems: string[] = [];
  const filled = fillPlaceholders(parsed, env, label, problems);
  if (problems.length) throw new SipConfigError(problems);
  return filled;
}
