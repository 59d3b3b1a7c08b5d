/**
 * What a voice model is told: the coordinator prompt (./prompt.ts), how to speak on this kind of
 * connection, and the caller's real appointment from the store — never invented facts. A caller who
 * has not proved who they are yet is only a number: the model learns whom it speaks with from
 * `verify_identity` (./tools.ts), and until then knows nothing to disclose.
 */
import { describeAppointment, firstName, keysForModel, type Situation } from '../call/index.js';

/** Until the identity check has passed: what the model may not do. */
const UNTIL_VERIFIED =
  'Until verify_identity has succeeded you know nothing about them: say nothing about any patient or appointment, and use no tool except verify_identity, the operator tool (transfer_to_operator or request_operator), take_message and end_call. Never repeat a date of birth aloud.';

/** What the model is told about the caller, from their situation. */
export function factsOf(s: Situation): string {
  switch (s.kind) {
    case 'appointment':
      return `The caller is ${s.patient.name}. They have ${describeAppointment(s.appointment)}; its status is ${s.appointment.status}.`;
    case 'no_appointment':
      return `The caller is ${s.patient.name}. They have no upcoming appointment on file.`;
    case 'unknown_caller':
      return 'The caller is not in our records; no appointment was found for their phone number.';
    case 'unknown_visitor':
      return 'This visitor came without a visit link from the clinic, so you do not know who they are: say nothing about any patient or appointment. Help with general questions, and offer the operator or to take a message. To talk about their appointment they can open the link the clinic sent them, or call from the phone number on their appointment.';
    case 'not_verified':
      return 'The caller could not prove who they are: say nothing about any patient or appointment, and offer the operator.';
    case 'unverified':
      if (s.method === 'name') {
        const name = firstName(s.calledFor ?? '');
        return `You are calling for ${name}, but whoever answered may be someone else. Ask whether you are speaking with ${name}, and call verify_identity with the answer. ${UNTIL_VERIFIED}`;
      }
      return `${s.calledFor ? `You are calling for ${firstName(s.calledFor)}. ` : 'The caller is calling from a phone number on file, but has not proved who they are. '}Before anything else, ask for their date of birth and call verify_identity with it; they may also enter it on the keypad, and you will be told the result. ${UNTIL_VERIFIED}`;
  }
}

/**
 * Full instructions for one call: the prompt, the clinic, the connection, the language, who placed
 * the call, the caller's facts.
 * @param language BCP-47 tag of the language to speak (SIP_LANGUAGE or WEB_LANGUAGE), e.g. ar-XA; the
 *   model is told its name ("Arabic"), as native-audio models pick their language from the conversation.
 */
export function instructionsFor(prompt: string, clinic: string, situation: Situation, language?: string): string {
  const keys = `${keysForModel(situation.direction === 'outbound')}${situation.kind === 'unverified' ? ' (once they have proved who they are)' : ''}`;
  const connection =
    situation.direction === 'web'
      ? `The visitor is on the clinic web site, speaking through their browser. They can also press on-screen keys: ${keys}.`
      : `This is a phone call: audio is narrowband, so speak clearly and repeat key facts such as the date and time. The caller can also press keys: ${keys}.`;
  const speak = language ? `\nSpeak ${languageName(language)}, unless the caller speaks to you in another language.` : '';
  const who =
    situation.direction !== 'outbound'
      ? ''
      : situation.kind === 'unverified'
        ? `\nYou placed this call: speak first, and say that you call from ${clinic}.`
        : `\nYou placed this call to the patient to confirm their appointment: speak first, say who you are and that you call from ${clinic}, then name the appointment.`;
  const optOut = situation.direction === 'outbound' ? '\nIf the person says they do not want calls like this one (stop calling, take me off your list), call opt_out at once — whoever they are — and tell them we will not call again.' : '';
  return `${prompt}\n\nYou work for ${clinic}.\n${connection}${speak}${who}${optOut}\n${factsOf(situation)}`;
}

/** The English name of a BCP-47 tag's language ("ar-XA" → "Arabic"); the tag itself when Intl does not know it. */
export function languageName(tag: string): string {
  const primary = tag.split('-')[0]!;
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(primary) ?? tag;
  } catch {
    return tag;
  }
}
