import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { speechUlaw } from '../../devtools/audio.js';
import { ulawToLinear } from '../../devtools/rtp.js';
import { recognizeAmong, recognizeBeginning, soundMatch, speechWords } from '../../devtools/speech-check.js';

const RATE = 8000;
const said = (text: string) => Int16Array.from(readFileSync(speechUlaw(text)), ulawToLinear);

/** A melody about as loud as the sentences (-23 dBFS, flite says them at -22): 300 ms notes of two sine waves each, a short fade at each note's ends. */
function music(seconds: number): Int16Array {
  const notes = [262, 330, 392, 523, 440, 349, 294, 392];
  const out = new Int16Array(seconds * RATE);
  const noteLen = 0.3 * RATE;
  for (let i = 0; i < out.length; i++) {
    const f = notes[Math.floor(i / noteLen) % notes.length]!;
    const inNote = i % noteLen;
    const fade = Math.min(1, inNote / 200, (noteLen - inNote) / 200);
    out[i] = Math.round(2500 * fade * (Math.sin((2 * Math.PI * f * i) / RATE) + Math.sin((2 * Math.PI * 1.5 * f * i) / RATE)));
  }
  return out;
}

/** `sound` added to `under` from sample `at` on, clipped to 16 bits. */
function mixed(under: Int16Array, sound: Int16Array, at: number): Int16Array {
  return Int16Array.from(under, (x, i) => Math.max(-32768, Math.min(32767, x + (sound[i - at] ?? 0))));
}

describe('soundMatch: is a known sentence in a recording, under music', () => {
  const briefing = said('Hello, this is the clinic assistant. Maria Lopez is on the line about her appointment on Tuesday at ten.');
  const other = said('Front desk, this is Anna speaking. How can I help you today?');
  const hold = music(Math.ceil(briefing.length / RATE) + 4);

  it('finds the sentence alone and mixed into music at any offset', () => {
    expect(soundMatch(mixed(new Int16Array(hold.length), briefing, 1234), briefing)).toBeGreaterThan(0.95);
    expect(soundMatch(mixed(hold, briefing, 0), briefing)).toBeGreaterThan(0.6);
    expect(soundMatch(mixed(hold, briefing, 2 * RATE + 77), briefing)).toBeGreaterThan(0.6);
  });

  it('does not find it in music alone, nor in another sentence under the music', () => {
    expect(soundMatch(hold, briefing)).toBeLessThan(0.4);
    expect(soundMatch(mixed(hold, other, RATE), briefing)).toBeLessThan(0.4);
  });

  it('is 0 when the recording is shorter than the sound', () => {
    expect(soundMatch(other.subarray(0, 100), briefing)).toBe(0);
  });
});

describe('recognizeBeginning: the start of a long sentence, bits of it lost', () => {
  const long = 'Hello, this is the Main Street Clinic phone assistant with a caller for the front desk. Maria Garcia is on the line, calling from a number ending in 4 5 6 7, about their dental cleaning tomorrow. They asked to speak with a person.';
  const others = ['Hello, this is Maria. Please call me back about my cleaning.', 'Front desk, this is Anna speaking.', 'Please hold while I connect you to the front desk.'];
  const firstWords = (n: number) => speechWords(long).split(' ').slice(0, n).join(' ');
  /** The first 4.5 s of the sentence. */
  const start = said(long).subarray(0, 4.5 * RATE);

  it('names the beginning of the sentence said, where the whole-sentence grammar finds nothing', async () => {
    expect(await recognizeAmong(start, RATE, [long, ...others])).toBe('');
    const heard = await recognizeBeginning(start, RATE, [long, ...others]);
    expect(heard.split(' ').length).toBeGreaterThanOrEqual(8);
    expect(heard).toBe(firstWords(heard.split(' ').length));
  });

  it('still with 150 ms cut out, or replaced by silence, 1.5 s in', async () => {
    const cut = (i: number) => i >= 1.5 * RATE && i < 1.65 * RATE;
    for (const audio of [start.filter((_, i) => !cut(i)), start.map((x, i) => (cut(i) ? 0 : x))]) {
      const heard = await recognizeBeginning(audio, RATE, [long, ...others]);
      expect(heard.split(' ').length).toBeGreaterThanOrEqual(4);
      expect(heard).toBe(firstWords(heard.split(' ').length));
    }
  });

  it('names another sentence when that one was said, and nothing in music', async () => {
    expect(await recognizeBeginning(said(others[0]!), RATE, [long, ...others])).toBe(speechWords(others[0]!));
    expect(await recognizeBeginning(music(4), RATE, [long, ...others])).not.toMatch(/main street/);
  });
});
