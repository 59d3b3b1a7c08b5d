import { describe, expect, it } from 'vitest';
import { hasSysNice, niceLimit } from '../../src/worker/priority.js';

describe('warm-up priority: may a process return to nice 0?', () => {
  it('reads CAP_SYS_NICE (bit 23) from CapEff', () => {
    expect(hasSysNice('Name:\tnode\nCapEff:\t000001ffffffffff\n')).toBe(true); // root
    expect(hasSysNice('CapEff:\t0000000000800000\n')).toBe(true); // only CAP_SYS_NICE
    expect(hasSysNice('CapEff:\t00000000a80425fb\n')).toBe(false); // Docker's default set
    expect(hasSysNice('CapEff:\t0000000000000000\n')).toBe(false); // a plain user
    expect(hasSysNice('Name:\tnode\n')).toBe(false);
  });

  it('reads the soft RLIMIT_NICE', () => {
    const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax nice priority         ${soft}                    ${soft}\n`;
    expect(niceLimit(limits('0'))).toBe(0);
    expect(niceLimit(limits('20'))).toBe(20);
    expect(niceLimit(limits('unlimited'))).toBe(40);
    expect(niceLimit('')).toBe(0);
  });
});
