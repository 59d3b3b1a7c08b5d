/**
 * Who dials the patient: the agent's job, through the outbound trunk, once its voice is up — as
 * LiveKit's outbound example does — so the patient hears the agent from their first word and every
 * outcome, answered or not, is saved by the call. A failed dial's SIP status becomes the call's
 * outcome (RFC 3261 §21: 486 Busy Here, 480 Temporarily Unavailable, 408 Request Timeout,
 * 603 Decline, 404 Not Found, 484 Address Incomplete, 5xx server failures).
 */
import { SipCallError } from 'livekit-server-sdk';
import type { Logger } from 'pino';
import type { DialResult, FinalOutcome, MachineScreen, OutboundLeg } from '../call/index.js';
import type { LiveKitApi } from '../livekit/index.js';
import { toE164 } from '../phone/index.js';
import type { OutboundJobMetadata } from '../worker/metadata.js';

/** Participant identity of the patient we dial. */
export const PATIENT_IDENTITY = 'patient';

/** The outcome of a dial that did not connect. `status` undefined: no final response (ringing timeout). */
export function dialFailureOutcome(status: number | undefined): FinalOutcome {
  if (status === undefined) return 'no_answer';
  if (status === 486 || status === 600) return 'busy';
  if (status === 408 || status === 480 || status === 487) return 'no_answer';
  if (status === 603 || status === 403) return 'rejected';
  if (status === 404 || status === 484 || status === 485 || status === 604) return 'invalid_number';
  if (status >= 500 && status < 600) return 'trunk_failure';
  return 'failed';
}

/** How outbound calls are placed (from OUTBOUND_TRUNK_ID, OUTBOUND_RINGING_TIMEOUT_S, OUTBOUND_MAX_CALL_S). */
export interface DialSettings {
  /** The outbound trunk; undefined when `make setup-sip` has not run. */
  readonly trunkId?: string;
  /** How long the phone may ring, in s. */
  readonly ringingTimeoutS: number;
  /** How long the call may last once answered, in s. */
  readonly maxCallS: number;
}

/**
 * The patient of an outbound job, dialed into `room` through the outbound trunk: `dial` creates the
 * SIP participant and waits until they answer (or the ringing timeout passes); failures come back
 * as the outcome to save, with the SIP status code; `screen`, when given (OUTBOUND_AMD), listens to
 * the answer for an answering machine. Only the number on file for the appointment's
 * patient is dialed: a job naming another number is refused and nothing is dialed.
 */
export function outboundLeg(api: LiveKitApi, settings: DialSettings, room: string, job: OutboundJobMetadata, log: Logger, screen?: () => MachineScreen): OutboundLeg {
  return {
    screen,
    appointmentId: job.appointmentId,
    phoneNumber: job.phoneNumber,
    identity: PATIENT_IDENTITY,
    async dial(phone): Promise<DialResult> {
      if (!phone) return { ok: false, outcome: 'invalid_number', reason: `appointment ${job.appointmentId} has no valid phone number on file for its patient; nothing dialed` };
      if (toE164(job.phoneNumber) !== phone) {
        // Only the patient's own number hears about their appointment (the job's may be stale or forged).
        log.error({ phoneNumber: job.phoneNumber, onFile: phone }, 'job number refused: not the number on file for the appointment\'s patient');
        return { ok: false, outcome: 'failed', reason: "the job's phone number is not the number on file for the appointment's patient; nothing dialed" };
      }
      if (!settings.trunkId) return { ok: false, outcome: 'failed', reason: 'OUTBOUND_TRUNK_ID is not set: run make setup-sip' };
      try {
        await api.sip.createSipParticipant(settings.trunkId, phone, room, {
          participantIdentity: PATIENT_IDENTITY,
          waitUntilAnswered: true,
          ringingTimeout: settings.ringingTimeoutS,
          maxCallDuration: settings.maxCallS,
        });
        log.info({ phoneNumber: phone }, 'patient answered');
        return { ok: true };
      } catch (err) {
        const status = err instanceof SipCallError ? err.sipStatusCode : undefined;
        const outcome = dialFailureOutcome(status);
        log.info({ phoneNumber: phone, sipStatus: status, outcome, err }, 'dial failed');
        return { ok: false, outcome, sipStatus: status, reason: (err as Error).message };
      }
    },
  };
}
