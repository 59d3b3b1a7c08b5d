/**
 * Booking writes from several OS processes on one SQLite file, as a worker's job processes make
 * them: 8 processes (devtools/confirm-process.ts) open the file, wait until all are ready, then get
 * their confirm at the same moment. Every confirm must succeed — the transaction takes the write
 * lock up front and waits its turn — and each change is made exactly once, with each call's outcome.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildMessage, ConfirmRequest } from '../../devtools/confirm-process.js';
import { inspectDatabase } from '../../devtools/database.js';
import { openSqliteStore, type Database, type SqlStore } from '../../src/store/index.js';

const CHILD = fileURLToPath(new URL('../../devtools/confirm-process.ts', import.meta.url));
const PROCESSES = 8;
const TZ = 'America/Los_Angeles';
const start = DateTime.now().setZone(TZ).plus({ days: 1 }).set({ hour: 9, minute: 0, second: 0, millisecond: 0 });

/** What one process answered: the confirm's result, or the error's code and message. */
type Report = { result: string } | { failed: string };

/** A job process and its next answer. */
class Job {
  private waiting?: { resolve: (r: Report) => void; reject: (e: Error) => void };
  readonly ready: Promise<void>;

  constructor(readonly child: ChildProcess) {
    let ready!: () => void;
    let failed!: (e: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => ((ready = resolve), (failed = reject)));
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') return ready();
      this.waiting?.resolve(m.type === 'done' ? { result: m.result } : { failed: `${m.code ?? 'no code'}: ${m.message}` });
    });
    child.on('exit', (code) => {
      const err = new Error(`a confirm process exited (${code}) before answering`);
      failed(err);
      this.waiting?.reject(err);
    });
  }

  /** Sends the request; resolves with the answer. */
  confirm(req: Omit<ConfirmRequest, 'type'>): Promise<Report> {
    const answer = new Promise<Report>((resolve, reject) => (this.waiting = { resolve, reject }));
    this.child.send({ type: 'confirm', ...req } satisfies ConfirmRequest);
    return answer;
  }
}

describe('booking writes from 8 processes at once (real SQLite file, WAL)', () => {
  let file: string;
  let store: SqlStore;
  let db: Kysely<Database>;
  let jobs: Job[];
  /** One call record per process. */
  const calls: string[] = [];

  beforeAll(async () => {
    file = join(mkdtempSync(join(tmpdir(), 'booking-processes-')), 'app.db');
    store = await openSqliteStore(file);
    db = inspectDatabase(file);
    await store.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
    await store.upsertPatient({ id: 'shared', name: 'Shared Patient', phoneE164: '+14155550299' });
    await store.upsertAppointment({ id: 'shared', patientId: 'shared', providerId: 'dr', start, service: 'check-up', location: 'Main Street' });
    for (let i = 0; i < PROCESSES; i++) {
      await store.upsertPatient({ id: `p${i}`, name: `Patient ${i}`, phoneE164: `+1415555020${i}` });
      await store.upsertAppointment({ id: `a${i}`, patientId: `p${i}`, providerId: 'dr', start: start.plus({ minutes: 30 * (i + 1) }), service: 'check-up', location: 'Main Street' });
      calls.push((await store.startCall({ room: `r${i}`, direction: 'outbound', mode: 'keypad' })).id);
    }
    jobs = calls.map(() => new Job(fork(CHILD, [file], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })));
    await Promise.all(jobs.map((j) => j.ready));
    // Eight Node processes starting with tsx at once: seconds here, minutes on a CI host whose CPU others take.
  }, 180_000);
  afterAll(async () => {
    for (const j of jobs ?? []) if (j.child.connected) j.child.disconnect();
    await db?.destroy();
    await store?.close();
  });

  it('the same appointment: no failure, confirmed once, seven already_confirmed, every call\'s outcome saved', async () => {
    const reports = await Promise.all(jobs.map((j, i) => j.confirm({ appointmentId: 'shared', callId: calls[i]! })));
    expect(reports.filter((r) => 'failed' in r)).toEqual([]);
    expect(reports.filter((r) => 'result' in r && r.result === 'confirmed')).toHaveLength(1);
    expect(reports.filter((r) => 'result' in r && r.result === 'already_confirmed')).toHaveLength(PROCESSES - 1);
    expect(await db.selectFrom('appointment_changes').select(['appointment_id', 'change']).execute()).toEqual([{ appointment_id: 'shared', change: 'confirmed' }]);
    expect((await store.getAppointment('shared'))?.status).toBe('confirmed');
    const outcomes = await db.selectFrom('call_records').select('outcome').execute();
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(PROCESSES).fill('confirmed'));
  }, 60_000);

  it('eight appointments: all eight confirmed, one change each', async () => {
    const reports = await Promise.all(jobs.map((j, i) => j.confirm({ appointmentId: `a${i}`, callId: calls[i]! })));
    expect(reports).toEqual(Array(PROCESSES).fill({ result: 'confirmed' }));
    const changes = await db.selectFrom('appointment_changes').select(['appointment_id', 'change']).where('appointment_id', '!=', 'shared').orderBy('appointment_id').execute();
    expect(changes).toEqual(calls.map((_, i) => ({ appointment_id: `a${i}`, change: 'confirmed' })));
    const statuses = await db.selectFrom('appointments').select('status').execute();
    expect(statuses.every((s) => s.status === 'confirmed')).toBe(true);
  }, 60_000);
});
