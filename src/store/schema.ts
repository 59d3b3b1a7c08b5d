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
  /** IANA zone the patient lives in (their calling hours are read in it); null: not on file. */
  timezone: string | null;
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
  /** The last transfer to the front desk of this call (src/transfer/): its {@link TransferStatus}; null: none tried. */
  transfer_status: TransferStatus | null;
  /** Where it went: the desk's E.164 number or SIP URI. */
  transfer_target: string | null;
  /** When it was settled (ISO-8601 UTC). */
  transfer_at: string | null;
  /** What the desk or the REFER answered, in words: a SIP status ("486 Busy Here"), "declined with 2", "no answer in 25 s". */
  transfer_detail: string | null;
  error: string | null;
}

/**
 * How a transfer to the front desk went: `accepted` (cold: the REFER was accepted and the desk answered;
 * warm: the person at the desk accepted and was connected), `declined` (warm: the desk said no),
 * `busy`, `no_answer`, `refused` (the REFER or the dial was refused with a SIP status), `failed` (it
 * broke: the trunk, LiveKit), `hung_up` (the caller left before it was settled).
 */
export type TransferStatus = 'accepted' | 'declined' | 'busy' | 'no_answer' | 'refused' | 'failed' | 'hung_up';

/**
 * A message a caller left for the clinic because nobody could take the call (the desk closed, busy,
 * not answering, or none configured).
 */
export interface MessagesTable {
  id: string;
  call_id: string;
  /** The patient the call is about, once verified; null for an unknown or unverified caller. */
  patient_id: string | null;
  /** The name the caller gave (voice mode); null in keypad mode, where their recording says it. */
  caller_name: string | null;
  /** E.164 to call back: the caller ID unless the caller gave another; null when neither is a valid number. */
  callback_e164: string | null;
  /** Why they called, in their words (voice mode); null in keypad mode. */
  reason: string | null;
  /** Keypad mode: the caller's own words, a WAV file (0600) next to the database, relative to its folder. */
  recording_path: string | null;
  /** Length of the recording, ms. */
  recording_ms: number | null;
  /** keypad (a recording) or voice (the model's take_message tool). */
  via: 'keypad' | 'voice';
  created_at: string;
}

/**
 * A notification to deliver to `NOTIFY_WEBHOOK_URL`, saved in the same transaction as what it tells of
 * (the transactional outbox pattern), so none is lost when the receiver is down or the worker stops.
 */
export interface NotifyOutboxTable {
  id: Generated<number>;
  /** The Standard Webhooks `webhook-id`: the same on every retry, so a receiver drops a duplicate. */
  event_id: string;
  /** e.g. `message.created`. */
  type: string;
  /** The JSON body sent. */
  payload: string;
  created_at: string;
  /** Deliveries tried so far. */
  attempts: number;
  /** When it may be tried next (ISO-8601 UTC). */
  next_attempt_at: string;
  /** When the receiver answered 2xx; null until then. */
  delivered_at: string | null;
  /** What the last failed try got: an HTTP status or a network error. */
  last_error: string | null;
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

/** A number never to dial (`make dnc`, key 9 or the voice model's `opt_out` in a call). */
export interface DoNotCallTable {
  /** E.164. */
  phone_e164: string;
  reason: string | null;
  /** Who put it there: `manual` (make dnc add), `import` (make dnc import), `keypad` or `voice` (the patient, in a call). */
  source: DoNotCallSource;
  /** The call in which the patient asked, for `keypad` and `voice`. */
  call_id: string | null;
  added_at: string;
}

/** Where a do-not-call entry came from. */
export type DoNotCallSource = 'manual' | 'import' | 'keypad' | 'voice';

/** One run of the dialer over a list of targets, continued until every target is done. */
export interface CampaignsTable {
  id: string;
  /** For people: the file's path, or `store` (the appointments to confirm on a day). */
  source: string;
  /** What makes a second run the same campaign: the file's path and content hash, or `store:<day>`. */
  source_key: string;
  /** JSON of the campaign's settings ({@link CampaignSettings} of src/outbound/campaign.ts). */
  settings: string;
  created_at: string;
  /** When its last target was done; null while any is pending or being dialed. */
  finished_at: string | null;
}

/**
 * A target's state in its campaign: `pending` (to dial at `next_at`), `dialing` (claimed by a
 * dialer, its call in `room`), `done` (its last outcome is final), `skipped` (never dialed: `detail` says why).
 */
export type TargetState = 'pending' | 'dialing' | 'done' | 'skipped';

export interface CampaignTargetsTable {
  id: Generated<number>;
  campaign_id: string;
  /** Order in the input, from 0. */
  position: number;
  appointment_id: string;
  /** E.164. */
  phone_e164: string;
  /** IANA zone its calling hours are read in. */
  timezone: string;
  /** Where the zone came from: `patient` (stored), `number` (its region), `clinic` (CLINIC_TIMEZONE). */
  timezone_source: string;
  state: TargetState;
  /** Calls placed to it so far. */
  attempts: number;
  /** Not to be dialed before this time (ISO UTC): a retry's wait, or its next calling window. */
  next_at: string;
  /** The room of its latest call. */
  room: string | null;
  claimed_at: string | null;
  last_outcome: string | null;
  last_sip_status: number | null;
  last_attempt_at: string | null;
  /** Why it was skipped or deferred, for people. */
  detail: string | null;
  updated_at: string;
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
  messages: MessagesTable;
  notify_outbox: NotifyOutboxTable;
  do_not_call: DoNotCallTable;
  campaigns: CampaignsTable;
  campaign_targets: CampaignTargetsTable;
}

export type Patient = Selectable<PatientsTable>;
export type Appointment = Selectable<AppointmentsTable>;
export type CallRecord = Selectable<CallRecordsTable>;
export type CallDigit = Selectable<CallDigitsTable>;
export type CallEventRow = Selectable<CallEventsTable>;
export type NewCallRecord = Insertable<CallRecordsTable>;
export type Message = Selectable<MessagesTable>;
export type OutboxRow = Selectable<NotifyOutboxTable>;
export type DoNotCallEntry = Selectable<DoNotCallTable>;
export type Campaign = Selectable<CampaignsTable>;
export type CampaignTarget = Selectable<CampaignTargetsTable>;
