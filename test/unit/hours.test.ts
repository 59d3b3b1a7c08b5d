/** The front desk's opening hours (src/transfer/hours.ts): how CLINIC_HOURS is read, and when the desk is open. */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { isOpen, parseOpeningHours } from '../../src/config/index.js';
import { loadConfig } from '../../src/config/index.js';

const ZONE = 'America/New_York';
const at = (iso: string) => DateTime.fromISO(iso, { zone: ZONE });
const LIVEKIT = { LIVEKIT_URL: 'ws://127.0.0.1:7880', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's' };

describe('opening hours', () => {
  const hours = parseOpeningHours('Mon-Fri 08:00-12:00 13:00-17:00; Sat 09:00-12:00');

  it('open inside a range, closed at its end, over lunch, on a day not named', () => {
    // 2026-11-23 is a Monday.
    expect(isOpen(hours, at('2026-11-23T08:00'), ZONE)).toBe(true);
    expect(isOpen(hours, at('2026-11-23T07:59'), ZONE)).toBe(false);
    expect(isOpen(hours, at('2026-11-23T11:59'), ZONE)).toBe(true);
    expect(isOpen(hours, at('2026-11-23T12:00'), ZONE)).toBe(false);
    expect(isOpen(hours, at('2026-11-23T12:30'), ZONE)).toBe(false);
    expect(isOpen(hours, at('2026-11-27T16:59'), ZONE)).toBe(true); // Friday
    expect(isOpen(hours, at('2026-11-28T10:00'), ZONE)).toBe(true); // Saturday
    expect(isOpen(hours, at('2026-11-28T12:00'), ZONE)).toBe(false);
    expect(isOpen(hours, at('2026-11-29T10:00'), ZONE)).toBe(false); // Sunday
  });

  it('reads the time in the clinic zone, whatever zone the instant is given in, across a DST change', () => {
    // 14:00 UTC on a Monday in November is 09:00 in New York (EST), 06:00 in Los Angeles.
    const utc = DateTime.fromISO('2026-11-23T14:00:00Z');
    expect(isOpen(hours, utc, ZONE)).toBe(true);
    expect(isOpen(hours, utc, 'America/Los_Angeles')).toBe(false);
    // 2026-03-09 is the Monday after DST began in the US: 12:30 UTC is 08:30 EDT (open), not 07:30 EST.
    expect(isOpen(hours, DateTime.fromISO('2026-03-09T12:30:00Z'), ZONE)).toBe(true);
  });

  it('a range of days wraps past Sunday; 24:00 ends a day', () => {
    const late = parseOpeningHours('sat-mon 18:00-24:00');
    expect(isOpen(late, at('2026-11-29T23:59'), ZONE)).toBe(true); // Sunday
    expect(isOpen(late, at('2026-11-23T18:00'), ZONE)).toBe(true); // Monday
    expect(isOpen(late, at('2026-11-24T18:00'), ZONE)).toBe(false); // Tuesday
  });

  it('bad hours are refused naming the entry and how to write it', () => {
    expect(() => parseOpeningHours('Mon-Fri 8-17')).toThrow('"Mon-Fri 8-17": "8-17" is not a time range; write HH:MM-HH:MM on a 24-hour clock, e.g. 08:00-17:00');
    expect(() => parseOpeningHours('Monday 08:00-17:00')).toThrow(/"Monday" is not a day or a range of days; write Mon, Tue/);
    expect(() => parseOpeningHours('Fri 22:00-02:00')).toThrow(/ends before it starts; a range may not cross midnight — split it/);
    expect(() => parseOpeningHours('Mon-Fri')).toThrow(/no hours after the days/);
    expect(() => parseOpeningHours('Mon 08:00-12:00; Mon-Tue 11:00-13:00')).toThrow(/Mon has overlapping hours/);
    expect(() => parseOpeningHours('Mon 25:00-26:00')).toThrow(/is not a time range/);
    expect(() => parseOpeningHours(' ; ')).toThrow(/no opening hours given/);
  });

  it('CLINIC_HOURS is checked with the rest of the configuration, the entry named in its error', () => {
    expect(loadConfig({ env: { ...LIVEKIT, CLINIC_HOURS: 'Mon-Fri 08:00-17:00' }, files: [] }).CLINIC_HOURS).toBe('Mon-Fri 08:00-17:00');
    expect(() => loadConfig({ env: { ...LIVEKIT, CLINIC_HOURS: 'Mon-Fri 9-5' }, files: [] })).toThrow(
      /CLINIC_HOURS: "Mon-Fri 9-5" is not valid \("Mon-Fri 9-5": "9-5" is not a time range; write HH:MM-HH:MM on a 24-hour clock, e.g. 08:00-17:00\); expected when the desk answers/,
    );
  });

  it('OPERATOR_NUMBER takes E.164 or a SIP URI; NOTIFY_WEBHOOK_SECRET a whsec_ secret, never echoed', () => {
    expect(loadConfig({ env: { ...LIVEKIT, OPERATOR_NUMBER: '+14155550100' }, files: [] }).OPERATOR_NUMBER).toBe('+14155550100');
    expect(loadConfig({ env: { ...LIVEKIT, OPERATOR_NUMBER: 'sip:desk@127.0.0.1:5070' }, files: [] }).OPERATOR_NUMBER).toBe('sip:desk@127.0.0.1:5070');
    expect(() => loadConfig({ env: { ...LIVEKIT, OPERATOR_NUMBER: '555-0100' }, files: [] })).toThrow(/OPERATOR_NUMBER: "555-0100" is not valid; expected the front desk/);
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(loadConfig({ env: { ...LIVEKIT, NOTIFY_WEBHOOK_SECRET: secret }, files: [] }).NOTIFY_WEBHOOK_SECRET).toBe(secret);
    let message = '';
    try {
      loadConfig({ env: { ...LIVEKIT, NOTIFY_WEBHOOK_SECRET: 'whsec_c2hvcnQ=' }, files: [] });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/NOTIFY_WEBHOOK_SECRET: the value is not valid; expected the Standard Webhooks signing secret/);
    expect(message).not.toContain('c2hvcnQ');
  });
});
