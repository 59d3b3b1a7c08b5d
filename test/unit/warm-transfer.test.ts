import { ServerError, SipCallError } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import { callScript, deskBriefing } from '../../src/call/index.js';
import { deskProblems } from '../../src/transfer/desk.js';
import { CLOSE_WAIT_MS, DESK_IDENTITY, DESK_QUESTION, warmTransfer, type WarmApi, type WarmRoom } from '../../src/transfer/warm.js';

/** A room and an API that record what the transfer did, in order; the desk answers with `keys`. */
function scene(keys: (string | 'left' | 'timeout')[], dial: () => Promise<void> = async () => undefined) {
  const did: string[] = [];
  const tracks = new Map<string, string[]>([['caller', ['TR_caller']]]);
  const track = (sid: string) => ({ sid, close: async () => void did.push(`close ${sid}`) });
  const room: WarmRoom = {
    startHold: async () => (did.push('hold'), track('TR_hold')),
    openBriefing: async () => ({ ...track('TR_brief'), say: async (text: string) => void did.push(`say ${text}`) }),
    audioTracksOf: (identity) => tracks.get(identity) ?? [],
    agentVoiceTracks: () => ['TR_voice'],
    audioTrackFrom: async () => undefined,
    nextKey: async () => keys.shift() ?? 'timeout',
  };
  const api: WarmApi = {
    dial: async (identity) => {
      did.push(`dial ${identity}`);
      await dial();
      tracks.set(DESK_IDENTITY, ['TR_desk']);
    },
    hear: async (identity, sids, on) => void did.push(`${on ? 'hear' : 'mute'} ${identity} ${sids.join(',')}`),
    remove: async (identity) => void did.push(`remove ${identity}`),
  };
  return { did, room, api };
}

const opts = { ringTimeoutS: 25, decisionMs: 8000 };
const BRIEF = 'Maria Garcia is calling about her appointment.';

describe('warm transfer in the caller\'s own room', () => {
  it('the desk presses 1: briefed where the caller cannot hear, then the two hear each other and the music stops', async () => {
    const { did, room, api } = scene(['1']);
    expect(await warmTransfer(room, api, 'caller', BRIEF, opts)).toEqual({ status: 'accepted', detail: 'the desk pressed 1 (warm transfer)' });
    expect(did).toEqual([
      'hold',
      'mute caller TR_brief', // before a word is said on it
      `dial ${DESK_IDENTITY}`,
      `mute ${DESK_IDENTITY} TR_caller,TR_hold,TR_voice`,
      'mute caller TR_brief,TR_desk',
      `say ${BRIEF} ${DESK_QUESTION}`,
      'close TR_hold',
      'close TR_brief',
      'hear caller TR_desk',
      `hear ${DESK_IDENTITY} TR_caller`,
    ]);
  });

  it('other keys are ignored until 1 or 2', async () => {
    const { room, api } = scene(['5', '*', '1']);
    expect((await warmTransfer(room, api, 'caller', BRIEF, opts)).status).toBe('accepted');
  });

  it.each([
    [['2'], 'the desk pressed 2'],
    [['left'], 'the desk hung up during the briefing'],
    [['timeout', 'timeout'], 'no key from the desk in 16 s'],
  ])('the desk answers %j: declined, the desk removed, the music stopped, the caller never connected', async (keys, detail) => {
    const silent = keys[0] === 'timeout';
    const { did, room, api } = scene([...keys]);
    expect(await warmTransfer(room, api, 'caller', BRIEF, opts)).toEqual({ status: 'declined', detail });
    expect(did).toContain(`remove ${DESK_IDENTITY}`);
    expect(did).toContain('close TR_hold');
    expect(did.some((d) => d.startsWith('hear caller'))).toBe(false);
    // The briefing is said again once when the desk said nothing.
    expect(did.filter((d) => d.startsWith('say')).length).toBe(silent ? 2 : 1);
  });

  it.each([
    [486, 'busy'],
    [480, 'no_answer'],
    [603, 'declined'],
  ] as const)('the desk\'s line answers %i: %s, the music stopped, nothing briefed', async (code, status) => {
    const { did, room, api } = scene([], async () => {
      throw SipCallError.fromServerError(new ServerError('dial failed', 'twirp error unknown: INVITE failed', 500, 'unavailable', { sip_status_code: String(code), sip_status: 'x' }));
    });
    expect((await warmTransfer(room, api, 'caller', BRIEF, opts)).status).toBe(status);
    expect(did).toContain('close TR_hold');
    expect(did.some((d) => d.startsWith('say'))).toBe(false);
  });

  it('hold music that never finishes closing does not hold the caller (given up after CLOSE_WAIT_MS)', async () => {
    const { room, api } = scene([], async () => {
      throw SipCallError.fromServerError(new ServerError('dial failed', 'twirp error unknown: INVITE failed', 500, 'unavailable', { sip_status_code: '486', sip_status: 'Busy Here' }));
    });
    room.startHold = async () => ({ sid: 'TR_hold', close: () => new Promise<void>(() => undefined) });
    const started = Date.now();
    expect((await warmTransfer(room, api, 'caller', BRIEF, opts)).status).toBe('busy');
    expect(Date.now() - started).toBeLessThan(CLOSE_WAIT_MS + 1000);
  });

  it('a failure of LiveKit\'s API midway ends as failed, with the hold music stopped', async () => {
    const { did, room, api } = scene(['1']);
    api.hear = async () => {
      throw new Error('twirp error: participant not found');
    };
    expect(await warmTransfer(room, api, 'caller', BRIEF, opts)).toEqual({ status: 'failed', detail: 'twirp error: participant not found' });
    expect(did).toContain('close TR_hold');
  });
});

describe('the desk settings taken together', () => {
  const base = { TRANSFER_MODE: 'warm', CLINIC_HOURS: undefined, CLINIC_TIMEZONE: 'America/Los_Angeles', OPERATOR_RING_TIMEOUT_S: 25 } as const;
  it('warm needs the outbound trunk and a number; cold takes a SIP URI; no desk needs nothing', () => {
    expect(deskProblems({ ...base, OPERATOR_NUMBER: '+14155550100', OUTBOUND_TRUNK_ID: 'ST_abc' })).toEqual([]);
    expect(deskProblems({ ...base, OPERATOR_NUMBER: '+14155550100', OUTBOUND_TRUNK_ID: undefined })).toEqual([
      expect.stringMatching(/^OUTBOUND_TRUNK_ID: missing; TRANSFER_MODE=warm dials the desk .* or set TRANSFER_MODE=cold/),
    ]);
    expect(deskProblems({ ...base, OPERATOR_NUMBER: 'sip:desk@pbx.example.com', OUTBOUND_TRUNK_ID: 'ST_abc' })).toEqual([expect.stringMatching(/^OPERATOR_NUMBER: a warm transfer .* not a SIP URI/)]);
    expect(deskProblems({ ...base, TRANSFER_MODE: 'cold', OPERATOR_NUMBER: 'sip:desk@pbx.example.com', OUTBOUND_TRUNK_ID: undefined })).toEqual([]);
    expect(deskProblems({ ...base, OPERATOR_NUMBER: undefined, OUTBOUND_TRUNK_ID: undefined })).toEqual([]);
  });
});

describe('what the desk is told', () => {
  const s = callScript('Main Street Clinic');
  it('an unverified caller is not named; the model\'s note follows the facts; never the whole number', () => {
    const text = deskBriefing(s, { kind: 'unverified', direction: 'inbound', method: 'dob' }, '+14155557788', 'Wants to know if parking is free');
    expect(text).toBe(
      'Hello, this is the Main Street Clinic phone assistant with a caller for the front desk. A caller who has not confirmed who they are is on the line, calling from a number ending in 7 7 8 8. The assistant\'s note: Wants to know if parking is free.',
    );
    expect(deskBriefing(s, { kind: 'unknown_caller', direction: 'inbound' }, undefined)).toMatch(/A caller we do not have on file is on the line\. They asked to speak with a person\.$/);
  });
  it('a web visitor is on the web page, not calling from a number; a linked patient\'s number on file is said as such', () => {
    expect(deskBriefing(s, { kind: 'unknown_visitor', direction: 'web' }, undefined)).toMatch(/A caller we do not have on file is on the line, on the clinic's web page\. They asked/);
    const linked = { kind: 'no_appointment', direction: 'web', patient: { id: 'p1', name: 'Maria Garcia', phone_e164: '+14155557788' } } as const;
    expect(deskBriefing(s, linked as never, '+14155557788')).toContain("Maria Garcia is on the line, on the clinic's web page (their number on file ends in 7 7 8 8), with no upcoming appointment on file.");
  });
});
