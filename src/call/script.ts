/**
 * Everything the agent says, in one place: the exact sentences of keypad mode (spoken by flite) and
 * the facts a voice model is given to say the same in its own words. Plain sentences with numbers
 * and times already in words, so any TTS reads them the same way. The keys' part of each sentence
 * comes from the key table (./keys.ts).
 */
import type { AppointmentDetails } from '../store/index.js';
import { appointmentInWords } from '../speech/words.js';
import { menuDigits, menuSentence, OPERATOR_KEY, OPT_OUT_KEY, type BookingAnswer, type KeyMeaning } from './keys.js';
import { firstName, hasAppointment, type CallDirection, type Situation } from './situation.js';
import { DOB_ORDER_SPOKEN, NAME_KEYS, type AttemptFailure, type DobOrder, type IdentityStep } from './verification.js';

/** The menu, said after the greeting and after an unknown key. */
export const MENU = menuSentence(true);

/** Only the operator is an option (no appointment to act on). */
const OPERATOR_ONLY = menuSentence(false);

/** Said to a patient we called, after the menu: "If you do not want calls like this one, press nine." */
const OPT_OUT = `${OPT_OUT_KEY.choice[0]!.toUpperCase()}${OPT_OUT_KEY.choice.slice(1)}, press ${OPT_OUT_KEY.spoken}.`;

/** "Press zero to speak with the operator." */
const SPEAK_WITH_OPERATOR = `Press ${OPERATOR_KEY.spoken} to speak with the operator.`;

/** An E.164 number said digit by digit, in groups as people read them: "+14155550123" → "4 1 5, 5 5 5, 0 1 2 3" (North America), else in threes. */
export function digitsInWords(e164: string): string {
  const digits = e164.replace(/^\+1(?=\d{10}$)/, '').replace(/\D/g, '');
  const groups = digits.length === 10 ? [digits.slice(0, 3), digits.slice(3, 6), digits.slice(6)] : (digits.match(/.{1,3}/g) ?? []);
  return groups.map((g) => g.split('').join(' ')).join(', ');
}

/** The sentence describing an appointment: "your dental cleaning with Doctor Chen on Monday, … at …, at the Main Street clinic". */
export function describeAppointment(a: AppointmentDetails): string {
  return `your ${a.service} with ${a.provider_name} on ${appointmentInWords(a.starts_at, a.timezone)}, at ${a.location}`;
}

/**
 * Everything keypad mode says, for one clinic.
 * @param order the order of a date of birth's 8 keypad digits (DOB_ORDER), for the identity prompts.
 */
export function callScript(clinic: string, order: DobOrder = 'MDY') {
  /** A caller on the phone is thanked for calling; a web visitor is welcomed. */
  const welcome = (direction: CallDirection) => (direction === 'web' ? `welcome to ${clinic}` : `thank you for calling ${clinic}`);
  const dob = `please enter your date of birth on your keypad: ${DOB_ORDER_SPOKEN[order]}`;
  return {
    /** An inbound caller whose number is on file: asked to prove who they are; nothing about any patient said. */
    verifyDob: () => `Thank you for calling ${clinic}. To protect your privacy, ${dob}.`,
    /** The person who answered our call: who we call for, and the date of birth asked for. */
    calledForDob: (name: string) =>
      `Hello, this is ${clinic} calling for ${firstName(name)}. If this is ${firstName(name)}, ${dob}. If not, please ask ${firstName(name)} to call us back.`,
    /** The person who answered our call: who we call for, and whether it is them. */
    calledForName: (name: string) => `Hello, this is ${clinic} calling for ${firstName(name)}. ${isItThem(name)}`,
    /** The identity prompt again: after silence, a cleared entry, or a date cut short. */
    dobAgain: () => `Please enter your date of birth again: ${DOB_ORDER_SPOKEN[order]}.`,
    dobIncomplete: () => `Please enter all eight digits of your date of birth: ${DOB_ORDER_SPOKEN[order]}.`,
    /** A wrong date of birth, with another try. */
    dobWrong: (why: AttemptFailure) =>
      `${why === 'not_a_date' ? 'That is not a valid date.' : 'That date of birth does not match our records.'} Please try again: ${DOB_ORDER_SPOKEN[order]}.`,
    nameAgain: (name: string) => isItThem(name),
    /** The caller could not prove who they are: no appointment is discussed, the operator is offered. */
    notVerified: () => `I am sorry, I could not verify your identity, so I cannot discuss appointments on this call. ${SPEAK_WITH_OPERATOR}`,
    /** No date of birth on file to check a caller against: no appointment is discussed. */
    cannotVerify: (direction: CallDirection) =>
      direction === 'outbound'
        ? `Hello, this is ${clinic}. Please call us back at your convenience. ${SPEAK_WITH_OPERATOR}`
        : `Thank you for calling ${clinic}. I cannot verify your identity on this call, so I cannot discuss appointments. ${SPEAK_WITH_OPERATOR}`,
    /** Someone other than the patient answered our call: a message for the patient, nothing about the appointment. */
    someoneElse: (name: string) => `Thank you. Please tell ${firstName(name)} that ${clinic} called, and ask them to call us back. We will also try again later. Goodbye.`,
    /** The caller has just proved who they are. */
    verified: (name: string, a: AppointmentDetails, direction: CallDirection = 'inbound') =>
      `Thank you, ${firstName(name)}. You have ${describeAppointment(a)}. ${MENU}${direction === 'outbound' ? ` ${OPT_OUT}` : ''}`,
    verifiedNoAppointment: (name: string) => `Thank you, ${firstName(name)}. I could not find an upcoming appointment for you. ${OPERATOR_ONLY}`,
    /** A known patient calling in (or called by us) about an upcoming appointment. */
    greeting: (name: string, a: AppointmentDetails, direction: CallDirection) =>
      direction === 'outbound'
        ? `Hello ${firstName(name)}, this is ${clinic} calling about ${describeAppointment(a)}. ${MENU} ${OPT_OUT}`
        : `Hello ${firstName(name)}, ${welcome(direction)}. You have ${describeAppointment(a)}. ${MENU}`,
    /** The voice model dropped mid-call: the call goes on with keys. */
    modelLost: (next: string) => `Sorry, our voice assistant is not available right now. You can go on with your keypad. ${next}`,
    /** A known patient with nothing upcoming. */
    noAppointment: (name: string, direction: CallDirection = 'inbound') =>
      `Hello ${firstName(name)}, ${welcome(direction)}. I could not find an upcoming appointment for you. ${OPERATOR_ONLY}`,
    /** Nobody with this number. */
    unknownCaller: () => `Thank you for calling ${clinic}. I could not find an appointment for this phone number. ${SPEAK_WITH_OPERATOR}`,
    /** A web visitor we cannot tie to a patient. */
    webWelcome: () =>
      `Welcome to ${clinic}. I cannot see an appointment for this visit. To talk about your appointment, open the link we sent you, or call us from the phone number on your appointment. ${SPEAK_WITH_OPERATOR}`,
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
    /** The patient we called asked not to be called again: their number is on the do-not-call list (saved before this is said). */
    optedOut: () => `Understood. We will not call this number again. If you need us, please call ${clinic}. Goodbye.`,
    /**
     * Left on a patient's voicemail (src/outbound/amd.ts found a machine): who called and how to call
     * back — no name, and the appointment's day only when the clinic allows it (VOICEMAIL_INCLUDE_DATE),
     * as anyone with access to the mailbox may hear it.
     * @param callback the clinic's number, E.164 (TELNYX_PHONE_NUMBER); its digits are said one by one.
     */
    voicemail: (callback: string | undefined, appointment?: AppointmentDetails) =>
      [
        `Hello, this is ${clinic} with a message${appointment ? ` about an appointment on ${appointmentInWords(appointment.starts_at, appointment.timezone)}` : ''}`.replace(/\.?$/, '.'),
        callback ? `Please call us back at ${digitsInWords(callback)}.` : 'Please call us back.',
        'Thank you. Goodbye.',
      ].join(' '),
    /** The caller is being put through to the front desk. */
    connecting: () => 'Please hold while I connect you to the front desk.',
    /** The first words the desk hears in a warm transfer, before who is calling. */
    deskIntro: () => `Hello, this is the ${clinic} phone assistant with a caller for the front desk.`,
    /** Nobody at the desk can take the call (`why`), so the caller is asked for a message. */
    leaveMessage: (why: DeskUnavailable) => `${DESK_UNAVAILABLE[why]} ${LEAVE_MESSAGE}`,
    /** Keypad mode: why nobody takes the call; the callback number and the recording are asked for next. */
    deskUnavailable: (why: DeskUnavailable) => DESK_UNAVAILABLE[why],
    /** Which number staff will call back: the caller's own (its last digits), kept with 1 or replaced on the keypad. */
    callbackIs: (lastDigits: string) =>
      `We will call you back at the number ending in ${lastDigits.split('').join(' ')}. Press 1 if that is right, or 2 to give another number.`,
    callbackAsk: () => 'Please enter the number we should call you back at, and then press pound.',
    callbackInvalid: () => 'Sorry, that is not a number we can call.',
    /** The recording starts after this. */
    recordNow: () => 'Please leave your message now, with your name and why you called. Press pound when you are done.',
    messageSaved: () => 'Thank you. Your message is saved, and our staff will call you back. Goodbye.',
    messageNotSaved: () => 'I am sorry, your message could not be saved. Please call us again later. Goodbye.',
    noMessage: () => 'I did not hear a message. Please call us again if you need anything. Goodbye.',
    unknownKey: () => `Sorry, that key is not an option. ${MENU}`,
    /** The choices again; without an appointment only the operator is one. */
    repeatMenu: (hasAppointment: boolean) => (hasAppointment ? MENU : SPEAK_WITH_OPERATOR),
    goodbye: () => 'We did not receive a choice. Goodbye.',
  };
}

/** Why a caller who asked for a person leaves a message instead: no desk configured, the desk closed, or it did not take the call. */
export type DeskUnavailable = 'no_desk' | 'closed' | 'failed';

const DESK_UNAVAILABLE: Record<DeskUnavailable, string> = {
  no_desk: 'Nobody at the front desk can take your call right now.',
  closed: 'Our front desk is closed right now.',
  failed: 'I am sorry, the front desk cannot take your call right now.',
};

const LEAVE_MESSAGE = 'Please leave a message now with your name and why you called, and we will call you back at the number you are calling from. Press pound when you are done.';

/** The caller is being put through to the front desk. */
export function connecting(s: CallScript): Utterance {
  return { text: s.connecting(), facts: 'The caller is being put through to the front desk now. Tell them in one short sentence to hold.' };
}

/**
 * Nobody at the desk can take the call: the caller is asked for a message (keypad mode records it).
 * `callback`: the number staff would call back unless the caller gives another — the one they call
 * from, a linked web visitor's on file — or none (an anonymous web visitor), which a voice model must ask for.
 */
export function leaveMessage(s: CallScript, why: DeskUnavailable, callback: 'caller_id' | 'on_file' | 'none' = 'caller_id'): Utterance {
  const number = {
    caller_id: 'the number to call back (the one they are calling from unless they give another)',
    on_file: 'the number to call back (the one on file for them unless they give another)',
    none: 'the phone number to call them back at (this call has none)',
  }[callback];
  return {
    text: s.leaveMessage(why),
    facts: `${DESK_UNAVAILABLE[why]} Offer to take a message: ask their name, ${number} and why they called, then call take_message.`,
  };
}

/**
 * What the front desk is told of the caller in a warm transfer, where the caller cannot hear it:
 * who (a name only once the caller proved who they are — the desk may ask itself), the appointment,
 * and the last digits of the number they call from (the number in full is never spoken); then the
 * voice model's `summary` of what they want, when it gave one.
 */
export function deskBriefing(s: CallScript, situation: Situation, phone: string | undefined, summary?: string): string {
  const ending = phone?.slice(-4).split('').join(' ');
  // A web visitor calls from no number: the one on file for a linked patient is said as such.
  const from =
    situation.direction === 'web'
      ? `, on the clinic's web page${ending ? ` (their number on file ends in ${ending})` : ''}`
      : ending
        ? `, calling from a number ending in ${ending}`
        : '';
  const who = (() => {
    switch (situation.kind) {
      case 'appointment':
        return `${situation.patient.name} is on the line${from}, about ${describeAppointment(situation.appointment).replace(/^your /, 'their ')}.`;
      case 'no_appointment':
        return `${situation.patient.name} is on the line${from}, with no upcoming appointment on file.`;
      case 'unverified':
      case 'not_verified':
        return `A caller who has not confirmed who they are is on the line${from}.`;
      default:
        return `A caller we do not have on file is on the line${from}.`;
    }
  })();
  const asked = summary?.trim() ? `The assistant's note: ${summary.trim().replace(/[.!?]*$/, '.')}` : 'They asked to speak with a person.';
  return `${s.deskIntro()} ${who} ${asked}`;
}

/** "If this is Maria, press one. If not, press two." */
function isItThem(name: string): string {
  return `If this is ${firstName(name)}, press ${NAME_KEY_WORDS.isPatient}. If not, press ${NAME_KEY_WORDS.someoneElse}.`;
}

const NAME_KEY_WORDS = { isPatient: 'one', someoneElse: 'two' } as const satisfies Record<keyof typeof NAME_KEYS, string>;

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
        text: s.noAppointment(situation.patient.name, situation.direction),
        facts: `Greet ${situation.patient.name}. There is no upcoming appointment on file for them. Offer the operator (press ${OPERATOR_KEY.digit}).`,
      };
    case 'unknown_visitor':
      return { text: s.webWelcome(), facts: 'Greet the web visitor. No appointment is linked to this visit. Offer help and the operator.' };
    case 'unknown_caller':
      return { text: s.unknownCaller(), facts: `Greet the caller. No appointment was found for their phone number. Say so and offer the operator (press ${OPERATOR_KEY.digit}).` };
    case 'unverified':
      return verifyPrompt(s, situation);
    case 'not_verified':
      return {
        text: s.cannotVerify(situation.direction),
        facts: `Greet the caller. Their identity cannot be verified on this call, so say nothing about any patient or appointment; offer the operator (press ${OPERATOR_KEY.digit}).`,
      };
  }
}

/** The first words to a caller who has not proved who they are: only the clinic's name, and the check asked for. */
function verifyPrompt(s: CallScript, v: Extract<Situation, { kind: 'unverified' }>): Utterance {
  const secret = 'Say nothing about any patient or appointment until verify_identity has succeeded.';
  if (v.method === 'name') {
    const name = v.calledFor ?? '';
    return {
      text: s.calledForName(name),
      facts: `Say you are calling from the clinic for ${firstName(name)}, and ask whether you are speaking with ${firstName(name)}; they may also press ${NAME_KEYS.isPatient} (yes) or ${NAME_KEYS.someoneElse} (no). ${secret}`,
    };
  }
  const ask = 'Ask for their date of birth to verify who they are; they may say it, or enter it on the keypad as 8 digits.';
  if (v.calledFor) return { text: s.calledForDob(v.calledFor), facts: `Say you are calling from the clinic for ${firstName(v.calledFor)}. ${ask} ${secret}` };
  return { text: s.verifyDob(), facts: `Greet the caller on behalf of the clinic. ${ask} ${secret}` };
}

/**
 * What is said after a key of the identity check (./verification.ts), or undefined when nothing is
 * (a digit of a date being entered). `now`: the situation after the step (the patient, once verified).
 */
export function afterIdentityKey(s: CallScript, step: IdentityStep, now: Situation): Utterance | undefined {
  const name = now.kind === 'unverified' ? (now.calledFor ?? '') : '';
  switch (step.kind) {
    case 'digit':
    case 'ignored':
      return undefined;
    case 'restart':
      return { text: s.dobAgain(), facts: 'The caller cleared the date they were entering. Ask for their date of birth again.' };
    case 'incomplete':
      return { text: s.dobIncomplete(), facts: 'The caller entered too few digits. Ask for all 8 digits of their date of birth.' };
    case 'wrong':
      return {
        text: s.dobWrong(step.why),
        facts: `The date of birth entered on the keypad does not match our records. Say so and ask them to try again (${step.left} ${step.left === 1 ? 'try' : 'tries'} left). Say nothing about any patient or appointment.`,
      };
    case 'failed':
      return notVerified(s);
    case 'declined':
      return { text: s.someoneElse(name), facts: someoneElseFacts(name) };
    case 'verified':
      return verifiedGreeting(s, now, 'The caller proved who they are on the keypad.');
  }
}

/** What a voice model is told when someone other than the patient answered our call. */
export function someoneElseFacts(name: string): string {
  return `The person who answered is not ${firstName(name)}. Ask them to tell ${firstName(name)} that the clinic called and to call back; say we will also try again later. Say nothing about the appointment. Then say goodbye.`;
}

/** The caller could not prove who they are: nothing about appointments; the operator. */
export function notVerified(s: CallScript): Utterance {
  return {
    text: s.notVerified(),
    facts: `The caller could not be verified. Say you cannot discuss appointments on this call; say nothing about any patient or appointment, and offer the operator (press ${OPERATOR_KEY.digit}).`,
  };
}

/** The greeting once the caller has proved who they are (`how`, told to a voice model): their appointment and the choices. */
export function verifiedGreeting(s: CallScript, now: Situation, how: string): Utterance {
  const greeting = greetingFor(s, now);
  if (now.kind === 'appointment') return { text: s.verified(now.patient.name, now.appointment, now.direction), facts: `${how} ${greeting.facts}` };
  if (now.kind === 'no_appointment') return { text: s.verifiedNoAppointment(now.patient.name), facts: `${how} ${greeting.facts}` };
  return greeting;
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

/** An identity attempt could not be saved (the database failed): it did not count, and the caller is asked again. */
export function checkNotSaved(s: CallScript, situation: Situation): Utterance {
  return {
    text: `Sorry, I could not check that just now. ${repeatMenu(s, situation).text}`,
    facts: 'The answer to the identity check could not be checked just now (nothing was saved). Apologise and ask again; say nothing about any patient or appointment.',
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

/** The menu again after silence; a caller who has not proved who they are is asked again for that. */
export function repeatMenu(s: CallScript, situation: Situation): Utterance {
  if (situation.kind === 'unverified') {
    const text = situation.method === 'name' ? s.nameAgain(situation.calledFor ?? '') : s.dobAgain();
    return { text, facts: 'The caller has not answered. Ask again briefly, saying nothing about any patient or appointment.' };
  }
  return { text: s.repeatMenu(hasAppointment(situation)), facts: 'The caller has not answered. Repeat the choices briefly.' };
}

/** Goodbye after no answer at all. */
export function noChoiceGoodbye(s: CallScript): Utterance {
  return { text: s.goodbye(), facts: 'The caller did not answer. Say goodbye.' };
}

/** The voice model failed; keypad mode goes on with what the caller can do now (said by flite, so there are no facts). */
export function modelLostNotice(s: CallScript, situation: Situation): Utterance {
  const next = situation.kind === 'unverified' ? repeatMenu(s, situation).text : menuSentence(hasAppointment(situation));
  return { text: s.modelLost(next), facts: '' };
}
