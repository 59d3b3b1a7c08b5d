/**
 * The record of one call in the store: opened once, each outcome and key press saved before anything
 * is said about it, closed exactly once (the first close wins; later ones return the same record).
 */
import type { AppointmentStore, CallClose, CallEventKind, CallRecord, CallStart } from '../store/index.js';
import type { CallOutcome } from './outcome.js';

/** How a record is closed: the store's close, at the moment of closing (see `AppointmentStore.endCall`). */
export type CallEnd = Omit<CallClose, 'at'>;

/** One call's record. */
export class CallRecorder {
  private closing?: Promise<CallRecord | undefined>;

  private constructor(
    private readonly store: AppointmentStore,
    readonly record: CallRecord,
  ) {}

  /** Opens the record. @throws the store's error when it cannot be written. */
  static async open(store: AppointmentStore, start: CallStart): Promise<CallRecorder> {
    return new CallRecorder(store, await store.startCall(start));
  }

  /** The record's id (a UUID). */
  get id(): string {
    return this.record.id;
  }

  /** Saves the call's outcome while it goes on. */
  setOutcome(outcome: CallOutcome): Promise<void> {
    return this.store.setCallOutcome(this.id, outcome);
  }

  /** Saves a key press with what it did (confirm, reschedule, operator, ignored). */
  recordKey(digit: string, action: string, at: Date): Promise<void> {
    return this.store.recordDigit(this.id, digit, action, at);
  }

  /** Saves something that happened to the call's voice, with why. */
  event(kind: CallEventKind, why: string, at: Date): Promise<void> {
    return this.store.recordCallEvent(this.id, kind, why, at);
  }

  /** Closes the record once: end time, final outcome (see `outcomeAtClose` in ./outcome.ts), error, SIP status. */
  close(end: CallEnd = {}): Promise<CallRecord | undefined> {
    this.closing ??= this.store.endCall(this.id, end);
    return this.closing;
  }
}
