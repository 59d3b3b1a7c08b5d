/**
 * Cold transfer: the caller's SIP participant is handed to the front desk by SIP REFER
 * (`SipClient.transferSipParticipant`; RFC 3515, with the desk's progress reported in NOTIFYs of
 * `message/sipfrag` per RFC 3515 §2.4.5). livekit-sip sends the REFER in the caller's dialog and
 * hangs up its side once the transfer is accepted; a refused REFER leaves the call up, so the agent
 * can take a message.
 */
import { ServerError, SipCallError } from 'livekit-server-sdk';
import type { TransferStatus } from '../store/index.js';

/** How a transfer went: its status and, in words, what the desk or the REFER answered. */
export interface TransferResult {
  readonly status: TransferStatus;
  readonly detail: string;
}

/**
 * The `Refer-To` of a desk: a `sip:` URI as it is, an E.164 number as a `tel:` URI (RFC 3966), which
 * the carrier routes (livekit pkg/service/sip.go accepts only these two schemes).
 */
export function referTarget(desk: string): string {
  return desk.startsWith('sip:') ? desk : `tel:${desk}`;
}

/**
 * What a failed REFER or desk dial means (RFC 3261 §21): 486/600 busy, 408/480/487 or no final answer
 * no_answer, 603 declined, any other SIP status refused; an error without one (LiveKit, the network) failed.
 */
export function transferFailure(err: unknown, ringTimeoutS: number): TransferResult {
  const status = err instanceof SipCallError ? err.sipStatusCode : undefined;
  const phrase = err instanceof SipCallError ? err.sipStatus : undefined;
  const said = status === undefined ? '' : `${status}${phrase ? ` ${phrase}` : ''}`;
  if (status === 486 || status === 600) return { status: 'busy', detail: said };
  if (status === 408 || status === 480 || status === 487) return { status: 'no_answer', detail: said };
  if (status === 603) return { status: 'declined', detail: said };
  if (status !== undefined) return { status: 'refused', detail: said };
  const message = err instanceof Error ? err.message : String(err);
  // livekit-sip says "sip request timed out" when the far end never answered (twirp code unknown).
  if (err instanceof ServerError && /time(d)? ?out|deadline/i.test(`${err.code ?? ''} ${message}`)) {
    return { status: 'no_answer', detail: `no answer in ${ringTimeoutS} s` };
  }
  return { status: 'failed', detail: message.slice(0, 200) };
}

/** What a cold transfer needs from LiveKit's SIP API (livekit-server-sdk `SipClient`). */
export interface ReferClient {
  transferSipParticipant(room: string, identity: string, transferTo: string, opts?: { playDialtone?: boolean; ringingTimeout?: number; timeout?: number }): Promise<void>;
}

/**
 * REFERs the caller (`identity`, a SIP participant of `room`) to the desk, with dial tone while it
 * rings, and waits for the outcome: accepted once the desk answered (the caller has left the agent),
 * or why not. Never throws.
 * @param ringTimeoutS how long the desk may ring (OPERATOR_RING_TIMEOUT_S).
 */
export async function referCaller(sip: ReferClient, room: string, identity: string, desk: string, ringTimeoutS: number): Promise<TransferResult> {
  try {
    await sip.transferSipParticipant(room, identity, referTarget(desk), { playDialtone: true, ringingTimeout: ringTimeoutS, timeout: ringTimeoutS + 10 });
    return { status: 'accepted', detail: 'REFER accepted' };
  } catch (err) {
    return transferFailure(err, ringTimeoutS);
  }
}
