/**
 * The agent as the LiveKit agents framework loads it in each job process: prewarm takes the
 * worker's setup (./handoff.ts) and opens what every call needs (logger, store with its query path
 * warm, a warm flite, date wording loaded, the voice model's plugin); entry runs one call (./job.ts).
 */
import { defineAgent, type JobContext, type JobProcess } from '@livekit/agents';
import { createLogger, registerSecretsIn } from '../logging/index.js';
import { runFlite } from '../speech/flite.js';
import { appointmentInWords } from '../speech/words.js';
import { openStore } from '../store/index.js';
import { warmVoice } from '../voice/warm.js';
import { receiveSetup } from './handoff.js';
import { runJob, type ProcessState } from './job.js';
import { restoreForCall } from './priority.js';

/** One wait for the database lock in a job process, in ms (see prewarm). */
const JOB_BUSY_TIMEOUT_MS = 1000;
/** How long a call's booking change retries a busy database before the caller is told it failed, in ms. */
const JOB_WRITE_RETRY_MS = 5000;

export default defineAgent({
  prewarm: async (proc: JobProcess) => {
    const setup = receiveSetup();
    const { config } = setup;
    registerSecretsIn(config); // the worker's secrets came in the hand-off: never in this process's lines either
    const log = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, name: 'agent' });
    // The worker migrated the database before starting any job process. A wait for the database
    // lock blocks the event loop (better-sqlite3 is synchronous) and with it the call's audio, so
    // one wait is short and a busy booking change is retried asynchronously instead; after 5 s the
    // caller hears an apology rather than more silence.
    const store = await openStore(config, { migrate: false, busyTimeoutMs: JOB_BUSY_TIMEOUT_MS, writeRetryMs: JOB_WRITE_RETRY_MS });
    // The first query of a process compiles Kysely's query path (≈30 ms measured): not during a call.
    await store.getAppointment('warm-up');
    await store.lookupCallers('+12025550100'); // and the caller lookup every inbound call starts with
    await runFlite('ready').catch((err: unknown) => log.warn({ err }, 'flite did not run; keypad mode will fail'));
    // The first date formatted in a process loads luxon's Intl data (≈50 ms): not during a call's greeting.
    appointmentInWords(new Date().toISOString(), config.CLINIC_TIMEZONE);
    // The voice model's plugin and what its first connection compiles (src/voice/warm.ts): not during a call's greeting.
    await warmVoice(setup.voice.mode);
    proc.userData.state = { ...setup, store, log } satisfies ProcessState;
  },
  entry: async (ctx: JobContext) => {
    restoreForCall(); // warm-up ran at a lower priority (./priority.ts); the call does not
    await runJob(ctx, ctx.proc.userData.state as ProcessState);
  },
});
