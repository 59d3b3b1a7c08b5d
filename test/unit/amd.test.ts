import { describe, expect, it } from 'vitest';
import { AMD_SET_RATE, beep, labelledGreetings } from '../../devtools/amd-set.js';
import { AMD_DEFAULTS, AnsweringMachineDetector, detectInRecording } from '../../src/outbound/amd.js';
import { callScript, digitsInWords } from '../../src/call/index.js';
import type { AppointmentDetails } from '../../src/store/index.js';

const RATE = AMD_SET_RATE;
const quiet = (ms: number) => new Int16Array((ms * RATE) / 1000);
const join = (...parts: Int16Array[]) => {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};
/** Speech-like sound: a 150 Hz buzz with many harmonics, its loudness rising and falling 4 times a second. */
const talk = (ms: number) =>
  Int16Array.from(quiet(ms), (_, i) => {
    const t = i / RATE;
    let v = 0;
    for (let h = 1; h <= 12; h++) v += Math.sin(2 * Math.PI * 150 * h * t) / h;
    return Math.round(3000 * v * (0.6 + 0.4 * Math.sin(2 * Math.PI * 4 * t)));
  });

describe('answering-machine detection: the rules', () => {
  it('silence: unsure once the initial silence has passed', () => {
    expect(detectInRecording(quiet(100), RATE).first).toMatchObject({ kind: 'unsure', atMs: AMD_DEFAULTS.initialSilenceMs });
  });

  it('a beep: machine, as soon as it has sounded 100 ms, and the greeting is over when it ends', () => {
    const d = new AnsweringMachineDetector(RATE);
    d.push(join(quiet(500), beep(1000, 400)));
    expect(d.verdict).toMatchObject({ kind: 'machine', reason: 'a voicemail beep' });
    expect(d.verdict!.atMs).toBeLessThanOrEqual(640);
    expect(d.greetingOverMs).toBeUndefined();
    d.push(quiet(100));
    expect(d.greetingOverMs).toBeGreaterThanOrEqual(880);
    expect(d.greetingOverMs).toBeLessThanOrEqual(920);
  });

  it('a short word then quiet: human after 800 ms of quiet; a long stretch of speech: machine', () => {
    expect(detectInRecording(join(quiet(400), talk(600)), RATE).first).toMatchObject({ kind: 'human', atMs: 1000 + AMD_DEFAULTS.afterGreetingSilenceMs });
    expect(detectInRecording(join(quiet(400), talk(7000)), RATE).first).toMatchObject({ kind: 'machine', atMs: 400 + AMD_DEFAULTS.machineSpeechMs });
  });

  it('a long first sentence then quiet: human only after the beep wait; with a beep in it: machine', () => {
    expect(detectInRecording(join(quiet(400), talk(3000)), RATE).first).toMatchObject({ kind: 'human', atMs: 3400 + AMD_DEFAULTS.beepWaitMs });
    expect(detectInRecording(join(quiet(400), talk(3000), quiet(1000), beep(1000, 500)), RATE).first.kind).toBe('machine');
  });

  it('speech that goes on after a human verdict: a late machine; a person who then speaks briefly stays human', () => {
    const machine = detectInRecording(join(quiet(400), talk(1500), quiet(1000), talk(6000)), RATE);
    expect(machine.first.kind).toBe('human');
    expect(machine.final).toMatchObject({ kind: 'machine' });
    const person = detectInRecording(join(quiet(400), talk(700), quiet(2000), talk(1500), quiet(1000), talk(1200)), RATE);
    expect(person.final.kind).toBe('human');
  });

  it('buzzing speech is never a beep, however steady its pitch', () => {
    const d = new AnsweringMachineDetector(RATE);
    d.push(join(quiet(300), talk(1000)));
    expect(d.verdict).toBeUndefined();
  });
});

describe('answering-machine detection: the labelled set (test/fixtures/amd)', () => {
  const set = labelledGreetings();
  const results = set.map((g) => ({ g, ...detectInRecording(g.audio, RATE) }));
  /** Precision and recall of "machine" among `rows`. */
  const score = (rows: typeof results, which: 'first' | 'final') => {
    const said = (r: (typeof results)[number]) => r[which].kind === 'machine';
    const tp = rows.filter((r) => said(r) && r.g.label === 'machine').length;
    return { precision: tp / rows.filter(said).length, recall: tp / rows.filter((r) => r.g.label === 'machine').length };
  };

  it('has people and machines in every voice, some held out', () => {
    expect(set.filter((g) => g.label === 'human').length).toBeGreaterThanOrEqual(30);
    expect(set.filter((g) => g.label === 'machine').length).toBeGreaterThanOrEqual(30);
    expect(set.filter((g) => g.heldOut).length).toBeGreaterThanOrEqual(20);
  });

  it('finds machines with precision and recall of at least 0.9, and never takes a person for one', () => {
    const all = score(results, 'final');
    expect(all.precision).toBeGreaterThanOrEqual(0.9);
    expect(all.recall).toBeGreaterThanOrEqual(0.9);
    // The costly mistake: a patient who answered gets a voicemail message and a hang-up.
    expect(results.filter((r) => r.g.label === 'human' && r.final.kind === 'machine').map((r) => r.g.id)).toEqual([]);
  });

  it("for a machine with a beep, the greeting is over when the beep ends (±60 ms): the message starts after it", () => {
    for (const g of set.filter((x) => x.label === 'machine' && x.beepEndMs !== undefined)) {
      const d = new AnsweringMachineDetector(RATE);
      d.push(g.audio);
      expect(Math.abs(d.greetingOverMs! - g.beepEndMs!), g.id).toBeLessThanOrEqual(60);
    }
  });
});

describe('the message left on a voicemail', () => {
  const script = callScript('the Main Street Clinic');
  const appointment = { starts_at: '2026-12-01T18:30:00.000Z', timezone: 'America/Los_Angeles' } as AppointmentDetails;

  it("says the clinic and the number to call back, digit by digit; no name, no date unless allowed", () => {
    expect(script.voicemail('+14155550123')).toBe(
      'Hello, this is the Main Street Clinic with a message. Please call us back at 4 1 5, 5 5 5, 0 1 2 3. Thank you. Goodbye.',
    );
    expect(script.voicemail('+14155550123', appointment)).toBe(
      'Hello, this is the Main Street Clinic with a message about an appointment on Tuesday, December first at ten thirty a.m. Please call us back at 4 1 5, 5 5 5, 0 1 2 3. Thank you. Goodbye.',
    );
    expect(script.voicemail(undefined)).toBe('Hello, this is the Main Street Clinic with a message. Please call us back. Thank you. Goodbye.');
  });

  it('groups numbers outside North America in threes', () => {
    expect(digitsInWords('+442071838750')).toBe('4 4 2, 0 7 1, 8 3 8, 7 5 0');
  });
});
