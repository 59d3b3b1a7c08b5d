/**
 * What the worker does for calls whose job process could not: a job process that dies mid-call
 * (`kill -9`, out of memory, a crash) leaves the caller in a silent room and the record open. The
 * watch notices the job gone while its call record is still open, removes the room (LiveKit sends
 * the SIP caller a BYE) and closes the record as `failed` with the reason. At start, records left
 * open by a worker that stopped mid-call are closed as `interrupted`.
 */
import type { Logger } from 'pino';
import type { AppointmentStore } from '../store/index.js';

/** How often the running jobs are compared, in ms: a dead job's caller hears the BYE within about this plus LiveKit's own delay. */
export const WATCH_INTERVAL_MS = 1000;

/** Kept on the record of a call whose job process ended before the call did. */
export const PROCESS_GONE_ERROR = 'the call process exited before the call ended (killed or crashed); the worker hung up';

/** Kept on records found open at start, long after their call must have ended. */
export const INTERRUPTED_ERROR = 'the call was still open when the worker started again: it stopped mid-call';

/** A running job as the framework lists it (`AgentServer.activeJobs`). */
export interface RunningJobLike {
  readonly job: { readonly id: string; readonly room?: { readonly name: string } };
}

/** What the watch needs. */
export interface JobWatchDeps {
  /** The jobs running now. */
  readonly activeJobs: () => readonly RunningJobLike[];
  readonly store: AppointmentStore;
  /** Deletes a room (LiveKit RoomService DeleteRoom): every SIP participant in it gets a BYE. */
  readonly deleteRoom: (room: string) => Promise<void>;
  readonly log: Logger;
}

/**
 * Starts watching; returns the function that stops it. Each tick compares the running jobs with
 * the last tick's: for every job gone whose room still has an open call record, the room is
 * deleted first (the caller is not left in silence) and then the record is closed. Failures are
 * logged and retried on the next tick.
 */
export function watchJobs(deps: JobWatchDeps, intervalMs = WATCH_INTERVAL_MS): () => void {
  let known = new Map<string, string>();
  /** Rooms of jobs gone whose clean-up has not succeeded yet. */
  const unfinished = new Set<string>();
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const now = new Map<string, string>();
      for (const r of deps.activeJobs()) if (r.job.room?.name) now.set(r.job.id, r.job.room.name);
      for (const [id, room] of known) if (!now.has(id)) unfinished.add(room);
      known = now;
      for (const room of unfinished) {
        await closeStrandedCall(deps, room); // a failure leaves the room for the next tick
        unfinished.delete(room);
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick().catch((err: unknown) => deps.log.error({ err }, 'job watch failed')), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Cleans up after a job gone from `room`: nothing to do when the call closed its own record (a normal end). */
async function closeStrandedCall(deps: JobWatchDeps, room: string): Promise<void> {
  const open = await deps.store.openCallsInRoom(room);
  if (open.length === 0) return;
  deps.log.error({ room, calls: open.map((c) => c.id) }, 'call process gone mid-call: hanging up and closing its record');
  try {
    await deps.deleteRoom(room);
  } catch (err) {
    deps.log.warn({ err, room }, 'room could not be deleted (it may be gone already)');
  }
  for (const c of open) await deps.store.endCall(c.id, { failed: true, error: PROCESS_GONE_ERROR });
}

/**
 * Closes records still open that started before `longestCallMs` ago: no call can still be going on
 * that long (the call's own time limit ends it), so their worker stopped mid-call.
 * @returns how many were closed.
 */
export async function closeInterruptedCalls(store: AppointmentStore, longestCallMs: number, log: Logger, now = new Date()): Promise<number> {
  const closed = await store.closeStaleCalls(new Date(now.getTime() - longestCallMs), 'interrupted', INTERRUPTED_ERROR, now);
  if (closed > 0) log.warn({ closed }, 'closed call records left open by a worker that stopped mid-call');
  return closed;
}
