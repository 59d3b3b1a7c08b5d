/**
 * The caller's situation, worked out from the connection and the store's lookup, and again once the
 * caller has proved who they are (./verification.ts): a known patient with an upcoming appointment,
 * a known patient without one, a caller whose number is on file but who has not proved who they are
 * yet (or could not), an unknown phone number, or a web visitor not tied to a patient. The greeting
 * (./script.ts), the voice model's instructions (src/voice/instructions.ts) and the first outcome all read it.
 */
import type { AppointmentDetails, CallDirection, CallerLookup, Patient } from '../store/index.js';
import type { CallOutcome } from './outcome.js';
import type { IdentityMethod } from './verification.js';

export type { CallDirection };

/** The caller's situation. */
export type Situation =
  | { readonly kind: 'appointment'; readonly direction: CallDirection; readonly patient: Patient; readonly appointment: AppointmentDetails }
  | { readonly kind: 'no_appointment'; readonly direction: CallDirection; readonly patient: Patient }
  /**
   * The number is on file (or we dialed it) but the caller has not proved who they are: nothing about
   * a patient may be said. `calledFor`: on a call we placed, the patient's first name, said to whoever answers.
   */
  | { readonly kind: 'unverified'; readonly direction: CallDirection; readonly method: IdentityMethod; readonly calledFor?: string }
  /** The caller could not prove who they are (wrong dates, or no date of birth on file): only the operator is offered. */
  | { readonly kind: 'not_verified'; readonly direction: CallDirection }
  | { readonly kind: 'unknown_caller'; readonly direction: CallDirection }
  | { readonly kind: 'unknown_visitor'; readonly direction: 'web' };

/** The situation of a call in `direction` whose caller the store found as `lookup` (undefined: not found). */
export function situationOf(direction: CallDirection, lookup: CallerLookup | undefined): Situation {
  if (lookup?.appointment) return { kind: 'appointment', direction, patient: lookup.patient, appointment: lookup.appointment };
  if (lookup) return { kind: 'no_appointment', direction, patient: lookup.patient };
  return direction === 'web' ? { kind: 'unknown_visitor', direction } : { kind: 'unknown_caller', direction };
}

/** Whether the caller has an appointment the call can act on. */
export function hasAppointment(s: Situation): s is Extract<Situation, { kind: 'appointment' }> {
  return s.kind === 'appointment';
}

/** The patient on the line, when known. */
export function patientOf(s: Situation): Patient | undefined {
  return s.kind === 'appointment' || s.kind === 'no_appointment' ? s.patient : undefined;
}

/**
 * The outcome saved before anything is said: `unknown_caller` for a number not in the store,
 * `no_appointment` for a patient with nothing upcoming, `not_verified` for a caller who could not
 * prove who they are; undefined otherwise (a web visitor not tied to a patient is not an unknown caller).
 */
export function initialOutcome(s: Situation): CallOutcome | undefined {
  if (s.kind === 'unknown_caller' || s.kind === 'no_appointment' || s.kind === 'not_verified') return s.kind;
  return undefined;
}

/** The first name of a full name, as the agent says it ("Maria" of "Maria Garcia"). */
export const firstName = (name: string): string => name.trim().split(/\s+/)[0] ?? name;
