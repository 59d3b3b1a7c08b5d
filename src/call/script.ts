/**
 * Everything the agent says, in one place: the exact sentences of keypad mode (spoken by flite) and
 * the facts a voice model is given to say the same in its own words. Plain sentences with numbers
 * and times already in words, so any TTS reads them the same way. The keys' part of each sentence
 * comes from the key table (./keys.ts).
 */
import type { AppointmentDetails } from '../store/index.js';
import { appointmentInWords } from '../speech/words.js';
import { menuDigits, menuSentence, OPERATOR_KEY, type BookingAnswer, type KeyMeaning } from './keys.js';
import type { CallDirection, Situation } from './situation.js';

/** The menu, said after the greeting and after an unknown key. */
export const MENU = menuSentence(true);

/** Only the operator is an option (no appointment to act on). */
const OPERATOR_ONLY = menuSentence(false);

/** "Press zero to speak with the operator." */
const SPEAK_WITH_OPERATOR = `Press ${OPERATOR_KEY.spoken} to speak with the operator.`;

const firstName = (name: string) => name.split(/\s+/)[0] ?? name;

/** The sentence describing an appointment: "your dental cleaning with Doctor Chen on Monday, … at …, at the Main Street clinic". */
export function describeAppointment(a: AppointmentDetails): string {
  return `your ${a.service} with ${a.provider_name} on ${appointmentInWords(a.starts_at, a.timezone)}, at ${a.location}`;
}

/** Everything keypad mode says, for one clinic. */
export function callScript(clinic: string) {
  return {
    /** A known patient calling in (or called by us) about an upcoming appointment. */
    greeting: (name: string, a: AppointmentDetails, direction: CallDirection) =>
      direction === 'outbound'
        ? `Hello ${firstName(name)}, this is ${clinic} calling about ${describeAppointment(a)}. ${MENU}`
        : `Hello ${firstName(name)}, thank you for calling ${clinic}. You have ${describeAppointment(a)}. ${MENU}`,
    /** The voice model dropped mid-call: the call goes on with keys. */
    modelLost: (hasAppointment: boolean) => `Sorry, our voice assistant is not available right now. You can go on with your keypad. ${menuSentence(hasAppointment)}`,
    /** A known patient with nothing upcoming. */
    noAppointment: (name: string) => `Hello ${firstName(name)}, thank you for calling ${clinic}. I could not find an upcoming appointment for you. ${OPERATOR_ONLY}`,
    /** Nobody with this number. */
    unknownCaller: () => `Thank you for calling ${clinic}. I could not find an appointment for this phone number. ${SPEAK_WITH_OPERATOR}`,
    /** A web visitor we cannot tie to a patient. */
    webWelcome: () =>
      `Welcome to ${clinic}. I could not find an appointment for this visit. Please call us from the phone number on your appointment, or press ${OPERATOR_KEY.spoken} ${OPERATOR_KEY.choice}.`,
    confirmed: () => 'Thank you. Your appointment is confirmed. We look forward to seeing you. Goodbye.',
    alreadyConfirmed: () => 'Your appointment was already confirmed. We look forward to seeing you. Goodbye.',
    /** A key's change refused: the appointment was cancelled (by staff, or earlier in this call). */
    appointmentCancelled: () => `Our records show this appointment was cancelled, so it cannot be changed on this call. ${SPEAK_WITH_OPERATOR}`,
    /** A key's change refused: the appointment is no longer in the records. */
    appointmentGone: () => `I can no longer find this appointment in our records. ${SPEAK_WITH_OPERATOR}`,
    /** A key's change could not be saved (the database failed): nothing changed, the choices again. */
    notSaved: (hasAppointment: boolean) => `Sorry, I could not save your choice just now. ${menuSentence(hasAppointment)}`,
    /** The call reached its maximum length. */
    timeLimit: () => 'We have reached the time limit for this call. Please call us again if you need anything else. Goodbye.',
    rescheduleRequested: () => 'Thank you. We have noted that you would like a new time, and our staff will call you back to arrange it. Goodbye.',
    operatorRequested: () => 'Your request to speak with the operator has been recorded. A member of our staff will call you back shortly. Goodbye.',
    unknownKey: () => `Sorry, that key is not an option. ${MENU}`,
    /** The choices again; without an appointment only the operator is one. */
    repeatMenu: (hasAppointment: boolean) => (hasAppointment ? MENU : SPEAK_WITH_OPERATOR),
    goodbye: () => 'We did not receive a choice. Goodbye.',
  };
}

/** What keypad mode says for one clinic. */
export type CallScript = ReturnType<typeof callScript>;

/** Something to say: the exact sentence (keypad mode) and the facts for a voice model. */
export interface Utterance {
  readonly text: string;
  readonly facts: string;
}

/** The greeting for the caller's situation. Pure, so its audio can be prepared before the call is up. */
export function greetingFor(s: CallScript, situation: Situation): Utterance {
  switch (situation.kind) {
    case 'appointment': {
      const { patient, appointment } = situation;
      return {
        text: s.greeting(patient.name, appointment, situation.direction),
        facts: `Greet ${patient.name} and tell them about ${describeAppointment(appointment)}. Ask whether they confirm it, want to reschedule, or want the operator; they may also press ${menuDigits()}.`,
      };
    }
    case 'no_appointment':
      return {
        text: s.noAppointment(situation.patient.name),
        facts: `Greet ${situation.patient.name}. There is no upcoming appointment on file for them. Offer the operator (press ${OPERATOR_KEY.digit}).`,
      };
    case 'unknown_visitor':
      return { text: s.webWelcome(), facts: 'Greet the web visitor. No appointment is linked to this visit. Offer help and the operator.' };
    case 'unknown_caller':
      return { text: s.unknownCaller(), facts: `Greet the caller. No appointment was found for their phone number. Say so and offer the operator (press ${OPERATOR_KEY.digit}).` };
  }
}

/** What is said once a key's choice is saved, or refused by the booking (see ./keys.ts). */
export function afterKey(s: CallScript, key: KeyMeaning, answer: BookingAnswer = 'done'): Utterance {
  const pressed = `The caller pressed ${key.digit}.`;
  switch (answer) {
    case 'done':
      return { text: key.says(s), facts: `${pressed} ${key.facts}` };
    case 'already':
      return { text: (key.saysAlready ?? key.says)(s), facts: `${pressed} This was already recorded before; nothing changed. ${key.facts}` };
    case 'cancelled':
      return {
        text: s.appointmentCancelled(),
        facts: `${pressed} The appointment is cancelled in our records, so nothing was changed. Tell them, and offer the operator (press ${OPERATOR_KEY.digit}).`,
      };
    case 'not_found':
      return {
        text: s.appointmentGone(),
        facts: `${pressed} The appointment is no longer in our records, so nothing was changed. Tell them, and offer the operator (press ${OPERATOR_KEY.digit}).`,
      };
  }
}

/** A key's change could not be saved: an apology and the choices again. */
export function notSaved(s: CallScript, digit: string, hasAppointment: boolean): Utterance {
  return {
    text: s.notSaved(hasAppointment),
    facts: `The caller pressed ${digit}, but it could not be saved: nothing changed. Apologise and ask them to try again.`,
  };
}

/** The call reached its maximum length: goodbye. */
export function timeLimit(s: CallScript): Utterance {
  return { text: s.timeLimit(), facts: 'The call has reached its time limit. Apologise briefly and say goodbye.' };
}

/** A key that is not an option. */
export function unknownKey(s: CallScript, digit: string): Utterance {
  return { text: s.unknownKey(), facts: `The caller pressed ${digit}, which is not an option. Repeat the choices.` };
}

/** The menu again after silence. */
export function repeatMenu(s: CallScript, hasAppointment: boolean): Utterance {
  return { text: s.repeatMenu(hasAppointment), facts: 'The caller has not answered. Repeat the choices briefly.' };
}

/** Goodbye after no answer at all. */
export function noChoiceGoodbye(s: CallScript): Utterance {
  return { text: s.goodbye(), facts: 'The caller did not answer. Say goodbye.' };
}

/** The voice model failed; keypad mode goes on (said by flite, so there are no facts). */
export function modelLostNotice(s: CallScript, hasAppointment: boolean): Utterance {
  return { text: s.modelLost(hasAppointment), facts: '' };
}
