/**
 * A call's outcome: every value a call record's `outcome` can hold, which of them are final, which
 * mean the phone was never answered, and what a record closes with. The store, the dialer and the
 * call use these; what sets each one is the call (./call.ts): the caller's situation gives the first
 * (./situation.ts), a key (./keys.ts) or a voice model's tool the next, the end of the call the last.
 * No imports: the store's schema uses this vocabulary too.
 */

/**
 * Outcomes of calls that never connected: the dial failed (busy, no answer, rejected, the trunk or
 * the number at fault; see src/outbound/dial.ts) or no agent took the call (`failed`).
 */
export const NOT_ANSWERED_OUTCOMES = ['busy', 'no_answer', 'rejected', 'trunk_failure', 'invalid_number', 'failed'] as const;

/**
 * Final outcomes: given only as a call ends — how an answered call ended without a choice
 * (`hung_up`, `no_response`, `completed`; `voicemail`: a machine answered our call and was left a
 * message, see src/outbound/amd.ts), or why it never connected. `interrupted`: the record was
 * found still open long after the call must have ended (the worker stopped mid-call) and closed at start.
 * `failed` also closes a call that broke mid-way (its process died, LiveKit was lost) before any choice. Everything else is set while
 * the call goes on and may still change (an unknown caller asks for the operator, a confirmation
 * becomes a reschedule).
 */
export const FINAL_OUTCOMES = ['hung_up', 'no_response', 'completed', 'interrupted', 'voicemail', ...NOT_ANSWERED_OUTCOMES] as const;

/** Every outcome. */
export const CALL_OUTCOMES = [
  // Under way, nothing decided yet.
  'in_progress',
  // What is known before anything is said (./situation.ts).
  'unknown_caller',
  'no_appointment',
  // The caller could not prove who they are (./verification.ts): nothing about a patient was said or changed.
  'not_verified',
  // What the caller asked for, by key or by voice.
  'confirmed',
  'reschedule_requested',
  'rescheduled',
  'cancelled',
  'operator_requested',
  // The patient asked not to be called again (key 9, or the voice model's opt_out): their number is on the do-not-call list.
  'opted_out',
  // A person when the caller needs one (src/transfer/): put through to the desk, the transfer failed, a message left.
  'transferred',
  'transfer_failed',
  'message_taken',
  ...FINAL_OUTCOMES,
] as const;

/** How a call ended up (call_records.outcome). */
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** An outcome only a call's end gives (see {@link FINAL_OUTCOMES}). */
export type FinalOutcome = (typeof FINAL_OUTCOMES)[number];

/** {@link NOT_ANSWERED_OUTCOMES} as a set: every other outcome means someone answered. */
export const NOT_ANSWERED: ReadonlySet<CallOutcome> = new Set<CallOutcome>(NOT_ANSWERED_OUTCOMES);

/** Outcomes that count as "the patient wants another time" in a campaign's summary. */
export const RESCHEDULED: ReadonlySet<CallOutcome> = new Set<CallOutcome>(['reschedule_requested', 'rescheduled']);

/**
 * The outcome a record closes with: what happened, or — when nothing did — `hung_up`, or `failed`
 * when the call broke (`failed` true). A choice already saved (and said) is kept either way.
 */
export function outcomeAtClose(current: CallOutcome, failed = false): CallOutcome {
  if (current !== 'in_progress') return current;
  return failed ? 'failed' : 'hung_up';
}
