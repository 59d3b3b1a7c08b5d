/**
 * One call, from greeting to hang-up, independent of how the agent speaks: who the caller is, what
 * each key press does to the store, what is said about it, and the call record kept up to date.
 * The store is always written before anything is said about it.
 */
import type { Logger } from 'pino';
import { KeypadMachine, type KeypadAction } from '../call/dtmf.js';
import type { KeypadPrompts } from '../speech/prompts.js';
import { describeAppointment } from '../speech/prompts.js';
import type { AppointmentStore, CallerLookup, CallOutcome, CallRecord } from '../store/index.js';

/** How the agent talks: fixed sentences with a local TTS, or a voice model given the facts. */
export interface Speaker {
  /** keypad, gemini or openai; saved on the call record. */
  readonly mode: string;
  /**
   * Says something and resolves once it has played. `text` is the exact sentence (keypad mode);
   * `facts` tells a voice model what happened so it can say it in its own words.
   */
  say(text: string, facts: string): Promise<void>;
  /** Stops what is being said (a key pressed during the greeting). */
  interrupt(): void;
  /** Ends the voice session: nothing more is said, pending speech resolves. */
  close(): Promise<void>;
}

/** What the flow needs from the room and the job. */
export interface CallFlowDeps {
  readonly store: AppointmentStore;
  readonly speaker: Speaker;
  readonly prompts: KeypadPrompts;
  readonly record: CallRecord;
  readonly lookup: CallerLookup | undefined;
  readonly direction: 'inbound' | 'outbound' | 'web';
  /** Ends the call for everyone (deletes the room: BYE to the caller). */
  readonly hangup: () => Promise<void>;
  readonly log: Logger;
  /** Silence after the menu before it is repeated once, then goodbye, in ms. */
  readonly menuTimeoutMs: number;
}

const OUTCOME: Record<Exclude<KeypadAction, 'ignored'>, CallOutcome> = {
  confirm: 'confirmed',
  reschedule: 'reschedule_requested',
  operator: 'operator_requested',
};

/** What is said first: the exact sentence (keypad mode) and the facts for a voice model. */
export interface Utterance {
  readonly text: string;
  readonly facts: string;
}

/**
 * The greeting for this caller: a known patient with an appointment, a known patient without one,
 * a web visitor, or an unknown number. Pure, so the job can prepare its audio before the call is up.
 */
export function greetingFor(prompts: KeypadPrompts, lookup: CallerLookup | undefined, direction: CallFlowDeps['direction']): Utterance {
  if (lookup?.appointment) {
    return {
      text: prompts.greeting(lookup.patient.name, lookup.appointment, direction),
      facts: `Greet ${lookup.patient.name} and tell them about ${describeAppointment(lookup.appointment)}. Ask whether they confirm it, want to reschedule, or want the operator; they may also press 1, 2 or 0.`,
    };
  }
  if (lookup) {
    return {
      text: prompts.noAppointment(lookup.patient.name),
      facts: `Greet ${lookup.patient.name}. There is no upcoming appointment on file for them. Offer the operator (press 0).`,
    };
  }
  if (direction === 'web') {
    return { text: prompts.webWelcome(), facts: 'Greet the web visitor. No appointment is linked to this visit. Offer help and the operator.' };
  }
  return {
    text: prompts.unknownCaller(),
    facts: 'Greet the caller. No appointment was found for their phone number. Say so and offer the operator (press 0).',
  };
}

/** Drives one call. Methods may be called from event handlers; presses are handled one at a time. */
export class CallFlow {
  private readonly keypad: KeypadMachine;
  private queue: Promise<void> = Promise.resolve();
  private finished = false;
  private pressed = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly d: CallFlowDeps) {
    this.keypad = new KeypadMachine(Boolean(d.lookup?.appointment));
  }

  /** The initial outcome: unknown caller or no appointment, decided before anything is said. */
  private initialOutcome(): CallOutcome | undefined {
    if (!this.d.lookup) return this.d.direction === 'web' ? undefined : 'unknown_caller';
    if (!this.d.lookup.appointment) return 'no_appointment';
    return undefined;
  }

  /** Saves what is known about the caller (unknown caller, no appointment) before anything is said. */
  async prepare(): Promise<void> {
    const initial = this.initialOutcome();
    if (initial) await this.d.store.setCallOutcome(this.d.record.id, initial);
  }

  /** Greets the caller, unless a key was already pressed (its answer is the greeting then). */
  async greet(): Promise<void> {
    if (this.pressed || this.finished) return;
    const { text, facts } = greetingFor(this.d.prompts, this.d.lookup, this.d.direction);
    this.d.log.info({ mode: this.d.speaker.mode }, 'greeting caller');
    await this.d.speaker.say(text, facts).catch((err: unknown) => this.d.log.warn({ err }, 'greeting did not play'));
    this.armMenuTimer();
  }

  /**
   * The voice model's session failed and keypad mode took over (FallbackSpeaker): tell the caller,
   * offer the menu and wait for a key as in keypad mode.
   */
  async modelLost(): Promise<void> {
    if (this.finished) return;
    this.pressed = false;
    const hasAppointment = Boolean(this.d.lookup?.appointment);
    await this.d.speaker.say(this.d.prompts.modelLost(hasAppointment), '').catch((err: unknown) => this.d.log.warn({ err }, 'fallback notice did not play'));
    this.armMenuTimer();
  }

  /**
   * A voice model's tool changed the booking (./tools.ts): the caller has answered, so the keypad
   * menu's silence timer stops.
   */
  toolOutcome(outcome: CallOutcome): void {
    this.d.log.debug({ outcome }, 'tool outcome');
    this.pressed = true;
    clearTimeout(this.timer);
  }

  private armMenuTimer(repeats = 1): void {
    clearTimeout(this.timer);
    // Only keypad mode waits for a key; with a voice model the caller talks and the model ends the call.
    if (this.finished || this.pressed || this.d.speaker.mode !== 'keypad') return;
    this.timer = setTimeout(() => {
      this.queue = this.queue.then(async () => {
        if (this.finished || this.pressed) return;
        if (repeats > 0) {
          await this.d.speaker.say(this.d.prompts.repeatMenu(Boolean(this.d.lookup?.appointment)), 'The caller has not answered. Repeat the choices briefly.');
          this.armMenuTimer(repeats - 1);
        } else {
          await this.endWith(this.d.prompts.goodbye(), 'The caller did not answer. Say goodbye.', this.initialOutcome() ?? 'no_response');
        }
      });
    }, this.d.menuTimeoutMs);
  }

  /** Handles a key press (RFC 2833 via LiveKit). Resolves once saved and answered. */
  onDigit(digit: string, at = new Date()): Promise<void> {
    this.pressed = true;
    clearTimeout(this.timer);
    this.d.speaker.interrupt();
    this.queue = this.queue.then(() => this.handleDigit(digit, at)).catch((err: unknown) => {
      this.d.log.error({ err, digit }, 'key press failed');
    });
    return this.queue;
  }

  private async handleDigit(digit: string, at: Date): Promise<void> {
    if (this.finished) {
      await this.d.store.recordDigit(this.d.record.id, digit, 'ignored', at);
      return;
    }
    const step = this.keypad.press(digit);
    const { store, record, lookup, prompts } = this.d;
    // 1. The store, first.
    const appointment = lookup?.appointment;
    // The same booking operations as the voice model's tools: a press after a spoken "yes" changes nothing twice.
    const change = { callId: record.id, source: 'keypad' as const, at };
    if (step.changes && appointment && step.action === 'confirm') await store.booking.confirm(appointment.id, change);
    if (step.changes && appointment && step.action === 'reschedule') await store.booking.requestReschedule(appointment.id, change);
    if (step.action !== 'ignored') await store.setCallOutcome(record.id, OUTCOME[step.action]);
    await store.recordDigit(record.id, digit, step.action, at);
    this.d.log.info({ digit, action: step.action, state: step.state }, 'key pressed');

    // 2. Then speech.
    switch (step.action) {
      case 'confirm':
        return this.endWith(prompts.confirmed(), 'The caller pressed 1. Their appointment is now confirmed in our records. Thank them and say goodbye.');
      case 'reschedule':
        return this.endWith(
          prompts.rescheduleRequested(),
          'The caller pressed 2. A reschedule request is now recorded; staff will call back. Tell them and say goodbye.',
        );
      case 'operator':
        return this.endWith(prompts.operatorRequested(), 'The caller pressed 0. The operator request is recorded; staff will call back. Tell them and say goodbye.');
      default:
        this.pressed = false;
        await this.d.speaker.say(prompts.unknownKey(), `The caller pressed ${digit}, which is not an option. Repeat the choices.`);
        this.armMenuTimer();
    }
  }

  private async endWith(text: string, facts: string, outcome?: CallOutcome): Promise<void> {
    this.finished = true;
    clearTimeout(this.timer);
    if (outcome) await this.d.store.setCallOutcome(this.d.record.id, outcome);
    await this.d.speaker.say(text, facts).catch((err: unknown) => this.d.log.warn({ err }, 'closing words did not play'));
    await this.d.hangup();
  }

  /** The caller is gone: close the record (outcome `hung_up` if nothing else happened). */
  async end(error?: string): Promise<CallRecord | undefined> {
    this.finished = true;
    clearTimeout(this.timer);
    // Let a press being saved finish; speech that can no longer play must not hold the record open.
    await Promise.race([this.queue, new Promise((r) => setTimeout(r, 3000))]);
    return this.d.store.endCall(this.d.record.id, { error });
  }
}
