/**
 * What the agent says in keypad mode, and the facts it tells the voice model. Plain sentences,
 * numbers and times already in words, so any TTS reads them the same way.
 */
import type { AppointmentDetails } from '../store/index.js';
import { appointmentInWords } from './words.js';

/** The menu, said after the greeting and after an unknown key. */
export const MENU = 'Press one to confirm, two to reschedule, or zero for the operator.';

const firstName = (name: string) => name.split(/\s+/)[0] ?? name;

/** The sentence describing an appointment: "your dental cleaning with Doctor Chen on Monday, … at …, at the Main Street clinic". */
export function describeAppointment(a: AppointmentDetails): string {
  return `your ${a.service} with ${a.provider_name} on ${appointmentInWords(a.starts_at, a.timezone)}, at ${a.location}`;
}

/** Everything keypad mode says, for one clinic. */
export function keypadPrompts(clinic: string) {
  return {
    /** A known patient calling in (or called by us) about an upcoming appointment. */
    greeting: (name: string, a: AppointmentDetails, direction: 'inbound' | 'outbound' | 'web') =>
      direction === 'outbound'
        ? `Hello ${firstName(name)}, this is ${clinic} calling about ${describeAppointment(a)}. ${MENU}`
        : `Hello ${firstName(name)}, thank you for calling ${clinic}. You have ${describeAppointment(a)}. ${MENU}`,
    /** The voice model dropped mid-call: the call goes on with keys. */
    modelLost: (hasAppointment: boolean) =>
      `Sorry, our voice assistant is not available right now. You can go on with your keypad. ${hasAppointment ? MENU : 'Press zero for the operator.'}`,
    /** A known patient with nothing upcoming. */
    noAppointment: (name: string) =>
      `Hello ${firstName(name)}, thank you for calling ${clinic}. I could not find an upcoming appointment for you. Press zero for the operator.`,
    /** Nobody with this number. */
    unknownCaller: () =>
      `Thank you for calling ${clinic}. I could not find an appointment for this phone number. Press zero to speak with the operator.`,
    /** A web visitor we cannot tie to a patient. */
    webWelcome: () =>
      `Welcome to ${clinic}. I could not find an appointment for this visit. Please call us from the phone number on your appointment, or press zero for the operator.`,
    confirmed: () => 'Thank you. Your appointment is confirmed. We look forward to seeing you. Goodbye.',
    rescheduleRequested: () =>
      'Thank you. We have noted that you would like a new time, and our staff will call you back to arrange it. Goodbye.',
    operatorRequested: () => 'Your request to speak with the operator has been recorded. A member of our staff will call you back shortly. Goodbye.',
    unknownKey: () => `Sorry, that key is not an option. ${MENU}`,
    /** The choices again; without an appointment only the operator is one. */
    repeatMenu: (hasAppointment: boolean) => (hasAppointment ? MENU : 'Press zero to speak with the operator.'),
    goodbye: () => 'We did not receive a choice. Goodbye.',
  };
}

export type KeypadPrompts = ReturnType<typeof keypadPrompts>;
