/**
 * Test speech: sentences synthesized with Debian's flite and converted by sox to the raw 8 kHz
 * µ-law SIPp streams. Files are cached under .stack/audio by a hash of voice and text.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_DIR } from './stack.js';

const AUDIO_DIR = join(STACK_DIR, 'audio');

/**
 * Returns the path of a raw 8 kHz mono µ-law file (no header) saying `text`, made once.
 * @param voice a flite voice: `rms`, `slt`, `awb`, `kal16` (16 kHz) or `kal` (8 kHz).
 * @throws Error when flite or sox fail (both are installed by `make stack-up`).
 */
export function speechUlaw(text: string, voice = 'rms'): string {
  const key = createHash('sha256').update(`${voice}\n${text}`).digest('hex').slice(0, 16);
  const out = join(AUDIO_DIR, `${key}.ulaw`);
  if (existsSync(out)) return out;
  mkdirSync(AUDIO_DIR, { recursive: true });
  const wav = join(AUDIO_DIR, `${key}.${process.pid}.wav`);
  const tmp = `${out}.${process.pid}`;
  execFileSync('flite', ['-voice', voice, '-t', text, '-o', wav]);
  execFileSync('sox', [wav, '-r', '8000', '-c', '1', '-e', 'u-law', '-t', 'raw', tmp]);
  renameSync(tmp, out);
  return out;
}

/**
 * Returns the path of a raw 8 kHz mono µ-law file of `seconds` of digital silence (0xFF, µ-law's
 * zero), made once: a caller who says nothing, whose RTP still flows (livekit-sip hangs up a call
 * with no RTP after ~15 s), so that no voice activity interrupts the agent.
 */
export function silenceUlaw(seconds = 2): string {
  const out = join(AUDIO_DIR, `silence-${seconds}s.ulaw`);
  if (existsSync(out)) return out;
  mkdirSync(AUDIO_DIR, { recursive: true });
  const tmp = `${out}.${process.pid}`;
  writeFileSync(tmp, Buffer.alloc(Math.round(seconds * 8000), 0xff));
  renameSync(tmp, out);
  return out;
}

/**
 * {@link speechUlaw} of `text` followed by `pauseS` seconds of silence: streamed in a loop, each
 * repetition is a stretch of speech of its own (`firstSpeech` ends a stretch at a 1.2 s gap).
 */
export function speechThenPauseUlaw(text: string, pauseS = 2): string {
  const speech = speechUlaw(text);
  const out = speech.replace(/\.ulaw$/, `-pause${pauseS}s.ulaw`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}`;
  writeFileSync(tmp, Buffer.concat([readFileSync(speech), Buffer.alloc(Math.round(pauseS * 8000), 0xff)]));
  renameSync(tmp, out);
  return out;
}

/** How long flite takes to say `text`, in ms (its 8 kHz µ-law file: 8 bytes a ms). */
export function speechMs(text: string, voice = 'rms'): number {
  return statSync(speechUlaw(text, voice)).size / 8;
}

/**
 * What a person says on answering a call: "Hello?", then quiet while they wait for an answer (4 s
 * before it repeats, as the stream loops). Said without a pause, a looped "Hello?" would be a long
 * stretch of speech: an answering machine to src/outbound/amd.ts.
 */
export function personAnswering(): string {
  return speechThenPauseUlaw('Hello?', 4);
}

/** A voicemail greeting as {@link voicemailGreeting} makes it: the file and where its parts end. */
export interface VoicemailGreeting {
  /** Raw 8 kHz µ-law: the words, 600 ms of quiet, the beep, then a minute of quiet (no repeat within a call). */
  readonly file: string;
  /** Where the words end, in ms from the start of the file. */
  readonly speechEndMs: number;
  /** Where the beep ends, in ms from the start of the file. */
  readonly beepEndMs: number;
}

/**
 * An answering machine's greeting: `text` said by flite, then a 1 kHz beep of 500 ms (sox `synth`,
 * at -12 dBFS) — what src/outbound/amd.ts must wait out before it leaves a message. Made once.
 */
export function voicemailGreeting(text = "Hi, you've reached Sam. I can't take your call right now. Please leave a message after the tone."): VoicemailGreeting {
  const speech = speechUlaw(text);
  const out = speech.replace(/\.ulaw$/, '-voicemail.ulaw');
  const speechEndMs = statSync(speech).size / 8;
  const gapMs = 600;
  const beepMs = 500;
  if (!existsSync(out)) {
    const beepFile = `${out}.${process.pid}.beep`;
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'u-law', '-t', 'raw', beepFile, 'synth', String(beepMs / 1000), 'sine', '1000', 'vol', '0.25']);
    const tmp = `${out}.${process.pid}`;
    writeFileSync(tmp, Buffer.concat([readFileSync(speech), Buffer.alloc(gapMs * 8, 0xff), readFileSync(beepFile), Buffer.alloc(60 * 8000, 0xff)]));
    renameSync(tmp, out);
  }
  return { file: out, speechEndMs, beepEndMs: speechEndMs + gapMs + beepMs };
}

/**
 * A WAV file (48 kHz, 16-bit mono) of `text` said by flite, then `pauseS` seconds of silence: what
 * Chromium's fake microphone plays (`--use-file-for-fake-audio-capture`, which loops it). Made once.
 */
export function speechWav(text: string, pauseS = 4): string {
  const speech = speechUlaw(text);
  const out = speech.replace(/\.ulaw$/, `-pause${pauseS}s-48k.wav`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.wav`;
  execFileSync('sox', ['-t', 'raw', '-r', '8000', '-c', '1', '-e', 'u-law', speech, '-r', '48000', '-b', '16', '-e', 'signed-integer', tmp, 'pad', '0', String(pauseS)]);
  renameSync(tmp, out);
  return out;
}
