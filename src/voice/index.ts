/**
 * The voice: owns choosing how the agent speaks (./choice.ts), the sessions it speaks through
 * (./sessions.ts: keypad mode with flite, Gemini Live, OpenAI Realtime, and the fallback to keypad
 * mode), the model's link — how it ends, is resumed or hands over to keypad mode (./link.ts, with
 * ./gemini-link.ts and ./openai-link.ts) — Gemini's function calls kept from being dropped (./gemini-turns.ts), what a model is told (./prompt.ts, ./coordinator.md, ./instructions.ts) and the model's
 * tools (./tools.ts). The worker imports ./choice.ts and ./prompt.ts alone: no call code to choose.
 */
import type { Speaker, VoiceRequest } from '../call/index.js';
import type { VoicePlan } from './choice.js';
import { instructionsFor } from './instructions.js';
import { ModelSpeaker, startKeypadSpeaker, startRealtimeSpeaker, type SessionTarget } from './sessions.js';
import { appointmentTools } from './tools.js';

export { chooseVoice, linkPolicyOf, planVoice, type ModelSettings, type VoiceChoice, type VoiceMode, type VoicePlan } from './choice.js';
export { instructionsFor } from './instructions.js';
export { DEFAULT_PROMPT_FILE, loadPrompt } from './prompt.js';
export { appointmentTools } from './tools.js';
export type { SessionTarget } from './sessions.js';
export { decideLinkEnd, describeLinkEnd, MAX_FAILURE_RESUMES, RESUME_TIMEOUT_MS, type LinkEnd, type LinkPolicy } from './link.js';

/** What every call of a worker shares: the plan (with how a lost model link is handled), the coordinator prompt and the clinic's name. */
export interface VoiceSetup {
  readonly plan: VoicePlan;
  readonly prompt: string;
  readonly clinic: string;
}

/**
 * Starts the voice of one call, listening to the caller the request names.
 * Keypad mode prepares the greeting's audio while its session starts; a realtime model gets the
 * instructions and tools of this call; its link is watched (./link.ts), and the call goes on in
 * keypad mode when it is lost mid-call.
 * @throws the session's error when it cannot start.
 */
export async function startVoice(setup: VoiceSetup, target: Omit<SessionTarget, 'participantIdentity'>, req: VoiceRequest): Promise<Speaker> {
  const t: SessionTarget = { ...target, participantIdentity: req.identity };
  const { plan } = setup;
  if (plan.mode === 'keypad') return startKeypadSpeaker(t, [req.greeting.text]);
  const language = req.situation.direction === 'web' ? plan.model.languages?.web : plan.model.languages?.phone;
  const spec = { mode: plan.mode, settings: plan.model, instructions: instructionsFor(setup.prompt, setup.clinic, req.situation, language), language };
  const speaker = new ModelSpeaker(plan.link, () => startKeypadSpeaker(t), req.voiceEvents, t.log);
  return speaker.start((link) => startRealtimeSpeaker(t, spec, link, appointmentTools(req.tools)));
}
