/**
 * Logging: owns the pino logger every part of the product writes through — JSON lines by default,
 * pretty-printed for development — and the redaction of secrets and phone numbers in every line,
 * ours and the LiveKit framework's.
 *
 * Each process (the worker, each job process, each script) is expected to:
 * 1. call {@link guardProcessOutput} first thing, so that whatever reaches `process.stdout`/`stderr`
 *    is redacted too (the framework's own logger writes there);
 * 2. once its configuration is loaded, call `registerSecretsIn(config)`, so that the exact values of
 *    its secrets are hidden wherever they appear;
 * 3. while a call is in progress, hold `registerPrivateValues([patient names…])` and call the
 *    returned function when the call ends.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { redactText, redactValue } from './redact.js';

export {
  redactText,
  redactValue,
  maskPhoneNumber,
  isPhoneKey,
  isSecretKey,
  registerSecretsIn,
  REDACTED,
  VISIBLE_DIGITS,
} from './redact.js';
export {
  registerSecrets,
  registerPrivateValues,
  MIN_SECRET_LENGTH,
  MIN_PRIVATE_LENGTH,
  type Unregister,
} from './registry.js';
export { guardProcessOutput } from './guard.js';
export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerSettings {
  /** pino level: trace, debug, info, warn, error, fatal. Default `info`. */
  readonly level?: string;
  /** `json` (default): one JSON object per line; `pretty`: coloured, human-readable (pino-pretty). */
  readonly format?: 'json' | 'pretty';
  /** Value of the `name` field on every line, e.g. `worker` or `setup-sip`. */
  readonly name?: string;
  /** Where lines go. Default: standard output (JSON) or standard error (pretty). */
  readonly destination?: DestinationStream;
}

/**
 * Creates a logger whose every line passes through the redaction rules of ./redact.ts before it is
 * written, in two steps: the merged object and child bindings by key and value ({@link redactValue}:
 * `password`, `callerNumber`…), then the whole serialised line as text ({@link redactText}), which
 * also reaches what pino builds itself — the message of a logged Error, `%s`/`%o`/`%j` arguments —
 * and the values registered with {@link registerSecrets} and {@link registerPrivateValues}.
 */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: settings.name ? { name: settings.name, pid: process.pid } : { pid: process.pid },
    formatters: {
      log: (object) => redactValue(object) as Record<string, unknown>,
      bindings: (bindings) => redactValue(bindings) as Record<string, unknown>,
    },
    // redactValue has already turned every Error into a plain object (keeping code and cause); pino's
    // default `err` serializer would take that object for an Error and name its type `Object`.
    serializers: { err: (value: unknown) => value },
    hooks: { streamWrite: redactText },
  };
  const destination =
    settings.destination ??
    (settings.format === 'pretty' ? pretty({ colorize: process.stderr.isTTY, destination: 2 }) : pino.destination(1));
  const logger = pino(options, destination);
  // pino applies `formatters.bindings` to the base bindings only, not to child(): redact those here.
  // Children inherit this method from the root through their prototype chain.
  const child = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, childOptions) {
    return child.call(this, redactValue(bindings) as typeof bindings, childOptions);
  } as typeof logger.child;
  return logger;
}
