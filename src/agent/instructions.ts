/**
 * What a voice model is told: the coordinator persona, how to speak on this kind of connection,
 * and the caller's real appointment from the store — never invented facts.
 */
import { describeAppointment } from '../speech/prompts.js';
import type { CallerLookup } from '../store/index.js';

/** The persona of the appointment coordinator (from the seed system's prompt, tightened). */
export const COORDINATOR_PERSONA = [
  'You are the appointment coordinator of a medical clinic, speaking with patients on its behalf.',
  'Be clear, warm and formal. Keep every answer short: one or two sentences.',
  'Say numbers, dates, times and abbreviations as words.',
  'Speak one language at a time: the language the patient speaks.',
  'Only state facts you were given about the appointment; never invent times, names or slots.',
].join(' ');

/** Full instructions for one call. */
export function phoneInstructions(clinic: string, direction: 'inbound' | 'outbound' | 'web', lookup: CallerLookup | undefined): string {
  const connection =
    direction === 'web'
      ? 'The visitor is on the clinic web site, speaking through their browser.'
      : 'This is a phone call: audio is narrowband, so speak clearly and repeat key facts such as the date and time. The caller can also press keys: 1 confirms, 2 asks to reschedule, 0 asks for the operator.';
  const facts = lookup?.appointment
    ? `The caller is ${lookup.patient.name}. They have ${describeAppointment(lookup.appointment)}; its status is ${lookup.appointment.status}.`
    : lookup
      ? `The caller is ${lookup.patient.name}. They have no upcoming appointment on file.`
      : 'The caller is not in our records; no appointment was found for their phone number.';
  const who =
    direction === 'outbound'
      ? `\nYou placed this call to the patient to confirm their appointment: speak first, say who you are and that you call from ${clinic}, then name the appointment.`
      : '';
  return `${COORDINATOR_PERSONA}\nYou work for ${clinic}.\n${connection}${who}\n${facts}`;
}
