/**
 * The do-not-call list: numbers the clinic must never dial again — added by staff (`make dnc`), from
 * a file, or by the patient in a call (key 9, or telling the voice model). The dialer reads it before
 * every dial; nothing else dials.
 */
import type { Kysely } from 'kysely';
import type { Database, DoNotCallEntry, DoNotCallSource } from './schema.js';

/** What to add, for {@link DoNotCall.add}. */
export interface NewDoNotCall {
  /** E.164 (already checked by the caller: src/phone's `toE164`). */
  readonly phoneE164: string;
  readonly source: DoNotCallSource;
  readonly reason?: string | null;
  /** The call in which the patient asked (sources `keypad` and `voice`). */
  readonly callId?: string | null;
  /** Default now. */
  readonly at?: Date;
}

/** Inserts an entry unless the number is listed already (its first entry stays). @returns whether it was inserted. */
async function insert(db: Kysely<Database>, e: NewDoNotCall): Promise<boolean> {
  const r = await db
    .insertInto('do_not_call')
    .values({ phone_e164: e.phoneE164, source: e.source, reason: e.reason ?? null, call_id: e.callId ?? null, added_at: (e.at ?? new Date()).toISOString() })
    .onConflict((oc) => oc.column('phone_e164').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** The `do_not_call` table. */
export class DoNotCall {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Puts a number on the list; a number already there keeps its first entry (when and why it was
   * first added is what a complaint needs).
   * @returns true when it was added, false when it was already on the list.
   * @throws the database's error: then it was not added.
   */
  async add(e: NewDoNotCall): Promise<boolean> {
    return insert(this.db, e);
  }

  /**
   * The patient asked in a call not to be called again: their number goes on the list and the
   * call's outcome becomes `opted_out`, in one transaction — neither is saved without the other.
   * @returns true when the number was added now, false when it was on the list already.
   * @throws the database's error: then nothing was saved.
   */
  async optOutFromCall(callId: string, phoneE164: string, source: 'keypad' | 'voice', at = new Date()): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const added = await insert(trx, { phoneE164, source, reason: 'asked during a call', callId, at });
      await trx.updateTable('call_records').set({ outcome: 'opted_out' }).where('id', '=', callId).execute();
      return added;
    });
  }

  /** Takes a number off the list. @returns whether it was on it. */
  async remove(phoneE164: string): Promise<boolean> {
    const r = await this.db.deleteFrom('do_not_call').where('phone_e164', '=', phoneE164).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** The entry for a number, or undefined when it may be dialed. */
  async get(phoneE164: string): Promise<DoNotCallEntry | undefined> {
    return this.db.selectFrom('do_not_call').selectAll().where('phone_e164', '=', phoneE164).executeTakeFirst();
  }

  /** Every entry, oldest first. */
  async list(): Promise<DoNotCallEntry[]> {
    return this.db.selectFrom('do_not_call').selectAll().orderBy('added_at').orderBy('phone_e164').execute();
  }
}
