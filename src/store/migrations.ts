/**
 * Schema migrations, applied in order by Kysely's Migrator when the store opens. Never edit a
 * migration that has shipped: add the next one.
 */
import { sql, SqliteAdapter, type Kysely, type Migration } from 'kysely';

/** `CREATE TABLE name (id text primary key, …)`: every table keyed by an app-generated text id starts so. */
const keyedTable = (db: Kysely<unknown>, name: string) => db.schema.createTable(name).addColumn('id', 'text', (c) => c.primaryKey());

/** 001: who, with whom, when. */
const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await keyedTable(db, 'patients')
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('phone_e164', 'text', (c) => c.notNull().unique())
      .addColumn('language', 'text', (c) => c.notNull().defaultTo('en-US'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await keyedTable(db, 'providers')
      .addColumn('name', 'text', (c) => c.notNull())
      .execute();
    await keyedTable(db, 'appointments')
      .addColumn('patient_id', 'text', (c) => c.notNull().references('patients.id'))
      .addColumn('provider_id', 'text', (c) => c.notNull().references('providers.id'))
      .addColumn('slot_id', 'text')
      .addColumn('starts_at', 'text', (c) => c.notNull())
      .addColumn('timezone', 'text', (c) => c.notNull())
      .addColumn('duration_min', 'integer', (c) => c.notNull().defaultTo(30))
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('location', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('scheduled'))
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('appointments_patient_start').on('appointments').columns(['patient_id', 'starts_at']).execute();
    await keyedTable(db, 'slots')
      .addColumn('provider_id', 'text', (c) => c.notNull().references('providers.id'))
      .addColumn('starts_at', 'text', (c) => c.notNull())
      .addColumn('timezone', 'text', (c) => c.notNull())
      .addColumn('duration_min', 'integer', (c) => c.notNull().defaultTo(30))
      .addColumn('location', 'text', (c) => c.notNull())
      .addColumn('appointment_id', 'text')
      .execute();
    await db.schema.createIndex('slots_provider_start').on('slots').columns(['provider_id', 'starts_at']).unique().execute();
  },
};

/** 002: every call and every key pressed in it. */
const calls: Migration = {
  async up(db: Kysely<unknown>) {
    await keyedTable(db, 'call_records')
      .addColumn('room', 'text', (c) => c.notNull())
      .addColumn('sip_call_id', 'text')
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('phone_e164', 'text')
      .addColumn('trunk_number', 'text')
      .addColumn('patient_id', 'text')
      .addColumn('appointment_id', 'text')
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('ended_at', 'text')
      .addColumn('outcome', 'text', (c) => c.notNull().defaultTo('in_progress'))
      .addColumn('sip_status', 'integer')
      .addColumn('transfer_status', 'text')
      .addColumn('error', 'text')
      .execute();
    await db.schema.createIndex('call_records_room').on('call_records').column('room').execute();
    await db.schema.createIndex('call_records_appointment').on('call_records').column('appointment_id').execute();
    await db.schema
      .createTable('call_digits')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('call_id', 'text', (c) => c.notNull().references('call_records.id'))
      .addColumn('digit', 'text', (c) => c.notNull())
      .addColumn('pressed_at', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .execute();
  },
};

/** 003: what patients told us beyond yes and no. */
const preferences: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('walkin_preferences')
      .addColumn('patient_id', 'text', (c) => c.primaryKey())
      .addColumn('flexible', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('specific_times', 'text')
      .addColumn('notice_minutes', 'integer')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('reminder_preferences')
      .addColumn('patient_id', 'text', (c) => c.primaryKey())
      .addColumn('lead_minutes', 'integer')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await keyedTable(db, 'callbacks')
      .addColumn('patient_id', 'text', (c) => c.notNull())
      .addColumn('appointment_id', 'text')
      .addColumn('call_id', 'text')
      .addColumn('callback_at', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
      .addColumn('created_at', 'text', (c) => c.notNull().defaultTo(sql`CURRENT_TIMESTAMP`))
      .execute();
  },
};

/** 004: every change to an appointment, with the call and the channel (keypad, voice) it came from. */
const appointmentChanges: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('appointment_changes')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('appointment_id', 'text', (c) => c.notNull())
      .addColumn('call_id', 'text')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('change', 'text', (c) => c.notNull())
      .addColumn('detail', 'text')
      .addColumn('changed_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('appointment_changes_by_appointment').on('appointment_changes').column('appointment_id').execute();
  },
};

/** 005: a caller ID that is not a valid number, kept as received so staff can still call back. */
const phoneReceived: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('call_records').addColumn('phone_received', 'text').execute();
    await db.schema.createIndex('call_records_open').on('call_records').columns(['ended_at', 'started_at']).execute();
  },
};

/** 006: what happened to a call's voice (the model lost or resumed), saved when it happened. */
const callEvents: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('call_events')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('call_id', 'text', (c) => c.notNull().references('call_records.id'))
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('detail', 'text')
      .execute();
    await db.schema.createIndex('call_events_by_call').on('call_events').column('call_id').execute();
  },
};

/**
 * 007: who a caller is. Patients gain a date of birth (callers prove who they are with it), and a
 * number is no longer unique: a family may share one, the date of birth picks the patient.
 */
const patientIdentity: Migration = {
  async up(db: Kysely<unknown>) {
    if (db.getExecutor().adapter instanceof SqliteAdapter) return rebuildSqlitePatients(db);
    // PostgreSQL names 001's inline unique constraint <table>_<column>_key.
    await db.schema.alterTable('patients').dropConstraint('patients_phone_e164_key').execute();
    await db.schema.alterTable('patients').addColumn('date_of_birth', 'text').execute();
    await db.schema.createIndex('patients_phone').on('patients').column('phone_e164').execute();
  },
};

/**
 * 007 on SQLite, where an inline UNIQUE goes only with its table: the table rebuilt as
 * https://sqlite.org/lang_altertable.html §7 says ("Making Other Kinds Of Table Schema Changes").
 * Foreign keys off (appointments refer to patients: dropping the old table must not touch them,
 * and the pragma works here because Kysely runs SQLite migrations outside a transaction), then in
 * one transaction: the new table with 001's columns and the date of birth, the rows copied, the old
 * table dropped, the new one renamed, the index, and `foreign_key_check` finding nothing; foreign
 * keys on again whatever happened.
 * @throws Error when foreign keys cannot be turned off (a transaction is open) or the check finds a
 *   row referring to a missing one; the transaction is then rolled back.
 */
async function rebuildSqlitePatients(db: Kysely<unknown>): Promise<void> {
  await sql`PRAGMA foreign_keys = OFF`.execute(db);
  try {
    const { rows } = await sql<{ foreign_keys: number }>`PRAGMA foreign_keys`.execute(db);
    if (rows[0]?.foreign_keys !== 0) throw new Error('cannot turn foreign keys off to rebuild patients (is a transaction open?)');
    await db.transaction().execute(async (trx) => {
      await keyedTable(trx, 'patients_new')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('phone_e164', 'text', (c) => c.notNull())
        .addColumn('language', 'text', (c) => c.notNull().defaultTo('en-US'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('date_of_birth', 'text')
        .execute();
      await sql`insert into patients_new (id, name, phone_e164, language, created_at)
        select id, name, phone_e164, language, created_at from patients`.execute(trx);
      await trx.schema.dropTable('patients').execute();
      await trx.schema.alterTable('patients_new').renameTo('patients').execute();
      await trx.schema.createIndex('patients_phone').on('patients').column('phone_e164').execute();
      const broken = await sql<{ table: string; rowid: number | null; parent: string }>`PRAGMA foreign_key_check`.execute(trx);
      if (broken.rows.length > 0) {
        const first = broken.rows[0]!;
        throw new Error(
          `foreign_key_check after rebuilding patients: ${first.table} row ${first.rowid ?? '?'} refers to a missing ${first.parent} row` +
            (broken.rows.length > 1 ? ` (and ${broken.rows.length - 1} more)` : ''),
        );
      }
    });
  } finally {
    await sql`PRAGMA foreign_keys = ON`.execute(db);
  }
}

/**
 * 008: a person when the caller needs one. A call record keeps its transfer to the front desk (where,
 * when, what the desk or the REFER answered); `messages` keeps what a caller left when nobody could
 * take the call; `notify_outbox` keeps each notification until the clinic's webhook receiver took it.
 */
const frontDesk: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('call_records').addColumn('transfer_target', 'text').execute();
    await db.schema.alterTable('call_records').addColumn('transfer_at', 'text').execute();
    await db.schema.alterTable('call_records').addColumn('transfer_detail', 'text').execute();
    await keyedTable(db, 'messages')
      .addColumn('call_id', 'text', (c) => c.notNull().references('call_records.id'))
      .addColumn('patient_id', 'text')
      .addColumn('caller_name', 'text')
      .addColumn('callback_e164', 'text')
      .addColumn('reason', 'text')
      .addColumn('recording_path', 'text')
      .addColumn('recording_ms', 'integer')
      .addColumn('via', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('messages_by_call').on('messages').column('call_id').execute();
    await db.schema
      .createTable('notify_outbox')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('event_id', 'text', (c) => c.notNull().unique())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .addColumn('delivered_at', 'text')
      .addColumn('last_error', 'text')
      .execute();
    await db.schema.createIndex('notify_outbox_due').on('notify_outbox').columns(['delivered_at', 'next_attempt_at']).execute();
  },
};

/**
 * 009: outbound calls that work in the real world. Patients may keep their own time zone (calling
 * hours are theirs); `do_not_call` keeps numbers never to dial again; `campaigns` and
 * `campaign_targets` keep each run of the dialer — every target's attempts, state and next time —
 * so a campaign survives its dialer dying and dials nobody twice.
 */
const outboundCampaigns: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('patients').addColumn('timezone', 'text').execute();
    await db.schema
      .createTable('do_not_call')
      .addColumn('phone_e164', 'text', (c) => c.primaryKey())
      .addColumn('reason', 'text')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('call_id', 'text')
      .addColumn('added_at', 'text', (c) => c.notNull())
      .execute();
    await keyedTable(db, 'campaigns')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('source_key', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .execute();
    await db.schema.createIndex('campaigns_by_source').on('campaigns').columns(['source_key', 'finished_at']).execute();
    await db.schema
      .createTable('campaign_targets')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id'))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('appointment_id', 'text', (c) => c.notNull())
      .addColumn('phone_e164', 'text', (c) => c.notNull())
      .addColumn('timezone', 'text', (c) => c.notNull())
      .addColumn('timezone_source', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_at', 'text', (c) => c.notNull())
      .addColumn('room', 'text')
      .addColumn('claimed_at', 'text')
      .addColumn('last_outcome', 'text')
      .addColumn('last_sip_status', 'integer')
      .addColumn('last_attempt_at', 'text')
      .addColumn('detail', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('campaign_targets_once', ['campaign_id', 'appointment_id'])
      .execute();
    await db.schema.createIndex('campaign_targets_due').on('campaign_targets').columns(['campaign_id', 'state', 'next_at']).execute();
  },
};

/** All migrations by name; names sort in the order they apply. */
export const MIGRATIONS: Record<string, Migration> = {
  '001_initial': initial,
  '002_calls': calls,
  '003_preferences': preferences,
  '004_appointment_changes': appointmentChanges,
  '005_phone_received': phoneReceived,
  '006_call_events': callEvents,
  '007_patient_identity': patientIdentity,
  '008_front_desk': frontDesk,
  '009_outbound_campaigns': outboundCampaigns,
};
