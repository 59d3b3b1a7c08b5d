/**
 * The voice model's link: every way a realtime model's connection can end or stall mid-call, noticed
 * once with its cause, and the one decision of what follows ({@link decideLinkEnd}) — go on over a
 * new connection with the conversation kept ("resume"), or hand the call to keypad mode.
 *
 * What each plugin's socket does is watched by ./gemini-link.ts and ./openai-link.ts, which report
 * here; the watchdogs that need no socket (no reply from the model, a tool without a result) run
 * here, on what we ask of the model and on the agents framework's session events.
 */
import { voice } from '@livekit/agents';
import type { Logger } from 'pino';

/** How a model link ended or stalled. */
export type LinkEnd =
  /** The websocket closed, with any code: 1000 (normal) included — mid-call no close is expected. */
  | { readonly kind: 'closed'; readonly code: number; readonly reason?: string }
  /** The websocket failed below the protocol (refused, reset, TLS). */
  | { readonly kind: 'socket_error'; readonly message: string }
  /** The model's service sent an error. */
  | { readonly kind: 'model_error'; readonly message: string }
  /** A reply was due (asked for, or the caller or a tool had finished) and nothing came in time. */
  | { readonly kind: 'no_reply'; readonly waitedMs: number }
  /** One of our tools ran longer than allowed: the model waits for its result, the caller in silence. */
  | { readonly kind: 'tool_unanswered'; readonly tool: string; readonly waitedMs: number }
  /** The server announced it will close the connection soon (Gemini `goAway`, before its ~10-minute connection limit). */
  | { readonly kind: 'go_away'; readonly timeLeft?: string }
  /** A new connection was asked for and was not up in time. */
  | { readonly kind: 'resume_failed'; readonly waitedMs: number };

/** What happens after a link end: go on over a new connection, or hand the call to keypad mode. */
export type LinkDecision = 'resume' | 'keypad';

/** How the link's ends are handled (MODEL_ON_FAILURE, MODEL_REPLY_TIMEOUT_S, MODEL_TOOL_TIMEOUT_S). */
export interface LinkPolicy {
  /**
   * An unannounced end (a close, an error, a stall): `keypad` hands the call to keypad mode at once;
   * `resume` first tries a new connection (at most {@link MAX_FAILURE_RESUMES} a call), then keypad.
   */
  readonly onFailure: LinkDecision;
  /** Longest wait for the model's audio once a reply is due, in ms. */
  readonly replyTimeoutMs: number;
  /** Longest a tool may run before the link counts as stuck, in ms. */
  readonly toolTimeoutMs: number;
}

/** Resumes after failures one call may use; the next failure goes to keypad mode. Announced ends (goAway) do not count. */
export const MAX_FAILURE_RESUMES = 2;

/**
 * Longest a new connection may take to be up (Gemini: `setupComplete`), in ms. The Gemini plugin
 * waits for `setupComplete` with no time limit of its own (@google/genai `Live.connect`).
 */
export const RESUME_TIMEOUT_MS = 8000;

/** The link end in words, for the log line and the call record. */
export function describeLinkEnd(e: LinkEnd): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  switch (e.kind) {
    case 'closed':
      return `the model's websocket closed (code ${e.code}${e.reason ? `: ${e.reason}` : ''})`;
    case 'socket_error':
      return `the model's websocket failed (${e.message})`;
    case 'model_error':
      return `the model's service reported an error (${e.message})`;
    case 'no_reply':
      return `no reply from the model ${s(e.waitedMs)} after one was due`;
    case 'tool_unanswered':
      return `the ${e.tool} tool had no result after ${s(e.waitedMs)}`;
    case 'go_away':
      return `the model's server announced the end of the connection (goAway${e.timeLeft ? `, ${e.timeLeft} left` : ''})`;
    case 'resume_failed':
      return `no new connection to the model within ${s(e.waitedMs)}`;
  }
}

/**
 * The one decision of what a link end leads to. An announced end (goAway) is resumed whenever the
 * model can resume; a stuck tool, or a resume that failed, goes to keypad mode (a new connection
 * cannot help); any other end follows `policy.onFailure`, resuming at most {@link MAX_FAILURE_RESUMES} times.
 */
export function decideLinkEnd(end: LinkEnd, policy: Pick<LinkPolicy, 'onFailure'>, state: { readonly canResume: boolean; readonly failureResumes: number }): LinkDecision {
  if (!state.canResume || end.kind === 'resume_failed' || end.kind === 'tool_unanswered') return 'keypad';
  if (end.kind === 'go_away') return 'resume';
  return policy.onFailure === 'resume' && state.failureResumes < MAX_FAILURE_RESUMES ? 'resume' : 'keypad';
}

/** A plugin's side of the link (./gemini-link.ts, ./openai-link.ts). */
export interface LinkSocket {
  /** Whether this end can be followed by a new connection with the conversation kept. */
  canResume(end: LinkEnd): boolean;
  /** Opens a new connection (the plugin keeps the conversation); the link calls {@link ModelLink.opened} once it is up. */
  resume(end: LinkEnd): void;
}

/** What the link tells the speaker that owns it. */
export interface LinkListener {
  /** The link is lost for good: keypad mode must take over. Called once. */
  failed(end: LinkEnd, why: string): void;
  /** A new connection is being opened after `end`. */
  resuming(end: LinkEnd, why: string): void;
  /** The new connection is up, in `ms` after the end; `cutOff`: the model was in the middle of an answer when it ended. */
  resumed(end: LinkEnd, why: string, ms: number, cutOff: boolean): void;
}

/** Where the link stands. */
export type LinkState = 'up' | 'resuming' | 'failed' | 'closed';

/**
 * One call's link to its model. Adapters report what the socket does ({@link opened},
 * {@link activity}, {@link ended}); the speaker says when a reply is due ({@link expectReply}) and
 * when the call is done with the link ({@link close}). Each end is logged once, with its cause.
 */
export class ModelLink {
  private state: LinkState = 'up';
  private socket?: LinkSocket;
  private failureResumes = 0;
  private replyTimer?: NodeJS.Timeout;
  /** What ends the wait for a reply: audio only (a reply we asked for), or anything from the model. */
  private replyNeeds: 'audio' | 'any' = 'any';
  private resumeTimer?: NodeJS.Timeout;
  private resumingSince?: { end: LinkEnd; at: number; cutOff: boolean };
  /** The model is in the middle of a turn (something came since its last turn ended). */
  private answering = false;
  private readonly tools = new Map<number, { tool: string; timer: NodeJS.Timeout; since: number }>();
  private toolIds = 0;

  constructor(
    private readonly policy: LinkPolicy,
    private readonly listener: LinkListener,
    private readonly log: Logger,
  ) {}

  /** Where the link stands now. */
  get current(): LinkState {
    return this.state;
  }

  /** The plugin's socket side, once the session exists. */
  attach(socket: LinkSocket): void {
    this.socket = socket;
  }

  /**
   * Watches the framework session: the agent starting to speak is the model's audio, its thinking
   * is the model's content. The caller falling silent does not make a reply due: with Gemini the
   * plugin reports the end of the caller's speech only once the model has begun its answer.
   */
  watch(session: voice.AgentSession): void {
    // Playout (local) says nothing about whether the model's turn is still coming: only the wait ends.
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) => {
      if (ev.newState === 'speaking') this.endWait('audio');
      else if (ev.newState === 'thinking') this.endWait('content');
    });
  }

  /** A reply we asked for is due: only the model's audio ends the wait ({@link LinkPolicy.replyTimeoutMs}). */
  expectReply(): void {
    this.expect('audio');
  }

  private expect(needs: 'audio' | 'any'): void {
    if (this.state !== 'up' && this.state !== 'resuming') return;
    if (this.replyTimer && (this.replyNeeds === 'audio' || needs === 'any')) return; // a stricter wait is already running
    clearTimeout(this.replyTimer);
    this.replyNeeds = needs;
    const since = Date.now();
    this.replyTimer = setTimeout(() => {
      this.replyTimer = undefined;
      // While a new connection comes up the resume's own time limit applies.
      if (this.state === 'up') this.ended({ kind: 'no_reply', waitedMs: Date.now() - since });
    }, this.policy.replyTimeoutMs);
  }

  /** The model's turn has ended (Gemini `turnComplete`, OpenAI `response.done`): nothing of it is still to come. */
  turnEnded(): void {
    this.answering = false;
    this.endWait('content');
  }

  /** Something came from the model over its socket: `audio` (speech), or `content` (text, a tool call). */
  activity(kind: 'audio' | 'content'): void {
    this.answering = true;
    this.endWait(kind);
  }

  /** Nothing more is due: the agent speaks (`audio`), or the model acted (`content`: ends a wait for anything). */
  endWait(kind: 'audio' | 'content'): void {
    if (this.replyTimer && (kind === 'audio' || this.replyNeeds === 'any')) {
      clearTimeout(this.replyTimer);
      this.replyTimer = undefined;
    }
  }

  /** A new connection is up (after a resume, or a reconnect the plugin made by itself). */
  opened(): void {
    if (this.state !== 'resuming' || !this.resumingSince) return;
    clearTimeout(this.resumeTimer);
    const { end, at, cutOff } = this.resumingSince;
    this.resumingSince = undefined;
    this.state = 'up';
    // A reply due while the connection was down gets its whole time from now.
    if (this.replyTimer) {
      clearTimeout(this.replyTimer);
      this.replyTimer = undefined;
      this.expect(this.replyNeeds);
    }
    const why = describeLinkEnd(end);
    this.log.info({ cause: end.kind, ms: Date.now() - at }, `voice model resumed on a new connection after: ${why}`);
    this.listener.resumed(end, why, Date.now() - at, cutOff);
  }

  /**
   * Runs `work` as one of the model's tools: running longer than {@link LinkPolicy.toolTimeoutMs}
   * ends the link (`tool_unanswered`) and rejects — the framework's tool executor, which closing the
   * session waits for, must not wait for a tool that never returns; once it returns, something from
   * the model is due within {@link LinkPolicy.replyTimeoutMs}. The tool's own result or error is
   * returned unchanged.
   * @throws Error "the <name> tool took longer than N s" after the time limit.
   */
  async tool<T>(name: string, work: () => Promise<T>): Promise<T> {
    const id = ++this.toolIds;
    const since = Date.now();
    let timer!: NodeJS.Timeout;
    const tooLong = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        this.tools.delete(id);
        reject(new Error(`the ${name} tool took longer than ${this.policy.toolTimeoutMs / 1000} s`));
        this.ended({ kind: 'tool_unanswered', tool: name, waitedMs: Date.now() - since });
      }, this.policy.toolTimeoutMs);
    });
    this.tools.set(id, { tool: name, timer, since });
    const running = work();
    running.catch(() => undefined); // still settles after a timeout: nobody waits for it then
    try {
      return await Promise.race([running, tooLong]);
    } finally {
      clearTimeout(timer);
      this.tools.delete(id);
      // The result goes to the model now: its answer (or the end of its turn) is due.
      this.expect('any');
    }
  }

  /**
   * The socket reports an end. Decides at once (synchronously: adapters act on the answer — e.g.
   * keep the plugin from treating a close it will resume from as fatal) and tells the speaker.
   * Returns `ignored` when the link is already lost or closed, or a resume is already under way.
   */
  ended(end: LinkEnd): LinkDecision | 'ignored' {
    if (this.state === 'failed' || this.state === 'closed') return 'ignored';
    // A stuck tool is not about the connection: it counts while resuming too.
    if (this.state === 'resuming' && end.kind !== 'resume_failed' && end.kind !== 'tool_unanswered') {
      // The old connection going away while the new one comes up is part of the resume.
      this.log.debug({ cause: end.kind }, 'model link event while resuming');
      return 'ignored';
    }
    const socket = this.socket;
    const decision = decideLinkEnd(end, this.policy, { canResume: Boolean(socket?.canResume(end)), failureResumes: this.failureResumes });
    const why = describeLinkEnd(end);
    clearTimeout(this.replyTimer);
    this.replyTimer = undefined;
    if (decision === 'keypad') {
      this.log.warn({ cause: end.kind }, `voice model link lost: ${why}; keypad mode takes over`);
      this.stop('failed');
      this.listener.failed(end, why);
      return decision;
    }
    if (end.kind !== 'go_away') this.failureResumes++;
    this.state = 'resuming';
    this.resumingSince = { end, at: Date.now(), cutOff: this.answering };
    this.answering = false;
    this.log.warn({ cause: end.kind }, `voice model link: ${why}; resuming on a new connection`);
    this.resumeTimer = setTimeout(() => this.ended({ kind: 'resume_failed', waitedMs: RESUME_TIMEOUT_MS }), RESUME_TIMEOUT_MS);
    this.listener.resuming(end, why);
    socket!.resume(end);
    return decision;
  }

  /** The call is done with the link (closing, or fallen back): nothing it reports matters any more. */
  close(): void {
    if (this.state !== 'failed') this.stop('closed');
  }

  private stop(state: 'failed' | 'closed'): void {
    this.state = state;
    clearTimeout(this.replyTimer);
    clearTimeout(this.resumeTimer);
    for (const t of this.tools.values()) clearTimeout(t.timer);
    this.tools.clear();
  }
}
