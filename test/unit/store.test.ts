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
      'appointment_changes', 'appointments', 'call_digits', 'call_events', 'call_records', 'callbacks', 'campaign_targets', 'campaigns', 'do_not_call', 'messages', 'notify_outbox', 'patients', 'providers', 'reminder_preferences', 'slots', 'walkin_preferences',
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
    expect((await store.lookupCallers('(415) 777-4444')).map((c) => c.patient.name)).toEqual(['Old Patient']);
    await store.close();
    // Opening again applies nothing and keeps everything.
    const again = await openSqliteStore(path);
    expect((await again.migrate()).results).toEqual([]);
    await again.close();
  });

  it('007 rebuilds patients without the unique number, keeping rows and foreign keys, and turns foreign keys back on', async () => {
    const path = file();
    // A file at 006, its connection as the store sets it up (foreign keys on), with patients, their
    // appointments and call records.
    const sqlite = new BetterSqlite3(path);
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    const upTo006 = Object.fromEntries(Object.entries(MIGRATIONS).slice(0, 6));
    expect(Object.keys(upTo006).at(-1)).toBe('006_call_events');
    expect((await new Migrator({ db, provider: { getMigrations: async () => upTo006 } }).migrateToLatest()).error).toBeUndefined();
    const created = '2025-01-01T00:00:00.000Z';
    await db.insertInto('patients').values([
      { id: 'p1', name: 'Maria Garcia', phone_e164: '+14157774444', language: 'es-US', created_at: created },
      { id: 'p2', name: 'James Wilson', phone_e164: '+14157775555', language: 'en-US', created_at: created },
    ]).execute();
    await db.insertInto('providers').values({ id: 'dr', name: 'Doctor Chen' }).execute();
    const appointment = (id: string, patient: string) => ({
      id, patient_id: patient, provider_id: 'dr', slot_id: null, starts_at: '2026-11-23T18:30:00.000Z', timezone: 'America/Los_Angeles',
      duration_min: 30, service: 'cleaning', location: 'here', status: 'scheduled' as const, updated_at: created,
    });
    await db.insertInto('appointments').values([appointment('a1', 'p1'), appointment('a2', 'p2')]).execute();
    await db.insertInto('call_records').values({
      id: 'c1', room: 'r1', sip_call_id: null, direction: 'inbound', phone_e164: '+14157774444', phone_received: null, trunk_number: null,
      patient_id: 'p1', appointment_id: 'a1', mode: 'keypad', started_at: created, ended_at: null, outcome: 'in_progress', sip_status: null,
      transfer_status: null, error: null,
    }).execute();
    // Two patients on one number: not yet (001's inline unique).
    const indexes = () =>
      (sqlite.pragma('index_list(patients)') as { name: string; unique: number; origin: string }[]).map((i) => [i.name, i.unique, i.origin]).sort();
    expect(indexes()).toEqual([
      ['sqlite_autoindex_patients_1', 1, 'pk'],
      ['sqlite_autoindex_patients_2', 1, 'u'],
    ]);
    await expect(db.insertInto('patients').values({ id: 'p3', name: 'Lucas Garcia', phone_e164: '+14157774444', language: 'en-US', created_at: created }).execute())
      .rejects.toThrow(/UNIQUE constraint failed: patients\.phone_e164/);

    const result = await new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } }).migrateTo('007_patient_identity');
    expect(result.error).toBeUndefined();
    expect(result.results?.map((r) => [r.migrationName, r.status])).toEqual([['007_patient_identity', 'Success']]);
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    // Rows kept, with 001's defaults and constraints, and the date of birth (not on file yet).
    expect(await db.selectFrom('patients').selectAll().orderBy('id').execute()).toEqual([
      { id: 'p1', name: 'Maria Garcia', phone_e164: '+14157774444', language: 'es-US', created_at: created, date_of_birth: null },
      { id: 'p2', name: 'James Wilson', phone_e164: '+14157775555', language: 'en-US', created_at: created, date_of_birth: null },
    ]);
    expect(await db.selectFrom('call_records').select(['id', 'patient_id', 'appointment_id']).execute()).toEqual([{ id: 'c1', patient_id: 'p1', appointment_id: 'a1' }]);
    expect(sqlite.pragma('foreign_key_check')).toEqual([]);
    // Appointments still refer to patients: one for a patient who does not exist is refused, and a
    // patient with appointments cannot go.
    await expect(db.insertInto('appointments').values(appointment('a3', 'nobody')).execute()).rejects.toThrow(/FOREIGN KEY constraint failed/);
    await expect(db.deleteFrom('patients').where('id', '=', 'p1').execute()).rejects.toThrow(/FOREIGN KEY constraint failed/);
    await db.insertInto('appointments').values(appointment('a3', 'p2')).execute();
    // Two patients may now share a number; the number is indexed, not unique.
    // 001's language default and not-null number are kept.
    sqlite.prepare("insert into patients (id, name, phone_e164, created_at) values ('p3', 'Lucas Garcia', '+14157774444', ?)").run(created);
    expect((await db.selectFrom('patients').select('language').where('id', '=', 'p3').executeTakeFirstOrThrow()).language).toBe('en-US');
    expect(() => sqlite.prepare("insert into patients (id, name, phone_e164, created_at) values ('p4', 'Nobody', null, ?)").run(created)).toThrow(/NOT NULL/);
    expect(indexes()).toEqual([
      ['patients_phone', 0, 'c'],
      ['sqlite_autoindex_patients_1', 1, 'pk'],
    ]);
    expect(sqlite.prepare("select sql from sqlite_master where name = 'patients_phone'").pluck().get()).toBe('CREATE INDEX "patients_phone" on "patients" ("phone_e164")');
    expect(tables(path)).not.toContain('patients_new');
    await db.destroy();

    // The store opens it, applying what came after 007, and finds both patients on the number.
    const store = await openSqliteStore(path);
    expect((await store.migrate()).results).toEqual([]);
    expect(tables(path)).toContain('messages');
    expect((await store.lookupCallers('+14157774444', new Date('2026-11-01T00:00:00Z'))).map((c) => [c.patient.id, c.appointment?.id])).toEqual([
      ['p3', undefined],
      ['p1', 'a1'],
    ]);
    await store.close();
  });

  it('007 fails, changing nothing and turning foreign keys back on, when a row refers to a missing one', async () => {
    const sqlite = new BetterSqlite3(':memory:');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    const upTo006 = Object.fromEntries(Object.entries(MIGRATIONS).slice(0, 6));
    expect((await new Migrator({ db, provider: { getMigrations: async () => upTo006 } }).migrateToLatest()).error).toBeUndefined();
    // Written with foreign keys off (better-sqlite3 turns them on by default): an appointment of a
    // patient who does not exist.
    sqlite.pragma('foreign_keys = OFF');
    await db.insertInto('providers').values({ id: 'dr', name: 'Doctor Chen' }).execute();
    await db.insertInto('appointments').values({
      id: 'orphan', patient_id: 'gone', provider_id: 'dr', slot_id: null, starts_at: '2026-11-23T18:30:00.000Z', timezone: 'America/Los_Angeles',
      duration_min: 30, service: 'cleaning', location: 'here', status: 'scheduled', updated_at: '2025-01-01T00:00:00.000Z',
    }).execute();
    sqlite.pragma('foreign_keys = ON');

    const result = await new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } }).migrateToLatest();
    expect(String(result.error)).toMatch(/foreign_key_check after rebuilding patients: appointments row 1 refers to a missing patients row/);
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    // Rolled back: the old table, with its unique number, and no patients_new.
    expect(sqlite.prepare("select sql from sqlite_master where name = 'patients'").pluck().get()).toMatch(/"phone_e164" text not null unique/);
    expect(sqlite.prepare("select count(*) from sqlite_master where name = 'patients_new'").pluck().get()).toBe(0);
    await db.destroy();
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
      const [found, ...more] = await store.lookupCallers(raw, now.toJSDate());
      expect(more).toEqual([]);
      expect(found?.patient.id).toBe('p');
      expect(found?.appointment?.id).toBe('next');
      expect(found?.appointment?.provider_name).toBe('Doctor Chen');
    }
    expect(await store.lookupCallers('+14155550199', now.toJSDate())).toEqual([]);
    expect(await store.lookupCallers('garbage')).toEqual([]);
    await store.close();
  });

  it('finds every patient sharing a number, each with their own next appointment, by name', async () => {
    const store = await openSqliteStore(':memory:');
    await store.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
    // A family on one number (Maria added first, Lucas sorts first by name), and a neighbour on another.
    await store.upsertPatient({ id: 'maria', name: 'Maria Garcia', phoneE164: '+14157774444', dateOfBirth: '1985-03-14' });
    await store.upsertPatient({ id: 'lucas', name: 'Lucas Garcia', phoneE164: '+14157774444', dateOfBirth: '2016-09-05' });
    await store.upsertPatient({ id: 'ana', name: 'Ana Lopez', phoneE164: '+14157775555' });
    const now = DateTime.fromISO('2026-11-22T12:00:00', { zone: 'America/Los_Angeles' });
    let minutes = 0;
    // Each a few minutes after the previous one's time of day: slots never collide.
    const appt = (id: string, patientId: string, days: number, status?: 'cancelled') =>
      store.upsertAppointment({ id, patientId, providerId: 'dr', start: now.plus({ days, minutes: (minutes += 5) }), service: 'cleaning', location: 'here', status });
    await appt('maria-past', 'maria', -1);
    await appt('maria-next', 'maria', 2);
    await appt('maria-later', 'maria', 5);
    await appt('lucas-cancelled', 'lucas', 1, 'cancelled');
    await appt('lucas-next', 'lucas', 3);
    await appt('ana-next', 'ana', 1);
    for (const raw of ['+1 (415) 777-4444', '14157774444', '(415) 777-4444', '415.777.4444', '+14157774444']) {
      const found = await store.lookupCallers(raw, now.toJSDate());
      expect(found.map((c) => [c.patient.name, c.patient.date_of_birth, c.appointment?.id, c.appointment?.provider_name]), raw).toEqual([
        ['Lucas Garcia', '2016-09-05', 'lucas-next', 'Doctor Chen'],
        ['Maria Garcia', '1985-03-14', 'maria-next', 'Doctor Chen'],
      ]);
    }
    // A patient with nothing ahead is still found, without an appointment.
    expect((await store.lookupCallers('+14157775555', now.plus({ days: 2 }).toJSDate())).map((c) => [c.patient.id, c.appointment])).toEqual([['ana', undefined]]);
    // Same name on one number: by id.
    await store.upsertPatient({ id: 'maria-2', name: 'Maria Garcia', phoneE164: '+14157774444' });
    await store.upsertPatient({ id: 'maria-0', name: 'Maria Garcia', phoneE164: '+14157774444' });
    expect((await store.lookupCallers('+14157774444', now.toJSDate())).map((c) => c.patient.id)).toEqual(['lucas', 'maria', 'maria-0', 'maria-2']);
    expect(await store.lookupCallers('+14155550199', now.toJSDate())).toEqual([]);
    expect(await store.lookupCallers('garbage')).toEqual([]);
    expect(await store.lookupCallers('')).toEqual([]);
    await store.close();
  });

  it('keeps a patient\'s date of birth: written when given, kept when not, refused unless a real past date written YYYY-MM-DD', async () => {
    const store = await openSqliteStore(':memory:');
    const dob = async () => (await store.getPatient('p'))?.date_of_birth;
    await store.upsertPatient({ id: 'p', name: 'Maria Garcia', phoneE164: '+14157774444' });
    expect(await dob()).toBeNull();
    await store.upsertPatient({ id: 'p', name: 'Maria Garcia', phoneE164: '+14157774444', dateOfBirth: '1985-03-14' });
    expect(await dob()).toBe('1985-03-14');
    // Absent: kept (a rename does not lose it); null: no longer on file.
    await store.upsertPatient({ id: 'p', name: 'María García', phoneE164: '+14157774444' });
    expect(await store.getPatient('p')).toMatchObject({ name: 'María García', date_of_birth: '1985-03-14' });
    await store.upsertPatient({ id: 'p', name: 'María García', phoneE164: '+14157774444', dateOfBirth: '2000-02-29' });
    expect(await dob()).toBe('2000-02-29');
    await store.upsertPatient({ id: 'p', name: 'María García', phoneE164: '+14157774444', dateOfBirth: null });
    expect(await dob()).toBeNull();
    // The oldest and the newest a date of birth may be.
    const today = DateTime.now().toISODate()!;
    for (const ok of ['1900-01-01', today]) {
      await store.upsertPatient({ id: 'p', name: 'Maria Garcia', phoneE164: '+14157774444', dateOfBirth: ok });
      expect(await dob()).toBe(ok);
    }
    await store.upsertPatient({ id: 'p', name: 'Maria Garcia', phoneE164: '+14157774444', dateOfBirth: '1985-03-14' });
    const nextYear = DateTime.now().plus({ years: 1 }).toISODate()!;
    for (const bad of ['1985-02-29', '1985-13-01', '1985-04-31', '1899-12-31', nextYear, '14/03/1985', '03141985', '1985-3-14', '1985-03-14T00:00', ' 1985-03-14', '']) {
      await expect(store.upsertPatient({ id: 'p', name: 'Maria Garcia', phoneE164: '+14157774444', dateOfBirth: bad }), bad).rejects.toThrow(
        new Error(`dateOfBirth: "${bad}" is not a date of birth; write it as YYYY-MM-DD, e.g. 1985-03-14`),
      );
      await expect(store.upsertPatient({ id: `new-${bad}`, name: 'New', phoneE164: '+14157774444', dateOfBirth: bad })).rejects.toThrow(/is not a date of birth/);
    }
    // Nothing written by a refused one.
    expect(await dob()).toBe('1985-03-14');
    expect((await store.lookupCallers('+14157774444')).map((c) => c.patient.id)).toEqual(['p']);
    await store.close();
  });

  it('identifies a call: the patient who proved who they are and the appointment it is about', async () => {
    const store = await openSqliteStore(':memory:');
    await store.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
    await store.upsertPatient({ id: 'maria', name: 'Maria Garcia', phoneE164: '+14157774444', dateOfBirth: '1985-03-14' });
    await store.upsertPatient({ id: 'lucas', name: 'Lucas Garcia', phoneE164: '+14157774444', dateOfBirth: '2016-09-05' });
    await store.upsertAppointment({ id: 'a', patientId: 'lucas', providerId: 'dr', start: DateTime.now().plus({ days: 1 }), service: 'check-up', location: 'here' });
    const rec = await store.startCall({ room: 'r1', direction: 'inbound', mode: 'keypad', phoneE164: '+14157774444' });
    expect(rec).toMatchObject({ patient_id: null, appointment_id: null });
    const other = await store.startCall({ room: 'r2', direction: 'inbound', mode: 'keypad', phoneE164: '+14157774444' });
    await store.recordCallEvent(rec.id, 'identity_failed', 'attempt 1 of 3: the date did not match', new Date('2026-11-22T10:00:00Z'));
    await store.recordCallEvent(rec.id, 'identity_verified', 'attempt 2 of 3', new Date('2026-11-22T10:00:05Z'));
    await store.identifyCall(rec.id, 'lucas', 'a');
    expect(await store.getCall(rec.id)).toMatchObject({ patient_id: 'lucas', appointment_id: 'a', outcome: 'in_progress', ended_at: null });
    expect((await store.callEvents(rec.id)).map((e) => e.kind)).toEqual(['identity_failed', 'identity_verified']);
    // A patient with nothing booked: no appointment.
    await store.identifyCall(other.id, 'maria', null);
    expect(await store.getCall(other.id)).toMatchObject({ patient_id: 'maria', appointment_id: null });
    // Only that call; a call that does not exist changes nothing.
    await store.identifyCall('no-such-call', 'maria', null);
    expect((await store.callsInRoom('r1')).map((c) => c.patient_id)).toEqual(['lucas']);
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
    expect(await db.selectFrom('patients').select(['id', 'date_of_birth']).orderBy('id').execute()).toEqual([
      { id: 'demo-aisha', date_of_birth: '1990-11-02' },
      { id: 'demo-james', date_of_birth: '1972-07-09' },
      { id: 'demo-lucas', date_of_birth: '2016-09-05' },
      { id: 'demo-maria', date_of_birth: '1985-03-14' },
    ]);
    await db.destroy();
    // Maria and her son share a number; each has their own appointment.
    expect((await store.lookupCallers('+14155550101')).map((c) => [c.patient.name, c.appointment?.service, c.appointment?.provider_name])).toEqual([
      ['Lucas Garcia', 'child check-up', 'Doctor Patel'],
      ['Maria Garcia', 'dental cleaning', 'Doctor Chen'],
    ]);
    await store.close();
  });
});
