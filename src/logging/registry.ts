/**
 * Values the product declares private at run time — the exact secrets it was configured with, the
 * names of the patient on the call — which `redactText` (./redact.ts) then replaces wherever they
 * appear in a line, whatever the line's shape. The shapes of ./redact.ts cannot know a secret
 * that looks like nothing in particular, or a patient's name.
 *
 * The registry lives on `globalThis` under a `Symbol.for` key, so that two copies of this module in
 * one process (the build and the sources, or two bundles) share it: the output guard installed by
 * one copy must see the values registered through the other.
 */
/** Shortest secret registered by {@link registerSecrets}, in characters (UTF-16 code units). */
export const MIN_SECRET_LENGTH = 8;

/** Shortest private value registered by {@link registerPrivateValues}, in characters (UTF-16 code units). */
export const MIN_PRIVATE_LENGTH = 3;

/** Removes what one call of a `register…` function added; calling it again does nothing. */
export type Unregister = () => void;

interface Registry {
  /** Exact text → how many registrations hold it (so one removal does not undo another's). */
  readonly secrets: Map<string, number>;
  /** Lower-cased private value → how many registrations hold it. */
  readonly privates: Map<string, number>;
  /** Rebuilt lazily after a change; `null` when there is nothing to find. */
  secretPattern: RegExp | null | undefined;
  privatePattern: RegExp | null | undefined;
}

const REGISTRY_KEY = Symbol.for('livekit-appointment-agent.logging.registry');

function registry(): Registry {
  const holder = globalThis as { [REGISTRY_KEY]?: Registry };
  holder[REGISTRY_KEY] ??= { secrets: new Map(), privates: new Map(), secretPattern: null, privatePattern: null };
  return holder[REGISTRY_KEY];
}

/** Escapes the characters special in a pattern (and valid to escape under the `u` flag). */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The forms a value takes in a line: as is, escaped inside a JSON string (a line serialised as
 * JSON, or JSON text inside a message), escaped twice (JSON text inside a JSON line), and
 * percent-encoded (a query string).
 */
function writtenForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const jsonTwice = JSON.stringify(json).slice(1, -1);
  return [...new Set([value, json, jsonTwice, encodeURIComponent(value)])];
}

function add(map: Map<string, number>, keys: readonly string[], onChange: () => void): Unregister {
  for (const key of keys) map.set(key, (map.get(key) ?? 0) + 1);
  if (keys.length > 0) onChange();
  let done = false;
  return () => {
    if (done) return;
    done = true;
    for (const key of keys) {
      const count = (map.get(key) ?? 0) - 1;
      if (count > 0) map.set(key, count);
      else map.delete(key);
    }
    if (keys.length > 0) onChange();
  };
}

/**
 * Declares exact secret values — API secrets and keys, SIP passwords, tokens — to be replaced by
 * `[REDACTED]` wherever they appear in a line (case-sensitive, anywhere, even inside a word), in
 * every form they are written in: as is, JSON-escaped once or twice, percent-encoded.
 *
 * Values shorter than {@link MIN_SECRET_LENGTH} (8) characters are ignored, as are empty and
 * missing ones: a short value matches ordinary text — a port, a word, part of an id — so
 * redacting it would garble lines, and real credentials (API keys and secrets, generated SIP
 * passwords) are far longer. The shapes of ./redact.ts still catch a short secret written as
 * `password=…` or `"password":"…"`.
 *
 * @returns a function that removes these values again (tests; a secret rotated in a long process).
 */
export function registerSecrets(values: Iterable<string | null | undefined>): Unregister {
  const keys = new Set<string>();
  for (const value of values) {
    if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) {
      for (const form of writtenForms(value)) keys.add(form);
    }
  }
  const reg = registry();
  return add(reg.secrets, [...keys], () => {
    reg.secretPattern = undefined;
  });
}

/**
 * Declares private values — a patient's name, the parts of it — to be replaced by `[REDACTED]`
 * wherever they appear in a line as whole words (not inside a longer word: `Ann` hides `ann` and
 * `ANN` but not `Annual`), case-insensitively, Unicode-aware (`José`). Whitespace inside a value
 * matches any run of whitespace. Register the full name and its parts if each may appear alone.
 *
 * Values shorter than {@link MIN_PRIVATE_LENGTH} (3) characters after trimming are ignored: initials
 * and two-letter names are common words or word parts (`an`, `li`) that would blank out ordinary
 * text. Register per call and unregister when the call ends, so the set stays small (every
 * registered value is looked for in every line).
 *
 * @returns a function that removes these values again.
 */
export function registerPrivateValues(values: Iterable<string | null | undefined>): Unregister {
  const keys = new Set<string>();
  for (const value of values) {
    const trimmed = typeof value === 'string' ? value.trim() : '';
    if (trimmed.length >= MIN_PRIVATE_LENGTH) keys.add(trimmed.toLowerCase());
  }
  const reg = registry();
  return add(reg.privates, [...keys], () => {
    reg.privatePattern = undefined;
  });
}

function secretPattern(reg: Registry): RegExp | null {
  if (reg.secretPattern === undefined) {
    // Longest first, so a secret that contains another is replaced whole.
    const alternatives = [...reg.secrets.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    reg.secretPattern = alternatives.length ? new RegExp(alternatives.join('|'), 'g') : null;
  }
  return reg.secretPattern;
}

function privatePattern(reg: Registry): RegExp | null {
  if (reg.privatePattern === undefined) {
    const alternatives = [...reg.privates.keys()]
      .sort((a, b) => b.length - a.length)
      .map((value) => value.split(/\s+/).map(escapeRegExp).join(String.raw`\s+`));
    reg.privatePattern = alternatives.length
      ? new RegExp(String.raw`(?<![\p{L}\p{N}_])(?:${alternatives.join('|')})(?![\p{L}\p{N}_])`, 'giu')
      : null;
  }
  return reg.privatePattern;
}

/** Replaces every registered secret and private value in `text` by `replacement`. */
export function redactRegisteredValues(text: string, replacement: string): string {
  const reg = registry();
  let out = text;
  const secrets = secretPattern(reg);
  if (secrets) out = out.replace(secrets, replacement);
  const privates = privatePattern(reg);
  if (privates) out = out.replace(privates, replacement);
  return out;
}
