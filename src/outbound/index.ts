/**
 * Outbound confirmation calls: owns dialing the patient (its job metadata is one of
 * src/worker/metadata.ts) and what a failed dial means (./dial.ts — the agent's job dials, so its voice is up before the
 * phone rings), a person or an answering machine on the line (./amd.ts, bound to the call's audio in
 * ./screen.ts), whom the dialer calls (./targets.ts) and in which time zone (./callee-zone.ts), a
 * campaign's rules — calling hours, do-not-call, retries, pacing, claims that survive the dialer
 * dying (./campaign.ts) — and placing its calls through LiveKit, with what the dialer prints (./dialer.ts).
 */
export { appointmentsToConfirm, targetsFromFile, TargetFileError, type CallTarget, type ChosenTargets, type RejectedRow } from './targets.js';
export {
  placeCall,
  liveKitCalls,
  summarize,
  roomNameFor,
  planCampaign,
  campaignReport,
  targetRow,
  reportCsv,
  eventLine,
  eventJson,
  REPORT_COLUMNS,
  DEFAULT_MAX_CALLS,
  DISPATCH_TIMEOUT_MS,
  type PlacedCall,
  type PlaceCallOptions,
  type CampaignSummary,
  type CampaignPlan,
  type PlanOptions,
} from './dialer.js';
export { runCampaign, systemClock, RETRY_OUTCOMES, type CampaignCalls, type CampaignEvent, type CampaignSettings, type Clock, type RunEnd, type RunOptions } from './campaign.js';
export { calleeZone, type CalleeZone } from './callee-zone.js';
export { dialFailureOutcome, outboundLeg, PATIENT_IDENTITY, type DialSettings } from './dial.js';
export { writeOutboundMetadata, type OutboundJobMetadata } from '../worker/metadata.js';
export { AMD_DEFAULTS, AnsweringMachineDetector, detectInRecording, ToneTracker, type AmdOptions, type AmdVerdict } from './amd.js';
export { machineScreen, SCREEN_SAMPLE_RATE } from './screen.js';
