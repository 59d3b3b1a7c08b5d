/**
 * The worker's side of a call whose job process could not finish it (src/worker/watch.ts), on a
 * real SQLite file: a job gone with its record open → room deleted, record failed; records left
 * open by a worker that stopped → interrupted at the next start; a call that closed itself → nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqlStore } from '../../src/store/index.js';
import { closeInterruptedCalls, INTERRUPTED_ERROR, PROCESS_GONE_ERROR, watchJobs, type RunningJobLike } from '../../src/worker/watch.js';

const log = pino({ level: 'silent' });
const until = async (ok: () => Promise<boolean> | boolean, what: string) => {
  const deadline = Date.now() + 3000;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('job watch', () => {
  let store: SqlStore;
  beforeEach(async () => {
    store = await openSqliteStore(join(mkdtempSync(join(tmpdir(), 'watch-')), 'app.db'));
  });
  afterEach(() => store.close());

  const job = (id: string, room: string): RunningJobLike => ({ job: { id, room: { name: room } } });

  it('a job gone while its call is open: the room is deleted first, then the record closed as failed with why', async () => {
    const open = await store.startCall({ room: 'call-a', direction: 'inbound', mode: 'keypad', phoneE164: '+14155550101' });
    const done = await store.startCall({ room: 'call-b', direction: 'inbound', mode: 'keypad' });
    await store.endCall(done.id, {});
    let jobs = [job('AJ_a', 'call-a'), job('AJ_b', 'call-b'), job('AJ_c', 'call-c')];
    const deleted: string[] = [];
    const stop = watchJobs({ activeJobs: () => jobs, store, log, deleteRoom: async (room) => void deleted.push(room) }, 10);
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(deleted).toEqual([]);
      jobs = [job('AJ_c', 'call-c')];
      await until(async () => Boolean((await store.getCall(open.id))?.ended_at), 'the record closed');
      expect(deleted).toEqual(['call-a']);
      expect(await store.getCall(open.id)).toMatchObject({ outcome: 'failed', error: PROCESS_GONE_ERROR });
      expect((await store.getCall(done.id))?.outcome).toBe('hung_up');
    } finally {
      stop();
    }
  });

  it('a choice saved before the process died stays; the record still gets the error', async () => {
    const rec = await store.startCall({ room: 'call-a', direction: 'inbound', mode: 'keypad' });
    await store.setCallOutcome(rec.id, 'confirmed');
    let jobs = [job('AJ_a', 'call-a')];
    const stop = watchJobs({ activeJobs: () => jobs, store, log, deleteRoom: () => Promise.reject(new Error('room not found')) }, 10);
    try {
      await new Promise((r) => setTimeout(r, 30));
      jobs = [];
      await until(async () => Boolean((await store.getCall(rec.id))?.ended_at), 'the record closed');
      expect(await store.getCall(rec.id)).toMatchObject({ outcome: 'confirmed', error: PROCESS_GONE_ERROR });
    } finally {
      stop();
    }
  });

  it('at start, records open longer than any call can last are closed as interrupted; recent ones are left', async () => {
    const now = new Date('2026-11-22T12:00:00Z');
    const old = await store.startCall({ room: 'old', direction: 'inbound', mode: 'keypad', startedAt: new Date('2026-11-22T10:00:00Z') });
    const chose = await store.startCall({ room: 'chose', direction: 'inbound', mode: 'keypad', startedAt: new Date('2026-11-22T10:00:00Z') });
    await store.setCallOutcome(chose.id, 'reschedule_requested');
    const live = await store.startCall({ room: 'live', direction: 'inbound', mode: 'keypad', startedAt: new Date('2026-11-22T11:55:00Z') });
    expect(await closeInterruptedCalls(store, 15 * 60_000, log, now)).toBe(2);
    expect(await store.getCall(old.id)).toMatchObject({ outcome: 'interrupted', error: INTERRUPTED_ERROR, ended_at: now.toISOString() });
    expect(await store.getCall(chose.id)).toMatchObject({ outcome: 'reschedule_requested', error: INTERRUPTED_ERROR });
    expect((await store.getCall(live.id))?.ended_at).toBeNull();
  });
});
