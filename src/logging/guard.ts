/**
 * The output guard: the last line of defence for text other code writes to standard output and
 * standard error — the LiveKit agents framework's own pino logger (in production mode
 * `pino(multistream([{ stream: process.stdout }, otel]))`, node_modules/@livekit/agents/dist/log.js),
 * `console.*`, a dependency's stray print — which our logger's redaction never sees.
 */
import { redactText } from './redact.js';

/** Marks a stream already guarded, shared by every copy of this module in the process. */
const GUARDED = Symbol.for('livekit-appointment-agent.logging.outputGuard');

/** Written instead of a chunk whose redaction threw: losing a line beats leaking it. */
const WITHHELD = '[output withheld: redaction failed]\n';

/** String encodings whose chunks are text; a `hex` or `base64` chunk is bytes spelt out, left as is. */
const TEXT_ENCODINGS = new Set(['utf8', 'utf-8', 'ascii', 'latin1', 'binary', 'ucs2', 'ucs-2', 'utf16le', 'utf-16le']);

/**
 * The chunk with {@link redactText} applied: a string (in a text encoding) as a string, a Buffer or
 * other Uint8Array decoded as UTF-8 and, only if redaction changed something, encoded again — an
 * untouched chunk is passed on byte for byte. Anything else (a chunk Node would reject) is returned
 * as is.
 */
function redactChunk(chunk: unknown, encoding: string | undefined): unknown {
  try {
    if (typeof chunk === 'string') {
      return encoding === undefined || TEXT_ENCODINGS.has(encoding.toLowerCase()) ? redactText(chunk) : chunk;
    }
    if (chunk instanceof Uint8Array) {
      const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
      const redacted = redactText(text);
      return redacted === text ? chunk : Buffer.from(redacted, 'utf8');
    }
    return chunk;
  } catch {
    return WITHHELD;
  }
}

function guard(stream: NodeJS.WriteStream): void {
  const marked = stream as NodeJS.WriteStream & { [GUARDED]?: true };
  if (marked[GUARDED]) return;
  const write = stream.write;
  // The arguments after the chunk (encoding and/or callback) are passed on exactly as given.
  const guardedWrite = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    const encoding = typeof rest[0] === 'string' ? rest[0] : undefined;
    return Reflect.apply(write, this, [redactChunk(chunk, encoding), ...rest]) as boolean;
  };
  stream.write = guardedWrite as typeof stream.write;
  Object.defineProperty(stream, GUARDED, { value: true });
}

/**
 * Makes every chunk written through `process.stdout.write` and `process.stderr.write` — hence
 * `console.*` and any logger given `process.stdout` as its stream — pass through
 * {@link redactText} (with the values registered by `registerSecrets`/`registerPrivateValues`)
 * before it reaches the file descriptor. Call it first thing in each process (the worker, each job
 * process, each script): a forked process inherits the descriptors, not the guard. Calling it again
 * does nothing (a mark on each stream, shared by every copy of this module).
 *
 * Limits:
 * - Redaction is per chunk, not per line: a number or secret split across two writes is not
 *   recognised. pino writes one whole line per call, and so does `console.*`.
 * - Writes that do not go through `process.stdout.write`/`process.stderr.write` are not seen:
 *   `pino.destination(1)` and other SonicBoom streams (which call `fs.write` on the descriptor) —
 *   our own `createLogger` uses one but redacts every line itself — pino-pretty's default
 *   destination, `stream.end(chunk)`, native code, and child processes.
 * - A multi-byte UTF-8 character cut at the end of a Buffer chunk is re-encoded as U+FFFD, only
 *   when that chunk also had something to redact.
 * @param streams `stdout: false` leaves standard output as it is, for a script whose output is a
 *   report the operator asked for (e.g. the trunk numbers `list-sip` prints); default both guarded.
 */
export function guardProcessOutput(streams: { readonly stdout?: boolean; readonly stderr?: boolean } = {}): void {
  if (streams.stdout !== false) guard(process.stdout);
  if (streams.stderr !== false) guard(process.stderr);
}
