import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inspectDatabase } from '../../devtools/database.js';
import { CALLBACK_WINDOW_DAYS, type ChangeContext } from '../../src/store/booking.js';
import { openSqliteStore, type AppointmentStore, type Booking, type Database } from '../../src/store/index.js';

const TZ = 'America/Los_Angeles';
const tomorrow = DateTime.now().setZone(TZ).plus({ days: 1 }).set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
const voice = { source: 'voice' as const, callId: 'call-1' };
const keypad = { source: 'keypad' as const, callId: 'call-1' };
const DAY_MS = 24 * 60 * 60 * 1000;

describe('booking changes (real SQLite)', () => {
  let file: string;
  let store: AppointmentStore;
  let booking: Booking;
  /** The same file, read on a connection of the test's own. */
  let db: Kysely<Database>;
  /** A call record, for changes that save the call's outcome. */
  let callId: string;
  const outcome = async () => (await db.selectFrom('call_records').select('outcome').where('id', '=', callId).executeTakeFirstOrThrow()).outcome;
  const slotsById = async () => Object.fromEntries((await db.selectFrom('slots').select(['id', 'appointment_id']).execute()).map((s) => [s.id, s.appointment_id]));
  /** A SQL statement on a writable connection of the test's own (triggers that make a write fail). */
  const execute = (statement: string) => {
    const raw = new BetterSqlite3(file);
    try {
      raw.exec(statement);
    } finally {
      raw.close();
    }
  };

  beforeEach(async () => {
    file = join(mkdtempSync(join(tmpdir(), 'booking-')), 'app.db');
    store = await openSqliteStore(file);
    booking = store.booking;
    db = inspectDatabase(file);
    await store.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
    await store.upsertProvider({ id: 'dr2', name: 'Doctor Patel' });
    await store.upsertPatient({ id: 'p1', name: 'Maria Garcia', phoneE164: '+14155550101' });
    await store.upsertPatient({ id: 'p2', name: 'James Wilson', phoneE164: '+14155550102' });
    await store.upsertAppointment({ id: 'a1', patientId: 'p1', providerId: 'dr', start: tomorrow, service: 'check-up', location: 'Main Street' });
    await store.upsertAppointment({ id: 'a2', patientId: 'p2', providerId: 'dr', start: tomorrow.plus({ hours: 3 }), service: 'check-up', location: 'Main Street' });
    await store.addFreeSlots('dr', tomorrow.plus({ days: 1 }).set({ hour: 9 }), 3, 'Main Street');
    callId = (await store.startCall({ room: 'r1', direction: 'inbound', mode: 'gemini', patientId: 'p1', appointmentId: 'a1' })).id;
  });
  afterEach(async () => {
    await db.destroy();
    await store.close();
  });

  it('confirms once: a press and a spoken yes make one change', async () => {
    expect(await booking.confirm('a1', keypad)).toBe('confirmed');
    expect(await booking.confirm('a1', voice)).toBe('already_confirmed');
    expect((await store.getAppointment('a1'))?.status).toBe('confirmed');
    const changes = await booking.changes('a1');
    expect(changes.map((c) => [c.change, c.source, c.call_id])).toEqual([['confirmed', 'keypad', 'call-1']]);
    expect(await booking.confirm('nope', voice)).toBe('not_found');
  });

  it('lists the provider\'s free slots, earliest first, not taken ones', async () => {
    const slots = await booking.openSlots('dr');
    expect(slots).toHaveLength(3);
    expect(slots.map((s) => s.starts_at)).toEqual([...slots.map((s) => s.starts_at)].sort());
    expect(slots.every((s) => s.provider_id === 'dr' && s.timezone === TZ)).toBe(true);
    expect(slots.map((s) => s.id)).not.toContain('slot-a1');
    expect(await booking.openSlots('dr2')).toEqual([]);
    expect(await booking.openSlots('dr', new Date(), 2)).toHaveLength(2);
  });

  it('reschedules to a free slot atomically: new slot taken, old slot freed, appointment moved', async () => {
    const [slot] = await booking.openSlots('dr');
    expect(await booking.reschedule('a1', slot!.id, voice)).toBe('rescheduled');
    const a1 = (await store.getAppointment('a1'))!;
    expect(a1).toMatchObject({ slot_id: slot!.id, starts_at: slot!.starts_at, status: 'confirmed' });
    const slots = await db.selectFrom('slots').selectAll().where('id', 'in', [slot!.id, 'slot-a1']).execute();
    expect(Object.fromEntries(slots.map((s) => [s.id, s.appointment_id]))).toEqual({ [slot!.id]: 'a1', 'slot-a1': null });
    expect((await booking.openSlots('dr')).map((s) => s.id)).toContain('slot-a1');
    const [change] = await booking.changes('a1');
    expect(change).toMatchObject({ change: 'rescheduled', source: 'voice' });
    expect(JSON.parse(change!.detail!)).toMatchObject({ to: slot!.starts_at, slotId: slot!.id });
  });

  it('refuses a taken slot and changes nothing', async () => {
    const before = await db.selectFrom('slots').selectAll().orderBy('id').execute();
    expect(await booking.reschedule('a1', 'slot-a2', voice)).toBe('slot_taken');
    expect(await booking.reschedule('a1', 'no-such-slot', voice)).toBe('slot_not_found');
    expect(await db.selectFrom('slots').selectAll().orderBy('id').execute()).toEqual(before);
    expect((await store.getAppointment('a1'))).toMatchObject({ slot_id: 'slot-a1', status: 'scheduled' });
    expect(await booking.changes('a1')).toEqual([]);
  });

  it('cancels with a reason and frees the slot; a cancelled appointment cannot be confirmed or moved', async () => {
    expect(await booking.cancel('a1', 'moving away', voice)).toBe('cancelled');
    expect(await booking.cancel('a1', 'again', voice)).toBe('already_cancelled');
    expect((await store.getAppointment('a1'))?.status).toBe('cancelled');
    expect((await booking.openSlots('dr')).map((s) => s.id)).toContain('slot-a1');
    expect(await booking.confirm('a1', keypad)).toBe('cancelled');
    expect(await booking.reschedule('a1', (await booking.openSlots('dr'))[0]!.id, voice)).toBe('cancelled');
    expect(await booking.requestReschedule('a1', keypad)).toBe('cancelled');
    const changes = await booking.changes('a1');
    expect(changes).toHaveLength(1);
    expect(JSON.parse(changes[0]!.detail!)).toEqual({ reason: 'moving away' });
  });

  it('records a reschedule request once, and says so the second time', async () => {
    expect(await booking.requestReschedule('a1', keypad)).toBe('reschedule_requested');
    expect(await booking.requestReschedule('a1', voice)).toBe('already_requested');
    expect((await store.getAppointment('a1'))?.status).toBe('reschedule_requested');
    expect((await booking.changes('a1')).map((c) => [c.change, c.source])).toEqual([['reschedule_requested', 'keypad']]);
    expect(await booking.requestReschedule('nope', keypad)).toBe('not_found');
  });

  it('saves a conditional confirmation as a pending callback, status unchanged', async () => {
    const at = new Date(Date.now() + 2 * 60 * 60 * 1000);
    const saved = await booking.requestCallback('a1', at, 'needs to check with work', voice);
    expect(saved).toMatchObject({ result: 'callback_saved' });
    const id = 'callbackId' in saved ? saved.callbackId : '';
    const cb = await db.selectFrom('callbacks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(cb).toMatchObject({ patient_id: 'p1', appointment_id: 'a1', call_id: 'call-1', callback_at: at.toISOString(), reason: 'needs to check with work', status: 'pending' });
    expect((await store.getAppointment('a1'))?.status).toBe('scheduled');
    expect(JSON.parse((await booking.changes('a1'))[0]!.detail!)).toEqual({ callbackId: id, callbackAt: at.toISOString(), reason: 'needs to check with work' });
    expect(await booking.requestCallback('nope', at, 'x', voice)).toEqual({ result: 'not_found' });
  });

  it('saves walk-in and reminder preferences, replacing earlier ones', async () => {
    await booking.setWalkIn('p1', { flexible: false, specificTimes: 'weekday mornings', noticeMinutes: 60 });
    await booking.setWalkIn('p1', { flexible: true, specificTimes: 'ignored when flexible', noticeMinutes: 30 });
    expect(await db.selectFrom('walkin_preferences').selectAll().execute()).toEqual([
      expect.objectContaining({ patient_id: 'p1', flexible: 1, specific_times: null, notice_minutes: 30 }),
    ]);
    await booking.setReminder('p1', 24 * 60);
    await booking.setReminder('p1', null);
    expect(await db.selectFrom('reminder_preferences').selectAll().execute()).toEqual([expect.objectContaining({ patient_id: 'p1', lead_minutes: null })]);
    await expect(booking.setReminder('p1', -5)).rejects.toThrow('leadMinutes must be a whole number of minutes, 0 or more, or null (got -5)');
    await expect(booking.setWalkIn('p1', { flexible: true, noticeMinutes: 1.5 })).rejects.toThrow(/noticeMinutes must be a whole number/);
  });

  describe('the call\'s outcome, in the change\'s transaction', () => {
    const change = (outcome: ChangeContext['outcome'], at?: Date): ChangeContext => ({ source: 'voice', callId, outcome, at });

    it('is saved with every change made now', async () => {
      expect(await booking.requestReschedule('a1', change('reschedule_requested'))).toBe('reschedule_requested');
      expect(await outcome()).toBe('reschedule_requested');
      const [slot] = await booking.openSlots('dr');
      expect(await booking.reschedule('a1', slot!.id, change('rescheduled'))).toBe('rescheduled');
      expect(await outcome()).toBe('rescheduled');
      expect(await booking.cancel('a1', 'moving away', change('cancelled'))).toBe('cancelled');
      expect(await outcome()).toBe('cancelled');
      expect(await booking.confirm('a2', change('confirmed'))).toBe('confirmed');
      expect(await outcome()).toBe('confirmed');
      expect((await booking.requestCallback('a2', new Date(Date.now() + DAY_MS), 'check', change('operator_requested'))).result).toBe('callback_saved');
      expect(await outcome()).toBe('operator_requested');
    });

    it('is saved when the change was already in place', async () => {
      await booking.confirm('a1', keypad);
      expect(await outcome()).toBe('in_progress');
      expect(await booking.confirm('a1', change('confirmed'))).toBe('already_confirmed');
      expect(await outcome()).toBe('confirmed');
      await booking.requestReschedule('a2', keypad);
      expect(await booking.requestReschedule('a2', change('reschedule_requested'))).toBe('already_requested');
      expect(await outcome()).toBe('reschedule_requested');
      await booking.cancel('a2', 'moving', keypad);
      expect(await booking.cancel('a2', 'moving', change('cancelled'))).toBe('already_cancelled');
      expect(await outcome()).toBe('cancelled');
      expect(await booking.changes('a2')).toHaveLength(2);
    });

    it('is left as it is when the change is refused', async () => {
      expect(await booking.reschedule('a1', 'slot-a2', change('rescheduled'))).toBe('slot_taken');
      expect(await booking.reschedule('a1', 'no-such-slot', change('rescheduled'))).toBe('slot_not_found');
      await booking.cancel('a2', 'moving', keypad);
      expect(await booking.confirm('a2', change('confirmed'))).toBe('cancelled');
      expect(await booking.confirm('nope', change('confirmed'))).toBe('not_found');
      expect(await booking.requestReschedule('a2', change('reschedule_requested'))).toBe('cancelled');
      expect(await booking.cancel('nope', 'x', change('cancelled'))).toBe('not_found');
      expect((await booking.requestCallback('a1', new Date(Date.now() - 1000), 'x', change('confirmed'))).result).toBe('callback_in_past');
      expect(await outcome()).toBe('in_progress');
    });

    it('rolls back with the change: a failing outcome write undoes the confirmation and its log', async () => {
      execute("CREATE TRIGGER fail_outcome BEFORE UPDATE OF outcome ON call_records BEGIN SELECT RAISE(ABORT, 'outcome write failed'); END");
      await expect(booking.confirm('a1', change('confirmed'))).rejects.toThrow('outcome write failed');
      expect((await store.getAppointment('a1'))?.status).toBe('scheduled');
      expect(await booking.changes('a1')).toEqual([]);
      expect(await outcome()).toBe('in_progress');
    });

    it('rolls back with the change: a failing log write undoes the move and leaves the outcome', async () => {
      const before = await slotsById();
      execute("CREATE TRIGGER fail_log BEFORE INSERT ON appointment_changes BEGIN SELECT RAISE(ABORT, 'log write failed'); END");
      const [slot] = await booking.openSlots('dr');
      await expect(booking.reschedule('a1', slot!.id, change('rescheduled'))).rejects.toThrow('log write failed');
      expect(await slotsById()).toEqual(before);
      expect(await store.getAppointment('a1')).toMatchObject({ slot_id: 'slot-a1', starts_at: tomorrow.toUTC().toISO(), status: 'scheduled' });
      expect(await outcome()).toBe('in_progress');
    });

    it('needs the call: an outcome without callId, or a bad time, is refused before anything is written', async () => {
      await expect(booking.confirm('a1', { source: 'voice', outcome: 'confirmed' })).rejects.toThrow(
        'ChangeContext.outcome needs ChangeContext.callId: the outcome is saved on that call\'s record; pass the call record\'s id, or leave outcome out',
      );
      await expect(booking.cancel('a1', 'x', { source: 'voice', at: new Date('nonsense') })).rejects.toThrow(/^ChangeContext\.at is not a valid Date/);
      await expect(booking.requestCallback('a1', new Date('nonsense'), 'x', voice)).rejects.toThrow(/^callbackAt is not a valid Date/);
      expect((await store.getAppointment('a1'))?.status).toBe('scheduled');
      expect(await booking.changes('a1')).toEqual([]);
    });
  });

  describe('the rules a reschedule keeps', () => {
    it('refuses a slot that has started, relative to the change\'s time, and changes nothing', async () => {
      const [slot] = await booking.openSlots('dr');
      const starts = new Date(slot!.starts_at);
      const before = await slotsById();
      expect(await booking.reschedule('a1', slot!.id, { ...voice, at: starts })).toBe('slot_in_past');
      expect(await booking.reschedule('a1', slot!.id, { ...voice, at: new Date(starts.getTime() + 60_000) })).toBe('slot_in_past');
      expect(await slotsById()).toEqual(before);
      expect(await booking.changes('a1')).toEqual([]);
      // A millisecond before it starts, it is still open.
      expect(await booking.reschedule('a1', slot!.id, { ...voice, at: new Date(starts.getTime() - 1) })).toBe('rescheduled');
    });

    it('refuses another provider\'s slot, even a free one', async () => {
      await store.addFreeSlots('dr2', tomorrow.plus({ days: 2 }).set({ hour: 9 }), 1, 'Main Street');
      const [other] = await booking.openSlots('dr2');
      expect(await booking.reschedule('a1', other!.id, voice)).toBe('other_provider');
      expect(await store.getAppointment('a1')).toMatchObject({ slot_id: 'slot-a1', provider_id: 'dr' });
      expect((await booking.openSlots('dr2')).map((s) => s.id)).toEqual([other!.id]);
      expect(await booking.changes('a1')).toEqual([]);
    });

    it('moves once when asked twice for the same slot: the second time is already_in_slot, outcome untouched', async () => {
      const [slot] = await booking.openSlots('dr');
      expect(await booking.reschedule('a1', slot!.id, voice)).toBe('rescheduled');
      expect(await booking.reschedule('a1', slot!.id, { source: 'voice', callId, outcome: 'rescheduled' })).toBe('already_in_slot');
      expect(await booking.changes('a1')).toHaveLength(1);
      expect(await outcome()).toBe('in_progress');
    });
  });

  describe('the rules a callback keeps', () => {
    const at = new Date('2030-03-01T12:00:00.000Z');
    const after = (ms: number) => new Date(at.getTime() + ms);

    it(`takes a time after the change's time and at most ${CALLBACK_WINDOW_DAYS} days after it`, async () => {
      expect(await booking.requestCallback('a1', at, 'x', { source: 'staff', at })).toEqual({ result: 'callback_in_past' });
      expect(await booking.requestCallback('a1', after(-60_000), 'x', { source: 'staff', at })).toEqual({ result: 'callback_in_past' });
      expect(await booking.requestCallback('a1', after(30 * DAY_MS + 1), 'x', { source: 'staff', at })).toEqual({ result: 'callback_too_far' });
      expect(await db.selectFrom('callbacks').selectAll().execute()).toEqual([]);
      expect((await booking.requestCallback('a1', after(1), 'x', { source: 'staff', at })).result).toBe('callback_saved');
      expect((await booking.requestCallback('a1', after(30 * DAY_MS), 'x', { source: 'staff', at })).result).toBe('callback_saved');
      // Without a call (staff) each request is a callback of its own.
      expect(await db.selectFrom('callbacks').selectAll().execute()).toHaveLength(2);
    });

    it('refuses a callback for a cancelled appointment', async () => {
      await booking.cancel('a1', 'moving away', voice);
      expect(await booking.requestCallback('a1', after(DAY_MS), 'x', { ...voice, at })).toEqual({ result: 'cancelled' });
      expect(await db.selectFrom('callbacks').selectAll().execute()).toEqual([]);
    });

    it('keeps one pending callback per call: the same time again writes nothing, another time replaces it', async () => {
      const ctx = { source: 'voice' as const, callId, at, outcome: 'confirmed' as const };
      const first = await booking.requestCallback('a1', after(DAY_MS), 'check shift', ctx);
      expect(first).toMatchObject({ result: 'callback_saved' });
      const id = 'callbackId' in first ? first.callbackId : '';
      expect(await booking.requestCallback('a1', after(DAY_MS), 'check the shift', ctx)).toEqual({ result: 'already_requested', callbackId: id });
      expect(await db.selectFrom('callbacks').select(['id', 'callback_at', 'reason']).execute()).toEqual([{ id, callback_at: after(DAY_MS).toISOString(), reason: 'check shift' }]);
      expect(await booking.changes('a1')).toHaveLength(1);

      expect(await booking.requestCallback('a1', after(2 * DAY_MS), 'check shift', ctx)).toEqual({ result: 'callback_saved', callbackId: id, replaces: after(DAY_MS).toISOString() });
      expect(await db.selectFrom('callbacks').select(['id', 'callback_at']).execute()).toEqual([{ id, callback_at: after(2 * DAY_MS).toISOString() }]);
      const changes = await booking.changes('a1');
      expect(changes.map((c) => c.change)).toEqual(['callback_requested', 'callback_requested']);
      expect(JSON.parse(changes[1]!.detail!)).toMatchObject({ callbackId: id, callbackAt: after(2 * DAY_MS).toISOString(), replaces: after(DAY_MS).toISOString() });

      // Another call's request is a callback of its own.
      const other = (await store.startCall({ room: 'r2', direction: 'inbound', mode: 'gemini' })).id;
      expect((await booking.requestCallback('a1', after(2 * DAY_MS), 'check shift', { ...ctx, callId: other })).result).toBe('callback_saved');
      expect(await db.selectFrom('callbacks').selectAll().execute()).toHaveLength(2);
    });
  });
});

describe('booking changes while another process holds the write lock', () => {
  let file: string;
  let holder: BetterSqlite3.Database;

  beforeEach(async () => {
    file = join(mkdtempSync(join(tmpdir(), 'booking-busy-')), 'app.db');
    const seed = await openSqliteStore(file);
    await seed.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
    await seed.upsertPatient({ id: 'p1', name: 'Maria Garcia', phoneE164: '+14155550101' });
    await seed.upsertAppointment({ id: 'a1', patientId: 'p1', providerId: 'dr', start: tomorrow, service: 'check-up', location: 'Main Street' });
    await seed.close();
    // Another connection to the file (as another job process would be) takes the write lock.
    holder = new BetterSqlite3(file);
    holder.exec('BEGIN IMMEDIATE');
  });
  afterEach(() => {
    if (holder.inTransaction) holder.exec('ROLLBACK');
    holder.close();
  });

  it('waits and retries until the lock is released, then makes the change', async () => {
    const store = await openSqliteStore(file, 'US', { migrate: false, busyTimeoutMs: 20, writeRetryMs: 5000 });
    try {
      setTimeout(() => holder.exec('COMMIT'), 300);
      const started = Date.now();
      expect(await store.booking.confirm('a1', keypad)).toBe('confirmed');
      // Longer than one busy_timeout: the first attempts failed busy and were retried.
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect((await store.getAppointment('a1'))?.status).toBe('confirmed');
    } finally {
      await store.close();
    }
  });

  it('takes the write lock as it begins (BEGIN IMMEDIATE): even a change that only reads waits for it', async () => {
    // A deferred BEGIN would read, find no appointment and answer not_found without the lock.
    const store = await openSqliteStore(file, 'US', { migrate: false, busyTimeoutMs: 20, writeRetryMs: 0 });
    try {
      await expect(store.booking.confirm('no-such-appointment', keypad)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      holder.exec('COMMIT');
      expect(await store.booking.confirm('no-such-appointment', keypad)).toBe('not_found');
    } finally {
      await store.close();
    }
  });

  it('gives up after the retry time with the database\'s own error, code kept, nothing written', async () => {
    const store = await openSqliteStore(file, 'US', { migrate: false, busyTimeoutMs: 20, writeRetryMs: 400 });
    try {
      const started = Date.now();
      const err = await store.booking.confirm('a1', keypad).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      const took = Date.now() - started;
      expect(err?.code).toBe('SQLITE_BUSY');
      expect(err?.message).toBe('database is locked');
      expect(took).toBeGreaterThanOrEqual(400);
      expect(took).toBeLessThan(3000);
      holder.exec('ROLLBACK');
      expect((await store.getAppointment('a1'))?.status).toBe('scheduled');
    } finally {
      await store.close();
    }
  });
});
