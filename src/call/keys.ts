/**
 * What each key means, in one table: digit → action → booking operation → outcome → what is said
 * (and the facts told to a voice model). The menu sentence, the voice model's instructions about
 * keys and what a press does are all read from it. Keys arrive as RFC 2833 telephone-events
 * through LiveKit; any key not in the table is acknowledged and changes nothing.
 */
import type { Booking, ChangeContext } from '../store/index.js';
import type { CallOutcome } from './outcome.js';
import type { CallScript } from './script.js';

/**
 * What a press did, as saved with it: the key's action once its change is saved, `ignored` (not an
 * option, or pressed while the call was finishing), `refused` (the booking did not allow it, e.g. a
 * cancelled appointment), `failed` (the change could not be saved).
 */
export type KeypadAction = 'confirm' | 'reschedule' | 'operator' | 'opt_out' | 'ignored' | 'refused' | 'failed';

/** Where the call stands on the keypad. */
export type KeypadState = 'awaiting_choice' | 'confirmed' | 'reschedule_requested' | 'operator_requested' | 'opted_out';

/**
 * What the booking said to a key's change: made now (`done`), in place already (`already`), or
 * refused because the appointment is cancelled or gone. A failure to save is an error, not an answer.
 */
export type BookingAnswer = 'done' | 'already' | 'cancelled' | 'not_found';

/** One key's meaning. */
export interface KeyMeaning {
  readonly digit: string;
  readonly action: 'confirm' | 'reschedule' | 'operator' | 'opt_out';
  /** The keypad state after the press. */
  readonly state: Exclude<KeypadState, 'awaiting_choice'>;
  /** The key only means something when the caller has an appointment on file. */
  readonly needsAppointment: boolean;
  /** The key only means something on a call we placed (and is not in the menu: the greeting offers it). */
  readonly outboundOnly?: boolean;
  /**
   * The booking operation, run before anything is said (none for the operator). It saves the call's
   * outcome (`change.outcome`) in the same transaction when the change is made or already in place.
   * @throws the store's error when the change could not be saved.
   */
  readonly book?: (booking: Booking, appointmentId: string, change: ChangeContext) => Promise<BookingAnswer>;
  /** The call's outcome once pressed. */
  readonly outcome: CallOutcome;
  /** The key as spoken in the menu, and the choice: "one" "to confirm". */
  readonly spoken: string;
  readonly choice: string;
  /** The key as a voice model is told about it: "1 confirms". */
  readonly told: string;
  /** The closing sentence in keypad mode. */
  readonly says: (s: CallScript) => string;
  /** The closing sentence when the change was in place already (default {@link KeyMeaning.says}). */
  readonly saysAlready?: (s: CallScript) => string;
  /** What a voice model is told once the press is saved, after "The caller pressed N." */
  readonly facts: string;
}

/** The keys, in menu order. */
export const KEYS: readonly KeyMeaning[] = [
  {
    digit: '1', action: 'confirm', state: 'confirmed', outcome: 'confirmed', needsAppointment: true,
    book: async (booking, id, change) => answerOf(await booking.confirm(id, change), 'confirmed', 'already_confirmed'),
    spoken: 'one', choice: 'to confirm', told: 'confirms',
    says: (s) => s.confirmed(),
    saysAlready: (s) => s.alreadyConfirmed(),
    facts: 'Their appointment is now confirmed in our records. Thank them and say goodbye.',
  },
  {
    digit: '2', action: 'reschedule', state: 'reschedule_requested', outcome: 'reschedule_requested', needsAppointment: true,
    book: async (booking, id, change) => answerOf(await booking.requestReschedule(id, change), 'reschedule_requested', 'already_requested'),
    spoken: 'two', choice: 'to reschedule', told: 'asks to reschedule',
    says: (s) => s.rescheduleRequested(),
    facts: 'A reschedule request is now recorded; staff will call back. Tell them and say goodbye.',
  },
  {
    digit: '0', action: 'operator', state: 'operator_requested', outcome: 'operator_requested', needsAppointment: false,
    spoken: 'zero', choice: 'for the operator', told: 'asks for the operator',
    says: (s) => s.operatorRequested(),
    facts: 'The operator request is recorded; staff will call back. Tell them and say goodbye.',
  },
  {
    // The called party's request not to be called again (US TCPA, 47 CFR 64.1200(d)): their number
    // goes on the do-not-call list, with the call's outcome, before anything is said (src/call/call.ts).
    digit: '9', action: 'opt_out', state: 'opted_out', outcome: 'opted_out', needsAppointment: false, outboundOnly: true,
    spoken: 'nine', choice: 'if you do not want calls like this one', told: 'asks not to be called again',
    says: (s) => s.optedOut(),
    facts: 'Their number is now on our do-not-call list: we will not call it again. Tell them and say goodbye.',
  },
];

/** A booking operation's result as a key's answer: `done` and `already` name the results meaning so. */
function answerOf<R extends string>(result: R, done: R, already: R): BookingAnswer {
  if (result === done) return 'done';
  if (result === already) return 'already';
  return result === 'cancelled' ? 'cancelled' : 'not_found';
}

const byDigit = new Map(KEYS.map((k) => [k.digit, k]));

/** The key for the operator: the one choice a caller without an appointment has. */
export const OPERATOR_KEY = KEYS.find((k) => k.action === 'operator')!;

/** The meaning of `digit` for a caller with or without an appointment, on a call we placed or not; undefined: not an option. */
export function meaningOf(digit: string, hasAppointment: boolean, outbound = false): KeyMeaning | undefined {
  const key = byDigit.get(digit);
  return key && (hasAppointment || !key.needsAppointment) && (outbound || !key.outboundOnly) ? key : undefined;
}

/** The key a patient we called presses not to be called again. */
export const OPT_OUT_KEY = KEYS.find((k) => k.action === 'opt_out')!;

/** The menu's keys: those every call has. */
const MENU_KEYS = KEYS.filter((k) => !k.outboundOnly);

const list = (parts: readonly string[]) => (parts.length < 2 ? parts.join('') : `${parts.slice(0, -1).join(', ')}, or ${parts.at(-1)}`);

/** "Press one to confirm, two to reschedule, or zero for the operator." — the keys a caller has. */
export function menuSentence(hasAppointment: boolean): string {
  return `Press ${list(MENU_KEYS.filter((k) => hasAppointment || !k.needsAppointment).map((k) => `${k.spoken} ${k.choice}`))}.`;
}

/** "1 confirms, 2 asks to reschedule, 0 asks for the operator" (and on calls we place "9 asks not to be called again") — the keys as a voice model is told. */
export function keysForModel(outbound = false): string {
  return KEYS.filter((k) => outbound || !k.outboundOnly)
    .map((k) => `${k.digit} ${k.told}`)
    .join(', ');
}

/** "1, 2 or 0" — the digits of the menu. */
export function menuDigits(): string {
  const digits = MENU_KEYS.map((k) => k.digit);
  return `${digits.slice(0, -1).join(', ')} or ${digits.at(-1)}`;
}
