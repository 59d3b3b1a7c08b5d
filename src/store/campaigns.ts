/**
 * Campaigns of outbound calls as the database keeps them: each target's state, attempts and next
 * time. A target moves `pending` → `dialing` (claimed: one conditional update, so two dialers — or a
 * dialer and its restarted self — never both dial it) → `pending` again (a retry, or its calling
 * window later) or `done`; `skipped` targets are never dialed. The dialer's rules (when to retry,
 * calling hours, pacing) live in src/outbound/campaign.ts; this file only keeps state.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Campaign, CampaignTarget, Database, TargetState } from './schema.js';

/** A target as a new campaign lists it. */
export interface NewCampaignTarget {
  readonly appointmentId: string;
  /** E.164. */
  readonly phoneE164: string;
  /** IANA zone of its calling hours, and where it came from (`patient`, `number`, `clinic`). */
  readonly timezone: string;
  readonly timezoneSource: string;
  /** Set when it is never to be dialed (e.g. on the do-not-call list): why. */
  readonly skipped?: string;
}

/** What {@link Campaigns.create} needs. */
export interface NewCampaign {
  readonly source: string;
  readonly sourceKey: string;
  /** Saved as JSON. */
  readonly settings: unknown;
  readonly targets: readonly NewCampaignTarget[];
  readonly at?: Date;
}

/** A campaign with how many of its targets are in each state. */
export interface CampaignCounts extends Campaign {
  readonly total: number;
  readonly pending: number;
  readonly dialing: number;
  readonly done: number;
  readonly skipped: number;
}

/** How an attempt ended, for {@link Campaigns.finishAttempt}. */
export interface AttemptEnd {
  readonly outcome: string;
  readonly sipStatus: number | null;
  /** When the call ended. */
  readonly at: Date;
  /** Dial again, not before this time; absent: the target is done. */
  readonly retryAt?: Date;
}

const iso = (d: Date) => d.toISOString();

/** The `campaigns` and `campaign_targets` tables. */
export class Campaigns {
  constructor(private readonly db: Kysely<Database>) {}

  /** Saves a campaign and all its targets in one transaction (pending ones due at once). */
  async create(c: NewCampaign): Promise<Campaign> {
    const at = iso(c.at ?? new Date());
    const campaign: Campaign = { id: randomUUID(), source: c.source, source_key: c.sourceKey, settings: JSON.stringify(c.settings), created_at: at, finished_at: null };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('campaigns').values(campaign).execute();
      for (const [position, t] of c.targets.entries()) {
        await trx
          .insertInto('campaign_targets')
          .values({
            campaign_id: campaign.id,
            position,
            appointment_id: t.appointmentId,
            phone_e164: t.phoneE164,
            timezone: t.timezone,
            timezone_source: t.timezoneSource,
            state: t.skipped ? 'skipped' : 'pending',
            detail: t.skipped ?? null,
            attempts: 0,
            next_at: at,
            updated_at: at,
          })
          .execute();
      }
    });
    return campaign;
  }

  async get(id: string): Promise<Campaign | undefined> {
    return this.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The newest unfinished campaign made from the same source, if any. */
  async unfinished(sourceKey: string): Promise<Campaign | undefined> {
    return this.db.selectFrom('campaigns').selectAll().where('source_key', '=', sourceKey).where('finished_at', 'is', null).orderBy('created_at', 'desc').executeTakeFirst();
  }

  /** Campaigns, newest first, with their targets counted by state. */
  async list(limit = 50): Promise<CampaignCounts[]> {
    const rows = await this.db.selectFrom('campaigns').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
    return Promise.all(rows.map(async (c) => ({ ...c, ...(await this.counts(c.id)) })));
  }

  /** How many of a campaign's targets are in each state. */
  async counts(campaignId: string): Promise<Omit<CampaignCounts, keyof Campaign>> {
    const rows = await this.db
      .selectFrom('campaign_targets')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', campaignId)
      .groupBy('state')
      .execute();
    const n = (s: TargetState) => Number(rows.find((r) => r.state === s)?.n ?? 0);
    return { total: rows.reduce((sum, r) => sum + Number(r.n), 0), pending: n('pending'), dialing: n('dialing'), done: n('done'), skipped: n('skipped') };
  }

  /** Every target of a campaign, in input order. */
  async targets(campaignId: string): Promise<CampaignTarget[]> {
    return this.db.selectFrom('campaign_targets').selectAll().where('campaign_id', '=', campaignId).orderBy('position').execute();
  }

  /** The pending target due first at `now` (earliest `next_at`, then input order), if any. */
  async nextDue(campaignId: string, now: Date): Promise<CampaignTarget | undefined> {
    return this.db
      .selectFrom('campaign_targets')
      .selectAll()
      .where('campaign_id', '=', campaignId)
      .where('state', '=', 'pending')
      .where('next_at', '<=', iso(now))
      .orderBy('next_at')
      .orderBy('position')
      .executeTakeFirst();
  }

  /** When the next pending target falls due, or undefined when none is pending. */
  async nextPendingAt(campaignId: string): Promise<Date | undefined> {
    const row = await this.db
      .selectFrom('campaign_targets')
      .select((eb) => eb.fn.min('next_at').as('at'))
      .where('campaign_id', '=', campaignId)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return row?.at ? new Date(row.at as string) : undefined;
  }

  /** Targets claimed but not finished: calls under way, or left by a dialer that died. */
  async dialing(campaignId: string): Promise<CampaignTarget[]> {
    return this.db.selectFrom('campaign_targets').selectAll().where('campaign_id', '=', campaignId).where('state', '=', 'dialing').orderBy('position').execute();
  }

  /**
   * Claims a pending target for one call in `room`: counts the attempt and saves the room before
   * anything is dialed.
   * @returns false when it was no longer pending (another dialer claimed it): then do not dial.
   */
  async claim(targetId: number, room: string, now: Date): Promise<boolean> {
    const r = await this.db
      .updateTable('campaign_targets')
      .set((eb) => ({ state: 'dialing', attempts: eb('attempts', '+', 1), room, claimed_at: iso(now), last_attempt_at: iso(now), updated_at: iso(now) }))
      .where('id', '=', targetId)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** A claimed target whose call was never placed (no dispatch reached a worker): pending again, the attempt not counted. */
  async release(targetId: number, room: string, now: Date): Promise<void> {
    await this.db
      .updateTable('campaign_targets')
      .set((eb) => ({ state: 'pending', attempts: eb('attempts', '-', 1), next_at: iso(now), updated_at: iso(now) }))
      .where('id', '=', targetId)
      .where('state', '=', 'dialing')
      .where('room', '=', room)
      .execute();
  }

  /** The end of the call in `room`: pending again at `retryAt`, or done. Ignored if the target has moved on. */
  async finishAttempt(targetId: number, room: string, end: AttemptEnd): Promise<void> {
    await this.db
      .updateTable('campaign_targets')
      .set({
        state: end.retryAt ? 'pending' : 'done',
        next_at: end.retryAt ? iso(end.retryAt) : iso(end.at),
        last_outcome: end.outcome,
        last_sip_status: end.sipStatus,
        updated_at: iso(end.at),
      })
      .where('id', '=', targetId)
      .where('state', '=', 'dialing')
      .where('room', '=', room)
      .execute();
  }

  /** A pending target not to be dialed before `until` (its calling window opens then); `detail` says why. */
  async defer(targetId: number, until: Date, detail: string, now: Date): Promise<void> {
    await this.db.updateTable('campaign_targets').set({ next_at: iso(until), detail, updated_at: iso(now) }).where('id', '=', targetId).where('state', '=', 'pending').execute();
  }

  /** A pending target that will never be dialed (e.g. its number went on the do-not-call list). */
  async skip(targetId: number, detail: string, now: Date): Promise<void> {
    await this.db.updateTable('campaign_targets').set({ state: 'skipped', detail, updated_at: iso(now) }).where('id', '=', targetId).where('state', '=', 'pending').execute();
  }

  /** Marks the campaign finished when none of its targets is pending or being dialed. @returns whether it is finished. */
  async finishIfDone(campaignId: string, now: Date): Promise<boolean> {
    const c = await this.counts(campaignId);
    if (c.pending + c.dialing > 0) return false;
    await this.db.updateTable('campaigns').set({ finished_at: iso(now) }).where('id', '=', campaignId).where('finished_at', 'is', null).execute();
    return true;
  }
}
