/**
 * Outbound confirmation calls: owns choosing whom to call, pacing the calls, placing each one
 * (room, dispatch with the appointment as job metadata) and summarising the outcomes. The agent
 * job dials (src/agent/job.ts), as LiveKit's outbound example does, so the voice session is up
 * before the phone rings and the job saves every outcome, answered or not.
 */
export { appointmentsToConfirm, targetsFromFile, type CallTarget, type RejectedRow } from './targets.js';
export { placeCall, runCampaign, summarize, roomNameFor, type PlacedCall, type CampaignSummary, type CampaignOptions } from './dialer.js';
export { dialFailureOutcome, parseOutboundMetadata, type OutboundJobMetadata } from './outcome.js';
