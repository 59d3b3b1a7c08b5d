/**
 * How much the worker takes on: how busy it tells LiveKit it is, and how many job processes it keeps warm.
 *
 * Load: how busy the worker tells LiveKit it is. livekit-server dispatches a job only to workers whose
 * reported load is below its agent target load, 0.7 by default (livekit-server
 * pkg/agent/config.go DefaultTargetLoad; affinity = target − load in pkg/service/agentservice.go),
 * and the framework's default load is the machine's CPU use — which a call's own start-up pushes
 * past 0.7 on a small server. We report calls instead: `maxCalls` active calls reach the target.
 */
import { totalmem } from 'node:os';

/** livekit-server's default agent target load. */
export const TARGET_LOAD = 0.7;

/** Load for `active` calls out of `maxCalls`: 0 when idle, {@link TARGET_LOAD} when full. */
export function callLoad(active: number, maxCalls: number): number {
  return (Math.min(active, maxCalls) / maxCalls) * TARGET_LOAD;
}

/**
 * PSS of one warm job process, in MB: the framework, our code and the voice model's plugin loaded,
 * V8's young generation at 2 MB (main.ts). Measured by `BENCH=pool npm run bench` on Linux x64.
 */
export const WARM_PROCESS_MB = 90;

/** The share of the machine's memory warm job processes may hold when WORKER_IDLE_PROCESSES is unset. */
export const WARM_MEMORY_SHARE = 1 / 8;

/**
 * How many job processes to keep warm when WORKER_IDLE_PROCESSES is unset: one per call the worker
 * takes (`maxCalls`), so that callers dialing at the same moment — up to the worker's capacity — all
 * find one ready; at most what {@link WARM_MEMORY_SHARE} of `memoryBytes` holds, and at least one.
 * The framework warms processes one at a time (agents 1.9.0 ipc/proc_pool.ts, `initMutex`), ≈1 s
 * each on an idle 2-core host and 3–4 s while calls run: a caller who finds none waits for that.
 * @param memoryBytes the memory this process may use: the cgroup limit in a container, else the machine's.
 */
export function warmProcesses(maxCalls: number, memoryBytes: number): number {
  const fit = Math.floor((memoryBytes * WARM_MEMORY_SHARE) / (WARM_PROCESS_MB * 2 ** 20));
  return Math.max(1, Math.min(maxCalls, fit));
}

/** This process's memory limit in bytes: the cgroup's (Node's `process.constrainedMemory`) when it has one below the machine's. */
export function memoryLimit(): number {
  const total = totalmem();
  const limit = process.constrainedMemory?.() ?? 0;
  return limit > 0 && limit < total ? limit : total;
}
