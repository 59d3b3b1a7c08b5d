/**
 * A text-to-speech for the agents framework that runs Debian's `flite` locally: keypad mode speaks
 * with it when no voice model is configured, and the voice model's fallback uses it when the model
 * drops. Output is 16 kHz mono PCM16 (flite's rms/slt/awb/kal16 voices).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioByteStream, shortuuid, tts, type APIConnectOptions } from '@livekit/agents';

/** Sample rate of flite's 16 kHz voices, in Hz. */
export const FLITE_SAMPLE_RATE = 16000;

/** Options of {@link FliteTTS}. */
export interface FliteOptions {
  /** A 16 kHz flite voice: rms (default), slt, awb or kal16. */
  readonly voice?: string;
  /** The flite binary. Default `flite` on PATH. */
  readonly binary?: string;
}

/**
 * Runs flite once for `text` and returns the PCM16 samples of the WAV it writes to stdout.
 * @throws Error when flite is missing (install Debian's `flite`), fails, or writes no WAV.
 */
export async function runFlite(text: string, opts: FliteOptions = {}, signal?: AbortSignal): Promise<Buffer> {
  // flite cannot write to the socket Node gives a child as stdout: use a temporary file.
  const out = join(tmpdir(), `flite-${process.pid}-${randomUUID()}.wav`);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(opts.binary ?? 'flite', ['-voice', opts.voice ?? 'rms', '-t', text, '-o', out], {
        stdio: ['ignore', 'ignore', 'pipe'],
        signal,
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new Error('flite not found: install the Debian package flite (make stack-up does)') : err),
      );
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

/** Local, offline TTS on flite. Not streaming: each sentence is synthesized whole (~100 ms). */
export class FliteTTS extends tts.TTS {
  label = 'flite.TTS';

  constructor(private readonly opts: FliteOptions = {}) {
    super(FLITE_SAMPLE_RATE, 1, { streaming: false });
  }

  override get model(): string {
    return this.opts.voice ?? 'rms';
  }

  override get provider(): string {
    return 'flite';
  }

  synthesize(text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal): tts.ChunkedStream {
    return new FliteStream(this, text, this.opts, connOptions, abortSignal);
  }

  stream(): tts.SynthesizeStream {
    throw new Error('flite does not stream; the agent session wraps it with a sentence tokenizer');
  }
}

class FliteStream extends tts.ChunkedStream {
  label = 'flite.ChunkedStream';

  constructor(
    tts: FliteTTS,
    text: string,
    private readonly opts: FliteOptions,
    connOptions?: APIConnectOptions,
    abortSignal?: AbortSignal,
  ) {
    super(text, tts, connOptions, abortSignal);
  }

  protected async run(): Promise<void> {
    try {
      const pcm = await runFlite(this.inputText, this.opts, this.abortSignal);
      const requestId = shortuuid();
      const bytes = new AudioByteStream(FLITE_SAMPLE_RATE, 1);
      const frames = [...bytes.write(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength) as ArrayBuffer), ...bytes.flush()];
      frames.forEach((frame, i) => this.queue.put({ requestId, segmentId: requestId, frame, final: i === frames.length - 1 }));
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    } finally {
      this.queue.close();
    }
  }
}
