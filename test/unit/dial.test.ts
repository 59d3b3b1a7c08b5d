/**
 * Who is dialed on an outbound job (src/outbound/dial.ts): only the number on file for the
 * appointment's patient. The LiveKit SIP API is replaced by a recorder of what would be dialed;
 * the real dial is covered end to end in test/e2e/outbound.test.ts.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { LiveKitApi } from '../../src/livekit/index.js';
import { outboundLeg } from '../../src/outbound/dial.js';

const log = pino({ level: 'silent' });

function leg(metadataNumber: string) {
  const dialed: string[] = [];
  const api = { sip: { createSipParticipant: async (_trunk: string, to: string) => void dialed.push(to) } } as unknown as LiveKitApi;
  const l = outboundLeg(api, { trunkId: 'ST_out', ringingTimeoutS: 30, maxCallS: 600 }, 'room', { direction: 'outbound', appointmentId: 'a1', phoneNumber: metadataNumber }, log);
  return { l, dialed };
}

describe('outbound leg', () => {
  it('dials the patient when the job names the number on file', async () => {
    const { l, dialed } = leg('+14155550101');
    expect(await l.dial('+14155550101')).toEqual({ ok: true });
    expect(dialed).toEqual(['+14155550101']);
  });
  it('refuses a job whose number is not the patient\'s: nothing dialed, the record will say why', async () => {
    const { l, dialed } = leg('+14155550199');
    const r = await l.dial('+14155550101');
    expect(r).toMatchObject({ ok: false, outcome: 'failed', reason: expect.stringMatching(/not the number on file.*nothing dialed/) });
    expect(dialed).toEqual([]);
  });
  it('refuses when the patient has no valid number on file', async () => {
    const { l, dialed } = leg('+14155550101');
    expect(await l.dial(undefined)).toMatchObject({ ok: false, outcome: 'invalid_number' });
    expect(dialed).toEqual([]);
  });
});
