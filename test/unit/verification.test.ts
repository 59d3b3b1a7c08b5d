/**
 * The identity check on its own (src/call/verification.ts): dates of birth on the keypad in each
 * order, split across presses, `*` to start again, `#` early, three wrong tries, a family sharing one
 * number, spoken dates, and the outbound "is this Maria" check.
 */
import { describe, expect, it } from 'vitest';
import { dateOfDigits, IdentityCheck, isoBirthDate, VERIFY_ATTEMPTS, type IdentityStep } from '../../src/call/index.js';
import type { CallerLookup } from '../../src/store/index.js';

const TODAY = new Date('2026-11-22T12:00:00Z');

function claimant(id: string, name: string, dob: string | null): CallerLookup {
  return { patient: { id, name, phone_e164: '+14155550101', language: 'en-US', created_at: '2026-01-01T00:00:00.000Z', date_of_birth: dob, timezone: null } };
}

const maria = claimant('maria', 'Maria Garcia', '1985-03-14');
const lucas = claimant('lucas', 'Lucas Garcia', '2016-09-05');

const check = (claimants: CallerLookup[] = [maria], order: 'MDY' | 'DMY' | 'YMD' = 'MDY') => new IdentityCheck('dob', claimants, order, () => TODAY);

/** Presses every key of `keys` in turn; returns the steps. */
const press = (c: IdentityCheck, keys: string) => [...keys].map((k) => c.press(k));

describe('dates of birth', () => {
  it('reads 8 digits in each order, and refuses what is not a real date from 1900 to today', () => {
    expect(dateOfDigits('03141985', 'MDY', TODAY)).toBe('1985-03-14');
    expect(dateOfDigits('14031985', 'DMY', TODAY)).toBe('1985-03-14');
    expect(dateOfDigits('19850314', 'YMD', TODAY)).toBe('1985-03-14');
    for (const bad of ['02301985', '13011985', '00001985', '03141899', '01012030', '0314198', 'abcdefgh']) {
      expect(dateOfDigits(bad, 'MDY', TODAY), bad).toBeUndefined();
    }
  });

  it('reads what a voice model sends: ISO dates, with or without a time', () => {
    expect(isoBirthDate('1985-03-14', TODAY)).toBe('1985-03-14');
    expect(isoBirthDate('1985-3-4', TODAY)).toBe('1985-03-04');
    expect(isoBirthDate('1985-03-14T00:00:00Z', TODAY)).toBe('1985-03-14');
    for (const bad of ['March 14 1985', '14/03/1985', '1985-02-30', '2027-01-01', '']) expect(isoBirthDate(bad, TODAY), bad).toBeUndefined();
  });
});

describe('the keypad check', () => {
  it('the right date, one digit at a time: nothing until the eighth, then verified as the patient', () => {
    const c = check();
    const steps = press(c, '03141985');
    expect(steps.slice(0, 7).map((s) => s.kind)).toEqual(Array(7).fill('digit'));
    expect(steps[7]).toEqual({ kind: 'verified', who: maria, attempt: 1 });
    expect(c.status).toBe('verified');
    expect(c.verified).toBe(maria);
    // Keys after the check mean nothing to it.
    expect(c.press('1')).toEqual({ kind: 'ignored' });
  });

  it('keys split across presses in any grouping make one date', () => {
    const c = check();
    expect(press(c, '031').at(-1)).toEqual({ kind: 'digit', entered: 3 });
    expect(c.entered).toBe(3);
    expect(press(c, '41').at(-1)).toEqual({ kind: 'digit', entered: 5 });
    expect(press(c, '985').at(-1)?.kind).toBe('verified');
  });

  it('a wrong date counts, and says how many tries are left; the third wrong fails the check', () => {
    const c = check();
    expect(press(c, '03151985').at(-1)).toEqual({ kind: 'wrong', why: 'no_match', attempt: 1, left: 2 });
    expect(press(c, '13141985').at(-1)).toEqual({ kind: 'wrong', why: 'not_a_date', attempt: 2, left: 1 });
    expect(c.status).toBe('pending');
    expect(press(c, '01011990').at(-1)).toEqual({ kind: 'failed', why: 'no_match', attempt: VERIFY_ATTEMPTS });
    expect(c.status).toBe('failed');
    // Not even the right date passes now.
    expect(press(c, '03141985').every((s) => s.kind === 'ignored')).toBe(true);
    expect(c.verified).toBeUndefined();
  });

  it('the right date after two wrong ones passes on the third attempt', () => {
    const c = check();
    press(c, '03151985');
    press(c, '03161985');
    expect(press(c, '03141985').at(-1)).toEqual({ kind: 'verified', who: maria, attempt: 3 });
    expect(c.attempts).toBe(3);
  });

  it('* clears the date being entered and starts it again, costing no attempt', () => {
    const c = check();
    press(c, '0315');
    expect(c.press('*')).toEqual({ kind: 'restart' });
    expect(c.entered).toBe(0);
    expect(press(c, '03141985').at(-1)?.kind).toBe('verified');
    expect(c.attempts).toBe(1);
  });

  it('# ends a date early: asked again, no attempt counted; # with nothing entered means nothing', () => {
    const c = check();
    expect(c.press('#')).toEqual({ kind: 'ignored' });
    press(c, '0314');
    expect(c.press('#')).toEqual({ kind: 'incomplete' });
    expect(c.entered).toBe(0);
    expect(c.attempts).toBe(0);
  });

  it('the clinic\'s order: DMY reads 14031985 as 14 March', () => {
    const c = check([maria], 'DMY');
    expect(press(c, '03141985').at(-1)).toMatchObject({ kind: 'wrong', why: 'not_a_date' });
    expect(press(c, '14031985').at(-1)).toMatchObject({ kind: 'verified', who: maria });
  });

  it('a family sharing one number: the date of birth picks the patient', () => {
    expect(press(check([maria, lucas]), '09052016').at(-1)).toMatchObject({ kind: 'verified', who: lucas });
    expect(press(check([maria, lucas]), '03141985').at(-1)).toMatchObject({ kind: 'verified', who: maria });
  });

  it('two patients on one number with one date of birth cannot be told apart: the check fails at once', () => {
    const twin = claimant('twin', 'Ana Garcia', '1985-03-14');
    const c = check([maria, twin]);
    expect(press(c, '03141985').at(-1)).toEqual({ kind: 'failed', why: 'ambiguous', attempt: 1 });
    expect(c.verified).toBeUndefined();
  });

  it('only patients with a date of birth on file can pass; with none, the check is impossible', () => {
    const none = claimant('x', 'No Date', null);
    expect(check([none]).possible).toBe(false);
    expect(check([none, maria]).possible).toBe(true);
    expect(press(check([none]), '01011990').at(-1)?.kind).toBe('wrong');
  });

  it('a step that could not be saved is taken back: it does not count', () => {
    const c = check();
    const wrong = press(c, '03151985').at(-1)!;
    c.undo(wrong);
    expect(c.attempts).toBe(0);
    const ok = press(c, '03141985').at(-1)!;
    c.undo(ok);
    expect(c.status).toBe('pending');
    expect(c.verified).toBeUndefined();
    expect(press(c, '03141985').at(-1)).toMatchObject({ kind: 'verified', attempt: 1 });
  });
});

describe('dates said to the voice model, and the same three tries', () => {
  it('spoken and keyed attempts share the count', () => {
    const c = check();
    expect(c.spokenDate('1985-03-15')).toMatchObject({ kind: 'wrong', attempt: 1 });
    expect(press(c, '03161985').at(-1)).toMatchObject({ kind: 'wrong', attempt: 2 });
    expect(c.spokenDate('not a date')).toEqual({ kind: 'failed', why: 'not_a_date', attempt: 3 });
  });

  it('a spoken date drops digits half entered on the keypad', () => {
    const c = check();
    press(c, '0314');
    expect(c.spokenDate('1985-03-14')).toMatchObject({ kind: 'verified' });
    expect(c.entered).toBe(0);
  });
});

describe('the outbound name check', () => {
  const named = () => new IdentityCheck('name', [maria], 'MDY', () => TODAY);

  it('1: the person is the patient', () => {
    const c = named();
    expect(c.press('1')).toEqual({ kind: 'verified', who: maria, attempt: 1 });
  });

  it('2: someone else — declined, and nothing passes after', () => {
    const c = named();
    expect(c.press('2')).toEqual({ kind: 'declined' });
    expect(c.status).toBe('declined');
    expect(c.press('1')).toEqual({ kind: 'ignored' });
  });

  it('other keys and dates mean nothing to it; a spoken answer works like the keys', () => {
    const c = named();
    const steps: IdentityStep[] = [c.press('5'), c.press('*'), c.spokenDate('1985-03-14')];
    expect(steps.every((s) => s.kind === 'ignored')).toBe(true);
    expect(c.answer(true)).toMatchObject({ kind: 'verified', who: maria });
    expect(named().answer(false)).toEqual({ kind: 'declined' });
  });
});
