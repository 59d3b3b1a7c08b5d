/**
 * "Does this recording say X?" with no cloud: soundswallower (PocketSphinx in WebAssembly, en-us
 * model inside the npm package) decodes the audio against a grammar holding the expected sentence
 * and some wrong ones; the sentence it picks is what was said. Forced alignment alone accepts any
 * sentence, so every check is a choice between candidates.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import createModule from 'soundswallower';

type Module = { Decoder: new (config: Record<string, unknown>) => Decoder };
interface Decoder {
  initialize(): Promise<void>;
  set_grammar(jsgf: string): void;
  start(): void;
  process_audio(audio: Float32Array, noSearch: boolean, fullUtt: boolean): void;
  stop(): void;
  get_text(): string;
  delete(): void;
}

let module: Promise<Module> | undefined;

function load(): Promise<Module> {
  if (!module) {
    const require = createRequire(import.meta.url);
    const m = { modelBase: `${join(dirname(require.resolve('soundswallower')), 'model')}/` };
    module = createModule(m as never).then(() => m as unknown as Module);
  }
  return module;
}

/** Lower-case words only, as the pronunciation dictionary has them ("10:30 a.m." must already be words). */
export function speechWords(text: string): string {
  return text
    .toLowerCase()
    .replace(/\ba\.m\./g, 'a m')
    .replace(/\bp\.m\./g, 'p m')
    .replace(/[-,.;:!?]/g, ' ')
    .replace(/[^a-z' ]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Decodes `pcm` against a grammar whose sentences are `alternatives` (JSGF rule expansions); the words found, '' for none. */
async function decode(pcm: Int16Array, sampleRate: number, alternatives: readonly string[]): Promise<string> {
  const ss = await load();
  const decoder = new ss.Decoder({ samprate: sampleRate, loglevel: 'FATAL' });
  try {
    await decoder.initialize();
    decoder.set_grammar(`#JSGF V1.0;\ngrammar check;\npublic <s> = ${alternatives.map((a) => `(${a})`).join(' | ')};\n`);
    const audio = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) audio[i] = pcm[i]! / 32768;
    decoder.start();
    decoder.process_audio(audio, false, true);
    decoder.stop();
    return decoder.get_text();
  } finally {
    decoder.delete();
  }
}

/**
 * Which of `candidates` the audio says.
 * @param pcm 16-bit mono samples.
 * @param sampleRate in Hz (8000 for what a phone receives).
 */
export function recognizeAmong(pcm: Int16Array, sampleRate: number, candidates: readonly string[]): Promise<string> {
  return decode(pcm, sampleRate, candidates.map(speechWords));
}

/** Most words of a candidate a prefix grammar holds: 15 is more than 4 s of flite's speech says. */
const PREFIX_WORDS = 15;

/**
 * Which of `candidates` the audio begins, for the start of a long sentence (a 20 s briefing in
 * which a loaded host lost bits: {@link recognizeAmong} then finds no whole sentence and returns
 * ''): the audio is decoded against every beginning of each candidate (its first word, its first
 * two, …, up to its first 15).
 * @param pcm 16-bit mono samples: a few seconds from the start of what was said.
 * @param sampleRate in Hz.
 * @returns the words recognised: the beginning of one candidate, or '' when none fits.
 */
export function recognizeBeginning(pcm: Int16Array, sampleRate: number, candidates: readonly string[]): Promise<string> {
  const beginnings = candidates.map((c) => {
    const words = speechWords(c).split(' ').slice(0, PREFIX_WORDS);
    return `${words.map((w, k) => (k === 0 ? w : `[${w}`)).join(' ')}${']'.repeat(words.length - 1)}`;
  });
  return decode(pcm, sampleRate, beginnings);
}

/** Start and end (in samples) of the first stretch of speech: audio above `thresholdDbfs` in 20 ms windows, ending at a gap of `gapMs`. */
export function firstSpeech(pcm: Int16Array, sampleRate: number, thresholdDbfs = -40, gapMs = 1200): { start: number; end: number } | undefined {
  const win = Math.round(sampleRate / 50);
  const level = (from: number) => {
    let sum = 0;
    for (let i = from; i < from + win && i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
    const rms = Math.sqrt(sum / win);
    return rms === 0 ? -Infinity : 20 * Math.log10(rms / 32768);
  };
  let start = -1;
  let lastLoud = -1;
  for (let i = 0; i + win <= pcm.length; i += win) {
    if (level(i) > thresholdDbfs) {
      if (start < 0) start = i;
      lastLoud = i + win;
    } else if (start >= 0 && i - lastLoud > (gapMs * sampleRate) / 1000) {
      break;
    }
  }
  return start < 0 ? undefined : { start, end: lastLoud };
}

/** What a phone call received: its RTP packets (capture times in wall-clock ms) and the PCMU audio decoded from them. */
export interface HeardAudio {
  readonly rtp: readonly { readonly payloadType: number; readonly timeMs: number; readonly timestamp: number }[];
  readonly audio: Int16Array;
}

/** The received audio (8 kHz samples) from wall-clock `fromMs` up to `toMs` (Infinity: to the end), by the RTP packets' capture times. */
export function audioBetween(call: HeardAudio, fromMs: number, toMs = Infinity): Int16Array {
  const pcmu = call.rtp.filter((x) => x.payloadType === 0);
  if (pcmu.length === 0) return new Int16Array(0);
  const sampleAt = (p: { timestamp: number }) => (p.timestamp - pcmu[0]!.timestamp) >>> 0;
  const from = pcmu.find((x) => x.timeMs >= fromMs);
  const to = pcmu.find((x) => x.timeMs >= toMs);
  if (!from) return new Int16Array(0);
  return call.audio.subarray(sampleAt(from), to ? sampleAt(to) : call.audio.length);
}

/**
 * Which of `candidates` the phone heard first between `fromMs` and `toMs` (wall-clock ms, as
 * `Date.now()`): the first stretch of speech in that part of the audio, recognised among them.
 * @returns the recognised words, or '' when nothing was heard then.
 */
export async function firstHeardAfter(call: HeardAudio, fromMs: number, candidates: readonly string[], toMs = Infinity): Promise<string> {
  const part = audioBetween(call, fromMs, toMs);
  const speech = firstSpeech(part, 8000);
  return speech ? recognizeAmong(part.subarray(speech.start, speech.end), 8000, candidates) : '';
}

/**
 * Every stretch of speech the phone heard between `fromMs` and `toMs` (wall-clock ms), each
 * recognised among `candidates`, in order: what was said after a moment, however late a loaded
 * host played it, without assuming which sentence came first.
 * @returns the recognised words of each stretch ('' for one that matched none).
 */
export async function heardAfter(call: HeardAudio, fromMs: number, candidates: readonly string[], toMs = Infinity): Promise<string[]> {
  let part = audioBetween(call, fromMs, toMs);
  const heard: string[] = [];
  for (let speech = firstSpeech(part, 8000); speech; speech = firstSpeech(part, 8000)) {
    heard.push(await recognizeAmong(part.subarray(speech.start, speech.end), 8000, candidates));
    part = part.subarray(speech.end);
  }
  return heard;
}

/** Loudness per 20 ms window in dB re full scale, floored at -60 dB (digital silence would be -Infinity). */
function loudnessEnvelope(pcm: Int16Array, sampleRate: number): Float64Array {
  const win = Math.round(sampleRate / 50);
  const out = new Float64Array(Math.floor(pcm.length / win));
  for (let w = 0; w < out.length; w++) {
    let sum = 0;
    for (let i = w * win; i < (w + 1) * win; i++) sum += pcm[i]! * pcm[i]!;
    out[w] = Math.max(-60, 10 * Math.log10(sum / win / 32768 ** 2 || 1e-12));
  }
  return out;
}

/**
 * How much of a known sound is in a recording, whatever else plays with it: the best Pearson
 * correlation, over every offset, of the two loudness envelopes (dB in 20 ms windows). A sentence's
 * syllables rise and fall in a pattern music and other sentences do not share, so a sentence that
 * leaked into a recording under hold music scores high where the music alone scores low — which a
 * speech recogniser, forced to pick one of its candidates for a stretch of music, cannot tell.
 * Take `sound` from the same path as `heard` (e.g. what another phone of the same call received):
 * audio a loaded host lost shortens a recording, and the envelopes then no longer line up.
 * @param heard 16-bit mono samples of the recording, at `sampleRate` Hz.
 * @param sound 16-bit mono samples of the sound looked for (shorter than `heard`), at `sampleRate` Hz.
 * @returns from -1 to 1; 0 when `heard` is shorter than `sound`.
 */
export function soundMatch(heard: Int16Array, sound: Int16Array, sampleRate = 8000): number {
  const h = loudnessEnvelope(heard, sampleRate);
  const s = loudnessEnvelope(sound, sampleRate);
  const m = s.length;
  if (m === 0 || h.length < m) return 0;
  const sMean = s.reduce((a, b) => a + b, 0) / m;
  let sVar = 0;
  for (const x of s) sVar += (x - sMean) ** 2;
  let best = 0;
  for (let lag = 0; lag + m <= h.length; lag++) {
    let hSum = 0;
    for (let i = 0; i < m; i++) hSum += h[lag + i]!;
    const hMean = hSum / m;
    let cov = 0;
    let hVar = 0;
    for (let i = 0; i < m; i++) {
      const d = h[lag + i]! - hMean;
      cov += d * (s[i]! - sMean);
      hVar += d * d;
    }
    if (hVar > 0 && sVar > 0) best = Math.max(best, cov / Math.sqrt(hVar * sVar));
  }
  return best;
}
