/**
 * The e2e run's logs, kept and checked: every worker writes .stack/workers/<agent>/worker.log (./worker.ts),
 * scripts run by tests append to .stack/run-logs/ ({@link keepLog}); after the run, `checkLogs`
 * (devtools/check-logs.ts, `make test`) asserts that no test phone number in full, no test patient's
 * date of birth and no secret appears in any of them. The e2e setup (./build.ts) clears both folders so a check covers one run.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_DIR } from './stack.js';

/** Where the workers of e2e tests keep their folder (database and worker.log). */
export const WORKERS_DIR = join(STACK_DIR, 'workers');

/** Where scripts run by e2e tests keep their output. */
export const RUN_LOGS_DIR = join(STACK_DIR, 'run-logs');

/** The model API key the stand-in tests give the worker: it must never be logged either. */
export const TEST_MODEL_KEY = 'test-key-not-a-secret';
/** The VISIT_LINK_SECRET the web tests give the web server (./web.ts): it must never be logged either. */
export const TEST_VISIT_LINK_SECRET = 'test-visit-link-secret-0123456789abcdef';

/** Appends a script's output to .stack/run-logs/<name>.log. */
export function keepLog(name: string, text: string): void {
  mkdirSync(RUN_LOGS_DIR, { recursive: true });
  appendFileSync(join(RUN_LOGS_DIR, `${name.replace(/[^\w.-]/g, '_')}.log`), text.endsWith('\n') ? text : `${text}\n`);
}

/** Empties the kept logs and workers of an earlier run. */
export function clearRunLogs(): void {
  rmSync(WORKERS_DIR, { recursive: true, force: true });
  rmSync(RUN_LOGS_DIR, { recursive: true, force: true });
}

/** Every log file of the run: worker logs and script logs. */
export function runLogFiles(): string[] {
  const files: string[] = [];
  if (existsSync(WORKERS_DIR)) {
    for (const w of readdirSync(WORKERS_DIR)) {
      const f = join(WORKERS_DIR, w, 'worker.log');
      if (existsSync(f)) files.push(f);
    }
  }
  if (existsSync(RUN_LOGS_DIR)) for (const f of readdirSync(RUN_LOGS_DIR)) files.push(join(RUN_LOGS_DIR, f));
  return files;
}

/** One place a log gives something away. */
export interface Leak {
  readonly line: number;
  /** What kind: a phone number in full, a patient's date of birth, or a secret. */
  readonly kind: 'phone number' | 'date of birth' | 'secret';
  /** The line with what leaked masked, so the report does not leak it again. */
  readonly excerpt: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A pattern matching `e164` (+ country code and digits) in full, written as people and programs
 * write it: with or without `+` or the country code, digits separated by spaces, dots, dashes or
 * parentheses. Not inside a longer run of digits.
 */
export function numberPattern(e164: string): RegExp {
  const digits = e164.replace(/\D/g, '');
  // The national part (the last 10 digits of a NANP number, the last 9–10 elsewhere) is what identifies the line.
  const national = digits.slice(-Math.min(10, digits.length - 1));
  const country = digits.slice(0, digits.length - national.length);
  const sep = String.raw`[\s.()\-]*`;
  const spaced = (d: string) => d.split('').map(escape).join(sep);
  // With its country code, or a national trunk prefix 0 (UK 020…), or bare.
  return new RegExp(String.raw`(?<!\d)(?:(?:${spaced(country)}|0)${sep})?${spaced(national)}(?!\d)`);
}

/**
 * A pattern matching the date of birth `iso` (`YYYY-MM-DD`) in the forms a log could carry it:
 * `YYYY-MM-DD`, and the eight digits a caller keys or a program writes, `MMDDYYYY`, `DDMMYYYY`,
 * `YYYYMMDD`. Not inside a longer run of digits. Undefined when `iso` is not written `YYYY-MM-DD`.
 */
export function dateOfBirthPattern(iso: string): RegExp | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return undefined;
  const [y, mo, d] = [m[1]!, m[2]!, m[3]!];
  const forms = [...new Set([`${y}-${mo}-${d}`, `${mo}${d}${y}`, `${d}${mo}${y}`, `${y}${mo}${d}`])];
  return new RegExp(String.raw`(?<!\d)(?:${forms.join('|')})(?!\d)`);
}

/**
 * The leaks in `text`: any of `numbers` (E.164) in full in any writing, any `+` and 8 or more digits
 * in a row (an E.164 number nobody masked), any of `datesOfBirth` (`YYYY-MM-DD`) in the forms
 * {@link dateOfBirthPattern} knows, any of `secrets` (values shorter than 8 characters are ignored).
 */
export function findLeaks(text: string, numbers: readonly string[], secrets: readonly string[], datesOfBirth: readonly string[] = []): Leak[] {
  const phonePatterns = [...new Set(numbers)].map(numberPattern);
  const datePatterns = [...new Set(datesOfBirth)].flatMap((d) => dateOfBirthPattern(d) ?? []);
  // Unmasked E.164 — but not the fictional 555-01XX examples hints give (see isFictionalNumber).
  const anyE164 = /\+(?!1\d{3}55501\d\d(?!\d))\d{8,15}(?!\d)/;
  const secretValues = secrets.filter((s) => s.length >= 8);
  const leaks: Leak[] = [];
  text.split('\n').forEach((raw, i) => {
    let line = raw;
    let kind: Leak['kind'] | undefined;
    for (const s of secretValues) {
      if (line.includes(s)) {
        kind = 'secret';
        line = line.split(s).join('[SECRET]');
      }
    }
    for (const p of [...phonePatterns, anyE164]) {
      const g = new RegExp(p.source, 'g');
      if (g.test(line)) {
        kind ??= 'phone number';
        line = line.replace(new RegExp(p.source, 'g'), '[NUMBER]');
      }
    }
    for (const p of datePatterns) {
      const g = new RegExp(p.source, 'g');
      if (g.test(line)) {
        kind ??= 'date of birth';
        line = line.replace(new RegExp(p.source, 'g'), '[DATE]');
      }
    }
    if (kind) leaks.push({ line: i + 1, kind, excerpt: line.slice(0, 300) });
  });
  return leaks;
}
