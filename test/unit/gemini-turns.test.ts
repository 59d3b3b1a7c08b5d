/**
 * A Gemini function call made while the agent speaks is kept (src/voice/gemini-turns.ts): within a
 * server turn opened by a function call, the later generations of that turn report no caller speech;
 * the server's `interrupted` (a real barge-in) still does.
 */
import { initializeLogger } from '@livekit/agents';
import { realtime } from '@livekit/agents-plugin-google';
import { beforeAll, describe, expect, it } from 'vitest';
import { keepToolTurns } from '../../src/voice/gemini-turns.js';

/** The plugin's turn handling reduced to what the wrap relies on: each new generation reports speech from inside it. */
class FakeSession {
  speechReports = 0;
  handleToolCall(_call: unknown): void {}
  handleServerContent(content: { turnComplete?: boolean; interrupted?: boolean }): void {
    if (content.interrupted) this.handleInputSpeechStarted();
  }
  startNewGeneration(): void {
    this.handleInputSpeechStarted();
  }
  handleInputSpeechStarted(): void {
    this.speechReports++;
  }
}

describe('keepToolTurns', () => {
  beforeAll(() => initializeLogger({ pretty: false, level: 'fatal' }));

  it('the parts of a turn that a function call opened report no speech; the next turn does', () => {
    const s = new FakeSession();
    expect(keepToolTurns(s)).toBe(true);
    // The toolCall message: a new generation (reported, as before), then the call.
    s.startNewGeneration();
    s.handleToolCall({ functionCalls: [{ name: 'verify_identity' }] });
    expect(s.speechReports).toBe(1);
    // The words of the same turn: a new generation, not the caller speaking.
    s.startNewGeneration();
    s.handleServerContent({});
    expect(s.speechReports).toBe(1);
    s.handleServerContent({ turnComplete: true });
    // A later turn the server starts is reported again.
    s.startNewGeneration();
    expect(s.speechReports).toBe(2);
  });

  it('a barge-in (the server\'s interrupted) is reported, and ends the turn', () => {
    const s = new FakeSession();
    keepToolTurns(s);
    s.startNewGeneration();
    s.handleToolCall({});
    s.handleServerContent({ interrupted: true });
    expect(s.speechReports).toBe(2);
    s.startNewGeneration();
    expect(s.speechReports).toBe(3);
  });

  it('turns without a function call are untouched', () => {
    const s = new FakeSession();
    keepToolTurns(s);
    s.startNewGeneration();
    s.startNewGeneration();
    expect(s.speechReports).toBe(2);
  });

  it('the Google plugin in use has the methods it wraps; anything else is left alone', async () => {
    // A session of the real plugin, pointed at a closed local port (it never connects), closed at once.
    const session = new realtime.RealtimeModel({ apiKey: 'test-key-not-a-secret', httpOptions: { baseUrl: 'http://127.0.0.1:9' } }).session();
    session.on('error', () => undefined); // its failed connection attempt
    try {
      const methods = session as unknown as Record<string, unknown>;
      for (const name of ['handleToolCall', 'handleServerContent', 'startNewGeneration', 'handleInputSpeechStarted']) expect(typeof methods[name], name).toBe('function');
    } finally {
      await session.close();
    }
    const other = { handleToolCall() {} };
    expect(keepToolTurns(other)).toBe(false);
    expect(Object.keys(other)).toEqual(['handleToolCall']);
  });
});
