import { describe, expect, it } from 'vitest';
import { findLeaks, numberPattern } from '../../devtools/logs.js';

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

describe('log leak check: examples', () => {
  it('takes a fictional 555-01XX example in a hint for what it is, not a leak', () => {
    expect(findLeaks('write it in E.164, e.g. +14155550123', [], [])).toEqual([]);
    expect(findLeaks('dialing +14155550923', [], [])).toHaveLength(1);
  });
});
