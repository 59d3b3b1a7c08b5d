/**
 * The two ways the agent speaks, both over an agents-framework AgentSession in the room:
 * keypad mode (fixed sentences, local flite TTS, no cloud) and Gemini realtime (the model is told
 * the facts and speaks in its own words).
 */
import { type llm, voice } from '@livekit/agents';
import type { Room } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { FLITE_SAMPLE_RATE, fliteAudio } from '../speech/flite.js';
import type { Speaker } from './call-flow.js';

/** Options shared by both session kinds. */
interface SessionTarget {
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
    private readonly speak: (text: string, facts: string) => voice.SpeechHandle,
  ) {}

  async say(text: string, facts: string): Promise<void> {
    this.log.debug({ text: this.mode === 'keypad' ? text : facts }, this.mode === 'keypad' ? 'agent says' : 'agent is asked to say');
    const handle = this.speak(text, facts);
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
    // The job ends the call itself (see job.ts): every disconnect reason, not just some, must close the record.
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
  return new SessionSpeaker('keypad', t.log, session, (text) => {
    const audio = prepared.get(text) ?? fliteAudio(text);
    prepared.delete(text);
    return session.say(text, { audio, allowInterruptions: true });
  });
}

/** Gemini Live speaks 24 kHz PCM (../../../shared/notes/gemini-live-protocol.md, §3). */
const GEMINI_OUTPUT_RATE = 24000;

/** Settings of the Gemini realtime model. */
export interface GeminiSettings {
  readonly apiKey: string;
  readonly model: string;
  readonly voice: string;
  /** BCP-47, e.g. en-US on phone calls, ar-XA on the web. */
  readonly language: string;
  readonly instructions: string;
  /** Another Live API endpoint (tests point this at a local stand-in). */
  readonly baseUrl?: string;
}

/**
 * Gemini realtime: the model hears the caller and answers by voice, and changes records through
 * `tools` (./tools.ts); key presses and their effects are passed to it as instructions for its
 * next reply.
 */
export async function startGeminiSpeaker(t: SessionTarget, g: GeminiSettings, tools: llm.ToolContextLike = []): Promise<SessionSpeaker> {
  // Loaded only when a key is set: keypad-mode job processes start faster and smaller without it.
  const google = await import('@livekit/agents-plugin-google');
  const llm = new google.realtime.RealtimeModel({
    apiKey: g.apiKey,
    model: g.model,
    voice: g.voice,
    language: g.language,
    instructions: g.instructions,
    ...(g.baseUrl ? { httpOptions: { baseUrl: g.baseUrl } } : {}),
  });
  return startRealtimeSpeaker(t, 'gemini', llm, g.instructions, tools, GEMINI_OUTPUT_RATE);
}

/**
 * A session over a realtime model in the room: it hears the caller, speaks at `outputRate` Hz, and
 * is asked to say things through `generateReply` with the facts as instructions.
 */
async function startRealtimeSpeaker(
  t: SessionTarget,
  mode: 'gemini' | 'openai',
  model: llm.RealtimeModel,
  instructions: string,
  tools: llm.ToolContextLike,
  outputRate: number,
): Promise<SessionSpeaker> {
  const session = new voice.AgentSession({ llm: model });
  session.on(voice.AgentSessionEventTypes.Close, (ev) => t.log.info({ reason: ev.reason }, 'voice session closed'));
  const agent = new voice.Agent({ instructions, tools });
  await session.start({ agent, ...roomIo(t, true, outputRate) });
  return new SessionSpeaker(mode, t.log, session, (_text, facts) => session.generateReply({ instructions: facts }));
}

/** OpenAI Realtime speaks 24 kHz PCM16 (its `pcm16` audio format). */
const OPENAI_OUTPUT_RATE = 24000;

/** Settings of the OpenAI Realtime model. */
export interface OpenAISettings {
  readonly apiKey: string;
  readonly model: string;
  readonly voice: string;
  readonly instructions: string;
  /** Another OpenAI-compatible endpoint. */
  readonly baseUrl?: string;
}

/**
 * OpenAI Realtime instead of Gemini: the same instructions, tools and key-press facts
 * (`openai.realtime.RealtimeModel`, its own server-side turn detection).
 * @throws Error from the plugin when the key is refused at connect time.
 */
export async function startOpenAISpeaker(t: SessionTarget, o: OpenAISettings, tools: llm.ToolContextLike = []): Promise<SessionSpeaker> {
  const openai = await import('@livekit/agents-plugin-openai');
  const model = new openai.realtime.RealtimeModel({ apiKey: o.apiKey, model: o.model, voice: o.voice, ...(o.baseUrl ? { baseURL: o.baseUrl } : {}) });
  return startRealtimeSpeaker(t, 'openai', model, o.instructions, tools, OPENAI_OUTPUT_RATE);
}

/**
 * A voice model's speaker that keeps the call going when the model's session fails mid-call (its
 * websocket closes, the service errors): it starts a keypad-mode session (flite) in the same room,
 * calls `onFallback` (the call flow tells the caller and offers the keypad menu), and speaks
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
          if (this.closing) void keypad.close();
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

  async say(text: string, facts: string): Promise<void> {
    await this.switching;
    await this.current.say(text, facts);
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
