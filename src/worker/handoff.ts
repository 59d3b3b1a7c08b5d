/**
 * What the worker hands each job process: the configuration it validated, the coordinator prompt it
 * read and the voice it chose — made once at start (./main.ts), so job processes neither re-read
 * `.env` nor re-validate anything. The agents framework forks job processes with the worker's
 * environment (`child_process.fork` without `env`), so the hand-off travels in one variable.
 */
import type { AppConfig } from '../config/index.js';
import type { VoicePlan } from '../voice/choice.js';

/** The environment variable carrying the hand-off (JSON). */
export const HANDOFF_VARIABLE = 'APPOINTMENT_AGENT_WORKER_SETUP';

/** What every call of this worker shares. */
export interface WorkerSetup {
  readonly config: AppConfig;
  /** The coordinator prompt's text (AGENT_PROMPT_FILE or src/voice/coordinator.md). */
  readonly prompt: string;
  readonly voice: VoicePlan;
}

/**
 * Largest hand-off, in bytes: Linux refuses a single environment string over 128 KiB
 * (MAX_ARG_STRLEN, execve(2)), and fork would fail with E2BIG.
 */
const MAX_BYTES = 120 * 1024;

/** Puts `setup` where the job processes forked from now on find it. @throws Error when the prompt is too large to hand over. */
export function handOff(setup: WorkerSetup, env: NodeJS.ProcessEnv = process.env): void {
  const json = JSON.stringify(setup);
  if (Buffer.byteLength(json) > MAX_BYTES) {
    // The prompt is the only part of any size.
    throw new Error(`AGENT_PROMPT_FILE: the prompt is ${Math.round(Buffer.byteLength(setup.prompt) / 1024)} KiB; keep it under 100 KiB`);
  }
  env[HANDOFF_VARIABLE] = json;
}

/** The worker's setup, in a job process. @throws Error when the process was not started by the worker. */
export function receiveSetup(env: NodeJS.ProcessEnv = process.env): WorkerSetup {
  const json = env[HANDOFF_VARIABLE];
  if (!json) throw new Error(`${HANDOFF_VARIABLE} is not set: job processes are started by the worker (make gemini-sip), not on their own`);
  return JSON.parse(json) as WorkerSetup;
}
