/**
 * `make outbound-calls` (scripts/outbound-calls.ts) run as a process by tests and benchmarks, its
 * JSON lines read back: each event as it comes, the last line's summary, and the calls that ended.
 * Its output is kept with the test's logs (./logs.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { keepLog } from './logs.js';
import { REPO_ROOT } from './stack.js';

/** One JSON line of the dialer (src/outbound/dialer.ts `eventJson` and `campaignReport`). */
export interface DialerEvent {
  readonly event: 'campaign' | 'skipped' | 'deferred' | 'dialing' | 'ended' | 'released' | 'waiting' | 'summary';
  readonly [field: string]: unknown;
}

/** A call that ended (an `ended` line). */
export interface EndedCall extends DialerEvent {
  readonly appointmentId: string;
  readonly room: string;
  readonly attempt: number;
  readonly outcome: string;
  readonly sipStatus: number | null;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly retryAt: string | null;
  readonly recovered: boolean;
}

/** The last line: the campaign's counts and every target. */
export interface DialerReport extends DialerEvent {
  readonly campaign: string | null;
  readonly finished: boolean;
  readonly summary: { targets: number; placed: number; answered: number; confirmed: number; rescheduled: number; voicemail: number; optedOut: number; failed: Record<string, number>; skipped: number; pending: number };
  readonly targets: { appointmentId: string; state: string; attempts: number; lastOutcome: string | null; sipStatus: number | null; detail: string | null }[];
}

/** What a finished run printed and how it exited. */
export interface DialerRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly events: DialerEvent[];
  /** The calls that ended, in order. */
  readonly calls: EndedCall[];
  /** Undefined when the dialer died before its last line. */
  readonly report?: DialerReport;
}

/** A dialer running: its process, its events so far, and its end. */
export interface RunningDialer {
  readonly process: ChildProcess;
  events(): DialerEvent[];
  readonly done: Promise<DialerRun>;
}

const parse = (stdout: string): DialerEvent[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as DialerEvent);

/** Starts the dialer with `args` (add `--json`, or read its JSON lines because stdout is a pipe) and `env` as its whole environment (plus PATH and HOME). */
export function startDialer(args: readonly string[], env: Record<string, string>): RunningDialer {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'outbound-calls.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<DialerRun>((resolve) =>
    child.once('close', (code, signal) => {
      keepLog('outbound-calls', stdout + stderr);
      const events = parse(stdout);
      const last = events.at(-1);
      resolve({ code, signal, stdout, stderr, events, calls: events.filter((e): e is EndedCall => e.event === 'ended'), report: last?.event === 'summary' ? (last as DialerReport) : undefined });
    }),
  );
  return { process: child, events: () => parse(stdout), done };
}

/** Runs the dialer to its end. */
export function runDialer(args: readonly string[], env: Record<string, string>): Promise<DialerRun> {
  return startDialer(args, env).done;
}

/**
 * The environment `make outbound-calls` needs on the local stack: its LiveKit, the worker's agent
 * name and database, the outbound trunk — and calling hours of any time (runs not about calling
 * hours happen at any hour of the test's day) — with `extra` over it.
 */
export function dialerEnv(
  stack: { readonly url: string; readonly apiKey: string; readonly apiSecret: string },
  worker: { readonly agentName: string; readonly dbPath: string },
  trunkId: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    LIVEKIT_URL: stack.url,
    LIVEKIT_API_KEY: stack.apiKey,
    LIVEKIT_API_SECRET: stack.apiSecret,
    AGENT_NAME: worker.agentName,
    DATABASE_PATH: worker.dbPath,
    OUTBOUND_TRUNK_ID: trunkId,
    CALLING_HOURS: 'Mon-Sun 00:00-24:00',
    ...extra,
  };
}
