/**
 * The tables of the appointment store, as Kysely types. Times are ISO-8601 UTC text
 * (`2026-11-23T17:30:00.000Z`); each appointment and slot also keeps the IANA zone it is booked in.
 * Keys are app-generated text ids, so the same schema runs on SQLite and PostgreSQL.
 */
import type { Generated, Insertable, Selectable } from 'kysely';
import type { CallOutcome } from '../call/outcome.js';

/** Status of an appointment. */
export type AppointmentStatus = 'scheduled' | 'confirmed' | 'reschedule_requested' | 'cancelled';

/** How a call ended up (call_records.outcome): the values and their rules are in src/call/outcome.ts. */
export type { CallOutcome };

/** Who started the call: a caller through the inbound trunk, our dialer, or a browser. */
export type CallDirection = 'inbound' | 'outbound' | 'web';

export interface PatientsTable {
  id: string;
  name: string;
  /** E.164. Not unique: a family may share one number (the date of birth tells them apart). */
  phone_e164: string;
  /** BCP-47 language the patient prefers, e.g. en-US. */
  language: string;
  created_at: string;
  /**
   * ISO calendar date of birth, `YYYY-MM-DD`: what a caller proves who they are with before hearing
   * an appointment, and what picks the patient among those sharing a number. Null: not on file —
   * such a patient cannot be verified by date of birth.
   */
  date_of_birth: string | null;
}

export interface ProvidersTable {
  id: string;
  name: string;
}

export interface SlotsTable {
  id: string;
  provider_id: string;
  starts_at: string;
  timezone: string;
  duration_min: number;
  location: string;
  /** The appointment holding this slot; null when free. */
  appointment_id: string | null;
}

export interface AppointmentsTable {
  id: string;
  patient_id: string;
  provider_id: string;
  slot_id: string | null;
  starts_at: string;
  timezone: string;
  duration_min: number;
  service: string;
  location: string;
  status: AppointmentStatus;
  updated_at: string;
}

export interface CallRecordsTable {
  id: string;
  room: string;
  sip_call_id: string | null;
  direction: CallDirection;
  /** E.164 of the caller (inbound) or the callee (outbound); null on the web. */
  phone_e164: string | null;
  /** The caller ID as received when it is not a valid number (phone_e164 is then null). */
  phone_received: string | null;
  trunk_number: string | null;
  patient_id: string | null;
  appointment_id: string | null;
  /** keypad, gemini or openai. */
  mode: string;
  started_at: string;
  ended_at: string | null;
  outcome: CallOutcome;
  /** SIP status code of a failed outbound call (486, 480, 603, 5xx…). */
  sip_status: number | null;
  /** Kept for transfers to the front desk (SIP REFER), which are not built yet: always null today. */
  transfer_status: string | null;
  error: string | null;
}

export interface CallDigitsTable {
  id: Generated<number>;
  call_id: string;
  digit: string;
  pressed_at: string;
  /** What the press did: confirm, reschedule, operator, ignored. */
  action: string;
}

/**
 * Something that happened to a call, saved the moment it happened (not at the call's end, so no
 * race with the close can lose it): the voice model lost, resumed, or no voice left at all; the
 * caller's identity verified, or not.
 */
export interface CallEventsTable {
  id: Generated<number>;
  call_id: string;
  at: string;
  /**
   * A `CallEventKind` (src/store/store.ts): voice_lost (keypad mode took over), voice_resumed (the
   * model went on over a new connection), voice_gone; identity_verified (the caller proved who they
   * are), identity_failed (an attempt failed), identity_declined (the person who answered is not the
   * patient), identity_unavailable (no date of birth on file to check against).
   */
  kind: string;
  /** Why, in words (the cause: a close code, a stall, an error; which attempt failed and how — never the digits). */
  detail: string | null;
}

export interface WalkinPreferencesTable {
  patient_id: string;
  flexible: number;
  /** JSON array of ISO times or free text the patient gave. */
  specific_times: string | null;
  notice_minutes: number | null;
  updated_at: string;
}

export interface ReminderPreferencesTable {
  patient_id: string;
  /** Minutes before the appointment; null means no reminders. */
  lead_minutes: number | null;
  updated_at: string;
}

export interface CallbacksTable {
  id: string;
  patient_id: string;
  appointment_id: string | null;
  call_id: string | null;
  callback_at: string;
  reason: string;
  status: string;
  created_at: string;
}

/** One change to an appointment (confirmed, rescheduled, cancelled, …) and where it came from. */
export interface AppointmentChangesTable {
  id: Generated<number>;
  appointment_id: string;
  call_id: string | null;
  /** keypad, voice or staff. */
  source: string;
  /** confirmed, rescheduled, cancelled, callback_requested. */
  change: string;
  /** JSON: the reason, the old and new slot, the callback time. */
  detail: string | null;
  changed_at: string;
}

export interface Database {
  patients: PatientsTable;
  providers: ProvidersTable;
  slots: SlotsTable;
  appointments: AppointmentsTable;
  call_records: CallRecordsTable;
  call_digits: CallDigitsTable;
  call_events: CallEventsTable;
  walkin_preferences: WalkinPreferencesTable;
  reminder_preferences: ReminderPreferencesTable;
  callbacks: CallbacksTable;
  appointment_changes: AppointmentChangesTable;
}

export type Patient = Selectable<PatientsTable>;
export type Appointment = Selectable<AppointmentsTable>;
export type CallRecord = Selectable<CallRecordsTable>;
export type CallDigit = Selectable<CallDigitsTable>;
export type CallEventRow = Selectable<CallEventsTable>;
export type NewCallRecord = Insertable<CallRecordsTable>;
