/**
 * Gemini Live's side of the model link (./link.ts). The Google plugin (agents-plugin-google 1.9.0)
 * opens its websockets through @google/genai's `Live.connect`; every connection of a call's session
 * is watched through that call's callbacks (public API of @google/genai), so that:
 * - a close with any code — 1000 included, which the plugin does not report — and a socket error
 *   reach the link, once, with their cause;
 * - `goAway` (the server's notice before its connection limit) is a planned handover: the plugin
 *   reconnects with the session's resumption handle (`sessionResumption.handle` in the next
 *   `setup`, Live API "Session management"), and the link waits for the new `setupComplete`;
 * - closing a connection ourselves is never an error: the plugin's own `close()` sends no status
 *   code, and a server that echoes none (1005) would otherwise make the plugin end the session;
 * - a close the link decides to resume from reaches the plugin as a normal one (code 1000), and the
 *   plugin is asked to reconnect (its `markRestartNeeded`), instead of ending the session.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Live, type LiveConnectParameters, type LiveServerMessage, type Session } from '@google/genai';
import type { llm } from '@livekit/agents';
import type { LinkEnd, LinkSocket, ModelLink } from './link.js';

/** The link of the session whose connections are being opened (async context of its main task). */
const owner = new AsyncLocalStorage<GeminiSocket>();
let patched = false;

/** Routes every `Live.connect` made within a watched session's context to its {@link GeminiSocket}. Idempotent. */
function watchLiveConnect(): void {
  if (patched) return;
  patched = true;
  const connect = Live.prototype.connect;
  Live.prototype.connect = function (this: Live, params: LiveConnectParameters): Promise<Session> {
    const socket = owner.getStore();
    return socket ? socket.connect((p) => connect.call(this, p), params) : connect.call(this, params);
  };
}

/** What the link needs of the plugin's RealtimeSession beyond its public API (checked at adoption). */
interface RestartableSession {
  markRestartNeeded(): void;
}

/** A websocket close as the plugin reads it (`code`, `reason`). */
type CloseLike = { readonly code: number; readonly reason?: string };

/** One call's Gemini connections, reported to its {@link ModelLink}. */
export class GeminiSocket implements LinkSocket {
  private connections = 0;
  /** The connection whose `setupComplete` came last: only its ends count. */
  private active = 0;
  private session?: RestartableSession;

  constructor(private readonly link: ModelLink) {}

  /** Runs `open` (which creates the plugin's RealtimeSession) so that its connections are watched. */
  adopt(open: () => llm.RealtimeSession): llm.RealtimeSession {
    watchLiveConnect();
    const session = owner.run(this, open);
    const restart = (session as unknown as Partial<RestartableSession>).markRestartNeeded;
    if (typeof restart === 'function') this.session = { markRestartNeeded: () => restart.call(session) };
    return session;
  }

  canResume(end: LinkEnd): boolean {
    // A goAway is followed by the plugin's own reconnect; anything else needs its restart hook.
    return end.kind === 'go_away' || this.session !== undefined;
  }

  resume(end: LinkEnd): void {
    // After goAway or a socket error the plugin reconnects by itself (handleGoAway, onerror); asking
    // again would swap its message queue and lose what is queued (a tool response, a reply request).
    if (end.kind === 'go_away' || end.kind === 'socket_error') return;
    this.session?.markRestartNeeded();
  }

  /** Opens one connection with callbacks that report to the link before (close) or after (messages) the plugin's own. */
  async connect(connect: (p: LiveConnectParameters) => Promise<Session>, params: LiveConnectParameters): Promise<Session> {
    const n = ++this.connections;
    let closedByUs = false;
    const cb = params.callbacks;
    const session = await connect({
      ...params,
      callbacks: {
        ...cb,
        onmessage: (msg: LiveServerMessage) => {
          cb.onmessage(msg);
          this.message(n, msg);
        },
        onerror: (e: { message?: string; error?: unknown }) => {
          if (!closedByUs && n >= this.active) this.link.ended({ kind: 'socket_error', message: errorText(e) });
          cb.onerror?.(e as never);
        },
        onclose: (e: CloseLike) => {
          cb.onclose?.(this.closed(n, e, closedByUs) as never);
        },
      },
    });
    const close = session.close.bind(session);
    session.close = () => {
      closedByUs = true;
      close();
    };
    return session;
  }

  private message(n: number, msg: LiveServerMessage): void {
    if (msg.setupComplete) {
      this.active = n;
      this.link.opened();
    }
    if (n !== this.active) return;
    const parts = msg.serverContent?.modelTurn?.parts;
    if (parts?.some((p) => p.inlineData?.data)) this.link.activity('audio');
    else if (msg.serverContent?.turnComplete) this.link.turnEnded();
    else if (msg.serverContent || msg.toolCall) this.link.activity('content');
    if (msg.goAway) this.link.ended({ kind: 'go_away', timeLeft: msg.goAway.timeLeft });
  }

  /**
   * What the plugin is told of a close: a connection we closed, one already replaced, or one the link resumes
   * from closes normally (1000: the plugin neither ends the session nor reports it); any other
   * close reaches the plugin as it came (1000 included: the link has already handed the call over).
   */
  private closed(n: number, e: CloseLike, closedByUs: boolean): CloseLike {
    const normal = { code: 1000, reason: e.reason ?? '' };
    // A connection not yet set up counts: a key the server refuses closes it before `setupComplete`.
    if (closedByUs || n < this.active) return normal;
    const decision = this.link.ended({ kind: 'closed', code: e.code, reason: e.reason || undefined });
    if (decision === 'resume' || (decision === 'ignored' && this.link.current === 'resuming')) return normal;
    return e;
  }
}

function errorText(e: { message?: string; error?: unknown }): string {
  if (e.message) return e.message;
  if (e.error instanceof Error) return e.error.message;
  return 'websocket error';
}
