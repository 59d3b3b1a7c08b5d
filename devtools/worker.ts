/**
 * The product's worker as tests run it: a real `dist/worker/main.js start` process (the build of
 * src/, as `make gemini-sip` runs it; the e2e setup builds it first) registered with
 * the local stack under an agent name of its own, with its own SQLite file, so test files never
 * receive each other's jobs.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openStore, type AppointmentStore, type Database } from '../src/store/index.js';
import { placeCall } from '../src/outbound/dialer.js';
import { inspectDatabase } from './database.js';
import { clients } from './livekit.js';
import { ensureStack, REPO_ROOT, STACK_DIR } from './stack.js';
import { speechMs } from './audio.js';
import { startChild } from './child.js';
import { WAIT_SCALE, waitFor } from './wait.js';

/** The built worker entry (`npm run build`). */
export const WORKER_ENTRY = join(REPO_ROOT, 'dist', 'worker', 'main.js');

/** A TCP port nothing listens on now (the OS picks it). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A running worker, its store for seeding, and a read-only look at its database for checks. */
export interface TestWorker {
  readonly agentName: string;
  readonly dbPath: string;
  /** Health endpoint port (as text, as the worker logs it). */
  readonly port: string;
  /** The same SQLite file, opened by the test to add patients and appointments (WAL mode allows both). */
  readonly store: AppointmentStore;
  /** The same file again, read-only (./database.ts): what the worker saved, checked independently of the store. */
  readonly db: Kysely<Database>;
  /** Everything the worker printed so far. */
  output(): string;
  /** SIGTERM, then wait for the process to exit. */
  stop(): Promise<void>;
  readonly process: ChildProcess;
}

/**
 * Caller ID alone identifies the patient, in and out (CALLER_VERIFICATION and OUTBOUND_VERIFICATION
 * `none`): for the tests of everything but the identity check (test/e2e/identity.test.ts tests that,
 * with the defaults), so that each of them reaches what it tests in as few steps as before.
 */
export const CALLER_ID_ONLY: Readonly<Record<string, string>> = { CALLER_VERIFICATION: 'none', OUTBOUND_VERIFICATION: 'none' };

/**
 * Starts a worker in keypad mode (no GOOGLE_API_KEY) unless `env` says otherwise, and waits until
 * it has registered with LiveKit.
 * `nodeArgs` go before the entry (job processes inherit them), e.g. `--cpu-prof`.
 * @throws Error with the worker's output when it exits or does not register within 60 s × {@link WAIT_SCALE}.
 */
export async function startWorker(name: string, env: Record<string, string> = {}, nodeArgs: readonly string[] = []): Promise<TestWorker> {
  const stack = ensureStack();
  const agentName = `${name}-${Date.now().toString(36)}`;
  const dir = join(STACK_DIR, 'workers', agentName);
  mkdirSync(dir, { recursive: true });
  const dbPath = join(dir, 'appointments.db');
  const store = await openStore({ DATABASE_PATH: dbPath, PHONE_DEFAULT_COUNTRY: 'US' });
  const db = inspectDatabase(dbPath);
  const port = String(await freeTcpPort());
  const child = await startChild({
    what: 'worker',
    args: [...nodeArgs, WORKER_ENTRY, 'start'],
    cwd: dir, // no .env here: the test's environment is the whole configuration
    env: {
      LIVEKIT_URL: stack.url,
      LIVEKIT_API_KEY: stack.apiKey,
      LIVEKIT_API_SECRET: stack.apiSecret,
      AGENT_NAME: agentName,
      DATABASE_PATH: dbPath,
      WORKER_PORT: port,
      CLINIC_NAME: 'Main Street Clinic',
      LOG_LEVEL: 'info',
      // Two warm job processes, not the default one per call the worker takes (src/worker/load.ts): a
      // test places a call or two at a time, and ten processes warming at every worker start would
      // only load the host. The benchmarks pass '' (unset) to measure the default.
      WORKER_IDLE_PROCESSES: '2',
      ...env,
    },
    // Kept in .stack/workers/<agent>/worker.log too, for reading after a failed run.
    logFile: join(dir, 'worker.log'),
    ready: 'registered worker',
  });
  return {
    agentName,
    dbPath,
    port,
    store,
    db,
    process: child.process,
    output: child.output,
    async stop() {
      await child.stop();
      await db.destroy();
      await store.close();
    },
  };
}

/** When (ms since the epoch) the worker and its calls logged a line whose message is `msg`, in order. */
export function loggedAt(worker: TestWorker, msg: string): number[] {
  return worker
    .output()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => (JSON.parse(l) as { time: number }).time);
}

/**
 * Waits until the worker has logged `msg` more than `before` times, and returns when it logged the
 * next one (ms since the epoch): a step of the call to act after, however late a loaded host ran it.
 */
export function nextLogged(worker: TestWorker, msg: string, before: number): Promise<number> {
  return waitFor(`"${msg}" logged (after ${before})`, () => loggedAt(worker, msg)[before], 30_000, worker.output);
}

/** Waits until `text`, begun at `startedAt` (ms since the epoch), has been said and has reached the phone. */
export function heardOut(startedAt: number, text: string): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, startedAt + speechMs(text) + 2000 * WAIT_SCALE - Date.now())));
}

/**
 * The pid of the job process that ran the call in `room`: its one "call started" line (the room's
 * random suffix identifies it; the rest of the name is masked in logs).
 * @throws Error when there is not exactly one such line.
 */
export function callProcessPid(worker: TestWorker, room: string): number {
  const lines = worker
    .output()
    .split('\n')
    .filter((l) => l.includes('"msg":"call started') && l.includes(room.slice(-12)));
  if (lines.length !== 1) throw new Error(`expected one "call started" line for ${room}, found ${lines.length}`);
  return (JSON.parse(lines[0]!) as { pid: number }).pid;
}

/**
 * Places one outbound call through `worker` for the test patient `p`, as `make outbound-calls` does
 * (src/outbound/dialer.ts `placeCall`: a room, the agent dispatched with the appointment), and
 * resolves with its result once the call has ended (timeout 60 s × {@link WAIT_SCALE}).
 */
export async function placeTestCall(worker: TestWorker, p: { readonly appointmentId: string; readonly phone: string }) {
  const c = clients();
  return placeCall(
    { url: c.stack.url, rooms: c.rooms, dispatch: c.dispatch, sip: c.sip },
    worker.store,
    { appointmentId: p.appointmentId, phoneNumber: p.phone, source: 'test' },
    { agentName: worker.agentName, timeoutMs: 60_000 * WAIT_SCALE },
  );
}
