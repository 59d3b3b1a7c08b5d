/**
 * What a voice model is told: the coordinator prompt (./prompt.ts), how to speak on this kind of
 * connection, and the caller's real appointment from the store — never invented facts.
 */
import { describeAppointment, keysForModel, type Situation } from '../call/index.js';

/** What the model is told about the caller, from their situation. */
function factsOf(s: Situation): string {
  switch (s.kind) {
    case 'appointment':
      return `The caller is ${s.patient.name}. They have ${describeAppointment(s.appointment)}; its status is ${s.appointment.status}.`;
    case 'no_appointment':
      return `The caller is ${s.patient.name}. They have no upcoming appointment on file.`;
    case 'unknown_caller':
    case 'unknown_visitor':
      return 'The caller is not in our records; no appointment was found for their phone number.';
  }
}

/** Full instructions for one call: the prompt, the clinic, the connection, who placed the call, the caller's facts. */
export function instructionsFor(prompt: string, clinic: string, situation: Situation): string {
  const connection =
    situation.direction === 'web'
      ? 'The visitor is on the clinic web site, speaking through their browser.'
      : `This is a phone call: audio is narrowband, so speak clearly and repeat key facts such as the date and time. The caller can also press keys: ${keysForModel()}.`;
  const who =
    situation.direction === 'outbound'
      ? `\nYou placed this call to the patient to confirm their appointment: speak first, say who you are and that you call from ${clinic}, then name the appointment.`
      : '';
  return `${prompt}\n\nYou work for ${clinic}.\n${connection}${who}\n${factsOf(situation)}`;
}
