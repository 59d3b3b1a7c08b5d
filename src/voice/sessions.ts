/**
 * The sessions the agent speaks through, each an agents-framework AgentSession in the room: keypad
 * mode (fixed sentences, local flite speech, no cloud), and a realtime voice model — Gemini Live or
 * OpenAI Realtime — that hears the caller, is told the facts and speaks in its own words. A model
 * whose link is lost mid-call (./link.ts) falls back to keypad mode ({@link ModelSpeaker}).
 */
import { llm, voice } from '@livekit/agents';
import type { realtime as googleRealtime } from '@livekit/agents-plugin-google';
import type { realtime as openaiRealtime } from '@livekit/agents-plugin-openai';
import type { Room } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { waitAtMost, type Speaker, type Utterance, type VoiceEvents } from '../call/index.js';
import { FLITE_SAMPLE_RATE, fliteAudio } from '../speech/flite.js';
import type { ModelSettings } from './choice.js';
import { GeminiSocket } from './gemini-link.js';
import { keepToolTurns } from './gemini-turns.js';
import { MAX_FAILURE_RESUMES, ModelLink, type LinkPolicy } from './link.js';
import { OpenAISocket } from './openai-link.js';

/** Where a session runs: shared by every session kind. */
export interface SessionTarget {
  readonly room: Room;
  /** The caller's participant identity: the session listens to and answers only them. */
  readonly participantIdentity: string;
  readonly log: Logger;
  /**
   * Publish what is said as text (the framework's `lk.transcription` text streams: the agent's words
   * in step with its audio, and the caller's as the model transcribes them), for a page to show. Off
   * on phone calls: nobody there reads it.
   */
  readonly transcripts?: boolean;
}

/** Speaker over a started AgentSession; `speak` starts one utterance. */
class SessionSpeaker implements Speaker {
  private current?: voice.SpeechHandle;

  constructor(
    readonly mode: string,
    private readonly log: Logger,
    readonly session: voice.AgentSession,
    private readonly room: Room,
    private readonly speak: (u: Utterance) => voice.SpeechHandle,
  ) {}

  async say(u: Utterance): Promise<void> {
    this.log.debug({ text: this.mode === 'keypad' ? u.text : u.facts }, this.mode === 'keypad' ? 'agent says' : 'agent is asked to say');
    const handle = this.speak(u);
    this.current = handle;
    await handle.waitForPlayout();
  }

  /** Turns the session's audio input on or off (agents 1.9.0 `AgentInput.setAudioEnabled`). */
  hearCaller(on: boolean): void {
    try {
      this.session.input.setAudioEnabled(on);
    } catch (err) {
      this.log.debug({ err, on }, 'could not switch the caller\'s audio');
    }
  }

  /** Stops what we asked it to say, and anything else the agent is saying (a model's own answer to the caller). */
  interrupt(): void {
    if (this.current && !this.current.done()) this.current.interrupt(true);
    try {
      this.session.interrupt({ force: true }).await.catch((err: unknown) => this.log.debug({ err }, 'nothing to interrupt'));
    } catch (err) {
      this.log.debug({ err }, 'the session is not running');
    }
  }

  /**
   * Ends the session. agents 1.9.0's room output waits — with no way to cancel it — until someone
   * subscribes to the agent's audio track (ParticipantAudioOutput.publishTrack → waitForSubscription),
   * and the session's close waits for that (the framework gives up after 60 s, holding the job
   * process): a patient whose phone never answered, or a caller who left at once, never subscribes.
   * Nobody will any more, so that wait is released — for the track being published too, which the
   * room lists only once its publication completes (hence every {@link RELEASE_EVERY_MS} until closed).
   */
  async close(): Promise<void> {
    this.interrupt();
    const release = () => {
      for (const publication of this.room.localParticipant?.trackPublications.values() ?? []) publication.resolveFirstSubscription();
    };
    release();
    const releasing = setInterval(release, RELEASE_EVERY_MS);
    try {
      await this.session.close();
    } finally {
      clearInterval(releasing);
    }
  }
}

type GoogleSession = ReturnType<googleRealtime.RealtimeModel['session']>;
type OpenAISession = ReturnType<openaiRealtime.RealtimeModel['session']>;

/** How often a closing session releases its tracks' wait for a first subscriber, in ms. */
const RELEASE_EVERY_MS = 100;

/**
 * Room input and output of a session. `outputRate` is the rate the voice produces (flite 16 kHz,
 * Gemini 24 kHz): publishing at that rate spares a resampler on the first words (≈250 ms measured).
 * `inputRate` is the rate the model takes (Gemini 16 kHz): the caller's audio is decoded at that rate
 * by the room's audio stream, and the plugin's own resampler, with its buffering, is not needed.
 */
const roomIo = (t: SessionTarget, audioIn: boolean, outputRate: number, inputRate?: number) => ({
  room: t.room,
  inputOptions: {
    participantIdentity: t.participantIdentity,
    audioEnabled: audioIn,
    ...(inputRate ? { audioSampleRate: inputRate } : {}),
    textEnabled: false,
    // The call ends itself (src/call/call.ts): every disconnect reason, not just some, must close the record.
    closeOnDisconnect: false,
  },
  outputOptions: { transcriptionEnabled: t.transcripts ?? false, audioSampleRate: outputRate },
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
  return new SessionSpeaker('keypad', t.log, session, t.room, ({ text }) => {
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

/**
 * What each realtime model takes from the caller, in Hz: Gemini Live 16 kHz 16-bit PCM (Live API
 * reference, "Audio formats"; the plugin resamples anything else to it), OpenAI Realtime 24 kHz.
 */
const REALTIME_INPUT_RATE = { gemini: 16000, openai: 24000 } as const;

/** A realtime model for one call: which one, its settings, and the call's instructions and spoken language. */
export interface RealtimeSpec {
  readonly mode: 'gemini' | 'openai';
  readonly settings: ModelSettings;
  readonly instructions: string;
  /** BCP-47, e.g. en-US on phone calls (Gemini only; OpenAI follows the caller). */
  readonly language?: string;
}

/**
 * Makes the plugin's model, its sessions' connections watched by `link` (./gemini-link.ts,
 * ./openai-link.ts). Plugins load only when used: keypad-mode job processes start faster and smaller without them.
 */
async function realtimeModel(r: RealtimeSpec, link: ModelLink, log: Logger, agent: () => voice.Agent): Promise<llm.RealtimeModel> {
  const { apiKey, model, voice: modelVoice, baseUrl } = r.settings;
  if (r.mode === 'gemini') {
    const google = await import('@livekit/agents-plugin-google');
    const socket = new GeminiSocket(link);
    link.attach(socket);
    // The framework makes the model's session through `session()`: its connections are opened under the socket's watch.
    class WatchedGemini extends google.realtime.RealtimeModel {
      override session(): GoogleSession {
        const session = socket.adopt(() => super.session()) as GoogleSession;
        // The session starts connecting at once, with no tools; the agent's tools, set a moment later
        // (AgentActivity → updateTools), would make the plugin drop that connection and open a second
        // one. Given now — before its first connection is configured, a tick later — they go out with
        // the first `setup`, and the activity's own update finds them equal: one connection per call.
        void session.updateTools(new llm.ToolContext(agent().toolCtx.tools));
        // A function call the model makes while the agent speaks must not be dropped (./gemini-turns.ts).
        if (!keepToolTurns(session)) log.warn('the Google plugin changed: function calls made while the agent speaks may be dropped');
        return session;
      }
    }
    return new WatchedGemini({
      apiKey,
      model,
      voice: modelVoice,
      language: r.language,
      instructions: r.instructions,
      ...(baseUrl ? { httpOptions: { baseUrl } } : {}),
    });
  }
  const openai = await import('@livekit/agents-plugin-openai');
  const socket = new OpenAISocket(link);
  link.attach(socket);
  class WatchedOpenAI extends openai.realtime.RealtimeModel {
    override session(): OpenAISession {
      return socket.adopt(openai.realtime.RealtimeSession, () => super.session()) as OpenAISession;
    }
  }
  return new WatchedOpenAI({ apiKey, model, voice: modelVoice, ...(baseUrl ? { baseURL: baseUrl } : {}) });
}

/**
 * A session over a realtime model in the room: it hears the caller, changes records through
 * `tools` (./tools.ts), speaks at 24 kHz, and is asked to say things through `generateReply` with
 * the facts as instructions (key presses and their effects included). Its link to the model is
 * watched by `link` (./link.ts): each tool runs under the link's time limit.
 * @throws Error from the plugin when the model cannot be reached or refuses the key.
 */
export async function startRealtimeSpeaker(t: SessionTarget, r: RealtimeSpec, link: ModelLink, tools: readonly unknown[] = []): Promise<SessionSpeaker> {
  const agent = new voice.Agent({ instructions: r.instructions, tools: underLink(tools, link) });
  const session = new voice.AgentSession({ llm: await realtimeModel(r, link, t.log, () => agent) });
  session.on(voice.AgentSessionEventTypes.Close, (ev) => t.log.info({ reason: ev.reason }, 'voice session closed'));
  link.watch(session);
  await new Promise<void>((resolve) => setImmediate(resolve)); // the session's start in a turn of its own (see Call.steps)
  await session.start({ agent, ...roomIo(t, true, REALTIME_OUTPUT_RATE, REALTIME_INPUT_RATE[r.mode]) });
  return new SessionSpeaker(r.mode, t.log, session, t.room, ({ facts }) => session.generateReply({ instructions: facts }));
}

/** The tools, each function tool run under the link's time limit ({@link ModelLink.tool}); toolsets as they are. */
function underLink(tools: readonly unknown[], link: ModelLink): llm.ToolContextLike {
  return tools.map((tool) => {
    if (!llm.isFunctionTool(tool)) return tool;
    const execute = tool.execute.bind(tool);
    return { ...tool, execute: (args: never, opts: never) => link.tool(tool.name, async () => execute(args, opts)) };
  }) as unknown as llm.ToolContextLike;
}

/**
 * The voice of a call in a model's mode: speaks through the model while its link holds
 * (./link.ts decides what a lost link leads to), and through a keypad-mode session (flite) in the
 * same room once it is lost — what was being said when it failed is said again in keypad mode, so no
 * answer is lost. Closing it on purpose never falls back.
 */
export class ModelSpeaker implements Speaker {
  readonly link: ModelLink;
  private model?: SessionSpeaker;
  private keypad?: Promise<Speaker | undefined>;
  private closing = false;
  /** Settles when the model is lost (keypad mode starting) or a new connection is up. */
  private change = signal();
  /** Settles at a key's interruption or the close: what is being said is no longer waited for; `stops` counts them. */
  private stop = signal();
  private stops = 0;
  /** Times the agent started speaking through the model (the framework's agent state), and who waits for the next. */
  private spoken = 0;
  private speaking: (() => void)[] = [];
  private agentState: voice.AgentState = 'initializing';
  /** A reply was asked for while the agent was still speaking: its wait starts once the agent is quiet. */
  private replyAfterSpeech = false;
  /** Utterances being said through the model now. */
  private saying = 0;
  /** The keypad session once it is up. */
  private keypadNow?: Speaker;

  constructor(
    policy: LinkPolicy,
    private readonly startKeypad: () => Promise<Speaker>,
    private readonly events: VoiceEvents,
    private readonly log: Logger,
  ) {
    this.link = new ModelLink(
      policy,
      {
        failed: (_end, why) => this.fallBack(why),
        resuming: () => undefined,
        resumed: (_end, why, ms, cutOff) => {
          this.events.resumed(why, ms);
          this.change.fire();
          // An answer the end cut off is finished on the new connection (an utterance of ours is said again by `say`).
          if (cutOff && this.saying === 0) this.finishCutOffAnswer();
        },
      },
      log,
    );
  }

  /** Starts the model's session through `open`. @throws its error when it cannot start. */
  async start(open: (link: ModelLink) => Promise<SessionSpeaker>): Promise<this> {
    const model = await open(this.link);
    this.model = model;
    model.session.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) => {
      this.agentState = ev.newState;
      if (ev.oldState === 'speaking' && ev.newState !== 'speaking' && this.replyAfterSpeech) {
        this.replyAfterSpeech = false;
        this.link.expectReply();
      }
      if (ev.newState !== 'speaking') return;
      this.spoken++;
      for (const wake of this.speaking.splice(0)) wake();
    });
    model.session.on(voice.AgentSessionEventTypes.Close, (ev) => {
      // The framework ended the model's session itself (a fatal error): there is no resuming it.
      if (this.closing || ev.reason !== voice.CloseReason.ERROR) return;
      this.fallBack(`the voice model session ended with an error (${errorOf(ev.error)})`);
    });
    return this;
  }

  /** keypad once fallen back, else the model's mode. */
  get mode(): string {
    return this.keypad ? 'keypad' : (this.model?.mode ?? 'keypad');
  }

  /**
   * Says `u` through the model, and waits until it has been heard. When the model produced no audio
   * for it, waits for the link: a new connection says it again through the model, a lost link says
   * it in keypad mode. It is never said twice once heard; a key's interruption or the close ends
   * every wait. @throws when the model is lost and keypad mode could not start (no voice left).
   */
  async say(u: Utterance): Promise<void> {
    const stops = this.stops;
    this.saying++;
    try {
      for (let attempt = 0; attempt <= MAX_FAILURE_RESUMES + 1 && this.model && !this.keypad && !this.closing; attempt++) {
        const before = this.spoken;
        const change = this.change.wait.then(() => 'changed' as const);
        const stop = this.stop.wait.then(() => 'stopped' as const);
        this.expectReply();
        const speech = this.model.say(u).then(
          () => 'played' as const,
          (err: unknown) => {
            this.log.debug({ err }, 'the model could not say it');
            return 'failed' as const;
          },
        );
        let said = await Promise.race([speech, change, stop]);
        // Resumed after it began to be heard: it plays to its end, and is not said again.
        if (said === 'changed' && this.spoken > before && !this.keypad) said = await Promise.race([speech, stop]);
        if (said === 'stopped' || this.stops !== stops || this.spoken > before) return;
        // Nothing was heard: the link's own time limit decides (a new connection, or keypad mode).
        if (said !== 'changed' && (await Promise.race([change, stop, this.spokenAfter(before)])) !== 'changed') return;
      }
    } finally {
      this.saying--;
    }
    if (this.closing || !this.keypad || this.stops !== stops) return;
    const keypad = await Promise.race([this.keypad, this.stop.wait.then(() => undefined)]);
    if (this.closing || this.stops !== stops) return;
    if (!keypad) throw new Error('no voice: the model is lost and keypad mode could not start');
    await keypad.say(u);
  }

  /** The model's session only: keypad mode, once it has taken over, hears keys, not speech. */
  hearCaller(on: boolean): void {
    this.model?.hearCaller(on);
  }

  interrupt(): void {
    this.stops++;
    this.stop.fire();
    this.replyAfterSpeech = false;
    this.link.endWait('audio'); // nothing is due from the model any more
    for (const s of [this.model, this.keypadNow]) {
      try {
        s?.interrupt();
      } catch (err) {
        this.log.debug({ err }, 'nothing to interrupt');
      }
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.link.close();
    this.stops++;
    this.stop.fire();
    await Promise.all([this.model?.close(), this.keypad?.then((k) => k?.close())]);
  }

  /**
   * A reply is due from now — or, while the agent is still speaking (the framework queues a reply
   * behind the speech under way), from when it falls quiet: the wait times the model, not the queue.
   */
  private expectReply(): void {
    if (this.agentState === 'speaking') this.replyAfterSpeech = true;
    else this.link.expectReply();
  }

  /** Asks the model on its new connection to finish the answer the end cut off. */
  private finishCutOffAnswer(): void {
    const model = this.model;
    if (!model || this.keypad || this.closing) return;
    this.log.info('asking the model to finish the answer the lost connection cut off');
    this.expectReply();
    try {
      model.session.generateReply({ instructions: CUT_OFF_ANSWER });
    } catch (err) {
      this.log.warn({ err }, 'could not ask the model to finish its answer');
    }
  }

  /** Resolves once the agent has started speaking through the model more than `before` times. */
  private spokenAfter(before: number): Promise<'spoke'> {
    if (this.spoken > before) return Promise.resolve('spoke');
    return new Promise((resolve) => this.speaking.push(() => resolve('spoke')));
  }

  /**
   * The model is lost: the call is told at once (once), the model's session is stopped — it may still
   * be up (a close it did not report, a stall), and only one agent session can serve a room at a time
   * — and then keypad mode starts. The stop is given {@link MODEL_CLOSE_WAIT_MS} at most.
   */
  private fallBack(why: string): void {
    if (this.closing || this.keypad) return;
    this.link.close();
    const model = this.model;
    this.keypad = (async () => {
      const closed = model?.close().catch((err: unknown) => this.log.debug({ err }, 'closing the lost model session failed'));
      await waitAtMost(closed, MODEL_CLOSE_WAIT_MS);
      const keypad = await this.startKeypad();
      this.keypadNow = keypad;
      if (this.closing) await keypad.close();
      return keypad;
    })().catch((err: unknown) => {
      this.log.error({ err }, 'keypad fallback failed to start');
      this.events.gone(`${why}; keypad mode could not start: ${(err as Error).message}`);
      return undefined;
    });
    this.change.fire();
    this.events.lost(why);
  }
}

/** What the model is asked on a new connection when the old one ended in the middle of its answer. */
const CUT_OFF_ANSWER = 'The connection was interrupted for a moment while you were answering. Finish your answer briefly, without repeating what you already said.';

/** Longest the fallback waits for the lost model's session to stop before keypad mode starts, in ms. */
const MODEL_CLOSE_WAIT_MS = 3000;

/** A one-shot signal that re-arms after firing: `wait` settles at the next {@link fire}. */
function signal(): { wait: Promise<void>; fire(): void } {
  let resolve!: () => void;
  const s = {
    wait: new Promise<void>((r) => (resolve = r)),
    fire() {
      resolve();
      s.wait = new Promise<void>((r) => (resolve = r));
    },
  };
  return s;
}

function errorOf(e: unknown): string {
  if (e && typeof e === 'object' && 'error' in e && (e as { error: unknown }).error instanceof Error) return ((e as { error: Error }).error).message;
  if (e instanceof Error) return e.message;
  return 'unknown error';
}
