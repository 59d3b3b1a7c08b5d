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

/**
 * Which of `candidates` the audio says.
 * @param pcm 16-bit mono samples.
 * @param sampleRate in Hz (8000 for what a phone receives).
 */
export async function recognizeAmong(pcm: Int16Array, sampleRate: number, candidates: readonly string[]): Promise<string> {
  const ss = await load();
  const decoder = new ss.Decoder({ samprate: sampleRate, loglevel: 'FATAL' });
  try {
    await decoder.initialize();
    const alternatives = candidates.map((c) => `(${speechWords(c)})`).join(' | ');
    decoder.set_grammar(`#JSGF V1.0;\ngrammar check;\npublic <s> = ${alternatives};\n`);
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
