/**
 * The appointment store: the one place patients, appointments and call records are read and
 * written. {@link AppointmentStore} is the interface the agent uses; {@link SqlStore} implements it
 * over Kysely (SQLite by default, see ./sqlite.ts).
 */
import { Booking } from './booking.js';
import { randomUUID } from 'node:crypto';
import { Migrator, type Kysely, type MigrationResultSet } from 'kysely';
import { toE164, type CountryCode } from '../phone/index.js';
import { MIGRATIONS } from './migrations.js';
import type {
  Appointment,
  CallDigit,
  CallDirection,
  CallOutcome,
  CallRecord,
  Database,
  Patient,
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
  /** Start time; default now. */
  readonly startedAt?: Date;
}

/** The store the agent works with. Every method that writes has finished writing when it resolves. */
export interface AppointmentStore {
  /** The patient with this number (any format libphonenumber-js reads) and their next appointment from `now`. */
  lookupCaller(phone: string, now?: Date): Promise<CallerLookup | undefined>;
  getAppointment(id: string): Promise<AppointmentDetails | undefined>;
  getPatient(id: string): Promise<Patient | undefined>;
  startCall(start: CallStart): Promise<CallRecord>;
  /** Saves one key press with its time and what it did. */
  recordDigit(callId: string, digit: string, action: string, at?: Date): Promise<void>;
  /** Sets the outcome while the call goes on (e.g. confirmed after a press). */
  setCallOutcome(callId: string, outcome: CallOutcome): Promise<void>;
  /**
   * Closes a call record: end time, and the outcome — `hung_up` replaces `in_progress` when
   * nothing else happened. Idempotent: a second call changes nothing.
   */
  endCall(callId: string, end?: { outcome?: CallOutcome; error?: string; sipStatus?: number; at?: Date }): Promise<CallRecord | undefined>;
  getCall(id: string): Promise<CallRecord | undefined>;
  /** The changes a call may make to a booking, shared by the keypad and the voice model's tools. */
  readonly booking: Booking;
  callsInRoom(room: string): Promise<CallRecord[]>;
  digits(callId: string): Promise<CallDigit[]>;
  close(): Promise<void>;
}

const iso = (d: Date = new Date()) => d.toISOString();

/** {@link AppointmentStore} over Kysely. */
export class SqlStore implements AppointmentStore {
  /** Confirm, reschedule, cancel, preferences: the changes a call may make. */
  readonly booking: Booking;

  constructor(
    readonly db: Kysely<Database>,
    private readonly defaultCountry: CountryCode = 'US',
  ) {
    this.booking = new Booking(db);
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

  async lookupCaller(phone: string, now = new Date()): Promise<CallerLookup | undefined> {
    const e164 = toE164(phone, this.defaultCountry);
    if (!e164) return undefined;
    const patient = await this.db.selectFrom('patients').selectAll().where('phone_e164', '=', e164).executeTakeFirst();
    if (!patient) return undefined;
    const appointment = await this.db
      .selectFrom('appointments')
      .innerJoin('providers', 'providers.id', 'appointments.provider_id')
      .selectAll('appointments')
      .select('providers.name as provider_name')
      .where('appointments.patient_id', '=', patient.id)
      .where('appointments.starts_at', '>=', iso(now))
      .where('appointments.status', '!=', 'cancelled')
      .orderBy('appointments.starts_at')
      .executeTakeFirst();
    return { patient, appointment };
  }

  async getAppointment(id: string): Promise<AppointmentDetails | undefined> {
    return this.db
      .selectFrom('appointments')
      .innerJoin('providers', 'providers.id', 'appointments.provider_id')
      .selectAll('appointments')
      .select('providers.name as provider_name')
      .where('appointments.id', '=', id)
      .executeTakeFirst();
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
      trunk_number: s.trunkNumber ?? null,
      patient_id: s.patientId ?? null,
      appointment_id: s.appointmentId ?? null,
      mode: s.mode,
      started_at: iso(s.startedAt),
      ended_at: null,
      outcome: 'in_progress' as const,
      sip_status: null,
      transfer_status: null,
      error: null,
    };
    await this.db.insertInto('call_records').values(row).execute();
    return row;
  }

  async recordDigit(callId: string, digit: string, action: string, at = new Date()): Promise<void> {
    await this.db.insertInto('call_digits').values({ call_id: callId, digit, action, pressed_at: iso(at) }).execute();
  }

  async setCallOutcome(callId: string, outcome: CallOutcome): Promise<void> {
    await this.db.updateTable('call_records').set({ outcome }).where('id', '=', callId).execute();
  }

  async endCall(
    callId: string,
    end: { outcome?: CallOutcome; error?: string; sipStatus?: number; at?: Date } = {},
  ): Promise<CallRecord | undefined> {
    const current = await this.getCall(callId);
    if (!current || current.ended_at) return current;
    const outcome = end.outcome ?? (current.outcome === 'in_progress' ? 'hung_up' : current.outcome);
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

  async callsInRoom(room: string): Promise<CallRecord[]> {
    return this.db.selectFrom('call_records').selectAll().where('room', '=', room).orderBy('started_at').execute();
  }

  async digits(callId: string): Promise<CallDigit[]> {
    return this.db.selectFrom('call_digits').selectAll().where('call_id', '=', callId).orderBy('id').execute();
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
