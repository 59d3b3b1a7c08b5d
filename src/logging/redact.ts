/**
 * Redaction rules applied to every log line: secrets are replaced whole, phone numbers keep only
 * their last 4 digits. Pure functions, so each rule is unit-tested on its own.
 */

/** Replacement for a secret value. */
export const REDACTED = '[REDACTED]';

/** Digits of a phone number left visible. */
export const VISIBLE_DIGITS = 4;

/**
 * Keys whose values are secrets: API keys and secrets, passwords, tokens, authorisation headers.
 * Matched case-insensitively against the last part of a key (`authPassword`, `LIVEKIT_API_SECRET`,
 * `apiKey`, `x-api-key`, `token`…).
 */
const SECRET_KEY = /(secret|passw(or)?d|passwd|token|api[-_]?key|authorization|credential|private[-_]?key)/i;

/** Keys whose values are phone numbers (or lists of them), masked whatever their shape. */
const PHONE_KEY =
  /(phone|phonenumber|number|numbers|caller|callee|msisdn|e164|dialed|^to$|^from$|^ani$|^dnis$)$/i;

/** True when a log key names a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** True when a log key names a phone number. */
export function isPhoneKey(key: string): boolean {
  return PHONE_KEY.test(key);
}

/**
 * Masks every digit of a phone number but the last {@link VISIBLE_DIGITS}, keeping `+` and
 * separators: `+14157774444` → `+*******4444`. A value with no more than 4 digits is returned as is.
 */
export function maskPhoneNumber(value: string): string {
  const digits = value.replace(/\D/g, '').length;
  let toMask = digits - VISIBLE_DIGITS;
  if (toMask <= 0) return value;
  let out = '';
  for (const ch of value) {
    if (toMask > 0 && ch >= '0' && ch <= '9') {
      out += '*';
      toMask--;
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * Phone numbers inside free text: `+` followed by 7–15 digits (spaces, dots, dashes and
 * parentheses allowed between them), the user part of `sip:`/`tel:` URIs, North-American
 * `(415) 777-4444`, and runs of 10–15 bare digits. Dates (`2026-11-22`) and short numbers are left alone.
 */
const PHONE_IN_TEXT = new RegExp(
  [
    String.raw`\+\d(?:[\s.()-]*\d){6,14}`,
    String.raw`(?<=\b(?:sip|sips|tel):)\+?\d{4,15}`,
    String.raw`\(\d{3}\)\s?\d{3}[\s.-]\d{4}`,
    String.raw`(?<![\d.])\d{10,15}(?![\d.])`,
  ].join('|'),
  'g',
);

/** Masks every phone number found in free text (see {@link maskPhoneNumber}). */
export function redactText(text: string): string {
  return text.replace(PHONE_IN_TEXT, (m) => maskPhoneNumber(m));
}

function maskPhoneValue(value: unknown): unknown {
  if (typeof value === 'string') return maskPhoneNumber(value);
  if (typeof value === 'number') return maskPhoneNumber(String(value));
  if (Array.isArray(value)) return value.map(maskPhoneValue);
  return redactValue(value);
}

/**
 * The fields of an Error worth logging, as a plain object: `type` (its name), `message`, `stack`,
 * every own enumerable property (`code`, `errno`, `syscall`, `status`… as Node and most libraries
 * set them), then `cause` and an AggregateError's `errors`, which are own but not enumerable. A
 * nested Error is converted the same way when {@link redactValue} reaches it, so a cause chain is
 * kept down to the depth limit (which also ends a cycle such as `err.cause = err`).
 */
function errorFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  for (const [key, v] of Object.entries(error)) {
    if (!(key in fields)) fields[key] = v;
  }
  if ('cause' in error && error.cause !== undefined) fields.cause = error.cause;
  if (error instanceof AggregateError) fields.errors = error.errors;
  return fields;
}

/**
 * Returns a copy of a log object with secrets replaced by {@link REDACTED} and phone numbers
 * masked: by key (any depth, arrays included) and, in every other string, by {@link redactText}.
 * An Error becomes a plain object that keeps its `code`, `cause` and other own properties, redacted
 * the same way. Objects nested deeper than `maxDepth` (default 8) are replaced by `"[…]"`.
 */
export function redactValue(value: unknown, maxDepth = 8): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (maxDepth <= 0) return '[…]';
  if (Array.isArray(value)) return value.map((v) => redactValue(v, maxDepth - 1));
  if (value instanceof Error) return redactValue(errorFields(value), maxDepth);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (isSecretKey(key) && v !== undefined && v !== null && v !== '') out[key] = REDACTED;
    else if (isPhoneKey(key)) out[key] = maskPhoneValue(v);
    else out[key] = redactValue(v, maxDepth - 1);
  }
  return out;
}
