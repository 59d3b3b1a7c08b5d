/**
 * A campaign's rules, over the state the store keeps (src/store/campaigns.ts): which target is
 * dialed next and when — never a number on the do-not-call list, only inside the callee's calling
 * hours, at most `concurrency` at once and `delayMs` apart — and what an ended call means for the
 * target: done, or dialed again later (busy, no answer, a voicemail; up to `maxAttempts` in all).
 * Each target is claimed in the database before it is dialed, so a dialer that dies and starts
 * again picks up where it was and dials nobody twice. How a call is placed is given
 * ({@link CampaignCalls}: ./dialer.ts binds it to LiveKit), and so is the clock, which tests move.
 */
import { DateTime } from 'luxon';
import type { CallOutcome } from '../call/outcome.js';
import { nextOpening, type OpeningHours } from '../config/hours.js';
import type { AppointmentStore, CallRecord, CampaignTarget } from '../store/index.js';

/** Outcomes worth another try later: the patient may answer next time (issue 15: busy, no answer, voicemail). Others — a wrong number, a refusal, an answered call — are final. */
export const RETRY_OUTCOMES: ReadonlySet<CallOutcome> = new Set<CallOutcome>(['busy', 'no_answer', 'voicemail']);

/** A campaign's settings, saved with it (a resumed campaign keeps them unless the dialer is told otherwise). */
export interface CampaignSettings {
  /** Calls to one target in all, first included (≥ 1; default 3). */
  readonly maxAttempts: number;
  /** Wait before dialing a target again, in s (default 7200). */
  readonly retryAfterS: number;
  /** When callees may be called, in their own zone (`CALLING_HOURS`, format of src/config/hours.ts). */
  readonly callingHours: string;
  /** Delay between the starts of two calls, in ms. */
  readonly delayMs: number;
  /** Most calls at once (≥ 1). */
  readonly concurrency: number;
}

/** Time as the campaign sees it: the real clock, or one a test moves. */
export interface Clock {
  now(): Date;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** The wall clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms))),
};

/** How a campaign's calls are placed (./dialer.ts: a LiveKit room, an explicit dispatch, the outcome read back). */
export interface CampaignCalls {
  /** A fresh room name for a call to `target`. */
  roomFor(target: CampaignTarget, at: Date): string;
  /**
   * Places the call in `room` and resolves with its closed record.
   * @throws when the call could not be placed at all (LiveKit unreachable, wrong keys): nothing was dialed.
   */
  place(target: CampaignTarget, room: string): Promise<CallRecord>;
  /**
   * A target found claimed when the campaign (re)starts — its dialer died, or another still runs
   * it: the closed record of the call in its room (waiting for it to end), or undefined when no
   * call was ever placed there (the room is then made unusable, so a late dispatch cannot dial).
   */
  recover(target: CampaignTarget): Promise<CallRecord | undefined>;
  /** Why `target` must no longer be dialed (its appointment was confirmed, cancelled or has started meanwhile), or undefined. */
  stale(target: CampaignTarget, now: Date): Promise<string | undefined>;
}

/** What happens, in order, for the dialer's output. Numbers are in the targets; mask them when shown. */
export type CampaignEvent =
  | { readonly type: 'skipped'; readonly target: CampaignTarget; readonly reason: string }
  | { readonly type: 'deferred'; readonly target: CampaignTarget; readonly until: Date; readonly reason: string }
  | { readonly type: 'dialing'; readonly target: CampaignTarget; readonly room: string; readonly attempt: number; /** When it was claimed. */ readonly at: Date }
  | { readonly type: 'ended'; readonly target: CampaignTarget; readonly record: CallRecord; readonly attempt: number; readonly retryAt?: Date; readonly recovered: boolean }
  | { readonly type: 'released'; readonly target: CampaignTarget }
  | { readonly type: 'waiting'; readonly until: Date; readonly pending: number };

/** Options of {@link runCampaign}. */
export interface RunOptions {
  readonly settings: CampaignSettings;
  /** {@link CampaignSettings.callingHours} parsed. */
  readonly hours: OpeningHours;
  readonly calls: CampaignCalls;
  readonly clock?: Clock;
  /**
   * When nothing is due now but targets are pending (retries, calling windows): wait for them
   * (true), or stop and leave them for a later run (false).
   */
  readonly wait: boolean;
  readonly onEvent?: (e: CampaignEvent) => void;
}

/** How a run ended: every target done or skipped, or targets left pending for a later run (`wait` false). */
export type RunEnd = { readonly finished: true } | { readonly finished: false; readonly nextAt: Date };

/**
 * Runs (or continues) a campaign until every target is done or skipped — or, with `wait` false,
 * until nothing is due. Targets left claimed by an earlier dialer are recovered first, never dialed
 * again. A call that cannot be placed (the LiveKit API failed) stops the campaign: its target goes
 * back to pending, calls under way finish, and the error is thrown.
 */
export async function runCampaign(store: AppointmentStore, campaignId: string, opts: RunOptions): Promise<RunEnd> {
  const { settings, calls } = opts;
  const clock = opts.clock ?? systemClock;
  const emit = opts.onEvent ?? (() => undefined);
  const campaigns = store.campaigns;
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;

  /** A claimed target's call ended: done, or pending again at the retry time (in its calling hours, checked when due). */
  const finish = async (target: CampaignTarget, room: string, record: CallRecord, attempt: number, recovered: boolean) => {
    const at = clock.now();
    const retry = RETRY_OUTCOMES.has(record.outcome) && attempt < settings.maxAttempts;
    const retryAt = retry ? new Date(at.getTime() + settings.retryAfterS * 1000) : undefined;
    await campaigns.finishAttempt(target.id, room, { outcome: record.outcome, sipStatus: record.sip_status, at, retryAt });
    emit({ type: 'ended', target, record, attempt, retryAt, recovered });
  };
  const track = (p: Promise<void>) => {
    const q = p
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => running.delete(q));
    running.add(q);
  };

  for (const target of await campaigns.dialing(campaignId)) {
    track(
      (async () => {
        const record = await calls.recover(target);
        if (record) await finish(target, target.room!, record, target.attempts, true);
        else {
          await campaigns.release(target.id, target.room!, clock.now());
          emit({ type: 'released', target });
        }
      })(),
    );
  }

  let nextStart = 0;
  for (;;) {
    while (running.size >= Math.max(1, settings.concurrency)) await Promise.race(running);
    if (failure) break;
    const now = clock.now();
    const target = await campaigns.nextDue(campaignId, now);
    if (!target) {
      if (running.size > 0) {
        await Promise.race(running);
        continue;
      }
      const nextAt = await campaigns.nextPendingAt(campaignId);
      if (!nextAt) break;
      if (!opts.wait) return { finished: false, nextAt };
      emit({ type: 'waiting', until: nextAt, pending: (await campaigns.counts(campaignId)).pending });
      await clock.sleep(nextAt.getTime() - clock.now().getTime());
      continue;
    }
    const listed = await store.doNotCall.get(target.phone_e164);
    if (listed) {
      const reason = `on the do-not-call list since ${listed.added_at.slice(0, 10)} (${listed.source})`;
      await campaigns.skip(target.id, reason, now);
      emit({ type: 'skipped', target, reason });
      continue;
    }
    const stale = await calls.stale(target, now);
    if (stale) {
      await campaigns.skip(target.id, stale, now);
      emit({ type: 'skipped', target, reason: stale });
      continue;
    }
    const opens = nextOpening(opts.hours, DateTime.fromJSDate(now), [target.timezone]);
    if (!opens) {
      const reason = `calling hours "${opts.hours.text}" never open in ${target.timezone}`;
      await campaigns.skip(target.id, reason, now);
      emit({ type: 'skipped', target, reason });
      continue;
    }
    if (opens.toMillis() > now.getTime()) {
      const local = opens.setZone(target.timezone);
      const reason = `outside calling hours in ${target.timezone} (${target.timezone_source}); next window ${local.toFormat('ccc HH:mm')} there`;
      await campaigns.defer(target.id, opens.toJSDate(), reason, now);
      emit({ type: 'deferred', target, until: opens.toJSDate(), reason });
      continue;
    }
    const wait = nextStart - now.getTime();
    if (wait > 0) {
      await clock.sleep(wait);
      continue; // time has passed: look again (hours, the list)
    }
    const room = calls.roomFor(target, now);
    if (!(await campaigns.claim(target.id, room, now))) continue;
    nextStart = now.getTime() + settings.delayMs;
    const attempt = target.attempts + 1;
    emit({ type: 'dialing', target, room, attempt, at: now });
    track(
      (async () => {
        let record: CallRecord;
        try {
          record = await calls.place(target, room);
        } catch (err) {
          await campaigns.release(target.id, room, clock.now());
          throw err;
        }
        await finish(target, room, record, attempt, false);
      })(),
    );
  }
  await Promise.all(running);
  if (failure) throw failure.error;
  const nextAt = await campaigns.nextPendingAt(campaignId);
  if (nextAt) return { finished: false, nextAt };
  await campaigns.finishIfDone(campaignId, clock.now());
  return { finished: true };
}
