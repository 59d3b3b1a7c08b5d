/**
 * A local stand-in for the Gemini Live API (BidiGenerateContent over a websocket), enough for
 * @livekit/agents-plugin-google to run unchanged against it: it answers `setup` with
 * `setupComplete`, takes realtime audio, and answers each turn the client completes with a scripted
 * reply — audio synthesized with flite at 24 kHz (the rate the plugin assumes), its transcription,
 * then `turnComplete` — and, when scripted, `toolCall`s whose `toolResponse`s it records and answers.
 * As the model the client asks for does: a 2.5 model calls functions blocking (words, then the
 * call, then it waits), a 3.8 model asynchronously (the call first, and it goes on speaking; the
 * result gets a turn of its own).
 * Everything the client sent is kept for assertions.
 * Protocol: the Gemini Live API reference (BidiGenerateContent messages: setup, realtimeInput,
 * serverContent, toolCall, toolResponse), as @livekit/agents-plugin-google 1.9.0 speaks it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';

/** A client message as JSON. */
export type ClientMessage = Record<string, unknown>;

/** A function call the stand-in asks the client to run (`toolCall.functionCalls[]`). */
export interface ScriptedToolCall {
  readonly name: string;
  readonly args?: Record<string, unknown>;
}

/** A reply: words to speak, and/or tool calls to make after them. */
export type Reply = string | { readonly say?: string; readonly toolCalls?: readonly ScriptedToolCall[] };

/**
 * How the stand-in answers a completed client turn (its text) or a `toolResponse` (turn text
 * `toolResponse <name> <output>`, one per function response).
 */
export type ReplyScript = (turnText: string, turn: number) => Reply;

/** A `toolResponse.functionResponses[]` entry as the plugin sends it. */
export interface FunctionResponse {
  readonly id?: string;
  readonly name: string;
  readonly response: { output?: string };
  /** Non-blocking calls: true on an interim answer, the result follows. */
  readonly willContinue?: boolean;
  /** Non-blocking calls: when the model should act on the result (INTERRUPT, WHEN_IDLE, SILENT). */
  readonly scheduling?: string;
}

const spokenAudio = new Map<string, Buffer>();

/**
 * 24 kHz mono PCM16 of `text`, spoken by flite (resampled by sox), its leading silence trimmed — a
 * real model's first audio chunk carries speech, so the time to first audio measures us, not flite's
 * pause. Made once per text in this process: the stand-in answers without synthesizing (a
 * synchronous flite run would hold its event loop, and the figures, for ~100 ms).
 */
export function speech24k(text: string): Buffer {
  const cached = spokenAudio.get(text);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'gemini-'));
  execFileSync('flite', ['-voice', 'slt', '-t', text, '-o', join(dir, 'a.wav')]);
  // sox `silence 1 0.01 0.5%`: drop everything before the first 10 ms above 0.5 % of full scale.
  execFileSync('sox', [join(dir, 'a.wav'), '-r', '24000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', join(dir, 'a.raw'), 'silence', '1', '0.01', '0.5%']);
  const pcm = readFileSync(join(dir, 'a.raw'));
  spokenAudio.set(text, pcm);
  return pcm;
}

/** A chunk of caller audio a stand-in received: when (`Date.now()` ms) and its level (dBFS). */
export interface HeardChunk {
  readonly at: number;
  readonly dbfs: number;
}

/** The level of base64 16-bit little-endian PCM, in dBFS (−Infinity for digital silence). */
export function pcmBase64Dbfs(data: string): number {
  const b = Buffer.from(data, 'base64');
  const n = Math.floor(b.length / 2);
  if (n === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += b.readInt16LE(2 * i) ** 2;
  const rms = Math.sqrt(sum / n);
  return rms === 0 ? -Infinity : 20 * Math.log10(rms / 32768);
}

/** How far apart a reply's 100 ms audio chunks are sent, in ms: four times faster than they play. */
export const CHUNK_EVERY_MS = 25;

/** The stand-in server. */
export class GeminiStandIn {
  /** Every message received, per connection, in order. */
  readonly connections: ClientMessage[][] = [];
  private readonly wss: WebSocketServer;
  private turns = 0;
  /** While true, nothing is answered: the model has gone silent (its socket stays open). */
  private silent = false;
  /** Resumption handles given out, in order (`sessionResumptionUpdate.newHandle`). */
  readonly handles: string[] = [];
  /** Every chunk of caller audio received (`realtimeInput.audio` or `.mediaChunks`), in order. */
  readonly heard: HeardChunk[] = [];

  private constructor(
    wss: WebSocketServer,
    private readonly reply: ReplyScript,
  ) {
    this.wss = wss;
    wss.on('connection', (ws) => this.serve(ws));
  }

  /** Listens on 127.0.0.1 on a free port. */
  static async start(reply: ReplyScript): Promise<GeminiStandIn> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    return new GeminiStandIn(wss, reply);
  }

  /** The base URL to give the plugin (GOOGLE_GEMINI_BASE_URL / httpOptions.baseUrl). */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  /** All messages of all connections. */
  messages(): ClientMessage[] {
    return this.connections.flat();
  }

  /** The text of every `clientContent` turn received, in order. */
  clientTexts(): string[] {
    return this.messages()
      .filter((m) => m.clientContent)
      .flatMap((m) => ((m.clientContent as { turns?: { parts?: { text?: string }[] }[] }).turns ?? []).flatMap((t) => (t.parts ?? []).map((p) => p.text ?? '')));
  }

  private serve(ws: WebSocket): void {
    const received: ClientMessage[] = [];
    // Models of the 3.8 family call functions asynchronously: they go on speaking after a call.
    let asyncCalls = false;
    this.connections.push(received);
    // The client's close() sends no status code; a 1005 echo makes the plugin report an error.
    (ws as unknown as { _receiver: { prependListener(e: string, f: (code: number) => void): void } })._receiver.prependListener('conclude', (code) => {
      if (code === 1005) ws.close(1000);
    });
    ws.on('message', (data) => {
      let msg: ClientMessage;
      try {
        msg = JSON.parse(data.toString()) as ClientMessage;
      } catch {
        return;
      }
      received.push(msg);
      const input = msg.realtimeInput as { audio?: { data?: string }; mediaChunks?: { data?: string }[] } | undefined;
      for (const chunk of [input?.audio, ...(input?.mediaChunks ?? [])]) {
        if (chunk?.data) this.heard.push({ at: Date.now(), dbfs: pcmBase64Dbfs(chunk.data) });
      }
      if (msg.setup) {
        asyncCalls = /3\.8/.test(String((msg.setup as { model?: string }).model));
        ws.send(JSON.stringify({ setupComplete: {} }));
        this.offerHandle(ws);
      }
      if (this.silent) return;
      const content = msg.clientContent as { turnComplete?: boolean; turns?: { role: string; parts: { text?: string }[] }[] } | undefined;
      if (content?.turnComplete) {
        const text = (content.turns ?? []).flatMap((t) => t.parts.map((p) => p.text ?? '')).join(' ');
        this.answer(ws, this.reply(text, ++this.turns), asyncCalls);
      }
      const responses = (msg.toolResponse as { functionResponses?: FunctionResponse[] } | undefined)?.functionResponses;
      for (const r of responses ?? []) {
        // An interim answer of a non-blocking call, or a result the client wants taken silently, gets no reply.
        if (r.willContinue === true || r.scheduling === 'SILENT') continue;
        this.answer(ws, this.reply(`toolResponse ${r.name} ${r.response.output ?? ''}`, ++this.turns), asyncCalls);
      }
    });
  }

  /** Every function response the client sent (tool results), in order. */
  toolResponses(): FunctionResponse[] {
    return this.messages().flatMap((m) => (m.toolResponse as { functionResponses?: FunctionResponse[] } | undefined)?.functionResponses ?? []);
  }

  private calls = 0;

  /**
   * Answers one turn. A blocking model (2.5) speaks the reply's words, then sends its tool calls and
   * waits for their results; an asynchronous one (3.8, `async`) sends the tool calls first and goes on
   * speaking while they run, then ends its turn — the results get their own turns.
   */
  private answer(ws: WebSocket, reply: Reply, async = false): void {
    const { say, toolCalls } = typeof reply === 'string' ? { say: reply, toolCalls: undefined } : reply;
    const calls = toolCalls?.length ? { toolCall: { functionCalls: toolCalls.map((c) => ({ id: `call-${++this.calls}`, name: c.name, args: c.args ?? {} })) } } : undefined;
    if (calls) this.toolCalls.push({ async, names: toolCalls!.map((c) => c.name) });
    // Nothing to say and nothing to call: the turn ends empty, as the Live API ends a turn it has no answer for.
    if (!say && !calls) this.send(ws, { serverContent: { turnComplete: true } });
    if (async && calls) this.send(ws, calls);
    if (say) this.speak(ws, say);
    else if (async && calls) this.send(ws, { serverContent: { turnComplete: true } });
    if (!async && calls) this.send(ws, calls);
  }


  /** Every reply spoken, in order: its words, when its audio was sent (all at once, `Date.now()` ms) and how long it plays. */
  readonly spoken: { readonly text: string; readonly at: number; readonly durationMs: number }[] = [];

  /** The tool calls sent, in order: whether sent the asynchronous way (before the words), and their names. */
  readonly toolCalls: { readonly async: boolean; readonly names: readonly string[] }[] = [];

  /** The resumption handle each connection's `setup` carried (undefined: a fresh session), in order. */
  setupHandles(): (string | undefined)[] {
    return this.connections
      .map((c) => c.find((m) => m.setup)?.setup as { sessionResumption?: { handle?: string } } | undefined)
      .filter((s) => s !== undefined)
      .map((s) => s.sessionResumption?.handle);
  }

  /** Stops answering anything (the socket stays open), or answers again. */
  setSilent(silent: boolean): void {
    this.silent = silent;
  }

  /**
   * Sends `goAway` on every open connection, as the Live API does before its connection limit, and
   * closes each one still open `closeAfterMs` later (1000: the limit reached).
   */
  goAway(closeAfterMs = 2000): void {
    for (const c of this.wss.clients) {
      c.send(JSON.stringify({ goAway: { timeLeft: `${Math.round(closeAfterMs / 1000)}s` } }));
      setTimeout(() => c.readyState === c.OPEN && c.close(1000), closeAfterMs).unref();
    }
  }

  /** A new resumption handle for the session so far (the Live API sends one as the session advances). */
  private offerHandle(ws: WebSocket): void {
    const handle = `resume-${this.handles.length + 1}`;
    this.handles.push(handle);
    ws.send(JSON.stringify({ sessionResumptionUpdate: { newHandle: handle, resumable: true } }));
  }

  /** Drops every open connection with `code` (1011: a server failure) and keeps listening. */
  drop(code = 1011): void {
    for (const c of this.wss.clients) c.close(code);
  }

  /**
   * Sends one spoken reply: audio chunks of 100 ms, {@link CHUNK_EVERY_MS} apart (a real model streams
   * its audio as it makes it, faster than it plays, not all at once), then the transcription,
   * generationComplete, turnComplete. What is sent after it on this connection waits for it.
   */
  speak(ws: WebSocket, text: string): void {
    const pcm = speech24k(text);
    const chunk = 4800; // 100 ms at 24 kHz, 16-bit
    for (let i = 0; i < pcm.length; i += chunk) {
      const data = pcm.subarray(i, Math.min(pcm.length, i + chunk)).toString('base64');
      this.send(ws, { serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data } }] } } }, i === 0 ? 0 : CHUNK_EVERY_MS, () => {
        if (i === 0) this.spoken.push({ text, at: Date.now(), durationMs: (pcm.length / 48_000) * 1000 });
      });
    }
    this.send(ws, { serverContent: { outputTranscription: { text } } });
    this.send(ws, { serverContent: { generationComplete: true } });
    this.send(ws, { serverContent: { turnComplete: true }, usageMetadata: { totalTokenCount: 1 } }, 0, () => this.offerHandle(ws));
  }

  /** Each connection's messages still to send, in order. */
  private readonly outgoing = new WeakMap<WebSocket, Promise<void>>();

  /** Sends `msg` on `ws` after everything queued before it, `waitMs` after the one before; `sent` runs once it is. */
  private send(ws: WebSocket, msg: object, waitMs = 0, sent?: () => void): void {
    const before = this.outgoing.get(ws) ?? Promise.resolve();
    this.outgoing.set(
      ws,
      before.then(async () => {
        if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
        if (ws.readyState !== ws.OPEN) return;
        ws.send(JSON.stringify(msg));
        sent?.();
      }),
    );
  }

  /** Closes every connection with `code` (1011 simulates a server failure), then the server. */
  async close(code = 1000): Promise<void> {
    for (const c of this.wss.clients) c.close(code);
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
