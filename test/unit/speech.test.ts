import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clauses, FLITE_SAMPLE_RATE, runFlite, toFrames, trimLeadingSilence } from '../../src/speech/flite.js';

describe('flite TTS: clauses', () => {
  it('splits after commas and keeps the punctuation', () => {
    expect(clauses('Hello Maria, thank you for calling Main Street Clinic.')).toEqual(['Hello Maria,', 'thank you for calling Main Street Clinic.']);
    expect(clauses('Press one to confirm, two to reschedule, or zero for the operator.')).toEqual([
      'Press one to confirm,',
      'two to reschedule,',
      'or zero for the operator.',
    ]);
  });

  it('joins clauses shorter than 12 characters to the next one, and a short tail to the previous one', () => {
    expect(clauses('Yes, of course, we can do that.')).toEqual(['Yes, of course,', 'we can do that.']);
    expect(clauses('We can do that tomorrow, yes.')).toEqual(['We can do that tomorrow, yes.']);
    expect(clauses('Ok.')).toEqual(['Ok.']);
    expect(clauses('  ')).toEqual([]);
  });

  it('does not split numbers like 1,000 (no space after the comma)', () => {
    expect(clauses('It costs 1,000 dollars in total today.')).toEqual(['It costs 1,000 dollars in total today.']);
  });
});

describe('flite TTS: leading silence and frames', () => {
  it('drops the silence before the first loud sample but keeps a 20 ms lead-in', () => {
    const samples = new Int16Array(FLITE_SAMPLE_RATE); // 1 s
    samples.fill(50, 0, 3200); // 200 ms of near-silence (−56 dBFS)
    samples.fill(8000, 3200); // then speech
    const trimmed = trimLeadingSilence(samples);
    expect(trimmed.length).toBe(samples.length - 3200 + 320); // 20 ms at 16 kHz = 320 samples
    expect(trimmed[320]).toBe(8000);
    expect(trimmed[319]).toBe(50);
  });

  it('leaves speech that starts at once, and all-silent audio, unchanged', () => {
    const loud = new Int16Array([-9000, 9000, 0]);
    expect(trimLeadingSilence(loud)).toEqual(loud);
    const quiet = new Int16Array(100);
    expect(trimLeadingSilence(quiet).length).toBe(100);
  });

  it('cuts audio into frames of the given length, the last one shorter, each with its own samples', () => {
    const samples = Int16Array.from({ length: 4000 }, (_, i) => i);
    const frames = toFrames(samples, 16000, 100); // 1600 samples per frame
    expect(frames.map((f) => f.samplesPerChannel)).toEqual([1600, 1600, 800]);
    expect(frames.every((f) => f.sampleRate === 16000 && f.channels === 1)).toBe(true);
    expect(frames[1]!.data[0]).toBe(1600);
    expect(frames[2]!.data[799]).toBe(3999);
    samples[0] = -1;
    expect(frames[0]!.data[0]).toBe(0);
  });
});

describe('runFlite time limit', () => {
  it('a flite run that hangs is killed and reported, not waited on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flite-'));
    const stuck = join(dir, 'flite');
    writeFileSync(stuck, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    await expect(runFlite('hello', { binary: stuck, timeoutMs: 300 })).rejects.toThrow('flite did not finish in 300 ms and was stopped');
  });
});
