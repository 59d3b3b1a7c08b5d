/**
 * Messages callers leave when nobody at the front desk can take the call, and the outbox of
 * notifications about them. A message, its call's outcome (`message_taken`) and its notification are
 * saved in one transaction: a message is never saved without its notification, nor told to the
 * caller as saved before it is (the transactional outbox pattern).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Message, OutboxRow } from './schema.js';

/** What a caller left, for {@link Messages.save}. */
export interface NewMessage {
  readonly callId: string;
  readonly patientId?: string | null;
  readonly callerName?: string | null;
  /** E.164 to call back; null when there is no valid number. */
  readonly callbackE164?: string | null;
  readonly reason?: string | null;
  /** Keypad mode: the recording's path relative to the database's folder, and its length in ms. */
  readonly recordingPath?: string | null;
  readonly recordingMs?: number | null;
  readonly via: 'keypad' | 'voice';
  /** Default now. */
  readonly at?: Date;
}

/** The notification type of a new message (the `type` of its Standard Webhooks payload). */
export const MESSAGE_CREATED = 'message.created';

/**
 * The body POSTed for a new message: `{type, timestamp, data}` as the Standard Webhooks
 * specification recommends (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#payload-structure).
 */
export function messagePayload(m: Message): { type: string; timestamp: string; data: Record<string, unknown> } {
  return {
    type: MESSAGE_CREATED,
    timestamp: m.created_at,
    data: {
      message_id: m.id,
      call_id: m.call_id,
      patient_id: m.patient_id,
      caller_name: m.caller_name,
      callback_number: m.callback_e164,
      reason: m.reason,
      recording: m.recording_path ? { path: m.recording_path, duration_ms: m.recording_ms } : null,
      via: m.via,
    },
  };
}

/** Messages left by callers (the `messages` table). */
export class Messages {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Saves a message, sets its call's outcome to `message_taken` and, when `notify`, queues its
   * notification — all in one transaction.
   * @throws the database's error: then nothing of it was saved.
   */
  async save(m: NewMessage, notify: boolean): Promise<Message> {
    const row: Message = {
      id: randomUUID(),
      call_id: m.callId,
      patient_id: m.patientId ?? null,
      caller_name: m.callerName ?? null,
      callback_e164: m.callbackE164 ?? null,
      reason: m.reason ?? null,
      recording_path: m.recordingPath ?? null,
      recording_ms: m.recordingMs ?? null,
      via: m.via,
      created_at: (m.at ?? new Date()).toISOString(),
    };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('messages').values(row).execute();
      await trx.updateTable('call_records').set({ outcome: 'message_taken' }).where('id', '=', m.callId).execute();
      if (notify) {
        await trx
          .insertInto('notify_outbox')
          .values({
            event_id: `msg_${row.id}`,
            type: MESSAGE_CREATED,
            payload: JSON.stringify(messagePayload(row)),
            created_at: row.created_at,
            next_attempt_at: row.created_at,
            attempts: 0,
          })
          .execute();
      }
    });
    return row;
  }

  /** A call's messages, oldest first. */
  async ofCall(callId: string): Promise<Message[]> {
    return this.db.selectFrom('messages').selectAll().where('call_id', '=', callId).orderBy('created_at').execute();
  }
}

/** Notifications waiting for the clinic's webhook receiver (the `notify_outbox` table). */
export class Outbox {
  constructor(private readonly db: Kysely<Database>) {}

  /** Up to `limit` notifications not delivered whose next try is due at `now`, oldest first. */
  async due(now: Date, limit = 10): Promise<OutboxRow[]> {
    return this.db
      .selectFrom('notify_outbox')
      .selectAll()
      .where('delivered_at', 'is', null)
      .where('next_attempt_at', '<=', now.toISOString())
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** Marks a notification delivered (the receiver answered 2xx). */
  async delivered(id: number, at = new Date()): Promise<void> {
    await this.db.updateTable('notify_outbox').set((eb) => ({ delivered_at: at.toISOString(), attempts: eb('attempts', '+', 1), last_error: null })).where('id', '=', id).execute();
  }

  /** Counts a failed try (`error`: the HTTP status or network error) and when to try again. */
  async failed(id: number, error: string, nextAt: Date): Promise<void> {
    await this.db
      .updateTable('notify_outbox')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: error.slice(0, 500), next_attempt_at: nextAt.toISOString() }))
      .where('id', '=', id)
      .execute();
  }

  /** Every notification, oldest first (for tests and `make calls`). */
  async all(): Promise<OutboxRow[]> {
    return this.db.selectFrom('notify_outbox').selectAll().orderBy('id').execute();
  }
}
