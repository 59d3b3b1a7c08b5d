/**
 * A call's outcome: every value a call record's `outcome` can hold, which of them are final, which
 * mean the phone was never answered, and what a record closes with. The store, the dialer and the
 * call use these; what sets each one is the call (./call.ts): the caller's situation gives the first
 * (./situation.ts), a key (./keys.ts) or a voice model's tool the next, the end of the call the last.
 * No imports: the store's schema uses this vocabulary too.
 */

/** Every outcome, in the order a call may pass through them. */
export const CALL_OUTCOMES = [
  // Under way, nothing decided yet.
  'in_progress',
  // What is known before anything is said (./situation.ts).
  'unknown_caller',
  'no_appointment',
  // What the caller asked for, by key or by voice.
  'confirmed',
  'reschedule_requested',
  'rescheduled',
  'cancelled',
  'operator_requested',
  // How an answered call ended without a choice.
  'hung_up',
  'no_response',
  'completed',
  // Outbound calls that never connected, and calls no agent took.
  'busy',
  'no_answer',
  'rejected',
  'trunk_failure',
  'invalid_number',
  'failed',
] as const;

/** How a call ended up (call_records.outcome). */
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/**
 * Outcomes of calls that never connected: the dial failed (busy, no answer, rejected, the trunk or
 * the number at fault) or no agent took the call (`failed`). Every other outcome means someone answered.
 */
export const NOT_ANSWERED: ReadonlySet<CallOutcome> = new Set<CallOutcome>(['busy', 'no_answer', 'rejected', 'trunk_failure', 'invalid_number', 'failed']);

/** Outcomes that count as "the patient wants another time" in a campaign's summary. */
export const RESCHEDULED: ReadonlySet<CallOutcome> = new Set<CallOutcome>(['reschedule_requested', 'rescheduled']);

/**
 * Final outcomes: set only as the call ends (by the call, or by the dialer for a call no agent
 * took), never replaced afterwards. The others may change while the call goes on — an unknown
 * caller asks for the operator, a confirmation becomes a reschedule.
 */
export const FINAL: ReadonlySet<CallOutcome> = new Set<CallOutcome>(['hung_up', 'no_response', 'completed', ...NOT_ANSWERED]);

/** The outcome a record closes with: `hung_up` when nothing else happened, else what did. */
export function outcomeAtClose(current: CallOutcome): CallOutcome {
  return current === 'in_progress' ? 'hung_up' : current;
}
