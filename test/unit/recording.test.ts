/** A caller's message recorded in keypad mode (src/transfer/recording.ts): what ends it, and the file it leaves. */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordMessage, type PcmFrame } from '../../src/transfer/recording.js';

const RATE = 16_000;
const FRAME = RATE / 50; // 20 ms
/** 20 ms frames: `speechMs` of a 440 Hz tone at about -10 dBFS, then `quietMs` of silence; no waiting between frames. */
async function* audio(speechMs: number, quietMs: number): AsyncGenerator<PcmFrame> {
  let n = 0;
  for (let t = 0; t < speechMs + quietMs; t += 20) {
    const data = new Int16Array(FRAME);
    if (t < speechMs) for (let i = 0; i < FRAME; i++, n++) data[i] = Math.round(10_000 * Math.sin((2 * Math.PI * 440 * n) / RATE));
    yield { data, sampleRate: RATE, channels: 1 };
  }
}
const file = () => join(mkdtempSync(join(tmpdir(), 'message-')), 'm.wav');
const never = new AbortController().signal;

describe('a message recording', () => {
  it('ends after a pause once the caller spoke; the file is a WAV of what was heard, readable by its owner only', async () => {
    const path = file();
    const r = await recordMessage(audio(3000, 6000), path, never);
    expect(r).toEqual({ ms: 7000, spoke: true, endedBy: 'pause' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const wav = readFileSync(path);
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(RATE);
    expect(wav.readUInt32LE(40)).toBe((7000 / 1000) * RATE * 2);
    expect(wav.length).toBe(44 + wav.readUInt32LE(40));
  });

  it('ends at 60 s however long the caller talks, and after 10 s when they say nothing', async () => {
    expect(await recordMessage(audio(90_000, 0), file(), never)).toEqual({ ms: 60_000, spoke: true, endedBy: 'limit' });
    expect(await recordMessage(audio(0, 30_000), file(), never)).toEqual({ ms: 10_000, spoke: false, endedBy: 'no_speech' });
  });

  it('ends when the caller presses # (or leaves): what came before is kept', async () => {
    const stop = new AbortController();
    let frames = 0;
    async function* live(): AsyncGenerator<PcmFrame> {
      for await (const f of audio(20_000, 0)) {
        if (++frames === 100) stop.abort(); // 2 s in
        await new Promise((r) => setImmediate(r));
        yield f;
      }
    }
    const path = file();
    const r = await recordMessage(live(), path, stop.signal);
    expect(r.endedBy).toBe('caller');
    expect(r.ms).toBeGreaterThanOrEqual(1980);
    expect(r.ms).toBeLessThanOrEqual(2020);
    expect(readFileSync(path).readUInt32LE(40)).toBe((r.ms / 1000) * RATE * 2);
  });

  it('never overwrites a file that exists', async () => {
    const path = file();
    await recordMessage(audio(100, 0), path, never);
    await expect(recordMessage(audio(100, 0), path, never)).rejects.toThrow(/EEXIST/);
  });
});
