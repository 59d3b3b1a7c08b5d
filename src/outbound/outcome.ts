/**
 * What a failed outbound dial means for the call record, from the SIP status code livekit-sip
 * reports (RFC 3261 §21: 486 Busy Here, 480 Temporarily Unavailable, 408 Request Timeout, 603
 * Decline, 404 Not Found, 484 Address Incomplete, 5xx server failures).
 */
import type { CallOutcome } from '../store/index.js';

/** The outcome of a dial that did not connect. `status` undefined: no final response (ringing timeout). */
export function dialFailureOutcome(status: number | undefined): CallOutcome {
  if (status === undefined) return 'no_answer';
  if (status === 486 || status === 600) return 'busy';
  if (status === 408 || status === 480 || status === 487) return 'no_answer';
  if (status === 603 || status === 403) return 'rejected';
  if (status === 404 || status === 484 || status === 485 || status === 604) return 'invalid_number';
  if (status >= 500 && status < 600) return 'trunk_failure';
  return 'failed';
}

/** The job metadata the dialer sends with each dispatch (JSON). */
export interface OutboundJobMetadata {
  readonly direction: 'outbound';
  readonly appointmentId: string;
  /** E.164. */
  readonly phoneNumber: string;
}

/** Reads job metadata; undefined when it is not an outbound call's. */
export function parseOutboundMetadata(metadata: string | undefined): OutboundJobMetadata | undefined {
  if (!metadata) return undefined;
  try {
    const m = JSON.parse(metadata) as Partial<OutboundJobMetadata>;
    if (m.direction === 'outbound' && typeof m.appointmentId === 'string' && typeof m.phoneNumber === 'string') {
      return { direction: 'outbound', appointmentId: m.appointmentId, phoneNumber: m.phoneNumber };
    }
  } catch {
    // not JSON: not ours
  }
  return undefined;
}
