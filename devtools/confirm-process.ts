/**
 * A job process for the multi-process booking test (test/unit/booking-processes.test.ts): it opens
 * the store's SQLite file as a job process does (no migration: the file is already migrated),
 * tells its parent `ready`, then confirms each appointment the parent sends, for the call it names,
 * and answers how it went. Several of these write the same file from separate OS processes, which
 * is what a worker's job processes do; the parent sends all of them their confirm at the same
 * moment. The process closes the store and exits when the parent disconnects.
 *
 * Started by the test with `child_process.fork` and `--import tsx`:
 * `node --import tsx devtools/confirm-process.ts <database file>`.
 */
import { openSqliteStore } from '../src/store/index.js';

/** What the parent asks: confirm this appointment for this call (outcome `confirmed`, source keypad). */
export interface ConfirmRequest {
  readonly type: 'confirm';
  readonly appointmentId: string;
  readonly callId: string;
}

/** What the process tells its parent. */
export type ChildMessage =
  | { readonly type: 'ready' }
  /** `result`: what `booking.confirm` returned. */
  | { readonly type: 'done'; readonly appointmentId: string; readonly result: string }
  /** The confirm threw: the error's `code` (e.g. SQLITE_BUSY) and message. */
  | { readonly type: 'failed'; readonly appointmentId: string; readonly code?: string; readonly message: string };

async function main(): Promise<void> {
  const file = process.argv[2];
  const send = process.send?.bind(process);
  if (!file || !send) throw new Error('usage: fork devtools/confirm-process.ts with <database file> and an IPC channel');
  const tell = (m: ChildMessage) => new Promise<void>((resolve) => send(m, undefined, undefined, () => resolve()));
  const store = await openSqliteStore(file, 'US', { migrate: false });
  // The first query prepares and pages in, so a confirm starts as soon as its request arrives.
  await store.getCall('warm-up');
  process.on('message', (m: ConfirmRequest) => {
    store.booking.confirm(m.appointmentId, { source: 'keypad', callId: m.callId, outcome: 'confirmed' }).then(
      (result) => tell({ type: 'done', appointmentId: m.appointmentId, result }),
      (err: unknown) => tell({ type: 'failed', appointmentId: m.appointmentId, code: (err as { code?: string }).code, message: (err as Error).message }),
    );
  });
  process.once('disconnect', () => void store.close());
  await tell({ type: 'ready' });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
  process.disconnect?.();
});
