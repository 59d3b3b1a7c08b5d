/**
 * Phone calls as the benchmarks place them: a patient seeded for each call, and bursts — N callers
 * dialing at the same moment — with how long the last of them waited for the agent's first words
 * and what the worker's processes held meanwhile.
 */
import { DateTime } from 'luxon';
import { silenceUlaw } from '../devtools/audio.js';
import { uniqueNumber } from '../devtools/livekit.js';
import { SipCaller } from '../devtools/sipp.js';
import type { TestWorker } from '../devtools/worker.js';
import type { AppointmentStore } from '../src/store/index.js';
import { callTimes, firstLoud, sleep, treeMemory, type TreeMemory } from './measure.js';

/** Settings a benchmark run changes from the defaults: BENCH_WORKER_ENV, a JSON object (e.g. {"WORKER_IDLE_PROCESSES":"1"}). */
export function workerEnv(): Record<string, string> {
  return JSON.parse(process.env.BENCH_WORKER_ENV ?? '{}') as Record<string, string>;
}

/** A patient with an appointment tomorrow, and the number they call from. */
export interface Seeded {
  readonly phone: string;
  readonly appointmentId: string;
}

let seeded = 0;

/** Adds a patient (Maria Garcia, a new number) with an appointment tomorrow. */
export async function seedPatient(store: AppointmentStore): Promise<Seeded> {
  const i = ++seeded;
  const phone = uniqueNumber();
  await store.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
  await store.upsertPatient({ id: `bp${i}-${process.pid}`, name: 'Maria Garcia', phoneE164: phone });
  const start = DateTime.now().setZone('America/Los_Angeles').plus({ days: 1 }).startOf('day').plus({ hours: 8, minutes: 5 * (i % 100) });
  const appointmentId = `ba${i}-${process.pid}`;
  await store.upsertAppointment({ id: appointmentId, patientId: `bp${i}-${process.pid}`, providerId: 'dr', start, service: 'check-up', location: 'the clinic' });
  return { phone, appointmentId };
}

/** How many calls of the worker have an open record. */
async function openCalls(worker: TestWorker): Promise<number> {
  const row = await worker.db.selectFrom('call_records').select((eb) => eb.fn.countAll<number>().as('n')).where('ended_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Job processes in the worker's tree now. */
export const jobProcesses = (worker: TestWorker) => treeMemory(worker.process.pid!).by_process.filter((p) => p.kind === 'job').length;

/**
 * Waits until the worker has as many warm job processes as it logged it would keep (`warmProcesses`
 * in its start line), at most 60 s: a benchmark measures a warm worker, not its start.
 */
export async function untilWarm(worker: TestWorker): Promise<number> {
  const want = Number(/"warmProcesses":(\d+)/.exec(worker.output())?.[1] ?? 1);
  const deadline = Date.now() + 60_000;
  while (jobProcesses(worker) < want && Date.now() < deadline) await sleep(200);
  await sleep(1000);
  return want;
}

/** What a burst measured. */
export interface Burst {
  readonly calls: number;
  /** Callers who heard the agent. */
  readonly heard: number;
  /** First INVITE → the last caller's first agent audio, in ms. */
  readonly last_heard_after_ms: number;
  /** First INVITE → each caller's first agent audio, in ms, in order. */
  readonly heard_after_ms: readonly number[];
  /** The worker's tree with every call up and the warm processes back (or 20 s after the dial), in MB. */
  readonly memory: Pick<TreeMemory, 'rss_mb' | 'pss_mb' | 'processes'> & { readonly by_kind: Record<string, { n: number; pss_mb: number }> };
  /** (that PSS − the idle tree's PSS) / calls: what each active call adds, in MB. */
  readonly pss_per_call_mb: number;
}

/** A tree's totals, with its processes summed by kind: what the benchmarks print. */
export function memorySummary(m: TreeMemory): Burst['memory'] {
  return { rss_mb: m.rss_mb, pss_mb: m.pss_mb, processes: m.processes, by_kind: byKind(m) };
}

/** Sums a tree's processes by kind. */
export function byKind(m: TreeMemory): Record<string, { n: number; pss_mb: number }> {
  const out: Record<string, { n: number; pss_mb: number }> = {};
  for (const p of m.by_process) {
    const k = (out[p.kind] ??= { n: 0, pss_mb: 0 });
    k.n++;
    k.pss_mb += p.pssMb;
  }
  return out;
}

/** Seconds a burst's calls stay up: long enough for the worker to warm its processes again meanwhile. */
const BURST_CALL_S = 25;

/**
 * Dials `n` calls to `number` at the same moment, each from a new patient, quiet, hanging up after
 * {@link BURST_CALL_S}; samples memory once every call is up and the warm processes are back;
 * waits for the calls to end and the warm processes to be back again (at most 60 s).
 */
export async function burst(worker: TestWorker, number: string, n: number, log: (m: string) => void): Promise<Burst> {
  const idleJobs = jobProcesses(worker);
  const idle = treeMemory(worker.process.pid!);
  const phones = await Promise.all(Array.from({ length: n }, async () => (await seedPatient(worker.store)).phone));
  const dialedAt = Date.now();
  const calls = await Promise.all(phones.map((from) => SipCaller.dial({ to: number, from, audioFile: silenceUlaw(), hangupAfterMs: BURST_CALL_S * 1000 })));
  while (((await openCalls(worker)) < n || jobProcesses(worker) < idleJobs + n) && Date.now() < dialedAt + 20_000) await sleep(100);
  const sample = treeMemory(worker.process.pid!);
  const results = await Promise.all(calls.map((c) => c.result()));
  const first = Math.min(...results.map((r) => callTimes(r).invite ?? Infinity));
  const heard = results.map((r) => firstLoud(r.rtp)).filter((t): t is number => t !== undefined).map((t) => Math.round(t - first)).sort((a, b) => a - b);
  const out: Burst = {
    calls: n,
    heard: heard.length,
    last_heard_after_ms: heard.length === n ? heard[heard.length - 1]! : NaN,
    heard_after_ms: heard,
    memory: memorySummary(sample),
    pss_per_call_mb: Math.round((sample.pss_mb - idle.pss_mb) / n),
  };
  log(`burst of ${n}: ${heard.length} heard, the last after ${out.last_heard_after_ms} ms; PSS ${sample.pss_mb} MB in ${sample.processes} processes, ${out.pss_per_call_mb} MB a call`);
  const deadline = Date.now() + 60_000;
  while (((await openCalls(worker)) > 0 || jobProcesses(worker) < idleJobs) && Date.now() < deadline) await sleep(250);
  await sleep(1000);
  return out;
}
