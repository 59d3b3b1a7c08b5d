/**
 * A local stand-in for the OpenAI Realtime API (websocket `/v1/realtime`), enough for
 * @livekit/agents-plugin-openai to run unchanged against it (OPENAI_BASE_URL): it acknowledges
 * `session.update` and `conversation.item.create`, and answers each `response.create` with a
 * scripted spoken reply — `response.created`, a message item, 24 kHz PCM16 audio deltas synthesized
 * with flite, its transcript, `response.done`. Everything the client sent is kept for assertions.
 * Event names: the GA Realtime API as the plugin handles them (dist/realtime/realtime_model.js).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { pcmBase64Dbfs, speech24k, type HeardChunk } from './gemini-standin.js';

/** A client event as JSON. */
export type ClientEvent = { type: string } & Record<string, unknown>;

/** How the stand-in answers a `response.create`: the instructions it carried → the words it speaks. */
export type OpenAIReplyScript = (instructions: string, turn: number) => string;

/** The stand-in server. */
export class OpenAIRealtimeStandIn {
  /** Every event received, in order, over all connections. */
  readonly events: ClientEvent[] = [];
  /** Connections opened, in all. */
  connections = 0;
  /** Every `input_audio_buffer.append` received: when and how loud. */
  readonly heard: HeardChunk[] = [];
  /** Every reply spoken: its words, and when its audio was sent (all at once, `Date.now()` ms). */
  readonly spoken: { readonly text: string; readonly at: number }[] = [];
  private turns = 0;

  private constructor(
    private readonly wss: WebSocketServer,
    private readonly reply: OpenAIReplyScript,
  ) {
    wss.on('connection', (ws) => this.serve(ws));
  }

  /** Listens on 127.0.0.1 on a free port. */
  static async start(reply: OpenAIReplyScript): Promise<OpenAIRealtimeStandIn> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    return new OpenAIRealtimeStandIn(wss, reply);
  }

  /** OPENAI_BASE_URL for the worker. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}/v1`;
  }

  /** The `instructions` of every `response.create`, in order. */
  responseInstructions(): string[] {
    return this.events.filter((e) => e.type === 'response.create').map((e) => String((e.response as { instructions?: string } | undefined)?.instructions ?? ''));
  }

  private serve(ws: WebSocket): void {
    this.connections++;
    const send = (event: Record<string, unknown>) => ws.send(JSON.stringify({ event_id: `evt_${randomUUID()}`, ...event }));
    send({ type: 'session.created', session: { id: `sess_${randomUUID()}`, object: 'realtime.session' } });
    ws.on('message', (data) => {
      let event: ClientEvent;
      try {
        event = JSON.parse(data.toString()) as ClientEvent;
      } catch {
        return;
      }
      this.events.push(event);
      if (event.type === 'input_audio_buffer.append' && typeof event.audio === 'string') this.heard.push({ at: Date.now(), dbfs: pcmBase64Dbfs(event.audio) });
      switch (event.type) {
        case 'session.update':
          send({ type: 'session.updated', session: event.session ?? {} });
          break;
        case 'conversation.item.create': {
          const item = { id: `item_${randomUUID()}`, ...(event.item as Record<string, unknown>) };
          send({ type: 'conversation.item.added', previous_item_id: event.previous_item_id ?? null, item });
          break;
        }
        case 'response.create': {
          const response = event.response as { instructions?: string; metadata?: Record<string, string> } | undefined;
          this.speak(send, this.reply(response?.instructions ?? '', ++this.turns), response?.metadata);
          break;
        }
      }
    });
  }

  /** One spoken response: created, a message item with audio deltas of 100 ms and the transcript, done. */
  private speak(send: (e: Record<string, unknown>) => void, text: string, metadata?: Record<string, string>): void {
    const responseId = `resp_${randomUUID()}`;
    const itemId = `item_${randomUUID()}`;
    send({ type: 'response.created', response: { id: responseId, object: 'realtime.response', status: 'in_progress', output: [], metadata: metadata ?? null } });
    const item = { id: itemId, object: 'realtime.item', type: 'message', role: 'assistant', status: 'in_progress', content: [] };
    send({ type: 'response.output_item.added', response_id: responseId, output_index: 0, item });
    send({ type: 'response.content_part.added', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, part: { type: 'audio', transcript: '' } });
    const pcm = speech24k(text);
    this.spoken.push({ text, at: Date.now() });
    for (let i = 0; i < pcm.length; i += 4800) {
      send({ type: 'response.output_audio.delta', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, delta: pcm.subarray(i, i + 4800).toString('base64') });
    }
    send({ type: 'response.output_audio_transcript.delta', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, delta: text });
    send({ type: 'response.output_audio.done', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0 });
    send({ type: 'response.output_audio_transcript.done', response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, transcript: text });
    const done = { ...item, status: 'completed', content: [{ type: 'output_audio', transcript: text }] };
    send({ type: 'response.output_item.done', response_id: responseId, output_index: 0, item: done });
    send({ type: 'response.done', response: { id: responseId, object: 'realtime.response', status: 'completed', output: [done], metadata: metadata ?? null, usage: null } });
  }

  /** Drops every open connection with `code` mid-call (1000: closed normally, 1011: a server failure) and keeps listening. */
  drop(code = 1011): void {
    for (const c of this.wss.clients) c.close(code);
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.close(1000);
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
