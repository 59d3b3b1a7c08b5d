import { describe, expect, it } from 'vitest';
import { dateOfBirthPattern, findLeaks, numberPattern } from '../../devtools/logs.js';

/** The e2e run's log check (devtools/check-logs.ts) must see a number however it is written. */
describe('log leak check', () => {
  it('finds a number in full in every writing, and not a masked one', () => {
    const p = numberPattern('+14155550123');
    for (const leak of ['+14155550123', '14155550123', '4155550123', '415.555.0123', '415-555-0123', '(415) 555-0123', 'call-_+14155550123_x', 'test-14155550123-_abc']) {
      expect(p.test(leak), leak).toBe(true);
    }
    for (const safe of ['+*******0123', '415-***-0123', '24155550123', '41555501234']) expect(p.test(safe), safe).toBe(false);
    expect(numberPattern('+442071838750').test('020 7183 8750')).toBe(true);
  });
  it('reports secrets and unmasked E.164 by line, masked in the excerpt', () => {
    const leaks = findLeaks('ok line\nkey=supersecretvalue here\nroom call-_+19995550000_ab', ['+14155550123'], ['supersecretvalue']);
    expect(leaks).toEqual([
      { line: 2, kind: 'secret', excerpt: 'key=[SECRET] here' },
      { line: 3, kind: 'phone number', excerpt: 'room call-_[NUMBER]_ab' },
    ]);
  });
});

describe('log leak check: dates of birth', () => {
  it('finds a date of birth written YYYY-MM-DD, MMDDYYYY, DDMMYYYY or YYYYMMDD, not inside longer digits', () => {
    const p = dateOfBirthPattern('1985-03-14')!;
    for (const leak of ['1985-03-14', 'dob=03141985', '14031985', 'digits 19850314.', '"1985-03-14T00:00"', 'key 0-3-1-4-1-9-8-5'.replace(/-/g, '')]) {
      expect(p.test(leak), leak).toBe(true);
    }
    for (const safe of ['1985-03-15', '11985-03-14', '031419851', '2026-03-14', '1985-14-03', '****1985', '03-14-****']) expect(p.test(safe), safe).toBe(false);
    expect(dateOfBirthPattern('14/03/1985')).toBeUndefined();
  });
  it('reports them by line, masked in the excerpt; only the dates given', () => {
    const text = 'caller said 03141985\nverified patient born 1985-03-14 and 2016-09-05\nat 2026-11-22T10:00:00Z\nnumber +14155550123 dob 20160905';
    expect(findLeaks(text, ['+14155550123'], [], ['1985-03-14', '2016-09-05', 'not a date'])).toEqual([
      { line: 1, kind: 'date of birth', excerpt: 'caller said [DATE]' },
      { line: 2, kind: 'date of birth', excerpt: 'verified patient born [DATE] and [DATE]' },
      { line: 4, kind: 'phone number', excerpt: 'number +[NUMBER] dob [DATE]' },
    ]);
    // Without dates of birth (a run whose patients have none on file), none is flagged.
    expect(findLeaks(text, [], [])).toEqual([]);
  });
});

describe('log leak check: examples', () => {
  it('takes a fictional 555-01XX example in a hint for what it is, not a leak', () => {
    expect(findLeaks('write it in E.164, e.g. +14155550123', [], [])).toEqual([]);
    expect(findLeaks('dialing +14155550923', [], [])).toHaveLength(1);
  });
});
