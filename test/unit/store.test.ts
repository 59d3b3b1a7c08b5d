import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { inspectDatabase } from '../../devtools/database.js';
import { MIGRATIONS, openSqliteStore, seedDemoData, type Database } from '../../src/store/index.js';

const file = () => join(mkdtempSync(join(tmpdir(), 'store-')), 'app.db');
const tables = (path: string) =>
  new BetterSqlite3(path, { readonly: true })
    .prepare("select name from sqlite_master where type = 'table' and name not like 'kysely_%' and name not like 'sqlite_%' order by name")
    .all()
    .map((r) => (r as { name: string }).name);

describe('migrations', () => {
  it('create every table on an empty file', async () => {
    const path = file();
    const store = await openSqliteStore(path);
    await store.close();
    expect(tables(path)).toEqual([
      'appointment_changes', 'appointments', 'call_digits', 'call_events', 'call_records', 'callbacks', 'patients', 'providers', 'reminder_preferences', 'slots', 'walkin_preferences',
    ]);
  });

  it('upgrade an old file in place, keeping its data', async () => {
    const path = file();
    // A file from the first release: only migration 001, with a patient in it.
    const old = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(path) }) });
    const migrator = new Migrator({ db: old, provider: { getMigrations: async () => MIGRATIONS } });
    expect((await migrator.migrateTo('001_initial')).error).toBeUndefined();
    await old.insertInto('patients').values({ id: 'p1', name: 'Old Patient', phone_e164: '+14157774444', language: 'en-US', created_at: '2025-01-01T00:00:00.000Z' }).execute();
    await old.destroy();
    expect(tables(path)).toEqual(['appointments', 'patients', 'providers', 'slots']);

    const store = await openSqliteStore(path);
    expect(tables(path)).toContain('call_records');
    expect(tables(path)).toContain('callbacks');
    expect((await store.lookupCaller('(415) 777-4444'))?.patient.name).toBe('Old Patient');
    await store.close();
    // Opening again applies nothing and keeps everything.
    const again = await openSqliteStore(path);
    expect((await again.migrate()).results).toEqual([]);
    await again.close();
  });
});

describe('SqlStore', () => {
  it('finds the next upcoming, not cancelled appointment of a caller by any form of their number', async () => {
    const store = await openSqliteStore(':memory:');
    await store.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
    await store.upsertPatient({ id: 'p', name: 'Maria Garcia', phoneE164: '+14157774444' });
    const now = DateTime.fromISO('2026-11-22T12:00:00', { zone: 'America/Los_Angeles' });
    const appt = (id: string, days: number, status?: 'cancelled') =>
      store.upsertAppointment({ id, patientId: 'p', providerId: 'dr', start: now.plus({ days }), service: 'cleaning', location: 'here', status });
    await appt('past', -1);
    await appt('later', 5);
    await appt('cancelled', 1, 'cancelled');
    await appt('next', 2);
    for (const raw of ['+1 (415) 777-4444', '14157774444', '+14157774444']) {
      const found = await store.lookupCaller(raw, now.toJSDate());
      expect(found?.patient.id).toBe('p');
      expect(found?.appointment?.id).toBe('next');
      expect(found?.appointment?.provider_name).toBe('Doctor Chen');
    }
    expect(await store.lookupCaller('+14155550199', now.toJSDate())).toBeUndefined();
    expect(await store.lookupCaller('garbage')).toBeUndefined();
    await store.close();
  });

  it('keeps a call record: presses with their times, outcome, and a close that is done once', async () => {
    const store = await openSqliteStore(':memory:');
    const rec = await store.startCall({ room: 'r1', direction: 'inbound', mode: 'keypad', phoneE164: '+14157774444' });
    expect(rec.outcome).toBe('in_progress');
    await store.recordDigit(rec.id, '5', 'ignored', new Date('2026-11-22T10:00:00Z'));
    await store.recordDigit(rec.id, '1', 'confirm', new Date('2026-11-22T10:00:02Z'));
    await store.setCallOutcome(rec.id, 'confirmed');
    const closed = await store.endCall(rec.id, { at: new Date('2026-11-22T10:00:05Z') });
    expect(closed).toMatchObject({ outcome: 'confirmed', ended_at: '2026-11-22T10:00:05.000Z' });
    expect((await store.digits(rec.id)).map((d) => [d.digit, d.action, d.pressed_at])).toEqual([
      ['5', 'ignored', '2026-11-22T10:00:00.000Z'],
      ['1', 'confirm', '2026-11-22T10:00:02.000Z'],
    ]);
    // A second close changes nothing.
    expect(await store.endCall(rec.id, { outcome: 'failed' })).toMatchObject({ outcome: 'confirmed', ended_at: '2026-11-22T10:00:05.000Z' });
    // Nothing happened on this one: it closes as hung_up.
    const silent = await store.startCall({ room: 'r2', direction: 'inbound', mode: 'keypad' });
    expect((await store.endCall(silent.id))?.outcome).toBe('hung_up');
    await store.close();
  });

  it('seeds demo data idempotently', async () => {
    const path = file();
    const store = await openSqliteStore(path);
    await seedDemoData(store, 'America/Los_Angeles');
    await seedDemoData(store, 'America/Los_Angeles');
    const db = inspectDatabase(path);
    expect((await db.selectFrom('patients').select('id').execute()).length).toBe(3);
    await db.destroy();
    expect((await store.lookupCaller('+14155550101'))?.appointment?.service).toBe('dental cleaning');
    await store.close();
  });
});
