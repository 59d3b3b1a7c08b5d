/**
 * The labelled set of answering-machine test greetings (test/fixtures/amd/greetings.json) as
 * audio: every entry in every listed flite voice, 8 kHz 16-bit, as a phone would hear the callee
 * from the answer on — a short delay, the words, the beep if any, then quiet — over faint line
 * noise. Deterministic: the same set every run. Used by the AMD unit test and the benchmark.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { speechUlaw } from './audio.js';
import { ulawToLinear } from './rtp.js';

const RATE = 8000;

const Entry = z.object({
  id: z.string(),
  label: z.enum(['human', 'machine']),
  parts: z.array(z.string()).min(1),
  pauseMs: z.number().int().nonnegative().default(0),
  beep: z.object({ hz: z.number().positive(), ms: z.number().positive() }).optional(),
  beepAfterMs: z.number().int().nonnegative().default(500),
  heldOut: z.boolean().default(false),
});
const SetFile = z.object({ voices: z.array(z.string()).min(1), greetings: z.array(Entry).min(1) });

/** One recording of the set. */
export interface LabelledGreeting {
  /** `<entry id>/<voice>`. */
  readonly id: string;
  readonly label: 'human' | 'machine';
  /** Written after the detector's thresholds were set (see the set file's `about`). */
  readonly heldOut: boolean;
  /** 8 kHz 16-bit mono, from the answer on. */
  readonly audio: Int16Array;
  /** Where the beep ends, in ms into `audio` (machines with a beep). */
  readonly beepEndMs?: number;
  /** Where the last word ends, in ms into `audio`. */
  readonly speechEndMs: number;
}

/** Sample rate of the set's audio, in Hz. */
export const AMD_SET_RATE = RATE;

const silence = (ms: number) => new Int16Array(Math.round((ms * RATE) / 1000));

/** A sine of `hz` lasting `ms`, at -12 dBFS, with 10 ms fades (a voicemail system's beep). */
export function beep(hz: number, ms: number): Int16Array {
  const n = Math.round((ms * RATE) / 1000);
  const fade = RATE / 100;
  return Int16Array.from({ length: n }, (_, i) => Math.round(8200 * Math.min(1, i / fade, (n - i) / fade) * Math.sin((2 * Math.PI * hz * i) / RATE)));
}

/** Reads and renders the set (flite runs once per sentence and voice; its files are cached). */
export function labelledGreetings(file = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'amd', 'greetings.json')): LabelledGreeting[] {
  const set = SetFile.parse(JSON.parse(readFileSync(file, 'utf8')));
  let seed = 12345;
  const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5) * 60; // about -60 dBFS
  const out: LabelledGreeting[] = [];
  set.greetings.forEach((g, gi) => {
    set.voices.forEach((voice, vi) => {
      const pieces: Int16Array[] = [silence(300 + ((gi * 7 + vi * 3) % 7) * 100)];
      g.parts.forEach((text, i) => {
        if (i > 0) pieces.push(silence(g.pauseMs));
        pieces.push(Int16Array.from(readFileSync(speechUlaw(text, voice)), ulawToLinear));
      });
      const speechEnd = pieces.reduce((n, p) => n + p.length, 0);
      let beepEnd: number | undefined;
      if (g.beep) {
        pieces.push(silence(g.beepAfterMs), beep(g.beep.hz, g.beep.ms));
        beepEnd = pieces.reduce((n, p) => n + p.length, 0);
      }
      pieces.push(silence(3000));
      const audio = new Int16Array(pieces.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of pieces) {
        audio.set(p, at);
        at += p.length;
      }
      for (let i = 0; i < audio.length; i++) audio[i] = Math.max(-32768, Math.min(32767, Math.round(audio[i]! + noise())));
      out.push({ id: `${g.id}/${voice}`, label: g.label, heldOut: g.heldOut, audio, speechEndMs: (speechEnd / RATE) * 1000, beepEndMs: beepEnd === undefined ? undefined : (beepEnd / RATE) * 1000 });
    });
  });
  return out;
}
