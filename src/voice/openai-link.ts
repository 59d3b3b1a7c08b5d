/**
 * OpenAI Realtime's side of the model link (./link.ts). The OpenAI plugin (agents-plugin-openai
 * 1.9.0) reconnects by itself when its websocket closes, replaying the conversation as text, and
 * says so with `session_reconnected`; OpenAI Realtime has no resumption handle. Here every websocket
 * the plugin opens is watched (its `createWsConn`), so a close the plugin did not ask for reaches the
 * link once with its code — the link then lets the plugin's reconnect go on (`resume`) or hands the
 * call to keypad mode — and the server's events tell the link when the model speaks.
 * Errors the plugin finds fatal end its session, which the speaker sees (./sessions.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { llm } from '@livekit/agents';
import type { WebSocket } from 'ws';
import type { LinkEnd, LinkSocket, ModelLink } from './link.js';

/** What the link needs of the plugin's RealtimeSession beyond its public events. */
interface WsSession {
  createWsConn(): Promise<WebSocket>;
}

/** Server events that carry the model's speech (GA and beta names). */
const AUDIO_EVENTS = new Set(['response.output_audio.delta', 'response.audio.delta']);

/** The link of the session whose connections are being opened (async context of its main task). */
const owner = new AsyncLocalStorage<OpenAISocket>();
let patched = false;

/**
 * Routes every websocket the plugin's sessions open within a watched session's context to its
 * {@link OpenAISocket}. The session opens its first one while it is being constructed, so this is
 * done on the class, once. @returns false when the plugin has no `createWsConn` to watch.
 */
function watchCreateWsConn(sessionClass: { prototype: unknown }): boolean {
  const proto = sessionClass.prototype as Partial<WsSession>;
  const create = proto.createWsConn;
  if (typeof create !== 'function') return false;
  if (patched) return true;
  patched = true;
  proto.createWsConn = async function (this: WsSession) {
    const ws = await create.call(this);
    owner.getStore()?.watch(ws);
    return ws;
  };
  return true;
}

/** One call's OpenAI Realtime connections, reported to its {@link ModelLink}. */
export class OpenAISocket implements LinkSocket {
  private watched = false;

  constructor(private readonly link: ModelLink) {}

  /** Runs `open` (which creates the plugin's RealtimeSession, of class `sessionClass`) so that its connections are watched. */
  adopt(sessionClass: { prototype: unknown }, open: () => llm.RealtimeSession): llm.RealtimeSession {
    this.watched = watchCreateWsConn(sessionClass);
    const session = owner.run(this, open);
    session.on('openai_server_event_received' as never, (ev: { type?: string }) => {
      if (ev.type && AUDIO_EVENTS.has(ev.type)) this.link.activity('audio');
      else if (ev.type === 'response.done') this.link.turnEnded();
      else if (ev.type?.startsWith('response.')) this.link.activity('content');
    });
    session.on('session_reconnected' as never, () => this.link.opened());
    return session;
  }

  canResume(end: LinkEnd): boolean {
    // The plugin reconnects after a close or a socket error by itself; a stalled connection it would keep.
    return this.watched && (end.kind === 'closed' || end.kind === 'socket_error');
  }

  resume(): void {
    // Nothing to do: the plugin is already reconnecting (see canResume).
  }

  /** Reports the websocket's close or error to the link, unless the plugin closed it itself. */
  watch(ws: WebSocket): void {
    let closedByUs = false;
    const close = ws.close.bind(ws);
    ws.close = (...args: Parameters<WebSocket['close']>) => {
      // Closing a socket the server is already closing is not our close: `ws` itself answers the
      // server's close frame with close() (after setting `_closeFrameReceived`), and so does the plugin once it notices.
      const serverClosing = (ws as unknown as { _closeFrameReceived?: boolean })._closeFrameReceived === true;
      if (!serverClosing && (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING)) closedByUs = true;
      close(...args);
    };
    ws.on('error', (err) => {
      if (!closedByUs) this.link.ended({ kind: 'socket_error', message: err.message });
    });
    ws.on('close', (code, reason) => {
      if (!closedByUs) this.link.ended({ kind: 'closed', code, reason: reason.toString() || undefined });
    });
  }
}
