/**
 * Which voice the agent speaks with, chosen once from the configuration, and the model settings
 * that go with it: keypad mode (fixed sentences, local flite speech, answers by key), Gemini Live,
 * or OpenAI Realtime. The worker chooses at start and hands the plan to its job processes.
 */
import { ConfigError, type AppConfig } from '../config/index.js';
import type { LinkPolicy } from './link.js';

/** keypad, gemini or openai. */
export type VoiceMode = 'keypad' | 'gemini' | 'openai';

/** Which voice runs, and why (logged at start). */
export interface VoiceChoice {
  readonly mode: VoiceMode;
  readonly reason: string;
}

/**
 * The voice: VOICE_MODEL when set, else Gemini when GOOGLE_API_KEY is set, else OpenAI Realtime
 * when OPENAI_API_KEY is set, else keypad mode (no model at all).
 * @throws ConfigError naming the missing key when VOICE_MODEL names a model without its key.
 */
export function chooseVoice(config: Partial<Pick<AppConfig, 'VOICE_MODEL' | 'GOOGLE_API_KEY' | 'OPENAI_API_KEY'>>): VoiceChoice {
  const keyOf = { gemini: 'GOOGLE_API_KEY', openai: 'OPENAI_API_KEY' } as const;
  const chosen = config.VOICE_MODEL;
  if (chosen === 'keypad') return { mode: 'keypad', reason: 'VOICE_MODEL=keypad: fixed prompts with local flite speech, answers by keypad' };
  if (chosen) {
    if (!config[keyOf[chosen]]) {
      throw new ConfigError([`VOICE_MODEL=${chosen} needs ${keyOf[chosen]}: set it in .env, or set VOICE_MODEL=keypad to run without a model`]);
    }
    return { mode: chosen, reason: `VOICE_MODEL=${chosen}` };
  }
  if (config.GOOGLE_API_KEY) return { mode: 'gemini', reason: 'GOOGLE_API_KEY is set' };
  if (config.OPENAI_API_KEY) return { mode: 'openai', reason: 'OPENAI_API_KEY is set (and GOOGLE_API_KEY is not)' };
  return { mode: 'keypad', reason: 'GOOGLE_API_KEY is not set: fixed prompts with local flite speech, answers by keypad' };
}

/** A realtime voice model's settings, for every call of the worker. */
export interface ModelSettings {
  readonly apiKey: string;
  /** The model id, e.g. gemini-3.8-live or gpt-realtime. */
  readonly model: string;
  /** The model's prebuilt voice, e.g. Puck or marin. */
  readonly voice: string;
  /** BCP-47 languages: on phone calls (SIP_LANGUAGE) and with web visitors (WEB_LANGUAGE). Gemini only. */
  readonly languages?: { readonly phone: string; readonly web: string };
  /** Another API endpoint (tests point this at a local stand-in); undefined for the provider's own. */
  readonly baseUrl?: string;
}

/** The chosen voice with its settings (JSON: it travels from the worker to its job processes). */
export type VoicePlan =
  | (VoiceChoice & { readonly mode: 'keypad' })
  | (VoiceChoice & { readonly mode: 'gemini' | 'openai'; readonly model: ModelSettings; readonly link: LinkPolicy });

/** How a lost model link is handled (MODEL_ON_FAILURE, MODEL_REPLY_TIMEOUT_S, MODEL_TOOL_TIMEOUT_S). */
export function linkPolicyOf(config: Pick<AppConfig, 'MODEL_ON_FAILURE' | 'MODEL_REPLY_TIMEOUT_S' | 'MODEL_TOOL_TIMEOUT_S'>): LinkPolicy {
  return { onFailure: config.MODEL_ON_FAILURE, replyTimeoutMs: config.MODEL_REPLY_TIMEOUT_S * 1000, toolTimeoutMs: config.MODEL_TOOL_TIMEOUT_S * 1000 };
}

/**
 * Chooses the voice ({@link chooseVoice}) and turns the configuration into its model's settings.
 * @throws ConfigError as {@link chooseVoice} does.
 */
export function planVoice(config: AppConfig): VoicePlan {
  const choice = chooseVoice(config);
  switch (choice.mode) {
    case 'keypad':
      return { ...choice, mode: 'keypad' };
    case 'gemini':
      return {
        ...choice,
        mode: 'gemini',
        model: {
          apiKey: config.GOOGLE_API_KEY!,
          model: config.GEMINI_MODEL,
          voice: config.GEMINI_VOICE,
          languages: { phone: config.SIP_LANGUAGE, web: config.WEB_LANGUAGE },
          baseUrl: config.GOOGLE_GEMINI_BASE_URL,
        },
        link: linkPolicyOf(config),
      };
    case 'openai':
      return {
        ...choice,
        mode: 'openai',
        model: { apiKey: config.OPENAI_API_KEY!, model: config.OPENAI_REALTIME_MODEL, voice: config.OPENAI_VOICE, baseUrl: config.OPENAI_BASE_URL },
        link: linkPolicyOf(config),
      };
  }
}
