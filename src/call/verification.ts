/**
 * Who is calling: the check a caller passes before anything about a patient is said or changed.
 * Caller ID alone proves nothing (it is trivially spoofed), so a number on file only tells whom the
 * caller claims to be; one more fact settles it:
 * - `dob`: the date of birth, as 8 keypad digits in the clinic's order (MMDDYYYY in the US) or said to
 *   the voice model; it also picks the patient when a family shares one number;
 * - `name`: on a call we placed to the number on file, the person who answers says whether they are
 *   the patient we asked for (key 1 yes, 2 no) — the usual practice for appointment reminders.
 * At most {@link VERIFY_ATTEMPTS} wrong dates; then the call is not verified. Pure: no store, no
 * clock but the one handed in, no logging — the call (./call.ts) saves every attempt and says what
 * follows. The digits entered are never kept beyond the attempt and never put in a step.
 */
import { DateTime } from 'luxon';
import type { CallerLookup } from '../store/index.js';

/** How a caller proves who they are (CALLER_VERIFICATION, OUTBOUND_VERIFICATION). */
export type IdentityMethod = 'dob' | 'name';

/** The order of a date of birth's 8 keypad digits: MMDDYYYY (US), DDMMYYYY or YYYYMMDD (ISO 8601). */
export type DobOrder = 'MDY' | 'DMY' | 'YMD';

/**
 * Wrong dates of birth allowed before the call counts as not verified. Three is the usual limit of
 * phone identity checks (banks' and pharmacies' IVRs), enough for a slip and few enough to stop guessing.
 */
export const VERIFY_ATTEMPTS = 3;

/** Digits of a date of birth on the keypad. */
export const DOB_DIGITS = 8;

/** The key that clears a date being entered, to start it again. */
export const RESTART_KEY = '*';

/** The key that ends a date early (fewer than 8 digits: asked again, not counted as an attempt). */
export const SUBMIT_KEY = '#';

/** Keys of the `name` check: the person who answered is the patient, or someone else. */
export const NAME_KEYS = { isPatient: '1', someoneElse: '2' } as const;

/** Where the check stands. */
export type IdentityStatus = 'pending' | 'verified' | 'failed' | 'declined';

/** Why an attempt failed: no patient with this number has that date, it is not a date, or two patients share it. */
export type AttemptFailure = 'no_match' | 'not_a_date' | 'ambiguous';

/** What one key, spoken date or answer did to the check. */
export type IdentityStep =
  /** A digit kept: the date is not complete yet (nothing to say). */
  | { readonly kind: 'digit'; readonly entered: number }
  /** The entry was cleared ({@link RESTART_KEY}), or ended early ({@link SUBMIT_KEY}): ask again; no attempt counted. */
  | { readonly kind: 'restart' | 'incomplete' }
  /** It matched: the patient on the line. */
  | { readonly kind: 'verified'; readonly who: CallerLookup; readonly attempt: number }
  /** Wrong: `left` attempts remain. */
  | { readonly kind: 'wrong'; readonly why: AttemptFailure; readonly attempt: number; readonly left: number }
  /** The last attempt failed: not verified. */
  | { readonly kind: 'failed'; readonly why: AttemptFailure; readonly attempt: number }
  /** `name` check: the person who answered is not the patient. */
  | { readonly kind: 'declined' }
  /** Not part of this check (a key that means nothing here, or the check is over). */
  | { readonly kind: 'ignored' };

/** How the order's 8 digits are said on the keypad prompt. */
export const DOB_ORDER_SPOKEN: Record<DobOrder, string> = {
  MDY: 'two digits for the month, two for the day, and four for the year',
  DMY: 'two digits for the day, two for the month, and four for the year',
  YMD: 'four digits for the year, two for the month, and two for the day',
};

/**
 * The ISO date (YYYY-MM-DD) of 8 keypad digits in `order`, or undefined when they are not a real
 * calendar date between 1900 and `today`.
 */
export function dateOfDigits(digits: string, order: DobOrder, today: Date = new Date()): string | undefined {
  if (!/^\d{8}$/.test(digits)) return undefined;
  const [y, m, d] =
    order === 'YMD' ? [digits.slice(0, 4), digits.slice(4, 6), digits.slice(6)] : order === 'MDY' ? [digits.slice(4), digits.slice(0, 2), digits.slice(2, 4)] : [digits.slice(4), digits.slice(2, 4), digits.slice(0, 2)];
  return isoBirthDate(`${y}-${m}-${d}`, today);
}

/**
 * `text` as an ISO date of birth (YYYY-MM-DD), or undefined when it is not one: a real calendar date
 * between 1900-01-01 and `today`. Accepts what a voice model sends: `1985-03-14`, or with a time after it.
 */
export function isoBirthDate(text: string, today: Date = new Date()): string | undefined {
  const m = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T\s].*)?$/.exec(text);
  if (!m) return undefined;
  const date = DateTime.fromObject({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) }, { zone: 'UTC' });
  if (!date.isValid || date.year < 1900 || date.toJSDate() > today) return undefined;
  return date.toISODate() ?? undefined;
}

/**
 * One call's identity check. `claimants` are the patients the caller may be (those with the caller's
 * number, or the patient we dialed); with `dob`, only those with a date of birth on file can pass.
 */
export class IdentityCheck {
  private state: IdentityStatus = 'pending';
  private entry = '';
  private failures = 0;
  private who?: CallerLookup;

  constructor(
    readonly method: IdentityMethod,
    private readonly claimants: readonly CallerLookup[],
    readonly order: DobOrder = 'MDY',
    private readonly today: () => Date = () => new Date(),
  ) {}

  /** Whether anyone can pass: with `dob`, at least one claimant has a date of birth on file. */
  get possible(): boolean {
    return this.method === 'name' ? this.claimants.length > 0 : this.claimants.some((c) => c.patient.date_of_birth);
  }

  get status(): IdentityStatus {
    return this.state;
  }

  /** The patient on the line, once verified. */
  get verified(): CallerLookup | undefined {
    return this.who;
  }

  /** Attempts made so far (wrong ones and the one that passed). */
  get attempts(): number {
    return this.failures + (this.who ? 1 : 0);
  }

  /** Digits entered towards the current date (0 when none). */
  get entered(): number {
    return this.entry.length;
  }

  /** A key pressed. Digits build the date; {@link RESTART_KEY} clears it, {@link SUBMIT_KEY} ends it early. */
  press(digit: string): IdentityStep {
    if (this.state !== 'pending') return { kind: 'ignored' };
    if (this.method === 'name') {
      if (digit === NAME_KEYS.isPatient) return this.pass(this.claimants[0]!);
      if (digit === NAME_KEYS.someoneElse) return this.decline();
      return { kind: 'ignored' };
    }
    if (digit === RESTART_KEY) {
      this.entry = '';
      return { kind: 'restart' };
    }
    if (digit === SUBMIT_KEY) {
      if (this.entry === '') return { kind: 'ignored' };
      this.entry = '';
      return { kind: 'incomplete' };
    }
    if (!/^\d$/.test(digit)) return { kind: 'ignored' };
    this.entry += digit;
    if (this.entry.length < DOB_DIGITS) return { kind: 'digit', entered: this.entry.length };
    const digits = this.entry;
    this.entry = '';
    return this.attempt(dateOfDigits(digits, this.order, this.today()));
  }

  /** A date of birth said to the voice model (ISO YYYY-MM-DD). Counts as an attempt like 8 digits. */
  spokenDate(text: string): IdentityStep {
    if (this.state !== 'pending' || this.method !== 'dob') return { kind: 'ignored' };
    this.entry = '';
    return this.attempt(isoBirthDate(text, this.today()));
  }

  /** `name` check, said to the voice model: whether the person on the line is the patient. */
  answer(isPatient: boolean): IdentityStep {
    if (this.state !== 'pending' || this.method !== 'name') return { kind: 'ignored' };
    return isPatient ? this.pass(this.claimants[0]!) : this.decline();
  }

  /** Forgets the current entry (silence after a partial date: it is asked for again). */
  clearEntry(): void {
    this.entry = '';
  }

  /**
   * Takes back the last step that ended the check (verified, failed, declined) — it could not be
   * saved: the check is pending again as before it; a failure taken back is not counted.
   */
  undo(step: IdentityStep): void {
    if (step.kind === 'verified') this.who = undefined;
    else if (step.kind === 'failed' || step.kind === 'wrong') this.failures--;
    else if (step.kind !== 'declined') return;
    this.state = 'pending';
  }

  private attempt(date: string | undefined): IdentityStep {
    const matches = date ? this.claimants.filter((c) => c.patient.date_of_birth === date) : [];
    // Two patients on one number with one date of birth (twins) cannot be told apart by it.
    if (matches.length === 1) return this.pass(matches[0]!);
    const why: AttemptFailure = !date ? 'not_a_date' : matches.length > 1 ? 'ambiguous' : 'no_match';
    this.failures++;
    const attempt = this.failures;
    if (why === 'ambiguous' || this.failures >= VERIFY_ATTEMPTS) {
      this.state = 'failed';
      return { kind: 'failed', why, attempt };
    }
    return { kind: 'wrong', why, attempt, left: VERIFY_ATTEMPTS - this.failures };
  }

  private pass(who: CallerLookup): IdentityStep {
    this.state = 'verified';
    this.who = who;
    return { kind: 'verified', who, attempt: this.failures + 1 };
  }

  private decline(): IdentityStep {
    this.state = 'declined';
    return { kind: 'declined' };
  }
}
