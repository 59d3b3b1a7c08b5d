/** Cold transfer (src/transfer/cold.ts): the REFER's target, and what each way it can fail is saved as. */
import { ServerError, SipCallError } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import { referCaller, referTarget, transferFailure } from '../../src/transfer/cold.js';

/** A SIP error as livekit-server-sdk builds it from the server's answer (metadata sip_status_code / sip_status). */
const sipError = (code: number, phrase: string) =>
  SipCallError.fromServerError(new ServerError('transfer failed', `twirp error unknown: ${phrase}`, 500, 'unavailable', { sip_status_code: String(code), sip_status: phrase }));

describe('cold transfer', () => {
  it('an E.164 desk is referred as tel:, a SIP URI as it is', () => {
    expect(referTarget('+14155550100')).toBe('tel:+14155550100');
    expect(referTarget('sip:desk@pbx.example.com')).toBe('sip:desk@pbx.example.com');
  });

  it('each SIP answer to the REFER is saved as what it means (RFC 3261 §21)', () => {
    expect(transferFailure(sipError(486, 'Busy Here'), 25)).toEqual({ status: 'busy', detail: '486 Busy Here' });
    expect(transferFailure(sipError(480, 'Temporarily Unavailable'), 25)).toEqual({ status: 'no_answer', detail: '480 Temporarily Unavailable' });
    expect(transferFailure(sipError(603, 'Decline'), 25)).toEqual({ status: 'declined', detail: '603 Decline' });
    expect(transferFailure(sipError(403, 'Forbidden'), 25)).toEqual({ status: 'refused', detail: '403 Forbidden' });
    expect(transferFailure(new ServerError('x', 'deadline exceeded', 504, 'deadline_exceeded'), 25)).toEqual({ status: 'no_answer', detail: 'no answer in 25 s' });
    // What livekit-sip answered when a dialed desk rang out (seen on the local stack).
    expect(transferFailure(new ServerError('x', 'twirp error unknown: sip request timed out', 500, 'unknown'), 6)).toEqual({ status: 'no_answer', detail: 'no answer in 6 s' });
    expect(transferFailure(new Error('fetch failed'), 25)).toEqual({ status: 'failed', detail: 'fetch failed' });
  });

  it('referCaller REFERs with dial tone and the ring timeout, and never throws', async () => {
    const calls: unknown[][] = [];
    const ok = await referCaller({ transferSipParticipant: async (...a) => void calls.push(a) }, 'room-1', 'caller', '+14155550100', 25);
    expect(ok).toEqual({ status: 'accepted', detail: 'REFER accepted' });
    expect(calls).toEqual([['room-1', 'caller', 'tel:+14155550100', { playDialtone: true, ringingTimeout: 25, timeout: 35 }]]);
    const busy = await referCaller({ transferSipParticipant: async () => Promise.reject(sipError(486, 'Busy Here')) }, 'room-1', 'caller', '+14155550100', 25);
    expect(busy.status).toBe('busy');
  });
});
