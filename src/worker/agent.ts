/**
 * The agent as the LiveKit agents framework loads it in each job process: prewarm opens what every
 * call needs (configuration, logger, migrated store, a warm flite, date wording loaded), entry runs one call.
 */
import { defineAgent, type JobContext, type JobProcess } from '@livekit/agents';
import { runCall, type ProcessState } from '../agent/job.js';
import { loadPrompt } from '../agent/instructions.js';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../logging/index.js';
import { runFlite } from '../speech/flite.js';
import { appointmentInWords } from '../speech/words.js';
import { restoreForCall } from './priority.js';
import { openSqliteStore } from '../store/index.js';
import type { CountryCode } from '../phone/index.js';

export default defineAgent({
  prewarm: async (proc: JobProcess) => {
    const config = loadConfig();
    const log = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, name: 'agent' });
    const store = await openSqliteStore(config.DATABASE_PATH, config.PHONE_DEFAULT_COUNTRY as CountryCode);
    await runFlite('ready').catch((err: unknown) => log.warn({ err }, 'flite did not run; keypad mode will fail'));
    // The first date formatted in a process loads luxon's Intl data (≈50 ms): not during a call's greeting.
    appointmentInWords(new Date().toISOString(), config.CLINIC_TIMEZONE);
    proc.userData.state = { config, store, log, prompt: loadPrompt(config.AGENT_PROMPT_FILE) } satisfies ProcessState;
  },
  entry: async (ctx: JobContext) => {
    restoreForCall(); // warm-up ran at a lower priority (./priority.ts); the call does not
    await runCall(ctx, ctx.proc.userData.state as ProcessState);
  },
});
