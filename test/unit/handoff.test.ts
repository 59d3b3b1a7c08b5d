/** What the worker hands its job processes (src/worker/handoff.ts): the validated setup, once. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { planVoice } from '../../src/voice/choice.js';
import { HANDOFF_VARIABLE, handOff, receiveSetup } from '../../src/worker/handoff.js';

const config = loadConfig({ env: { LIVEKIT_URL: 'ws://127.0.0.1:7880', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's', MENU_TIMEOUT_MS: '9000' }, files: [] });

describe('the worker hand-off', () => {
  it('gives a job process the typed configuration, prompt and voice as the worker made them', () => {
    const env: NodeJS.ProcessEnv = {};
    handOff({ config, prompt: 'PROMPT', voice: planVoice(config) }, env);
    const setup = receiveSetup(env);
    expect(setup.config.MENU_TIMEOUT_MS).toBe(9000);
    expect(setup.config.PHONE_DEFAULT_COUNTRY).toBe('US');
    expect(setup.prompt).toBe('PROMPT');
    expect(setup.voice).toMatchObject({ mode: 'keypad' });
  });

  it('refuses a prompt too large for the environment, naming AGENT_PROMPT_FILE', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(() => handOff({ config, prompt: 'x'.repeat(130 * 1024), voice: planVoice(config) }, env)).toThrow(
      'AGENT_PROMPT_FILE: the prompt is 130 KiB; keep it under 100 KiB',
    );
    expect(env[HANDOFF_VARIABLE]).toBeUndefined();
  });

  it('says how a job process is meant to start when it finds no hand-off', () => {
    expect(() => receiveSetup({})).toThrow(/started by the worker \(make gemini-sip\)/);
  });
});
