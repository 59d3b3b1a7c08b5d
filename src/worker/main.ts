/**
 * The worker: validates everything once (configuration, prompt file, voice choice, database
 * migration), hands the result to its job processes (./handoff.ts), closes records a stopped worker
 * left open, then registers with LiveKit under AGENT_NAME (explicit dispatch only) and runs each
 * call in a job process (./agent.ts, built to agent.js), watching them (./watch.ts). LiveKit away:
 * it keeps reconnecting (./server.ts). SIGTERM: stop taking jobs, let active calls finish, exit 0.
 * A bad setting or an unusable database stops it here with one line naming the variable.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../config/index.js';
import { liveKitApi } from '../livekit/index.js';
import { WebhookNotifier } from '../notify/index.js';
import { createLogger, guardProcessOutput, registerSecretsIn } from '../logging/index.js';
import { openStore, type AppointmentStore } from '../store/index.js';
import { deskProblems } from '../transfer/index.js';
import { planVoice } from '../voice/choice.js';
import { loadPrompt } from '../voice/prompt.js';
import { handOff, type WorkerSetup } from './handoff.js';
import { callLoad, memoryLimit, TARGET_LOAD, warmProcesses } from './load.js';
import { runWorker } from './server.js';
import { closeInterruptedCalls, watchJobs } from './watch.js';

/** Margin over the longest call before an open record counts as left behind, in ms (closing words, the record's close). */
const LEFT_OPEN_MARGIN_MS = 5 * 60_000;
/** How long a new job process may take to load before the framework gives up on it, in ms (agents 1.9.0 default: 10 s). */
const JOB_PROCESS_START_TIMEOUT_MS = 60_000;

/**
 * V8's young-generation semi-space of a job process, in MB (V8 flag `--max-semi-space-size`). V8
 * grows it to 16 MB on a 64-bit host while a process loads the framework, and keeps it: ≈25 MB of
 * every warm process's memory measured here (PSS 147 → 124 MB), for garbage that a call makes little
 * of. 2 MB costs more frequent scavenges of about a millisecond each; load time measured the same.
 */
const JOB_SEMI_SPACE_MB = 2;

/** Ends the process with one line for the operator. */
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** The checks that need nothing running; each failure is one line for the operator. */
function setUp(): WorkerSetup {
  try {
    const config = loadConfig();
    const problems = deskProblems(config);
    if (config.NOTIFY_WEBHOOK_URL && !config.NOTIFY_WEBHOOK_SECRET) {
      problems.push('NOTIFY_WEBHOOK_SECRET: missing; NOTIFY_WEBHOOK_URL is set, and every notification is signed with this secret (whsec_…, shared with the receiver)');
    }
    if (problems.length) throw new ConfigError(problems);
    registerSecretsIn(config);
    const setup = { config, prompt: loadPrompt(config.AGENT_PROMPT_FILE), voice: planVoice(config) };
    handOff(setup);
    return setup;
  } catch (err) {
    fail(err instanceof ConfigError ? err.problems.join('\n') : (err as Error).message);
  }
}

// Every line this process writes is redacted, the framework's included (src/logging/guard.ts).
guardProcessOutput();
const { config, voice } = setUp();
const log = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, name: 'worker' });
// Migrate once here, before any job process opens the database; the worker keeps it open for the watch.
let store: AppointmentStore;
try {
  store = await openStore(config);
} catch (err) {
  fail((err as Error).message);
}
await closeInterruptedCalls(store, config.CALL_MAX_DURATION_S * 1000 + LEFT_OPEN_MARGIN_MS, log);
// As many warm job processes as calls the worker takes, unless memory is short or the operator says (./load.ts).
const idleProcesses = config.WORKER_IDLE_PROCESSES ?? warmProcesses(config.WORKER_MAX_CALLS, memoryLimit());
log.info(
  { agentName: config.AGENT_NAME, mode: voice.mode, database: config.DATABASE_PATH, maxCalls: config.WORKER_MAX_CALLS, warmProcesses: idleProcesses },
  `worker starting in ${voice.mode} mode: ${voice.reason}`,
);
// Messages' notifications, delivered from the outbox the calls write (src/notify/webhook.ts).
if (config.NOTIFY_WEBHOOK_URL && config.NOTIFY_WEBHOOK_SECRET) {
  new WebhookNotifier({ outbox: store.outbox, url: config.NOTIFY_WEBHOOK_URL, secret: config.NOTIFY_WEBHOOK_SECRET, log: log.child({ name: 'notify' }) }).start();
}

// Job processes are forked with this process's execArgv: each loads job-preload first, which lets
// warm-up run at a lower CPU priority than live calls (./priority.ts), and each keeps a small young
// generation (JOB_SEMI_SPACE_MB).
const ext = extname(fileURLToPath(import.meta.url));
process.execArgv.push('--import', new URL(`./job-preload${ext}`, import.meta.url).href, `--max-semi-space-size=${JOB_SEMI_SPACE_MB}`);

const api = liveKitApi(config);
await runWorker(
  {
    // agent.js when running the build (make gemini-sip), agent.ts under tsx (make gemini-sip-dev).
    agent: fileURLToPath(new URL(`./agent${ext}`, import.meta.url)),
    agentName: config.AGENT_NAME,
    wsURL: config.LIVEKIT_URL,
    apiKey: config.LIVEKIT_API_KEY,
    apiSecret: config.LIVEKIT_API_SECRET,
    host: config.WORKER_HOST,
    port: config.WORKER_PORT,
    numIdleProcesses: idleProcesses,
    // Load by calls, not CPU: a call's own start-up pushes a small server's CPU past 0.7 and the
    // next caller would be turned away (see ./load.ts).
    loadFunc: async (server) => callLoad(server.activeJobs.length, config.WORKER_MAX_CALLS),
    loadThreshold: TARGET_LOAD,
    // After draining, an idle process started during the drain may never acknowledge the shutdown
    // request (agents 1.9.0); the default 60 s wait for it only delays the exit.
    shutdownProcessTimeout: 10_000,
    // A job process loads the framework, the plugins and the store before it can take a call: ~2 s of CPU.
    // On a host whose CPU is shared (steal, a container quota) that took over the framework's 10 s
    // default; the process was killed and a new one started, which starved the calls in progress.
    initializeProcessTimeout: JOB_PROCESS_START_TIMEOUT_MS,
  },
  {
    log,
    level: config.LOG_LEVEL,
    onStarted: (server) =>
      watchJobs({ activeJobs: () => server.activeJobs, store, deleteRoom: (room) => api.rooms.deleteRoom(room), log }),
  },
);
