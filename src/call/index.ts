/**
 * The call: owns one call's life (./call.ts) — who is on the line (./classify.ts), how they prove
 * it (./verification.ts) and their situation (./situation.ts), what each key means (./keys.ts), everything said (./script.ts), the
 * outcomes (./outcome.ts) and the call record kept up to date (./record.ts). LiveKit, the voice and
 * the dialing reach it through the ports declared in ./call.ts.
 */
export {
  Call,
  modelLostError,
  type CallEnded,
  type FrontDesk,
  type MessageBox,
  type MachineScreen,
  type MachineVerdict,
  type VoicemailSettings,
  VOICEMAIL_GREETING_WAIT_MS,
  type CallEvent,
  type CallOptions,
  type CallPhase,
  type CallRoom,
  type CallVoice,
  type DialResult,
  type IdentityAnswer,
  type IdentityPolicy,
  type OutboundLeg,
  type Speaker,
  type ToolScope,
  type VoiceEvents,
  type VoiceRequest,
  type WebVisit,
  waitAtMost,
} from './call.js';
export { classifyParticipant, type Connection, type ParticipantLike, type SipFacts } from './classify.js';
export { KEYS, keysForModel, meaningOf, menuSentence, type BookingAnswer, type KeyMeaning, type KeypadAction, type KeypadState } from './keys.js';
export { CALL_OUTCOMES, FINAL_OUTCOMES, NOT_ANSWERED, NOT_ANSWERED_OUTCOMES, RESCHEDULED, outcomeAtClose, type CallOutcome, type FinalOutcome } from './outcome.js';
export { CallRecorder, type CallEnd } from './record.js';
export { callScript, connecting, deskBriefing, describeAppointment, digitsInWords, greetingFor, leaveMessage, MENU, someoneElseFacts, verifiedGreeting, type CallScript, type DeskUnavailable, type Utterance } from './script.js';
export { firstName, hasAppointment, initialOutcome, patientOf, situationOf, type CallDirection, type Situation } from './situation.js';
export {
  dateOfDigits,
  DOB_DIGITS,
  IdentityCheck,
  isoBirthDate,
  NAME_KEYS,
  RESTART_KEY,
  SUBMIT_KEY,
  VERIFY_ATTEMPTS,
  type AttemptFailure,
  type DobOrder,
  type IdentityMethod,
  type IdentityStatus,
  type IdentityStep,
} from './verification.js';
