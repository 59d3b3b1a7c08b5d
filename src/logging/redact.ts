/**
 * Redaction rules applied to every log line: secrets are replaced whole, phone numbers keep only
 * their last 4 digits. Pure functions but for the values registered in ./registry.ts, so each rule
 * is unit-tested on its own.
 */
import { redactRegisteredValues, registerSecrets, type Unregister } from './registry.js';

/** Replacement for a secret value. */
export const REDACTED = '[REDACTED]';

/** Digits of a phone number left visible. */
export const VISIBLE_DIGITS = 4;

/**
 * Keys whose values are secrets: API keys and secrets, passwords, tokens, authorisation headers,
 * and a date of birth (it proves a caller's identity: src/call/verification.ts). Matched
 * case-insensitively against the last part of a key (`authPassword`, `LIVEKIT_API_SECRET`,
 * `apiKey`, `x-api-key`, `token`, `date_of_birth`, `dob`…).
 */
const SECRET_KEY = /(secret|passw(or)?d|passwd|token|api[-_]?key|authorization|credential|private[-_]?key|birth|^dob$)/i;

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
 * True for a North-American number in 555-0100…555-0199, the line numbers NANPA reserves for
 * fictional use (NANPA, "555 NXX Line Numbers"): no subscriber can have one, so examples in help
 * texts and error hints ("e.g. +14155550123") stay readable. Every other number is masked.
 */
export function isFictionalNumber(value: string): boolean {
  const digits = value.replace(/\D/g, '');
  const national = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
  return national.length === 10 && /^55501\d\d$/.test(national.slice(3));
}

/**
 * Masks every digit of a phone number but the last {@link VISIBLE_DIGITS}, keeping `+` and
 * separators: `+14157774444` → `+*******4444`. A value with no more than 4 digits is returned as is.
 */
export function maskPhoneNumber(value: string): string {
  if (isFictionalNumber(value)) return value;
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
 * A field name whose value is a secret in free text and JSON text: up to 64 name characters, then
 * one of these endings, case-insensitively (`apiSecret`, `x-api-key`, `access_token`,
 * `LIVEKIT_API_SECRET`, `sig`, and `date_of_birth` / `dob`, a caller's proof of identity). Only the ending counts, so `completion_tokens` and `keyframe` stay.
 */
const SECRET_NAME = String.raw`[\w.$-]{0,64}?(?:secret|passw(?:or)?d|pwd|token|key|authorization|auth|credentials?|signature|sig|birth|dob)`;

/**
 * Secrets recognised by their shape alone, anywhere (case-sensitive):
 * - a JWT: three base64url parts joined by dots, the first starting `eyJ` (base64 of `{"`);
 * - a Google API key: `AIza` and 35 more characters;
 * - an OpenAI key: `sk-` and at least 20 more (`sk-proj-…`, `sk-svcacct-…`), at the start of a word
 *   (after `\n` and the like in a JSON line too) so that `disk-usage-…` is left alone.
 */
const SECRET_SHAPES = new RegExp(
  [
    String.raw`eyJ[\w-]{2,}\.[\w-]{2,}\.[\w-]*`,
    String.raw`AIza[\w-]{35}`,
    String.raw`(?:(?<![\w-])|(?<=\\[nrt]))sk-[\w-]{20,}`,
  ].join('|'),
  'g',
);

/**
 * Secrets recognised by the field or header that holds them (case-insensitive). Each alternative
 * captures what stays (`…p`) and the secret (`…v`); see {@link replaceSecretField}.
 * - JSON text `"apiSecret":"…"` / `"password":123` → `"apiSecret":"[REDACTED]"`, and the same
 *   escaped inside a JSON string (`\"password\":\"…\"`, JSON text in a JSON line's message);
 * - URL credentials `scheme://user:password@` → `scheme://user:[REDACTED]@`;
 * - `Authorization: <scheme> <credentials>` headers, whatever the scheme;
 * - `Bearer <token>`; `Basic <base64>` when the word after it looks like base64 (a digit, `+`, `/`,
 *   `=` or a capital after its first letter: `Basic setup` stays);
 * - `name='value'` / `name: 'value'` (util.inspect) and `name=value` in text and query strings
 *   (`?key=AIza…&x=1` → `?key=[REDACTED]&x=1`), where the name ends like {@link SECRET_NAME}.
 *
 * Values are matched possessively — `(?=(…))\k<…>`: a lookahead takes the longest run and the
 * back-reference consumes it, so a failed match never backtracks into it — and every other
 * repetition is bounded or made of disjoint classes, so the cost is linear in the line's length.
 * No value takes a lone `\`: a JSON escape in a serialised line is never cut in half.
 */
const SECRET_FIELDS = new RegExp(
  [
    String.raw`(?<jp>"${SECRET_NAME}"[ \t]*:[ \t]*)(?:"(?=(?<jv>(?:[^"\\]|\\[\s\S])+))\k<jv>"|(?<jn>-?\d[\d.eE+-]*))`,
    String.raw`(?<ep>\\"${SECRET_NAME}\\"[ \t]*:[ \t]*)(?:\\"(?=(?<ev>(?:[^"\\]|\\[^"\\]|\\\\(?:\\["\\]|[^"\\]))+))\k<ev>\\"|(?<en>-?\d[\d.eE+-]*))`,
    String.raw`(?<up>\b[a-z][\w+.-]{0,20}:\/\/[^\/\s:@"'\\]{0,64}:)(?<uv>[^\/\s@"'\\]{1,128})(?=@)`,
    String.raw`(?<ap>\b(?:proxy-)?authorization[ \t]*[:=][ \t]*(?:[a-z][\w-]{0,20}[ \t]+)?)(?<av>[^\s"',;\\]+)`,
    String.raw`(?<bp>\bbearer[ \t]+)(?<bv>[\w.~+\/-]+=*)`,
    String.raw`(?<sp>\bbasic[ \t]+)(?<sv>[a-z0-9+\/]{8,}={0,2})(?![\w+\/=])`,
    String.raw`(?<qp>(?<![\w.$-])${SECRET_NAME}[ \t]*[:=][ \t]*')(?<qv>[^'\\\r\n]+)(?=')`,
    String.raw`(?<kp>(?<![\w.$-])${SECRET_NAME}[ \t]*=[ \t]*(?:\\?")?)(?<kv>[^&\s"'<>,;\\]+)`,
  ].join('|'),
  'gi',
);

type Groups = Record<string, string | undefined>;

/** Replacement of one {@link SECRET_FIELDS} match: the kept prefix, then `[REDACTED]`. */
function replaceSecretField(match: string, g: Groups): string {
  if (g.jp !== undefined) return `${g.jp}"${REDACTED}"`;
  if (g.ep !== undefined) return `${g.ep}\\"${REDACTED}\\"`;
  if (g.sp !== undefined && !looksLikeBase64(g.sv ?? '')) return match;
  const prefix = g.up ?? g.ap ?? g.bp ?? g.sp ?? g.qp ?? g.kp;
  return prefix === undefined ? REDACTED : `${prefix}${REDACTED}`;
}

/** A word that is base64 rather than English: it has a digit, `+`, `/`, `=` or a capital after its first letter. */
function looksLikeBase64(word: string): boolean {
  return /[0-9+/=]/.test(word) || /[A-Z]/.test(word.slice(1));
}

/**
 * Numbers left readable although they are made of digits, matched first so that no phone rule
 * sees their digits: UUIDs; ISO 8601 dates with or without a time and offset
 * (`2026-11-22T10:30:00.000Z`); dates written `22/11/2026`, `22.11.2026` or `11-22-2026`; and epoch
 * milliseconds — exactly 13 digits starting with 1 (2001-09-09 to 2286-11-20), which pino writes as
 * `"time":…` on every line and LiveKit puts in room names (`outbound-appt-1-1763812345678`). No
 * phone number is written that way: a number with country code 1 has 11 digits in all, and a
 * national number carries a trunk prefix (0) or is shorter.
 */
const KEPT_NUMBERS = [
  String.raw`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`,
  String.raw`(?<!\d)\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?`,
  String.raw`(?<!\d)\d{1,2}[.\/-]\d{1,2}[.\/-]\d{4}(?!\d)`,
  String.raw`(?<!\d)1\d{12}(?!\d)`,
];

/**
 * Phone numbers inside free text, masked by {@link maskPhoneNumber}:
 * - `+` and 10–15 digits in one run, whatever follows (`call-_+14155550202_abcd`);
 * - `+` and 7–15 digits with up to two of space, `.`, `-`, `(`, `)` between digits
 *   (`+1 (415) 555-0123`, `+44 20 7183 8750`, `+44 (0)20 7183 8750`);
 * - the user part of `sip:`/`sips:`/`tel:` URIs, 4–15 digits (`sip:5550123@…`);
 * - North-American 3-3-4 with separators: `415-555-0123`, `415.555.0123`, `415 555 0123`,
 *   `(415) 555-0123`, `(415)555-0123`, `415-5550123`;
 * - national numbers with a trunk prefix (UK, Germany, France, Australia…): `0`, a digit, then
 *   8–9 more digits with at most one space, `.` or `-` between any two, 10–11 digits in all, not
 *   followed by another digit (`020 7183 8750`, `07700 900123`, `0161 496 0000`, `01 23 45 67 89`);
 * - any run of 10–15 bare digits not part of a decimal number (`14155550202`, `07700900123`).
 * 7-digit local numbers (`555-0123`) are not recognised: too many other things look like them.
 */
const PHONE_NUMBERS = [
  String.raw`\+\d{10,15}(?!\d)`,
  String.raw`\+\d(?:[ .()-]{0,2}\d){6,14}`,
  String.raw`(?<=\b(?:[sS][iI][pP][sS]?|[tT][eE][lL]):)\+?\d{4,15}`,
  String.raw`(?<!\d)(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]?\d{4}(?!\d)`,
  String.raw`(?<!\d)(?=(?<national>0\d(?:[ .-]?\d){8,9})(?!\d))\k<national>`,
  String.raw`(?<!\d|\d\.)\d{10,15}(?!\d|\.\d)`,
];

/**
 * One pass over a line: kept numbers, then a phone number that is the bare value of a JSON field
 * (masked and quoted, so that the line stays valid JSON: `"to":14155550202` → `"to":"*******0202"`;
 * not in an array, where `[` and `,` may as well be text inside a string), then phone numbers. At
 * each position the first alternative that matches wins, and the scan resumes after it. Every
 * alternative is bounded in length or a run of one class, so the pass is linear in the line's length.
 */
const NUMBERS_IN_TEXT = new RegExp(
  [
    `(?<kept>${KEPT_NUMBERS.join('|')})`,
    String.raw`(?<json>(?<=(?<!\\)":)\d{10,15}(?=[,}]))`,
    `(?<phone>${PHONE_NUMBERS.join('|')})`,
  ].join('|'),
  'g',
);

function replaceNumber(match: string, g: Groups): string {
  if (g.kept !== undefined) return match;
  if (g.json !== undefined) return `"${maskPhoneNumber(match)}"`;
  return maskPhoneNumber(match);
}

/** The named groups of a `String.prototype.replace` callback (its last argument). */
function groupsOf(args: unknown[]): Groups {
  return args[args.length - 1] as Groups;
}

/**
 * Redacts one line of free text (a message, or a whole serialised JSON line), in this order: the
 * values registered with `registerSecrets`/`registerPrivateValues` (./registry.ts), secrets by
 * shape ({@link SECRET_SHAPES}), secrets by field ({@link SECRET_FIELDS}), then phone numbers
 * ({@link NUMBERS_IN_TEXT}). Secrets become `[REDACTED]`; phone numbers keep their last
 * {@link VISIBLE_DIGITS} digits; dates, times, UUIDs, epoch milliseconds, ports, durations, SIP
 * status codes and short ids stay as they are; a JSON line stays valid JSON (unless a phone number
 * is a bare number in an array). What it produces is
 * left unchanged by a second pass, so text redacted twice (object, then line) reads the same.
 * Linear in the length of `text`: no pattern can backtrack catastrophically.
 */
export function redactText(text: string): string {
  return redactRegisteredValues(text, REDACTED)
    .replace(SECRET_SHAPES, REDACTED)
    .replace(SECRET_FIELDS, (match, ...rest: unknown[]) => replaceSecretField(match, groupsOf(rest)))
    .replace(NUMBERS_IN_TEXT, (match, ...rest: unknown[]) => replaceNumber(match, groupsOf(rest)));
}

/**
 * Registers, with {@link registerSecrets}, every string value of `settings` whose key names a
 * secret ({@link isSecretKey}: `LIVEKIT_API_SECRET`, `LIVEKIT_API_KEY`, `GOOGLE_API_KEY`,
 * `OPENAI_API_KEY`, `TELNYX_SIP_PASSWORD`…). Pass the loaded configuration (values read from `.env`
 * files never reach `process.env`), or `process.env` in a script that reads it directly.
 * @returns a function that removes these values again.
 */
export function registerSecretsIn(settings: Readonly<Record<string, unknown>>): Unregister {
  const values = Object.entries(settings)
    .filter(([key, value]) => typeof value === 'string' && isSecretKey(key))
    .map(([, value]) => value as string);
  return registerSecrets(values);
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
