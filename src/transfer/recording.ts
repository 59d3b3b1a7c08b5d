/**
 * A caller's message in keypad mode: their own words, recorded from their audio track into a WAV
 * file readable by its owner only (0600: it holds a patient's voice and words). Recording ends on the
 * caller's `#` (or hang-up: the caller's signal), after a pause once they have spoken, when they say
 * nothing at all, or at the length limit.
 */
import { open } from 'node:fs/promises';

/** One frame of the caller's audio: 16-bit PCM, interleaved when there is more than one channel. */
export interface PcmFrame {
  readonly data: Int16Array;
  readonly sampleRate: number;
  readonly channels: number;
}

/** When a recording ends. */
export interface RecordingLimits {
  /** Longest recording, ms (the 60 s). */
  readonly maxMs: number;
  /** Quiet this long after speech ends it, ms. */
  readonly pauseMs: number;
  /** No speech at all this long ends it, ms. */
  readonly noSpeechMs: number;
  /** A frame louder than this (RMS, dBFS) is speech. */
  readonly speechDbfs: number;
}

/** 60 s at most; 4 s of quiet after speech, or 10 s without any, end it; speech above -40 dBFS. */
export const MESSAGE_LIMITS: RecordingLimits = { maxMs: 60_000, pauseMs: 4_000, noSpeechMs: 10_000, speechDbfs: -40 };

/** What was recorded: its length, whether the caller spoke, and what ended it. */
export interface Recording {
  readonly ms: number;
  readonly spoke: boolean;
  readonly endedBy: 'caller' | 'pause' | 'no_speech' | 'limit' | 'audio_ended';
}

/** RMS level of 16-bit samples in dBFS (-Infinity for silence). */
export function rmsDbfs(pcm: Int16Array): number {
  if (pcm.length === 0) return -Infinity;
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return 20 * Math.log10(Math.sqrt(sum / pcm.length) / 32768);
}

/** A 44-byte RIFF/WAVE header for 16-bit PCM (the canonical WAVE format of Microsoft's RIFF specification). */
function wavHeader(dataBytes: number, sampleRate: number, channels: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/**
 * Records `frames` into `file` (created, never overwritten, mode 0600) until `stop` aborts (the
 * caller pressed `#` or left) or a limit is reached.
 * @throws the file system's error when the file cannot be created or written (e.g. EEXIST, ENOSPC).
 */
export async function recordMessage(frames: AsyncIterable<PcmFrame>, file: string, stop: AbortSignal, limits: RecordingLimits = MESSAGE_LIMITS): Promise<Recording> {
  const fh = await open(file, 'wx', 0o600);
  let bytes = 0;
  let ms = 0;
  let spoke = false;
  let quietMs = 0;
  let format: { sampleRate: number; channels: number } | undefined;
  let endedBy: Recording['endedBy'] = 'audio_ended';
  try {
    await fh.write(wavHeader(0, 8000, 1));
    const it = frames[Symbol.asyncIterator]();
    const stopped = new Promise<'stopped'>((resolve) => {
      if (stop.aborted) resolve('stopped');
      else stop.addEventListener('abort', () => resolve('stopped'), { once: true });
    });
    for (;;) {
      const next = await Promise.race([it.next(), stopped]);
      if (next === 'stopped') {
        endedBy = 'caller';
        break;
      }
      if (next.done) break;
      const f = next.value;
      format ??= { sampleRate: f.sampleRate, channels: f.channels };
      await fh.write(Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength));
      bytes += f.data.byteLength;
      const frameMs = (f.data.length / f.channels / f.sampleRate) * 1000;
      ms += frameMs;
      if (rmsDbfs(f.data) > limits.speechDbfs) {
        spoke = true;
        quietMs = 0;
      } else quietMs += frameMs;
      if (ms >= limits.maxMs) endedBy = 'limit';
      else if (spoke && quietMs >= limits.pauseMs) endedBy = 'pause';
      else if (!spoke && ms >= limits.noSpeechMs) endedBy = 'no_speech';
      else continue;
      break;
    }
    void it.return?.();
    await fh.write(wavHeader(bytes, format?.sampleRate ?? 8000, format?.channels ?? 1), 0, 44, 0);
  } finally {
    await fh.close();
  }
  return { ms: Math.round(ms), spoke, endedBy };
}
