/**
 * Speech from Debian's `flite`, run locally: keypad mode speaks with it when no voice model is
 * configured, and the voice model's fallback uses it when the model drops. The audio is handed to
 * the agents framework ready-made (`AgentSession.say(text, { audio })`), as 16 kHz mono PCM16
 * frames (flite's rms/slt/awb/kal16 voices).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadableStream } from 'node:stream/web';
import { AudioFrame } from '@livekit/rtc-node';

/** Sample rate of flite's 16 kHz voices, in Hz. */
export const FLITE_SAMPLE_RATE = 16000;

/** Length of the audio frames handed to the session, in ms. */
const FRAME_MS = 100;

/**
 * Level above which a sample counts as speech when trimming: 328 ≈ −40 dBFS of PCM16 full scale.
 * flite starts every utterance with ≈170 ms of near-silence; callers would wait for it.
 */
const SPEECH_LEVEL = 328;

/** Silence kept before the first spoken sample, in ms, so the word's attack is not cut. */
const LEAD_IN_MS = 20;

/**
 * Drops the silence before the first sample louder than −40 dBFS, keeping {@link LEAD_IN_MS}.
 * Returns a view of `samples` (no copy); all-silent input comes back unchanged.
 */
export function trimLeadingSilence(samples: Int16Array, sampleRate = FLITE_SAMPLE_RATE): Int16Array {
  const first = samples.findIndex((s) => s > SPEECH_LEVEL || s < -SPEECH_LEVEL);
  if (first < 0) return samples;
  return samples.subarray(Math.max(0, first - Math.round((LEAD_IN_MS * sampleRate) / 1000)));
}

/**
 * Cuts mono PCM16 into frames of `frameMs` (the last one may be shorter). Each frame owns a copy of
 * its samples. Linear time: the framework's AudioByteStream re-copies its whole buffer per frame.
 */
export function toFrames(samples: Int16Array, sampleRate: number, frameMs: number): AudioFrame[] {
  const size = Math.round((sampleRate * frameMs) / 1000);
  const frames: AudioFrame[] = [];
  for (let at = 0; at < samples.length; at += size) {
    const chunk = samples.slice(at, at + size);
    frames.push(new AudioFrame(chunk, sampleRate, 1, chunk.length));
  }
  return frames;
}

/**
 * Splits text after commas, semicolons and colons that are followed by a space ("Hello Maria,"
 * / "thank you for calling …"), keeping the punctuation so flite still pauses there. Clauses
 * shorter than 12 characters are joined to the next one (a lone "Yes," costs a process start).
 */
export function clauses(text: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const piece of text.split(/(?<=[,;:])\s+/)) {
    pending = pending ? `${pending} ${piece}` : piece;
    if (pending.length >= 12) {
      out.push(pending);
      pending = '';
    }
  }
  if (pending) {
    if (out.length) out[out.length - 1] = `${out[out.length - 1]} ${pending}`;
    else out.push(pending);
  }
  return out.map((c) => c.trim()).filter(Boolean);
}

/** Options of {@link runFlite}. */
export interface FliteOptions {
  /** A 16 kHz flite voice: rms (default), slt, awb or kal16. */
  readonly voice?: string;
  /** The flite binary. Default `flite` on PATH. */
  readonly binary?: string;
  /** Longest one run may take before it is killed, in ms (default {@link FLITE_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
}

/**
 * Longest one flite run may take, in ms. A clause takes 20–200 ms on 2 cores (bench); a run that
 * has not finished in 10 s is stuck, and the caller must not wait on it.
 */
export const FLITE_TIMEOUT_MS = 10_000;

/**
 * Runs flite once for `text` and returns the PCM16 samples of the WAV it writes to stdout.
 * @throws Error when flite is missing (install Debian's `flite`), fails, takes longer than
 * `opts.timeoutMs` (it is killed), or writes no WAV.
 */
export async function runFlite(text: string, opts: FliteOptions = {}, signal?: AbortSignal): Promise<Buffer> {
  // flite cannot write to the socket Node gives a child as stdout: use a temporary file.
  const out = join(tmpdir(), `flite-${process.pid}-${randomUUID()}.wav`);
  try {
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? FLITE_TIMEOUT_MS;
      const timeout = AbortSignal.timeout(timeoutMs);
      const child = spawn(opts.binary ?? 'flite', ['-voice', opts.voice ?? 'rms', '-t', text, '-o', out], {
        stdio: ['ignore', 'ignore', 'pipe'],
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        killSignal: 'SIGKILL',
        // flite needs nothing from the environment; the worker's (keys included) stays with the worker.
        env: { PATH: process.env.PATH ?? '' },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') reject(new Error('flite not found: install the Debian package flite (make stack-up does)'));
        else if (timeout.aborted && !signal?.aborted) reject(new Error(`flite did not finish in ${timeoutMs} ms and was stopped`));
        else reject(err);
      });
      child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`flite exited with ${code}: ${stderr.trim()}`))));
    });
    const wav = await readFile(out);
    const data = wav.indexOf('data');
    if (wav.subarray(0, 4).toString() !== 'RIFF' || data < 0) throw new Error('flite wrote no WAV audio');
    return wav.subarray(data + 8);
  } finally {
    await rm(out, { force: true });
  }
}

/**
 * Synthesizes `text` clause by clause ({@link clauses}), each clause's flite run started while the
 * previous one is handed on, so "Hello Maria," is heard after a short clause's synthesis rather
 * than a whole sentence's. `onFrames` gets each clause's frames (leading silence trimmed), `last`
 * on the final clause.
 * @throws Error as {@link runFlite} does; an AbortError when `signal` fires.
 */
export async function synthesizeFrames(
  text: string,
  opts: FliteOptions,
  signal: AbortSignal | undefined,
  onFrames: (frames: AudioFrame[], last: boolean) => void,
): Promise<void> {
  const parts = clauses(text);
  let next = parts.length ? runFlite(parts[0]!, opts, signal) : undefined;
  for (let i = 0; i < parts.length; i++) {
    const pcm = await next!;
    next = i + 1 < parts.length ? runFlite(parts[i + 1]!, opts, signal) : undefined;
    // A copy: the WAV data may start at an odd offset, which an Int16Array view cannot.
    const samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + (pcm.byteLength & ~1)));
    onFrames(toFrames(trimLeadingSilence(samples), FLITE_SAMPLE_RATE, FRAME_MS), i === parts.length - 1);
  }
}

/**
 * Starts synthesizing `text` now and returns its audio as a stream of 100 ms frames at 16 kHz,
 * for `AgentSession.say(text, { audio })`: speech prepared before it is needed (a greeting while
 * the session starts or while an outbound call rings) plays without waiting for flite.
 * A failed synthesis errors the stream.
 */
export function fliteAudio(text: string, opts: FliteOptions = {}): ReadableStream<AudioFrame> {
  const abort = new AbortController();
  return new ReadableStream<AudioFrame>({
    start(controller) {
      synthesizeFrames(text, opts, abort.signal, (frames) => frames.forEach((f) => controller.enqueue(f))).then(
        () => controller.close(),
        (err: unknown) => {
          if ((err as Error).name !== 'AbortError') controller.error(err);
        },
      );
    },
    cancel() {
      abort.abort();
    },
  });
}
