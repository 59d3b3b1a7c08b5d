/**
 * What each key means, in one table: digit → action → booking operation → outcome → what is said
 * (and the facts told to a voice model). The menu sentence, the voice model's instructions about
 * keys and the keypad state machine are all read from it. Keys arrive as RFC 2833 telephone-events
 * through LiveKit; any key not in the table is acknowledged and changes nothing.
 */
import type { Booking, ChangeContext } from '../store/index.js';
import type { CallOutcome } from './outcome.js';
import type { CallScript } from './script.js';

/** What a press asks for. */
export type KeypadAction = 'confirm' | 'reschedule' | 'operator' | 'ignored';

/** Where the call stands on the keypad. */
export type KeypadState = 'awaiting_choice' | 'confirmed' | 'reschedule_requested' | 'operator_requested';

/** One key's meaning. */
export interface KeyMeaning {
  readonly digit: string;
  readonly action: Exclude<KeypadAction, 'ignored'>;
  /** The keypad state after the press. */
  readonly state: Exclude<KeypadState, 'awaiting_choice'>;
  /** The key only means something when the caller has an appointment on file. */
  readonly needsAppointment: boolean;
  /** The booking operation, run before anything is said (none for the operator). */
  readonly book?: (booking: Booking, appointmentId: string, change: ChangeContext) => Promise<unknown>;
  /** The call's outcome once pressed. */
  readonly outcome: CallOutcome;
  /** The key as spoken in the menu, and the choice: "one" "to confirm". */
  readonly spoken: string;
  readonly choice: string;
  /** The key as a voice model is told about it: "1 confirms". */
  readonly told: string;
  /** The closing sentence in keypad mode. */
  readonly says: (s: CallScript) => string;
  /** What a voice model is told once the press is saved, after "The caller pressed N." */
  readonly facts: string;
}

/** The keys, in menu order. */
export const KEYS: readonly KeyMeaning[] = [
  {
    digit: '1', action: 'confirm', state: 'confirmed', outcome: 'confirmed', needsAppointment: true,
    book: (booking, id, change) => booking.confirm(id, change),
    spoken: 'one', choice: 'to confirm', told: 'confirms',
    says: (s) => s.confirmed(),
    facts: 'Their appointment is now confirmed in our records. Thank them and say goodbye.',
  },
  {
    digit: '2', action: 'reschedule', state: 'reschedule_requested', outcome: 'reschedule_requested', needsAppointment: true,
    book: (booking, id, change) => booking.requestReschedule(id, change),
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
];

const byDigit = new Map(KEYS.map((k) => [k.digit, k]));

/** The key for the operator: the one choice a caller without an appointment has. */
export const OPERATOR_KEY = KEYS.find((k) => k.action === 'operator')!;

/** The meaning of `digit` for a caller with or without an appointment; undefined: not an option. */
export function meaningOf(digit: string, hasAppointment: boolean): KeyMeaning | undefined {
  const key = byDigit.get(digit);
  return key && (hasAppointment || !key.needsAppointment) ? key : undefined;
}

const list = (parts: readonly string[]) => (parts.length < 2 ? parts.join('') : `${parts.slice(0, -1).join(', ')}, or ${parts.at(-1)}`);

/** "Press one to confirm, two to reschedule, or zero for the operator." — the keys a caller has. */
export function menuSentence(hasAppointment: boolean): string {
  return `Press ${list(KEYS.filter((k) => hasAppointment || !k.needsAppointment).map((k) => `${k.spoken} ${k.choice}`))}.`;
}

/** "1 confirms, 2 asks to reschedule, 0 asks for the operator" — the keys as a voice model is told. */
export function keysForModel(): string {
  return KEYS.map((k) => `${k.digit} ${k.told}`).join(', ');
}

/** "1, 2 or 0" — the digits of the menu. */
export function menuDigits(): string {
  const digits = KEYS.map((k) => k.digit);
  return `${digits.slice(0, -1).join(', ')} or ${digits.at(-1)}`;
}

/** The result of one press. */
export interface KeypadStep {
  readonly action: KeypadAction;
  /** The state after the press. */
  readonly state: KeypadState;
  /** True when the press changes something that must be saved (a repeat of the same choice does not). */
  readonly changes: boolean;
}

/** One call's keypad, read from {@link KEYS}. `hasAppointment` false: keys that need one are ignored. */
export class KeypadMachine {
  private current: KeypadState = 'awaiting_choice';

  constructor(private readonly hasAppointment: boolean) {}

  get state(): KeypadState {
    return this.current;
  }

  /** Applies a press (`0-9`, `*`, `#`, `A-D`). */
  press(digit: string): KeypadStep {
    const key = meaningOf(digit, this.hasAppointment);
    if (!key) return { action: 'ignored', state: this.current, changes: false };
    const changes = key.state !== this.current;
    this.current = key.state;
    return { action: key.action, state: key.state, changes };
  }
}
