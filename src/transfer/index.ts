/**
 * A person when the caller needs one: putting the caller through to the front desk (cold by SIP
 * REFER, warm with a briefing) when it is open (its hours: src/config/hours.ts), and what happens
 * when nobody can take the call.
 */

export { referCaller, referTarget, transferFailure, type ReferClient, type TransferResult } from './cold.js';
export { recordMessage, MESSAGE_LIMITS, type PcmFrame, type Recording, type RecordingLimits } from './recording.js';
export { deskProblems, frontDesk, messageBox, MESSAGE_SAMPLE_RATE, DESK_DECISION_MS } from './desk.js';
export { warmTransfer, DESK_IDENTITY, DESK_QUESTION, type WarmApi, type WarmRoom, type WarmOptions, type OwnTrack } from './warm.js';
