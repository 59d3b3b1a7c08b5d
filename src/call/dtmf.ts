/**
 * The keypad: a per-call state machine mapping presses to actions. Pure; the agent carries out
 * the action (database first, then speech). 1 confirms, 2 asks to reschedule, 0 asks for the
 * operator; any other key is acknowledged and changes nothing.
 */

/** What a press asks for. */
export type KeypadAction = 'confirm' | 'reschedule' | 'operator' | 'ignored';

/** Where the call stands on the keypad. */
export type KeypadState = 'awaiting_choice' | 'confirmed' | 'reschedule_requested' | 'operator_requested';

/** The result of one press. */
export interface KeypadStep {
  readonly action: KeypadAction;
  /** The state after the press. */
  readonly state: KeypadState;
  /** True when the press changes something that must be saved (a repeat of the same choice does not). */
  readonly changes: boolean;
}

const ACTIONS: Record<string, KeypadAction> = { '1': 'confirm', '2': 'reschedule', '0': 'operator' };
const STATES: Record<Exclude<KeypadAction, 'ignored'>, KeypadState> = {
  confirm: 'confirmed',
  reschedule: 'reschedule_requested',
  operator: 'operator_requested',
};

/** One call's keypad. `hasAppointment` false: 1 and 2 have nothing to act on and are ignored. */
export class KeypadMachine {
  private current: KeypadState = 'awaiting_choice';

  constructor(private readonly hasAppointment: boolean) {}

  get state(): KeypadState {
    return this.current;
  }

  /** Applies a press (`0-9`, `*`, `#`, `A-D`). */
  press(digit: string): KeypadStep {
    let action = ACTIONS[digit] ?? 'ignored';
    if (!this.hasAppointment && (action === 'confirm' || action === 'reschedule')) action = 'ignored';
    if (action === 'ignored') return { action, state: this.current, changes: false };
    const next = STATES[action];
    const changes = next !== this.current;
    this.current = next;
    return { action, state: next, changes };
  }
}
