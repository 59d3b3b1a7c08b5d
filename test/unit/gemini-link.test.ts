/**
 * Gemini's side of the model link (src/voice/gemini-link.ts) over real websockets: @google/genai's
 * `Live.connect` against an in-process server speaking the Live API's setup handshake. Checks what
 * the link is told of each close and `goAway`, and what the plugin's callbacks are told (a close we
 * resume from, or one we made, must not reach the plugin as an error).
 */
import { GoogleGenAI, type LiveServerMessage, type Session } from '@google/genai';
import type { llm } from '@livekit/agents';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { GeminiSocket } from '../../src/voice/gemini-link.js';
import { ModelLink, type LinkPolicy } from '../../src/voice/link.js';

const log = pino({ level: 'silent' });

describe('GeminiSocket', () => {
  let wss: WebSocketServer;
  let server: WebSocket[];

  beforeEach(async () => {
    server = [];
    // Answers setup with setupComplete; echoes a code-less close as ws does by default (1005 at the client).
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (ws) => {
      server.push(ws);
      ws.on('message', (d) => {
        if (JSON.parse(d.toString()).setup) ws.send(JSON.stringify({ setupComplete: {} }));
      });
    });
    await new Promise<void>((r) => wss.once('listening', () => r()));
  });
  afterEach(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });

  /** A link with `policy`, its socket, and a session opened the way the plugin opens one, with what its callbacks saw. */
  async function open(onFailure: LinkPolicy['onFailure']) {
    const seen: string[] = [];
    const link = new ModelLink({ onFailure, replyTimeoutMs: 60_000, toolTimeoutMs: 60_000 }, {
      failed: (_e, why) => seen.push(`failed: ${why}`),
      resuming: (_e, why) => seen.push(`resuming: ${why}`),
      resumed: (_e, why) => seen.push(`resumed: ${why}`),
    }, log);
    const socket = new GeminiSocket(link);
    link.attach(socket);
    const pluginSaw: { closes: number[]; messages: LiveServerMessage[]; restarts: number } = { closes: [], messages: [], restarts: 0 };
    const client = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: `http://127.0.0.1:${(wss.address() as AddressInfo).port}` } });
    let connecting!: Promise<Session>;
    // What the plugin's RealtimeSession does: connect from within its own (watched) context, and restart on request.
    const pluginSession = {
      markRestartNeeded: () => pluginSaw.restarts++,
    };
    socket.adopt(() => {
      connecting = client.live.connect({
        model: 'gemini-3.8-live',
        callbacks: {
          onmessage: (m) => pluginSaw.messages.push(m),
          onclose: (e) => pluginSaw.closes.push(e.code),
        },
      });
      return pluginSession as unknown as llm.RealtimeSession;
    });
    const session = await connecting;
    await until(() => server.length === 1 && pluginSaw.messages.length > 0);
    return { link, seen, pluginSaw, session };
  }

  it('a server close with 1000 — which the plugin does not report — reaches the link; keypad by default', async () => {
    const { link, seen, pluginSaw } = await open('keypad');
    server[0]!.close(1000);
    await until(() => pluginSaw.closes.length > 0);
    expect(seen).toEqual(["failed: the model's websocket closed (code 1000)"]);
    expect(pluginSaw.closes).toEqual([1000]);
    expect(link.current).toBe('failed');
  });

  it('a server close the link resumes from reaches the plugin as a normal one, and the plugin is asked to reconnect', async () => {
    const { seen, pluginSaw } = await open('resume');
    server[0]!.close(1011, 'internal error');
    await until(() => pluginSaw.closes.length > 0);
    expect(pluginSaw.closes).toEqual([1000]); // not 1011: the plugin would end the session
    expect(pluginSaw.restarts).toBe(1);
    expect(seen).toEqual(["resuming: the model's websocket closed (code 1011: internal error)"]);
  });

  it('our own close is never an error, though the server echoes no code (1005)', async () => {
    const { seen, pluginSaw, session } = await open('keypad');
    session.close();
    await until(() => pluginSaw.closes.length > 0);
    expect(pluginSaw.closes).toEqual([1000]);
    expect(seen).toEqual([]);
  });

  it('goAway is a planned handover: resumed, and the link is up again at the next setupComplete', async () => {
    const { link, seen, pluginSaw } = await open('keypad');
    server[0]!.send(JSON.stringify({ goAway: { timeLeft: '10s' } }));
    await until(() => seen.length > 0);
    expect(link.current).toBe('resuming');
    expect(pluginSaw.restarts).toBe(0); // the plugin's own goAway handling reconnects: its queue must be kept
    expect(seen).toEqual(["resuming: the model's server announced the end of the connection (goAway, 10s left)"]);
  });
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
