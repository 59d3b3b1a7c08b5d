/**
 * What a call may change about a patient's booking: confirm, confirm on condition of a callback,
 * reschedule to a free slot, cancel, walk-in and reminder preferences. The keypad and the voice
 * model's tools both call these, so a press and a spoken "yes" run the same code and the same
 * checks: each change is made at most once (a second confirm reports `already_confirmed` and writes
 * nothing), a request the booking rules refuse changes nothing and says why (a slot in the past,
 * of another provider, taken…), and each change is logged in `appointment_changes` with the call
 * and the channel it came from.
 *
 * Every change is one transaction ({@link Booking} `write`): the checks, the change, its log row
 * and — when the context gives one — the call's outcome commit together or not at all. On SQLite
 * the store's dialect begins it with `BEGIN IMMEDIATE` (./sqlite.ts), so a change waits for the
 * write lock instead of failing when another job process writes; if the lock stays busy it is
 * retried (see {@link WRITE_RETRY_MS}).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { CallOutcome } from '../call/outcome.js';
import type { AppointmentStatus, Database } from './schema.js';

/** Where a change came from. */
export type ChangeSource = 'keypad' | 'voice' | 'staff';

/** Who asks for a change: the call (its record id) and the channel, and what the call's outcome becomes. */
export interface ChangeContext {
  /** The call record's id (`call_records.id`): the change is logged against it. Absent or null: no call (staff). */
  readonly callId?: string | null;
  readonly source: ChangeSource;
  /**
   * When the change is made; default now. Logged as `changed_at`, and the "now" the rules compare
   * with: a slot or a callback time must be after it.
   */
  readonly at?: Date;
  /**
   * The call's outcome once the change is made (e.g. `confirmed`): written to the `outcome` of the
   * call record `callId` in the change's own transaction, as `AppointmentStore.setCallOutcome`
   * writes it (the value replaces the current one; no record with that id: nothing written). Written
   * only when the operation succeeds — the change made now or already in place — never when it is
   * refused. Needs `callId`.
   */
  readonly outcome?: CallOutcome;
}

/** A free slot as the agent offers it. */
export interface OpenSlot {
  readonly id: string;
  readonly provider_id: string;
  /** ISO-8601 instant. */
  readonly starts_at: string;
  /** IANA zone the slot is spoken in. */
  readonly timezone: string;
  /** Length in minutes. */
  readonly duration_min: number;
  readonly location: string;
}

/**
 * Result of {@link Booking.confirm}. Succeeded (outcome written): `confirmed` (now),
 * `already_confirmed` (nothing written but the outcome). Refused: `cancelled` (a cancelled
 * appointment stays cancelled), `not_found` (no appointment with that id).
 */
export type ConfirmResult = 'confirmed' | 'already_confirmed' | 'cancelled' | 'not_found';

/**
 * Result of {@link Booking.requestReschedule}. Succeeded (outcome written): `reschedule_requested`
 * (now), `already_requested` (the status already said so: nothing written but the outcome).
 * Refused: `cancelled`, `not_found`.
 */
export type RequestRescheduleResult = 'reschedule_requested' | 'already_requested' | 'cancelled' | 'not_found';

/**
 * Result of {@link Booking.reschedule}. Succeeded (outcome written): `rescheduled`. Nothing changed
 * and the outcome left as it is: `already_in_slot` (the appointment holds that slot already, e.g.
 * the same request a second time). Refused: `slot_not_found` (no slot with that id),
 * `other_provider` (the slot is another provider's), `slot_in_past` (it starts at or before the
 * change's time), `slot_taken` (another appointment holds it), `cancelled`, `not_found`.
 */
export type RescheduleResult =
  | 'rescheduled'
  | 'already_in_slot'
  | 'slot_taken'
  | 'slot_not_found'
  | 'slot_in_past'
  | 'other_provider'
  | 'cancelled'
  | 'not_found';

/**
 * Result of {@link Booking.cancel}. Succeeded (outcome written): `cancelled` (now),
 * `already_cancelled` (nothing written but the outcome). Refused: `not_found`.
 */
export type CancelResult = 'cancelled' | 'already_cancelled' | 'not_found';

/**
 * Result of {@link Booking.requestCallback}, with the callback's id (`callbacks.id`) when one is
 * pending. Succeeded (outcome written):
 * - `callback_saved`: saved now; `replaces` is the time (ISO-8601) of the pending callback this
 *   call had asked for before, which the new time replaced;
 * - `already_requested`: this call asked for a callback at this very time already: nothing written
 *   but the outcome.
 *
 * Refused: `callback_in_past` (at or before the change's time), `callback_too_far` (more than
 * {@link CALLBACK_WINDOW_DAYS} days after it), `cancelled` (nothing left to confirm), `not_found`.
 */
export type CallbackResult =
  | { readonly result: 'callback_saved'; readonly callbackId: string; readonly replaces?: string }
  | { readonly result: 'already_requested'; readonly callbackId: string }
  | { readonly result: 'callback_in_past' | 'callback_too_far' | 'cancelled' | 'not_found' };

/** Walk-in availability: any time at short notice, or only at the given times. */
export interface WalkInPreference {
  /** Any time (true), or only `specificTimes`. */
  readonly flexible: boolean;
  /** Free text as the patient said it, e.g. "weekday mornings", when not flexible. */
  readonly specificTimes?: string | null;
  /** How much notice they need, in minutes (a whole number, 0 or more). */
  readonly noticeMinutes?: number | null;
}

/** Options of {@link Booking}. */
export interface BookingOptions {
  /** How long a change keeps retrying while the database is busy, in ms; default {@link WRITE_RETRY_MS}. */
  readonly writeRetryMs?: number;
}

/**
 * How far ahead a callback may be asked for, in days, counted as 30 × 24 hours from the change's
 * time. The number is the product's rule (set in issue 11, not a technical limit): the clinic
 * calls a patient back within 30 days. Change it here; the voice tool's description and refusal
 * read it from here.
 */
export const CALLBACK_WINDOW_DAYS = 30;

/**
 * How long a change keeps retrying when SQLite reports the database busy or locked (SQLITE_BUSY,
 * SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED and their extended codes), in ms, counted from the first
 * attempt: the change gives up at the first busy attempt that ends after this time. Each attempt
 * itself waits up to the connection's `busy_timeout` (5 s by default, see ./sqlite.ts) for the
 * lock, so a change gives up after 10–15 s of another process holding the write lock — far beyond
 * any booking transaction, which holds it for milliseconds. Between attempts it sleeps
 * {@link FIRST_BACKOFF_MS}, doubling up to {@link MAX_BACKOFF_MS} (never past the retry time),
 * each sleep shortened by a random part of up to half so that processes retrying together spread out.
 */
export const WRITE_RETRY_MS = 10_000;
/** First sleep between attempts of a busy write, in ms (see {@link WRITE_RETRY_MS}). */
export const FIRST_BACKOFF_MS = 10;
/** Longest sleep between attempts of a busy write, in ms (see {@link WRITE_RETRY_MS}). */
export const MAX_BACKOFF_MS = 250;

const DAY_MS = 24 * 60 * 60 * 1000;
const iso = (d: Date = new Date()) => d.toISOString();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether `err` is SQLite saying another connection holds a lock (SQLITE_BUSY*, SQLITE_LOCKED*): worth another attempt. */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** @throws TypeError naming the field when a change's context cannot be used. */
function checkContext(ctx: ChangeContext): void {
  if (ctx.at !== undefined && !(ctx.at instanceof Date && Number.isFinite(ctx.at.getTime()))) {
    throw new TypeError(`ChangeContext.at is not a valid Date (got ${String(ctx.at)}): pass the time of the change, or leave it out for now`);
  }
  if (ctx.outcome !== undefined && !ctx.callId) {
    throw new TypeError('ChangeContext.outcome needs ChangeContext.callId: the outcome is saved on that call\'s record; pass the call record\'s id, or leave outcome out');
  }
}

/** @throws RangeError naming `field` unless `value` is null, undefined or a whole number of minutes ≥ 0. */
function checkMinutes(field: string, value: number | null | undefined): void {
  if (value !== null && value !== undefined && !(Number.isInteger(value) && value >= 0)) {
    throw new RangeError(`${field} must be a whole number of minutes, 0 or more, or null (got ${value})`);
  }
}

/**
 * The booking operations over the store's database. Each change runs in one write transaction
 * (see the module comment) and resolves once committed; it rejects with the database's error
 * (its `code` kept, e.g. SQLITE_BUSY once {@link WRITE_RETRY_MS} has passed), and then nothing of
 * it was saved.
 */
export class Booking {
  private readonly writeRetryMs: number;

  constructor(
    private readonly db: Kysely<Database>,
    opts: BookingOptions = {},
  ) {
    this.writeRetryMs = opts.writeRetryMs ?? WRITE_RETRY_MS;
  }

  /**
   * Runs `work` in a write transaction, again while the database is busy (see
   * {@link WRITE_RETRY_MS}); `work` must only touch the database, as it may run more than once.
   * @throws the database's last error once the retry time is over, or any other error at once.
   */
  private async write<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.writeRetryMs;
    for (let backoff = FIRST_BACKOFF_MS; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      try {
        return await this.db.transaction().execute(work);
      } catch (err) {
        const left = deadline - Date.now();
        if (!isBusyError(err) || left <= 0) throw err;
        await sleep(Math.min(left, Math.ceil(backoff * (0.5 + Math.random() / 2))));
      }
    }
  }

  private async log(
    trx: Transaction<Database>,
    appointmentId: string,
    change: string,
    ctx: ChangeContext,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    await trx
      .insertInto('appointment_changes')
      .values({
        appointment_id: appointmentId,
        call_id: ctx.callId ?? null,
        source: ctx.source,
        change,
        detail: detail ? JSON.stringify(detail) : null,
        changed_at: iso(ctx.at),
      })
      .execute();
  }

  /** The call's outcome, in the change's transaction (see {@link ChangeContext.outcome}). */
  private async saveOutcome(trx: Transaction<Database>, ctx: ChangeContext): Promise<void> {
    if (ctx.outcome === undefined || !ctx.callId) return;
    await trx.updateTable('call_records').set({ outcome: ctx.outcome }).where('id', '=', ctx.callId).execute();
  }

  private status(trx: Transaction<Database>, id: string): Promise<{ status: AppointmentStatus } | undefined> {
    return trx.selectFrom('appointments').select('status').where('id', '=', id).executeTakeFirst();
  }

  /**
   * Moves a (not cancelled) appointment to `status` once, logging the change as `done`; when it is
   * there already nothing is written but the outcome (`already`).
   */
  private async moveTo<R extends string>(
    appointmentId: string,
    ctx: ChangeContext,
    status: 'confirmed' | 'reschedule_requested',
    results: { readonly done: R; readonly already: R },
  ): Promise<R | 'cancelled' | 'not_found'> {
    checkContext(ctx);
    return this.write(async (trx) => {
      const row = await this.status(trx, appointmentId);
      if (!row) return 'not_found';
      if (row.status === 'cancelled') return 'cancelled';
      if (row.status === status) {
        await this.saveOutcome(trx, ctx);
        return results.already;
      }
      await trx.updateTable('appointments').set({ status, updated_at: iso(ctx.at) }).where('id', '=', appointmentId).execute();
      await this.log(trx, appointmentId, results.done, ctx);
      await this.saveOutcome(trx, ctx);
      return results.done;
    });
  }

  /**
   * Confirms an appointment once; a cancelled one stays cancelled.
   * @throws TypeError (as a rejection) when `ctx` is unusable (see {@link ChangeContext}).
   */
  confirm(appointmentId: string, ctx: ChangeContext): Promise<ConfirmResult> {
    return this.moveTo(appointmentId, ctx, 'confirmed', { done: 'confirmed', already: 'already_confirmed' });
  }

  /**
   * Marks that the patient wants to reschedule and staff should follow up (keypad 2); a confirmed
   * appointment may ask too.
   * @throws TypeError (as a rejection) when `ctx` is unusable (see {@link ChangeContext}).
   */
  requestReschedule(appointmentId: string, ctx: ChangeContext): Promise<RequestRescheduleResult> {
    return this.moveTo(appointmentId, ctx, 'reschedule_requested', { done: 'reschedule_requested', already: 'already_requested' });
  }

  /**
   * A conditional confirmation: the patient will confirm once they know something, and asks to be
   * called back at `callbackAt`, which must be after the change's time and at most
   * {@link CALLBACK_WINDOW_DAYS} days after it. Saved as a pending callback; the appointment's
   * status is unchanged.
   *
   * One call keeps at most one pending callback per appointment, so a model repeating its request
   * saves it once: the same time again changes nothing (`already_requested`); another time replaces
   * the one this call saved before (the caller corrected it; logged again, with `replaces`).
   * Without a `callId` (staff) every request is a new callback.
   * @param reason what the patient needs to check first, as they said it.
   * @throws TypeError (as a rejection) when `callbackAt` is not a valid Date, or `ctx` is unusable (see {@link ChangeContext}).
   */
  async requestCallback(appointmentId: string, callbackAt: Date, reason: string, ctx: ChangeContext): Promise<CallbackResult> {
    checkContext(ctx);
    if (!(callbackAt instanceof Date && Number.isFinite(callbackAt.getTime()))) {
      throw new TypeError(`callbackAt is not a valid Date (got ${String(callbackAt)}): pass the time to call the patient back at`);
    }
    const now = (ctx.at ?? new Date()).getTime();
    const when = callbackAt.toISOString();
    return this.write(async (trx): Promise<CallbackResult> => {
      const appt = await trx.selectFrom('appointments').select(['patient_id', 'status']).where('id', '=', appointmentId).executeTakeFirst();
      if (!appt) return { result: 'not_found' };
      if (appt.status === 'cancelled') return { result: 'cancelled' };
      if (callbackAt.getTime() <= now) return { result: 'callback_in_past' };
      if (callbackAt.getTime() - now > CALLBACK_WINDOW_DAYS * DAY_MS) return { result: 'callback_too_far' };
      const earlier = ctx.callId
        ? await trx
            .selectFrom('callbacks')
            .select(['id', 'callback_at'])
            .where('appointment_id', '=', appointmentId)
            .where('call_id', '=', ctx.callId)
            .where('status', '=', 'pending')
            .orderBy('created_at', 'desc')
            .executeTakeFirst()
        : undefined;
      if (earlier?.callback_at === when) {
        await this.saveOutcome(trx, ctx);
        return { result: 'already_requested', callbackId: earlier.id };
      }
      let id: string;
      if (earlier) {
        id = earlier.id;
        await trx.updateTable('callbacks').set({ callback_at: when, reason }).where('id', '=', id).execute();
      } else {
        id = randomUUID();
        await trx
          .insertInto('callbacks')
          .values({
            id,
            patient_id: appt.patient_id,
            appointment_id: appointmentId,
            call_id: ctx.callId ?? null,
            callback_at: when,
            reason,
            status: 'pending',
            created_at: iso(ctx.at),
          })
          .execute();
      }
      const replaces = earlier ? { replaces: earlier.callback_at } : {};
      await this.log(trx, appointmentId, 'callback_requested', ctx, { callbackId: id, callbackAt: when, reason, ...replaces });
      await this.saveOutcome(trx, ctx);
      return { result: 'callback_saved', callbackId: id, ...replaces };
    });
  }

  /**
   * Free slots of a provider from `from` on, earliest first.
   * @param limit at most this many (default 5: what a caller can take in on the phone).
   */
  openSlots(providerId: string, from: Date = new Date(), limit = 5): Promise<OpenSlot[]> {
    return this.db
      .selectFrom('slots')
      .select(['id', 'provider_id', 'starts_at', 'timezone', 'duration_min', 'location'])
      .where('provider_id', '=', providerId)
      .where('appointment_id', 'is', null)
      .where('starts_at', '>', from.toISOString())
      .orderBy('starts_at')
      .limit(limit)
      .execute();
  }

  /**
   * Moves an appointment to a free slot, atomically: the new slot is taken, the old one freed and
   * the appointment takes the slot's time and place (status `confirmed`: the patient chose it).
   * The slot must be open (no other appointment holds it), start after the change's time and be
   * the appointment's provider's (the same rules as {@link openSlots}, which is where the agent's
   * slots come from); anything else is refused and nothing changes. See {@link RescheduleResult}.
   * @throws TypeError (as a rejection) when `ctx` is unusable (see {@link ChangeContext}).
   */
  async reschedule(appointmentId: string, slotId: string, ctx: ChangeContext): Promise<RescheduleResult> {
    checkContext(ctx);
    const now = (ctx.at ?? new Date()).getTime();
    return this.write(async (trx) => {
      const appt = await trx
        .selectFrom('appointments')
        .select(['status', 'slot_id', 'provider_id', 'starts_at'])
        .where('id', '=', appointmentId)
        .executeTakeFirst();
      if (!appt) return 'not_found';
      if (appt.status === 'cancelled') return 'cancelled';
      const slot = await trx.selectFrom('slots').selectAll().where('id', '=', slotId).executeTakeFirst();
      if (!slot) return 'slot_not_found';
      if (appt.slot_id === slotId) return 'already_in_slot';
      if (slot.provider_id !== appt.provider_id) return 'other_provider';
      if (Date.parse(slot.starts_at) <= now) return 'slot_in_past';
      if (slot.appointment_id !== null && slot.appointment_id !== appointmentId) return 'slot_taken';
      const taken = await trx
        .updateTable('slots')
        .set({ appointment_id: appointmentId })
        .where('id', '=', slotId)
        .where((eb) => eb.or([eb('appointment_id', 'is', null), eb('appointment_id', '=', appointmentId)]))
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) return 'slot_taken';
      await trx.updateTable('slots').set({ appointment_id: null }).where('appointment_id', '=', appointmentId).where('id', '!=', slotId).execute();
      await trx
        .updateTable('appointments')
        .set({
          slot_id: slot.id,
          starts_at: slot.starts_at,
          timezone: slot.timezone,
          duration_min: slot.duration_min,
          location: slot.location,
          status: 'confirmed',
          updated_at: iso(ctx.at),
        })
        .where('id', '=', appointmentId)
        .execute();
      await this.log(trx, appointmentId, 'rescheduled', ctx, { from: appt.starts_at, to: slot.starts_at, slotId });
      await this.saveOutcome(trx, ctx);
      return 'rescheduled';
    });
  }

  /**
   * Cancels an appointment and frees its slot, keeping the reason; cancelling again changes nothing.
   * @throws TypeError (as a rejection) when `ctx` is unusable (see {@link ChangeContext}).
   */
  async cancel(appointmentId: string, reason: string, ctx: ChangeContext): Promise<CancelResult> {
    checkContext(ctx);
    return this.write(async (trx) => {
      const row = await this.status(trx, appointmentId);
      if (!row) return 'not_found';
      if (row.status === 'cancelled') {
        await this.saveOutcome(trx, ctx);
        return 'already_cancelled';
      }
      await trx.updateTable('appointments').set({ status: 'cancelled', updated_at: iso(ctx.at) }).where('id', '=', appointmentId).execute();
      await trx.updateTable('slots').set({ appointment_id: null }).where('appointment_id', '=', appointmentId).execute();
      await this.log(trx, appointmentId, 'cancelled', ctx, { reason });
      await this.saveOutcome(trx, ctx);
      return 'cancelled';
    });
  }

  /**
   * Saves (replaces) a patient's walk-in availability.
   * @throws RangeError when `p.noticeMinutes` is not a whole number ≥ 0 (or null).
   */
  async setWalkIn(patientId: string, p: WalkInPreference, at = new Date()): Promise<void> {
    checkMinutes('noticeMinutes', p.noticeMinutes);
    const row = {
      patient_id: patientId,
      flexible: p.flexible ? 1 : 0,
      specific_times: p.flexible ? null : (p.specificTimes ?? null),
      notice_minutes: p.noticeMinutes ?? null,
      updated_at: iso(at),
    };
    await this.write((trx) =>
      trx
        .insertInto('walkin_preferences')
        .values(row)
        .onConflict((oc) => oc.column('patient_id').doUpdateSet(row))
        .execute(),
    );
  }

  /**
   * Saves (replaces) how long before an appointment the patient wants a reminder, in minutes; null = no reminders.
   * @throws RangeError when `leadMinutes` is not a whole number ≥ 0 (or null).
   */
  async setReminder(patientId: string, leadMinutes: number | null, at = new Date()): Promise<void> {
    checkMinutes('leadMinutes', leadMinutes);
    const row = { patient_id: patientId, lead_minutes: leadMinutes, updated_at: iso(at) };
    await this.write((trx) =>
      trx
        .insertInto('reminder_preferences')
        .values(row)
        .onConflict((oc) => oc.column('patient_id').doUpdateSet(row))
        .execute(),
    );
  }

  /** The changes made to an appointment, oldest first. */
  changes(appointmentId: string) {
    return this.db.selectFrom('appointment_changes').selectAll().where('appointment_id', '=', appointmentId).orderBy('id').execute();
  }
}
