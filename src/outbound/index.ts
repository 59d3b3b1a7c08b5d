/**
 * Outbound confirmation calls: owns the job metadata contract (./metadata.ts), dialing the patient
 * and what a failed dial means (./dial.ts — the agent's job dials, so its voice is up before the
 * phone rings), a person or an answering machine on the line (./amd.ts, bound to the call's audio in
 * ./screen.ts), the dialer that places and paces the calls (./dialer.ts) and whom it calls (./targets.ts).
 */
export { appointmentsToConfirm, targetsFromFile, TargetFileError, type CallTarget, type ChosenTargets, type RejectedRow } from './targets.js';
export {
  placeCall,
  runCampaign,
  summarize,
  roomNameFor,
  planCampaign,
  callLine,
  campaignReport,
  DEFAULT_MAX_CALLS,
  type PlacedCall,
  type CampaignSummary,
  type CampaignOptions,
  type CampaignPlan,
  type PlanOptions,
} from './dialer.js';
export { dialFailureOutcome, outboundLeg, PATIENT_IDENTITY, type DialSettings } from './dial.js';
export { JobMetadataError, outboundJobMetadata, parseOutboundMetadata, writeOutboundMetadata, type OutboundJobMetadata } from './metadata.js';
export { AMD_DEFAULTS, AnsweringMachineDetector, detectInRecording, ToneTracker, type AmdOptions, type AmdVerdict } from './amd.js';
export { machineScreen, SCREEN_SAMPLE_RATE } from './screen.js';
