/**
 * What a job process loads before its call, so that a call's first words wait for none of it (each
 * figure measured on a call's path with a CPU profile, 2-core host). In every mode: the fetch classes
 * Node compiles on first use (its bundled undici, ≈25–55 ms: livekit-server-sdk's requests, and
 * @google/genai's connection headers, use them), the UTF-8 TextDecoder (≈30 ms), web streams, the ICU collator
 * the framework sorts tool names with (`localeCompare`, ≈10 ms) and the protobuf messages its
 * session sends about itself to the room (≈15 ms). In a model's mode: the model's plugin (the other
 * plugin is never loaded) and zod's JSON schema conversion the plugin runs over the tools at each
 * connection (≈20 ms the first time).
 */
import { llm } from '@livekit/agents';
import { AgentSession } from '@livekit/protocol';
import { z } from 'zod';
import type { VoiceMode } from './choice.js';

/** A schema shaped like the tools' (./tools.ts): strings, numbers, enums, optional and nullable fields. */
const SAMPLE = z.object({
  slot_id: z.string().describe('an id'),
  reason: z.string().min(1).optional(),
  lead_minutes: z.number().int().min(0).max(10).nullable(),
  kind: z.enum(['a', 'b']),
});

/**
 * Loads what a call in `mode` would otherwise load on its path (see the file header).
 * @throws Error when the mode's plugin cannot be loaded (a broken install): better in warm-up than in a call.
 */
export async function warmVoice(mode: VoiceMode): Promise<void> {
  'a'.localeCompare('b');
  new TextDecoder('utf-8').decode(new Uint8Array([0x6f, 0x6b])); // ≈30 ms on first use, in every call's start
  new Headers({ 'x-warm-up': '1' }); // the server API's requests (livekit-server-sdk) use fetch too
  // The framework's text forwarding releases a web stream reader at each reply; the first release
  // builds Node's shared "released" error, stack and all (≈13 ms).
  new ReadableStream().getReader().releaseLock();
  const event = new AgentSession.AgentSessionEvent({ event: { case: 'agentStateChanged', value: new AgentSession.AgentSessionEvent_AgentStateChanged({}) } });
  new AgentSession.AgentSessionMessage({ message: { case: 'event', value: event } }).toBinary();
  if (mode === 'keypad') return;
  await (mode === 'gemini' ? import('@livekit/agents-plugin-google') : import('@livekit/agents-plugin-openai'));
  llm.toJsonSchema(SAMPLE, false);
}
