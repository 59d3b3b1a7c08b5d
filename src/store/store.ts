/**
 * The appointment store: the one place patients, appointments and call records are read and
 * written. {@link AppointmentStore} is the interface everything else uses; {@link SqlStore}
 * implements it with Kysely's query builder only, so the same code runs on every dialect Kysely
 * speaks (SQLite today, see ./sqlite.ts). Its database connection is private to it.
 */
import { Booking, type BookingOptions } from './booking.js';
import { Campaigns } from './campaigns.js';
import { DoNotCall } from './do-not-call.js';
import { Messages, Outbox } from './messages.js';
import { randomUUID } from 'node:crypto';
import { Migrator, type Kysely, type MigrationResultSet } from 'kysely';
import { DateTime } from 'luxon';
import { toE164, type CountryCode } from '../phone/index.js';
import { outcomeAtClose, type FinalOutcome } from '../call/outcome.js';
import { MIGRATIONS } from './migrations.js';
import type {
  Appointment,
  AppointmentStatus,
  CallDigit,
  CallEventRow,
  CallDirection,
  CallOutcome,
  CallRecord,
  Database,
  Patient,
  TransferStatus,
} from './schema.js';

/** An appointment with the names the agent speaks. */
export interface AppointmentDetails extends Appointment {
  readonly provider_name: string;
}

/** Who is calling and their next appointment, if any. */
export interface CallerLookup {
  readonly patient: Patient;
  readonly appointment?: AppointmentDetails;
}

/** What a call record starts with. */
export interface CallStart {
  readonly room: string;
  readonly direction: CallDirection;
  readonly mode: string;
  readonly sipCallId?: string | null;
  readonly phoneE164?: string | null;
  readonly trunkNumber?: string | null;
  readonly patientId?: string | null;
  readonly appointmentId?: string | null;
  /** The caller ID as received, when it is not a valid number (phoneE164 is then null). */
  readonly phoneReceived?: string | null;
  /** Start time; default now. */
  readonly startedAt?: Date;
}

/** How a record is closed (see {@link AppointmentStore.endCall}). */
export interface CallClose {
  /** Replaces the outcome (a final outcome, e.g. a failed dial's); default: the current one, `hung_up` if none. */
  readonly outcome?: FinalOutcome;
  /** The call broke (LiveKit lost, its process gone): `failed` instead of `hung_up` when no choice was saved (`outcomeAtClose`). */
  readonly failed?: boolean;
  /** What went wrong, kept on the record. */
  readonly error?: string;
  /** SIP status of a failed dial (RFC 3261 §21). */
  readonly sipStatus?: number;
  /** End time; default now. */
  readonly at?: Date;
}

/** What an appointment is made of, for {@link AppointmentStore.upsertAppointment}. */
export interface AppointmentSeed {
  id: string;
  patientId: string;
  providerId: string;
  /** Local wall-clock start in the zone the appointment is booked in, e.g. 2026-11-23T10:30 America/Los_Angeles. */
  start: DateTime;
  service: string;
  location: string;
  /** Length in minutes; default 30. */
  durationMin?: number;
  /** Default `scheduled`. */
  status?: AppointmentStatus;
}

/**
 * The store everything works with: the agent, the dialer, the scripts and the tests' seeding.
 * Every method that writes has finished writing when it resolves; a method rejects with the
 * database's error when the database fails (e.g. a foreign key to a patient that does not exist).
 */
export interface AppointmentStore {
  /**
   * Every patient with this number (any format libphonenumber-js reads; several when a family shares
   * it), each with their next appointment from `now` (the earliest not cancelled one starting at or
   * after `now`), ordered by name, then id. `[]` when nobody has the number or it is not a valid number.
   */
  lookupCallers(phone: string, now?: Date): Promise<CallerLookup[]>;
  /**
   * One patient by id with their next appointment from `now` (as {@link lookupCallers} finds it):
   * whom a verified visit link names. undefined when no patient has this id.
   */
  lookupPatient(id: string, now?: Date): Promise<CallerLookup | undefined>;
  getAppointment(id: string): Promise<AppointmentDetails | undefined>;
  getPatient(id: string): Promise<Patient | undefined>;
  startCall(start: CallStart): Promise<CallRecord>;
  /** Saves one key press with its time and what it did. */
  recordDigit(callId: string, digit: string, action: string, at?: Date): Promise<void>;
  /**
   * Saves something that happened to the call (its voice lost, resumed or gone; the caller's
   * identity verified, failed, declined or not checkable: {@link CallEventKind}), with why. The
   * detail of an identity event says which attempt and how, never the digits given.
   */
  recordCallEvent(callId: string, kind: CallEventKind, detail: string, at?: Date): Promise<void>;
  /**
   * Records who the call is about once the caller has proved who they are: the call record's patient
   * and the appointment it is about (null: none). A call that does not exist: nothing changes.
   */
  identifyCall(callId: string, patientId: string, appointmentId: string | null): Promise<void>;
  /** Sets the outcome while the call goes on (e.g. confirmed after a press). */
  setCallOutcome(callId: string, outcome: CallOutcome): Promise<void>;
  /**
   * Closes a call record: end time, and the outcome — `end.outcome` (a final outcome, e.g. a failed
   * dial's) when given, else `outcomeAtClose` of src/call/outcome.ts: `hung_up` (or `failed` when
   * `end.failed`) replaces `in_progress` when nothing else happened. Idempotent: a second call changes nothing.
   */
  endCall(callId: string, end?: CallClose): Promise<CallRecord | undefined>;
  /** The records of calls in `room` that are still open (no end time), oldest first. */
  openCallsInRoom(room: string): Promise<CallRecord[]>;
  /**
   * Closes every record still open that started before `startedBefore` (calls that cannot still be
   * going on) with `outcome` and `error`, keeping a choice already saved.
   * @returns how many were closed.
   */
  closeStaleCalls(startedBefore: Date, outcome: FinalOutcome, error: string, at?: Date): Promise<number>;
  getCall(id: string): Promise<CallRecord | undefined>;
  /** The changes a call may make to a booking, shared by the keypad and the voice model's tools. */
  readonly booking: Booking;
  /** Messages callers leave for the front desk, each saved with its notification. */
  readonly messages: Messages;
  /** Numbers never to dial again. */
  readonly doNotCall: DoNotCall;
  /** Outbound campaigns: their targets' attempts and states. */
  readonly campaigns: Campaigns;
  /** Notifications waiting for the clinic's webhook receiver. */
  readonly outbox: Outbox;
  /**
   * Saves how a transfer to the front desk went on the call record (status, target, time, detail)
   * and, when given, the call's outcome with it, in one statement.
   */
  recordTransfer(callId: string, t: TransferRecord): Promise<void>;
  callsInRoom(room: string): Promise<CallRecord[]>;
  digits(callId: string): Promise<CallDigit[]>;
  /** The call's events (its voice, the caller's identity), in order. */
  callEvents(callId: string): Promise<CallEventRow[]>;
  /**
   * Adds a patient, or replaces the name, number (E.164; several patients may share one) and
   * language (BCP-47, default en-US) of the one with this id, and its date of birth when
   * `dateOfBirth` is given (ISO `YYYY-MM-DD`; null: not on file; absent: a new patient has none, an
   * existing one keeps theirs).
   * @throws Error when `dateOfBirth` is not a real calendar date written YYYY-MM-DD, is in the
   *   future or before 1900, e.g. `dateOfBirth: "14/03/1985" is not a date of birth; write it as YYYY-MM-DD, e.g. 1985-03-14`.
   */
  upsertPatient(p: PatientSeed): Promise<void>;
  /** Adds a provider, or renames the one with this id. */
  upsertProvider(p: { id: string; name: string }): Promise<void>;
  /** Adds or replaces an appointment and the slot it holds (id `slot-<appointment id>`). */
  upsertAppointment(a: AppointmentSeed): Promise<void>;
  /**
   * Adds `count` free 30-minute slots for a provider, the first at `from` (its zone is the slots'
   * zone), one every `everyMin` minutes (default 60). Slots that already exist are left as they are.
   */
  addFreeSlots(providerId: string, from: DateTime, count: number, location: string, everyMin?: number): Promise<void>;
  /**
   * The appointments starting in [`from`, `to`) that are neither confirmed nor cancelled and have
   * no outbound call started at or after `notCalledSince`, earliest first, with the patient's
   * number as stored.
   */
  appointmentsToConfirm(q: { from: Date; to: Date; notCalledSince: Date }): Promise<{ appointmentId: string; phoneE164: string }[]>;
  /** Closes the database connection; the store cannot be used after. */
  close(): Promise<void>;
}

const iso = (d: Date = new Date()) => d.toISOString();

/**
 * What can happen to a call (the `call_events` table): its voice model lost (`voice_lost`, keypad
 * mode took over), resumed (`voice_resumed`), or no voice left (`voice_gone`); the caller proved who
 * they are (`identity_verified`); an attempt failed (`identity_failed`: the detail says which
 * attempt and how, never the digits); the person who answered said they are not the patient
 * (`identity_declined`); no date of birth on file to check against (`identity_unavailable`).
 */
export type CallEventKind =
  | 'voice_lost'
  | 'voice_resumed'
  | 'voice_gone'
  | 'identity_verified'
  | 'identity_failed'
  | 'identity_declined'
  | 'identity_unavailable';

/** A transfer's result, for {@link AppointmentStore.recordTransfer}. */
export interface TransferRecord {
  readonly status: TransferStatus;
  /** The desk's E.164 number or SIP URI. */
  readonly target: string;
  /** What the desk or the REFER answered, in words. */
  readonly detail?: string | null;
  /** The call's outcome with it (`transferred`, `transfer_failed`); absent: unchanged. */
  readonly outcome?: CallOutcome;
  /** Default now. */
  readonly at?: Date;
}

/** What a patient is made of, for {@link AppointmentStore.upsertPatient}. */
export interface PatientSeed {
  id: string;
  name: string;
  /** E.164; several patients may share one (a family). */
  phoneE164: string;
  /** BCP-47; default en-US. */
  language?: string;
  /** ISO calendar date `YYYY-MM-DD`; null: not on file; absent: left as it is (none for a new patient). */
  dateOfBirth?: string | null;
  /** IANA zone the patient lives in (their calling hours); null: not on file; absent: left as it is. */
  timezone?: string | null;
}

/**
 * `value` when it is a date of birth: a real calendar date written `YYYY-MM-DD`, from 1900-01-01 to
 * today (today anywhere on Earth: up to UTC+14). @throws Error saying how to write it otherwise.
 */
export function checkDateOfBirth(value: string): string {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? DateTime.fromISO(value, { zone: 'utc' }) : undefined;
  const latest = DateTime.now().setZone('UTC+14').toISODate()!;
  if (!date?.isValid || value < '1900-01-01' || value > latest) {
    throw new Error(`dateOfBirth: "${value}" is not a date of birth; write it as YYYY-MM-DD, e.g. 1985-03-14`);
  }
  return value;
}

/** {@link AppointmentStore} over Kysely. */
export class SqlStore implements AppointmentStore {
  /** Confirm, reschedule, cancel, preferences: the changes a call may make. */
  readonly booking: Booking;
  readonly messages: Messages;
  readonly outbox: Outbox;
  readonly doNotCall: DoNotCall;
  readonly campaigns: Campaigns;

  /**
   * @param db the database, on a dialect whose transactions take the write lock as they begin (on
   *   SQLite: ./sqlite.ts) — the booking changes rely on it.
   * @param defaultCountry the country numbers without a `+` belong to.
   * @param booking how the booking changes retry while the database is busy.
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly defaultCountry: CountryCode = 'US',
    booking: BookingOptions = {},
  ) {
    this.booking = new Booking(db, booking);
    this.messages = new Messages(db);
    this.outbox = new Outbox(db);
    this.doNotCall = new DoNotCall(db);
    this.campaigns = new Campaigns(db);
  }

  /** Applies every pending migration. @throws Error naming the migration that failed. */
  async migrate(): Promise<MigrationResultSet> {
    const migrator = new Migrator({ db: this.db, provider: { getMigrations: async () => MIGRATIONS } });
    const result = await migrator.migrateToLatest();
    if (result.error) {
      const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`database migration ${failed} failed: ${(result.error as Error).message ?? String(result.error)}`);
    }
    return result;
  }

  async lookupCallers(phone: string, now = new Date()): Promise<CallerLookup[]> {
    const e164 = toE164(phone, this.defaultCountry);
    if (!e164) return [];
    const patients = await this.db.selectFrom('patients').selectAll().where('phone_e164', '=', e164).orderBy('name').orderBy('id').execute();
    const found: CallerLookup[] = [];
    for (const patient of patients) found.push({ patient, appointment: await this.nextAppointment(patient.id, now) });
    return found;
  }

  async lookupPatient(id: string, now = new Date()): Promise<CallerLookup | undefined> {
    const patient = await this.getPatient(id);
    return patient && { patient, appointment: await this.nextAppointment(patient.id, now) };
  }

  /** Appointments with their provider's name ({@link AppointmentDetails}), to narrow down. */
  private withProvider() {
    return this.db.selectFrom('appointments').innerJoin('providers', 'providers.id', 'appointments.provider_id').selectAll('appointments').select('providers.name as provider_name');
  }

  /** The patient's earliest appointment starting at or after `now` that is not cancelled. */
  private async nextAppointment(patientId: string, now: Date): Promise<AppointmentDetails | undefined> {
    return this.withProvider()
      .where('appointments.patient_id', '=', patientId)
      .where('appointments.starts_at', '>=', iso(now))
      .where('appointments.status', '!=', 'cancelled')
      .orderBy('appointments.starts_at')
      .executeTakeFirst();
  }

  async getAppointment(id: string): Promise<AppointmentDetails | undefined> {
    return this.withProvider().where('appointments.id', '=', id).executeTakeFirst();
  }

  async getPatient(id: string): Promise<Patient | undefined> {
    return this.db.selectFrom('patients').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async startCall(s: CallStart): Promise<CallRecord> {
    const row = {
      id: randomUUID(),
      room: s.room,
      sip_call_id: s.sipCallId ?? null,
      direction: s.direction,
      phone_e164: s.phoneE164 ?? null,
      phone_received: s.phoneReceived ?? null,
      trunk_number: s.trunkNumber ?? null,
      patient_id: s.patientId ?? null,
      appointment_id: s.appointmentId ?? null,
      mode: s.mode,
      started_at: iso(s.startedAt),
      ended_at: null,
      outcome: 'in_progress' as const,
      sip_status: null,
      transfer_status: null,
      transfer_target: null,
      transfer_at: null,
      transfer_detail: null,
      error: null,
    };
    await this.db.insertInto('call_records').values(row).execute();
    return row;
  }

  async recordDigit(callId: string, digit: string, action: string, at = new Date()): Promise<void> {
    await this.db.insertInto('call_digits').values({ call_id: callId, digit, action, pressed_at: iso(at) }).execute();
  }

  async recordCallEvent(callId: string, kind: CallEventKind, detail: string, at = new Date()): Promise<void> {
    await this.db.insertInto('call_events').values({ call_id: callId, kind, detail, at: iso(at) }).execute();
  }

  async identifyCall(callId: string, patientId: string, appointmentId: string | null): Promise<void> {
    await this.db.updateTable('call_records').set({ patient_id: patientId, appointment_id: appointmentId }).where('id', '=', callId).execute();
  }

  async recordTransfer(callId: string, t: TransferRecord): Promise<void> {
    await this.db
      .updateTable('call_records')
      .set({
        transfer_status: t.status,
        transfer_target: t.target,
        transfer_detail: t.detail ?? null,
        transfer_at: iso(t.at),
        ...(t.outcome ? { outcome: t.outcome } : {}),
      })
      .where('id', '=', callId)
      .execute();
  }

  async setCallOutcome(callId: string, outcome: CallOutcome): Promise<void> {
    await this.db.updateTable('call_records').set({ outcome }).where('id', '=', callId).execute();
  }

  async endCall(callId: string, end: CallClose = {}): Promise<CallRecord | undefined> {
    const current = await this.getCall(callId);
    if (!current || current.ended_at) return current;
    const outcome = end.outcome ?? outcomeAtClose(current.outcome, end.failed);
    await this.db
      .updateTable('call_records')
      .set({ ended_at: iso(end.at), outcome, error: end.error ?? current.error, sip_status: end.sipStatus ?? current.sip_status })
      .where('id', '=', callId)
      .where('ended_at', 'is', null)
      .execute();
    return this.getCall(callId);
  }

  async getCall(id: string): Promise<CallRecord | undefined> {
    return this.db.selectFrom('call_records').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async openCallsInRoom(room: string): Promise<CallRecord[]> {
    return this.db.selectFrom('call_records').selectAll().where('room', '=', room).where('ended_at', 'is', null).orderBy('started_at').execute();
  }

  async closeStaleCalls(startedBefore: Date, outcome: FinalOutcome, error: string, at?: Date): Promise<number> {
    const stale = await this.db
      .selectFrom('call_records')
      .select(['id', 'outcome'])
      .where('ended_at', 'is', null)
      .where('started_at', '<', startedBefore.toISOString())
      .execute();
    for (const c of stale) {
      // A choice saved during the call stays; only a call with none takes `outcome`.
      await this.endCall(c.id, { outcome: c.outcome === 'in_progress' ? outcome : undefined, error, at });
    }
    return stale.length;
  }

  async callsInRoom(room: string): Promise<CallRecord[]> {
    return this.db.selectFrom('call_records').selectAll().where('room', '=', room).orderBy('started_at').execute();
  }

  async digits(callId: string): Promise<CallDigit[]> {
    return this.db.selectFrom('call_digits').selectAll().where('call_id', '=', callId).orderBy('id').execute();
  }

  async callEvents(callId: string): Promise<CallEventRow[]> {
    return this.db.selectFrom('call_events').selectAll().where('call_id', '=', callId).orderBy('id').execute();
  }

  async upsertPatient(p: PatientSeed): Promise<void> {
    const language = p.language ?? 'en-US';
    const dateOfBirth = p.dateOfBirth == null ? p.dateOfBirth : checkDateOfBirth(p.dateOfBirth);
    const update = {
      name: p.name,
      phone_e164: p.phoneE164,
      language,
      ...(dateOfBirth === undefined ? {} : { date_of_birth: dateOfBirth }),
      ...(p.timezone === undefined ? {} : { timezone: p.timezone }),
    };
    await this.db
      .insertInto('patients')
      .values({ id: p.id, name: p.name, phone_e164: p.phoneE164, language, created_at: iso(), date_of_birth: dateOfBirth ?? null, timezone: p.timezone ?? null })
      .onConflict((oc) => oc.column('id').doUpdateSet(update))
      .execute();
  }

  async upsertProvider(p: { id: string; name: string }): Promise<void> {
    await this.db.insertInto('providers').values({ id: p.id, name: p.name }).onConflict((oc) => oc.column('id').doUpdateSet({ name: p.name })).execute();
  }

  async upsertAppointment(a: AppointmentSeed): Promise<void> {
    const startsAt = a.start.toUTC().toISO()!;
    const timezone = a.start.zoneName!;
    const slotId = `slot-${a.id}`;
    const durationMin = a.durationMin ?? 30;
    const status = a.status ?? 'scheduled';
    const now = iso();
    await this.db
      .insertInto('appointments')
      .values({
        id: a.id,
        patient_id: a.patientId,
        provider_id: a.providerId,
        slot_id: slotId,
        starts_at: startsAt,
        timezone,
        duration_min: durationMin,
        service: a.service,
        location: a.location,
        status,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doUpdateSet({ starts_at: startsAt, timezone, status, service: a.service, location: a.location, updated_at: now }))
      .execute();
    await this.db
      .insertInto('slots')
      .values({ id: slotId, provider_id: a.providerId, starts_at: startsAt, timezone, duration_min: durationMin, location: a.location, appointment_id: a.id })
      .onConflict((oc) => oc.column('id').doUpdateSet({ starts_at: startsAt, appointment_id: a.id }))
      .execute();
  }

  async addFreeSlots(providerId: string, from: DateTime, count: number, location: string, everyMin = 60): Promise<void> {
    for (let i = 0; i < count; i++) {
      const start = from.plus({ minutes: i * everyMin });
      await this.db
        .insertInto('slots')
        .values({
          id: `slot-${providerId}-${start.toUTC().toFormat("yyyyLLdd'T'HHmm")}`,
          provider_id: providerId,
          starts_at: start.toUTC().toISO()!,
          timezone: start.zoneName!,
          duration_min: 30,
          location,
          appointment_id: null,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }

  async appointmentsToConfirm(q: { from: Date; to: Date; notCalledSince: Date }): Promise<{ appointmentId: string; phoneE164: string }[]> {
    return this.db
      .selectFrom('appointments')
      .innerJoin('patients', 'patients.id', 'appointments.patient_id')
      .select(['appointments.id as appointmentId', 'patients.phone_e164 as phoneE164'])
      .where('appointments.starts_at', '>=', iso(q.from))
      .where('appointments.starts_at', '<', iso(q.to))
      .where('appointments.status', 'not in', ['confirmed', 'cancelled'])
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('call_records')
              .select('call_records.id')
              .whereRef('call_records.appointment_id', '=', 'appointments.id')
              .where('call_records.direction', '=', 'outbound')
              .where('call_records.started_at', '>=', iso(q.notCalledSince)),
          ),
        ),
      )
      .orderBy('appointments.starts_at')
      .execute();
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
