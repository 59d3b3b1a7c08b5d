/**
 * The caller's situation, worked out once per call from the connection and the store's lookup: a
 * known patient with an upcoming appointment, a known patient without one, an unknown phone
 * number, or a web visitor not tied to a patient. The greeting (./script.ts), the voice model's
 * instructions (src/voice/instructions.ts) and the first outcome all read it.
 */
import type { AppointmentDetails, CallDirection, CallerLookup, Patient } from '../store/index.js';
import type { CallOutcome } from './outcome.js';

export type { CallDirection };

/** The caller's situation. */
export type Situation =
  | { readonly kind: 'appointment'; readonly direction: CallDirection; readonly patient: Patient; readonly appointment: AppointmentDetails }
  | { readonly kind: 'no_appointment'; readonly direction: CallDirection; readonly patient: Patient }
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
 * `no_appointment` for a patient with nothing upcoming; undefined otherwise (a web visitor not
 * tied to a patient is not an unknown caller).
 */
export function initialOutcome(s: Situation): CallOutcome | undefined {
  if (s.kind === 'unknown_caller') return 'unknown_caller';
  if (s.kind === 'no_appointment') return 'no_appointment';
  return undefined;
}
