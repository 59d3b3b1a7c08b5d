import { DisconnectReason, ParticipantKind } from '@livekit/rtc-node';
import { lostConnection } from '../../src/livekit/disconnect.js';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { chooseVoice } from '../../src/voice/index.js';
import { ConfigError } from '../../src/config/index.js';
import { classifyParticipant } from '../../src/call/classify.js';
import { meaningOf } from '../../src/call/keys.js';
import { toE164 } from '../../src/phone/index.js';
import { appointmentInWords, timeInWords } from '../../src/speech/words.js';

describe('classifyParticipant', () => {
  const sipAttributes = {
    'sip.phoneNumber': '+14157774444',
    'sip.trunkPhoneNumber': '+14155550123',
    'sip.callID': 'SCL_abc',
    'sip.trunkID': 'ST_in',
    'sip.ruleID': 'SDR_rule',
    'sip.callStatus': 'active',
  };

  it('reads a SIP participant routed by a dispatch rule as an inbound call with its facts', () => {
    expect(classifyParticipant({ identity: 'sip_+14157774444', kind: ParticipantKind.SIP, attributes: sipAttributes })).toEqual({
      kind: 'sip',
      identity: 'sip_+14157774444',
      sip: {
        phoneNumber: '+14157774444',
        trunkPhoneNumber: '+14155550123',
        callId: 'SCL_abc',
        trunkId: 'ST_in',
        ruleId: 'SDR_rule',
        direction: 'inbound',
      },
    });
  });

  it('reads a SIP participant without sip.ruleID as an outbound call', () => {
    const { 'sip.ruleID': _, ...outbound } = sipAttributes;
    const c = classifyParticipant({ identity: 'patient', kind: ParticipantKind.SIP, attributes: { ...outbound, 'sip.ruleID': '' } });
    expect(c.kind === 'sip' && c.sip.direction).toBe('outbound');
    expect(c.kind === 'sip' && c.sip.ruleId).toBeUndefined();
  });

  it('reads STANDARD (and anything not SIP) as web, keeping its attributes', () => {
    expect(classifyParticipant({ identity: 'browser', kind: ParticipantKind.STANDARD, attributes: { phoneNumber: '+14157774444' } })).toEqual({
      kind: 'web',
      identity: 'browser',
      attributes: { phoneNumber: '+14157774444' },
    });
    expect(classifyParticipant({ identity: 'x', attributes: {} }).kind).toBe('web');
  });
});

describe('toE164', () => {
  it('reads the same patient from every way of writing the number', () => {
    for (const raw of ['+1 (415) 777-4444', '14157774444', '+14157774444', '(415) 777-4444', '415.777.4444', ' 001 415 777 4444 ']) {
      expect(toE164(raw), raw).toBe('+14157774444');
    }
  });
  it('reads numbers of other countries, and refuses what is not a number', () => {
    expect(toE164('+44 20 7183 8750')).toBe('+442071838750');
    expect(toE164('020 7183 8750', 'GB')).toBe('+442071838750');
    expect(toE164('12345')).toBeUndefined();
    expect(toE164('')).toBeUndefined();
    expect(toE164(undefined)).toBeUndefined();
    expect(toE164('call me')).toBeUndefined();
  });
});

describe('meaningOf', () => {
  it('1 confirms, 2 asks to reschedule, 0 asks for the operator', () => {
    expect(meaningOf('1', true)).toMatchObject({ action: 'confirm', state: 'confirmed', outcome: 'confirmed' });
    expect(meaningOf('2', true)).toMatchObject({ action: 'reschedule', state: 'reschedule_requested', outcome: 'reschedule_requested' });
    expect(meaningOf('0', true)).toMatchObject({ action: 'operator', state: 'operator_requested', outcome: 'operator_requested' });
  });
  it('any other key means nothing', () => {
    for (const d of ['3', '9', '*', '#', 'A']) expect(meaningOf(d, true)).toBeUndefined();
  });
  it('without an appointment only the operator is a choice', () => {
    expect(meaningOf('1', false)).toBeUndefined();
    expect(meaningOf('2', false)).toBeUndefined();
    expect(meaningOf('0', false)?.action).toBe('operator');
  });
});

describe('words', () => {
  const at = (h: number, m: number) => DateTime.fromObject({ year: 2026, month: 11, day: 23, hour: h, minute: m }, { zone: 'America/New_York' });
  it('says times as people do', () => {
    expect(timeInWords(at(10, 30))).toBe('ten thirty a.m.');
    expect(timeInWords(at(9, 5))).toBe('nine oh five a.m.');
    expect(timeInWords(at(14, 0))).toBe('two p.m.');
    expect(timeInWords(at(12, 0))).toBe('twelve noon');
    expect(timeInWords(at(0, 0))).toBe('twelve midnight');
    expect(timeInWords(at(23, 45))).toBe('eleven forty-five p.m.');
  });
  it('reads the appointment in its own time zone, not the machine\'s', () => {
    expect(appointmentInWords('2026-11-23T15:30:00.000Z', 'America/New_York')).toBe('Monday, November twenty-third at ten thirty a.m.');
    expect(appointmentInWords('2026-11-23T15:30:00.000Z', 'Asia/Dubai')).toBe('Monday, November twenty-third at seven thirty p.m.');
    expect(appointmentInWords('2026-03-08T10:00:00.000Z', 'America/Los_Angeles')).toBe('Sunday, March eighth at three a.m.');
    expect(() => appointmentInWords('not a time', 'UTC')).toThrow('cannot read not a time in UTC');
  });
});

describe('chooseVoice', () => {
  it('picks Gemini with GOOGLE_API_KEY, else OpenAI with OPENAI_API_KEY, else keypad mode, and says why', () => {
    expect(chooseVoice({ GOOGLE_API_KEY: 'k' })).toEqual({ mode: 'gemini', reason: 'GOOGLE_API_KEY is set' });
    expect(chooseVoice({ GOOGLE_API_KEY: 'k', OPENAI_API_KEY: 'o' }).mode).toBe('gemini');
    expect(chooseVoice({ OPENAI_API_KEY: 'o' }).mode).toBe('openai');
    expect(chooseVoice({}).mode).toBe('keypad');
    expect(chooseVoice({}).reason).toContain('GOOGLE_API_KEY is not set');
  });

  it('follows VOICE_MODEL, and refuses a model without its key with the fix', () => {
    expect(chooseVoice({ VOICE_MODEL: 'openai', GOOGLE_API_KEY: 'k', OPENAI_API_KEY: 'o' }).mode).toBe('openai');
    expect(chooseVoice({ VOICE_MODEL: 'keypad', GOOGLE_API_KEY: 'k' }).mode).toBe('keypad');
    expect(() => chooseVoice({ VOICE_MODEL: 'openai', GOOGLE_API_KEY: 'k' })).toThrow(ConfigError);
    try {
      chooseVoice({ VOICE_MODEL: 'gemini' });
    } catch (err) {
      expect((err as ConfigError).problems).toEqual(['VOICE_MODEL=gemini needs GOOGLE_API_KEY: set it in .env, or set VOICE_MODEL=keypad to run without a model']);
    }
  });
});

describe('callLoad', () => {
  it('reports calls against livekit-server\'s 0.7 target: idle 0, full at the maximum, never above', async () => {
    const { callLoad, TARGET_LOAD } = await import('../../src/worker/load.js');
    expect(callLoad(0, 8)).toBe(0);
    expect(callLoad(4, 8)).toBeCloseTo(0.35);
    expect(callLoad(7, 8)).toBeLessThan(TARGET_LOAD);
    expect(callLoad(8, 8)).toBe(TARGET_LOAD);
    expect(callLoad(12, 8)).toBe(TARGET_LOAD);
  });
});

describe('warmProcesses', () => {
  const GiB = 2 ** 30;
  it('keeps one warm process per call the worker takes, as memory allows, and never none', async () => {
    const { warmProcesses, WARM_PROCESS_MB } = await import('../../src/worker/load.js');
    expect(warmProcesses(10, 24 * GiB)).toBe(10); // this 2-core, 24 GiB host: the whole capacity
    expect(warmProcesses(100, 24 * GiB)).toBe(Math.floor((24 * GiB) / 8 / (WARM_PROCESS_MB * 2 ** 20))); // capped by an eighth of memory
    expect(warmProcesses(10, 2 * GiB)).toBe(2); // a 2 GiB container: 256 MB for warm processes
    expect(warmProcesses(10, 256 * 2 ** 20)).toBe(1); // too small for any: still one
    expect(warmProcesses(1, 24 * GiB)).toBe(1);
  });

  it('sizes by the cgroup limit when the process has one below the machine\'s memory', async () => {
    const { memoryLimit } = await import('../../src/worker/load.js');
    const { totalmem } = await import('node:os');
    const limit = memoryLimit();
    expect(limit).toBeGreaterThan(0);
    expect(limit).toBeLessThanOrEqual(totalmem());
  });
});

describe('lostConnection', () => {
  it('a hang-up is not a lost connection; a server gone is, with the reason', () => {
    for (const r of [DisconnectReason.ROOM_DELETED, DisconnectReason.CLIENT_INITIATED, DisconnectReason.PARTICIPANT_REMOVED, DisconnectReason.ROOM_CLOSED]) {
      expect(lostConnection(r)).toBeUndefined();
    }
    expect(lostConnection(DisconnectReason.SIGNAL_CLOSE)).toBe('lost the connection to LiveKit (SIGNAL_CLOSE)');
    expect(lostConnection(DisconnectReason.SERVER_SHUTDOWN)).toBe('lost the connection to LiveKit (SERVER_SHUTDOWN)');
    expect(lostConnection(undefined)).toBe('lost the connection to LiveKit (no reason given)');
  });
});
