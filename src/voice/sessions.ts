/**
 * The sessions the agent speaks through, each an agents-framework AgentSession in the room: keypad
 * mode (fixed sentences, local flite speech, no cloud), and a realtime voice model — Gemini Live or
 * OpenAI Realtime — that hears the caller, is told the facts and speaks in its own words. A model
 * that fails mid-call falls back to keypad mode ({@link FallbackSpeaker}).
 */
import { type llm, voice } from '@livekit/agents';
import type { Room } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import type { Speaker, Utterance } from '../call/index.js';
import { FLITE_SAMPLE_RATE, fliteAudio } from '../speech/flite.js';
import type { ModelSettings } from './choice.js';

/** Where a session runs: shared by every session kind. */
export interface SessionTarget {
  readonly room: Room;
  /** The caller's participant identity: the session listens to and answers only them. */
  readonly participantIdentity: string;
  readonly log: Logger;
}

/** Speaker over a started AgentSession; `speak` starts one utterance. */
class SessionSpeaker implements Speaker {
  private current?: voice.SpeechHandle;

  constructor(
    readonly mode: string,
    private readonly log: Logger,
    readonly session: voice.AgentSession,
    private readonly speak: (u: Utterance) => voice.SpeechHandle,
  ) {}

  async say(u: Utterance): Promise<void> {
    this.log.debug({ text: this.mode === 'keypad' ? u.text : u.facts }, this.mode === 'keypad' ? 'agent says' : 'agent is asked to say');
    const handle = this.speak(u);
    this.current = handle;
    await handle.waitForPlayout();
  }

  interrupt(): void {
    if (this.current && !this.current.done()) this.current.interrupt(true);
  }

  async close(): Promise<void> {
    this.interrupt();
    await this.session.close();
  }
}

/**
 * Room input and output of a session. `outputRate` is the rate the voice produces (flite 16 kHz,
 * Gemini 24 kHz): publishing at that rate spares a resampler on the first words (≈250 ms measured).
 */
const roomIo = (t: SessionTarget, audioIn: boolean, outputRate: number) => ({
  room: t.room,
  inputOptions: {
    participantIdentity: t.participantIdentity,
    audioEnabled: audioIn,
    textEnabled: false,
    // The call ends itself (src/call/call.ts): every disconnect reason, not just some, must close the record.
    closeOnDisconnect: false,
  },
  outputOptions: { transcriptionEnabled: false, audioSampleRate: outputRate },
});

/**
 * Keypad mode: exact sentences spoken by flite. No model, no speech recognition: the caller
 * answers with keys. Each sentence's audio is made by our own flite pipeline and handed to
 * `say` ready-made; sentences in `prepare` (the greeting) start synthesizing before the session
 * does, so they play as soon as they are said.
 */
export async function startKeypadSpeaker(t: SessionTarget, prepare: readonly string[] = []): Promise<SessionSpeaker> {
  const prepared = new Map(prepare.map((text) => [text, fliteAudio(text)] as const));
  // No TTS (every sentence comes with its audio), no VAD and manual turns: nothing listens to the
  // caller's voice in keypad mode, and the session would load a VAD and turn detector by default.
  const session = new voice.AgentSession({ vad: null, turnHandling: { turnDetection: 'manual' } });
  const agent = new voice.Agent({ instructions: 'Keypad mode: speak the given sentences.', allowInterruptions: true });
  try {
    await session.start({ agent, ...roomIo(t, false, FLITE_SAMPLE_RATE) });
  } catch (err) {
    for (const audio of prepared.values()) void audio.cancel();
    throw err;
  }
  return new SessionSpeaker('keypad', t.log, session, ({ text }) => {
    const audio = prepared.get(text) ?? fliteAudio(text);
    prepared.delete(text);
    return session.say(text, { audio, allowInterruptions: true });
  });
}

/**
 * Output rate of both realtime models, in Hz: Gemini Live sends 24 kHz 16-bit PCM (Live API
 * reference, "Audio formats"), OpenAI Realtime its `pcm16` format, also 24 kHz.
 */
const REALTIME_OUTPUT_RATE = 24000;

/** A realtime model for one call: which one, its settings, and the call's instructions and spoken language. */
export interface RealtimeSpec {
  readonly mode: 'gemini' | 'openai';
  readonly settings: ModelSettings;
  readonly instructions: string;
  /** BCP-47, e.g. en-US on phone calls (Gemini only; OpenAI follows the caller). */
  readonly language?: string;
}

/** Makes the plugin's model. Plugins load only when used: keypad-mode job processes start faster and smaller without them. */
async function realtimeModel(r: RealtimeSpec): Promise<llm.RealtimeModel> {
  const { apiKey, model, voice: modelVoice, baseUrl } = r.settings;
  if (r.mode === 'gemini') {
    const google = await import('@livekit/agents-plugin-google');
    return new google.realtime.RealtimeModel({
      apiKey,
      model,
      voice: modelVoice,
      language: r.language,
      instructions: r.instructions,
      ...(baseUrl ? { httpOptions: { baseUrl } } : {}),
    });
  }
  const openai = await import('@livekit/agents-plugin-openai');
  return new openai.realtime.RealtimeModel({ apiKey, model, voice: modelVoice, ...(baseUrl ? { baseURL: baseUrl } : {}) });
}

/**
 * A session over a realtime model in the room: it hears the caller, changes records through
 * `tools` (./tools.ts), speaks at 24 kHz, and is asked to say things through `generateReply` with
 * the facts as instructions (key presses and their effects included).
 * @throws Error from the plugin when the model cannot be reached or refuses the key.
 */
export async function startRealtimeSpeaker(t: SessionTarget, r: RealtimeSpec, tools: llm.ToolContextLike = []): Promise<SessionSpeaker> {
  const session = new voice.AgentSession({ llm: await realtimeModel(r) });
  session.on(voice.AgentSessionEventTypes.Close, (ev) => t.log.info({ reason: ev.reason }, 'voice session closed'));
  const agent = new voice.Agent({ instructions: r.instructions, tools });
  await session.start({ agent, ...roomIo(t, true, REALTIME_OUTPUT_RATE) });
  return new SessionSpeaker(r.mode, t.log, session, ({ facts }) => session.generateReply({ instructions: facts }));
}

/**
 * A voice model's speaker that keeps the call going when the model's session fails mid-call (its
 * websocket closes, the service errors): it starts a keypad-mode session (flite) in the same room,
 * calls `onFallback` (the call tells the caller and offers the keypad menu), and speaks
 * through it from then on. Closing it on purpose never falls back.
 */
export class FallbackSpeaker implements Speaker {
  private current: Speaker;
  private switching?: Promise<void>;
  private closing = false;

  constructor(
    model: SessionSpeaker,
    private readonly startKeypad: () => Promise<Speaker>,
    private readonly onFallback: () => void,
    private readonly log: Logger,
  ) {
    this.current = model;
    model.session.on(voice.AgentSessionEventTypes.Close, (ev) => {
      if (this.closing || ev.reason !== voice.CloseReason.ERROR) return;
      this.log.warn({ reason: ev.reason, err: ev.error }, 'voice model session failed: continuing in keypad mode');
      this.switching = this.startKeypad().then(
        (keypad) => {
          this.current = keypad;
          if (this.closing) keypad.close().catch((err: unknown) => this.log.warn({ err }, 'closing the keypad session failed'));
          else this.onFallback();
        },
        (err: unknown) => this.log.error({ err }, 'keypad fallback failed to start'),
      );
    });
  }

  /** keypad once fallen back, else the model's mode. */
  get mode(): string {
    return this.current.mode;
  }

  async say(u: Utterance): Promise<void> {
    await this.switching;
    await this.current.say(u);
  }

  interrupt(): void {
    try {
      this.current.interrupt();
    } catch (err) {
      this.log.debug({ err }, 'nothing to interrupt');
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.switching;
    await this.current.close();
  }
}
