/**
 * The outbound dialer's LiveKit side: for each call, a room of its own, the agent dispatched into it
 * with the appointment as JSON job metadata (the agent then dials the patient through the outbound
 * trunk and keeps the call record), then the outcome read back from the store ({@link placeCall},
 * bound for a campaign by {@link liveKitCalls}); and what the dialer prints and reports. Which target
 * is dialed when is the campaign's business (./campaign.ts).
 */
import { DateTime } from 'luxon';
import { NOT_ANSWERED, RESCHEDULED } from '../call/outcome.js';
import type { LiveKitApi } from '../livekit/index.js';
import { maskPhoneNumber, redactText } from '../logging/index.js';
import type { AppointmentStore, CallRecord, CampaignTarget } from '../store/index.js';
import type { CampaignCalls, CampaignEvent } from './campaign.js';
import { writeOutboundMetadata } from '../worker/metadata.js';
import type { CallTarget, ChosenTargets, RejectedRow } from './targets.js';

/** Options of {@link placeCall}. */
export interface PlaceCallOptions {
  readonly agentName: string;
  /** How long the call may take in all (ringing + talk + slack), in ms. */
  readonly timeoutMs: number;
  /** How long to wait for a worker to take the job, in ms (default {@link DISPATCH_TIMEOUT_MS}). */
  readonly dispatchTimeoutMs?: number;
  /** The room to use (default: a new name from {@link roomNameFor}). */
  readonly room?: string;
  /** Called once the room exists and the agent is dispatched. */
  readonly onStart?: (room: string) => void;
}

/** How long a dispatched job may wait for a worker before the call counts as failed, in ms. */
export const DISPATCH_TIMEOUT_MS = 20_000;

/** The result of one call: its record (the agent's, or ours when no agent took it). */
export interface PlacedCall {
  readonly target: CallTarget;
  readonly room: string;
  readonly record: CallRecord;
  readonly startedAt: number;
  readonly endedAt: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A room name from the appointment and the time: `confirm-<appointment>-<epoch ms>`. */
export function roomNameFor(appointmentId: string, at = Date.now()): string {
  return `confirm-${appointmentId.replace(/[^\w-]/g, '_')}-${at}`;
}

/** What {@link awaitCall} found in a room: the call's closed record, or none ever opened by the dispatch deadline. */
type RoomOutcome = { readonly record: CallRecord } | { readonly record?: undefined; readonly dispatchDeadline: number };

/**
 * Waits for the call in `room` to end: its record once closed; none when no worker opened one by
 * `dispatchDeadline` (epoch ms); a record still open at `deadline` is closed as `failed`, saying so.
 */
async function awaitCall(store: AppointmentStore, room: string, dispatchDeadline: number, deadline: number, timeoutMs: number): Promise<RoomOutcome> {
  for (;;) {
    const record = (await store.callsInRoom(room))[0];
    if (record?.ended_at) return { record };
    const now = Date.now();
    if (!record && now > dispatchDeadline) return { dispatchDeadline };
    if (record && now > deadline) return { record: (await store.endCall(record.id, { outcome: 'failed', error: `the call did not end within ${Math.round(timeoutMs / 1000)} s` }))! };
    await sleep(100);
  }
}

/**
 * Places one call and waits for its outcome.
 * @throws the server API's error when the room or the dispatch cannot be created (LiveKit
 *   unreachable, wrong keys): the caller reports it as a configuration problem. Nothing was dialed.
 */
export async function placeCall(api: LiveKitApi, store: AppointmentStore, target: CallTarget, opts: PlaceCallOptions): Promise<PlacedCall> {
  const startedAt = Date.now();
  const room = opts.room ?? roomNameFor(target.appointmentId, startedAt);
  const metadata = writeOutboundMetadata({ appointmentId: target.appointmentId, phoneNumber: target.phoneNumber });
  await api.rooms.createRoom({ name: room, emptyTimeout: 60, maxParticipants: 4, metadata });
  try {
    await api.dispatch.createDispatch(room, opts.agentName, { metadata });
    opts.onStart?.(room);
    const dispatchTimeoutMs = opts.dispatchTimeoutMs ?? DISPATCH_TIMEOUT_MS;
    const found = await awaitCall(store, room, startedAt + dispatchTimeoutMs, startedAt + opts.timeoutMs, opts.timeoutMs);
    if (found.record) return { target, room, record: found.record, startedAt, endedAt: Date.now() };
    const error = `no worker took the call within ${Math.round(dispatchTimeoutMs / 1000)} s: is the worker running with AGENT_NAME=${opts.agentName}? (a worker that refused the job says why in its log)`;
    const own = await store.startCall({ room, direction: 'outbound', mode: 'none', phoneE164: target.phoneNumber, appointmentId: target.appointmentId });
    const closed = (await store.endCall(own.id, { outcome: 'failed', error }))!;
    return { target, room, record: closed, startedAt, endedAt: Date.now() };
  } finally {
    await api.rooms.deleteRoom(room).catch(() => undefined);
  }
}

/**
 * A campaign's calls placed through LiveKit ({@link placeCall} in the room the campaign claimed).
 * A target left claimed by a dialer that died is recovered from its room: the call's record, once
 * it ends (the agent's job carries on without the dialer); or, when no worker opened one by the
 * dispatch deadline, nothing — the room is deleted first, which ends a dispatch still waiting, so
 * the target can be dialed again without two calls.
 */
export function liveKitCalls(api: LiveKitApi, store: AppointmentStore, opts: Omit<PlaceCallOptions, 'room' | 'onStart'>): CampaignCalls {
  const dispatchTimeoutMs = opts.dispatchTimeoutMs ?? DISPATCH_TIMEOUT_MS;
  return {
    roomFor: (target, at) => roomNameFor(target.appointment_id, at.getTime()),
    async place(target, room) {
      const placed = await placeCall(api, store, { appointmentId: target.appointment_id, phoneNumber: target.phone_e164, source: 'campaign' }, { ...opts, room });
      return placed.record;
    },
    async recover(target) {
      const room = target.room!;
      const claimedAt = Date.parse(target.claimed_at ?? target.updated_at);
      const found = await awaitCall(store, room, claimedAt + dispatchTimeoutMs, Math.max(claimedAt + opts.timeoutMs, Date.now() + 5000), opts.timeoutMs);
      await api.rooms.deleteRoom(room).catch(() => undefined);
      if (found.record) return found.record;
      // A worker may have opened the record as the room went: then that call is the attempt.
      if ((await store.callsInRoom(room)).length === 0) return undefined;
      return (await awaitCall(store, room, 0, Date.now() + opts.timeoutMs, opts.timeoutMs)).record;
    },
    async stale(target, now) {
      const a = await store.getAppointment(target.appointment_id);
      if (!a) return `appointment ${target.appointment_id} is no longer in the store`;
      if (a.status === 'cancelled' || a.status === 'confirmed') return `appointment ${target.appointment_id} is ${a.status} now`;
      if (DateTime.fromISO(a.starts_at).toMillis() <= now.getTime()) return `appointment ${target.appointment_id} has started`;
      return undefined;
    },
  };
}

/** A campaign's counts, over its targets (each counted by its latest call). */
export interface CampaignSummary {
  /** Targets in the campaign. */
  targets: number;
  /** Calls placed, retries included. */
  placed: number;
  /** Targets whose latest call a person answered. */
  answered: number;
  confirmed: number;
  /** Wanting another time (`RESCHEDULED` of src/call/outcome.ts). */
  rescheduled: number;
  /** Targets whose latest call reached an answering machine (a message was left). */
  voicemail: number;
  /** Patients who asked not to be called again (key 9, or said so). */
  optedOut: number;
  /** Targets whose latest call did not connect, by outcome. */
  failed: Record<string, number>;
  /** Targets never dialed (do-not-call, appointment changed, hours never open) plus input rows rejected. */
  skipped: number;
  /** Targets still to dial (retries, calling windows) or being dialed. */
  pending: number;
}

/** The campaign's counts (see {@link CampaignSummary}); `rejected` input rows count as skipped. */
export function summarize(targets: readonly CampaignTarget[], rejected = 0): CampaignSummary {
  const s: CampaignSummary = { targets: targets.length, placed: 0, answered: 0, confirmed: 0, rescheduled: 0, voicemail: 0, optedOut: 0, failed: {}, skipped: rejected, pending: 0 };
  for (const t of targets) {
    s.placed += t.attempts;
    if (t.state === 'skipped') s.skipped++;
    if (t.state === 'pending' || t.state === 'dialing') s.pending++;
    const o = t.last_outcome as CallRecord['outcome'] | null;
    if (!o || t.state === 'dialing') continue;
    if (o === 'voicemail') s.voicemail++;
    else if (NOT_ANSWERED.has(o)) s.failed[o] = (s.failed[o] ?? 0) + 1;
    else s.answered++;
    if (o === 'confirmed') s.confirmed++;
    if (o === 'opted_out') s.optedOut++;
    if (RESCHEDULED.has(o)) s.rescheduled++;
  }
  return s;
}

/** Most calls one run places without `--yes`. */
export const DEFAULT_MAX_CALLS = 500;

/** What {@link planCampaign} decides from the chosen targets. */
export type CampaignPlan =
  /** Place the calls; `message` says how many and how many rows were skipped. */
  | { readonly go: true; readonly message: string }
  /** Place none, print `message` (to stderr when `exitCode` is 1) and exit with `exitCode`. */
  | { readonly go: false; readonly exitCode: 0 | 1; readonly message: string };

/** Options of {@link planCampaign}. */
export interface PlanOptions {
  /** The file the targets came from; undefined when they came from the store. */
  readonly file?: string;
  /** Most calls to place without `yes` (≥ 1). */
  readonly maxCalls: number;
  /** The operator said yes to more than `maxCalls` calls (`--yes`). */
  readonly yes: boolean;
}

/**
 * Whether the dialer starts, and its exit code when it does not:
 * - no target from a file (empty, or every row rejected), or from the store when the store had
 *   appointments but every one was rejected: exit 1, saying so;
 * - nothing to confirm in the store: exit 0;
 * - more than `maxCalls` targets without `yes`: exit 1, with the count and how to go ahead;
 * - otherwise go.
 */
export function planCampaign(chosen: ChosenTargets, opts: PlanOptions): CampaignPlan {
  const { targets, rejected } = chosen;
  const from = opts.file ?? 'the store';
  if (targets.length === 0) {
    if (opts.file) {
      const why = rejected.length ? `all ${rejected.length} row(s) were skipped (reasons above)` : 'it has no rows to call';
      return { go: false, exitCode: 1, message: `no call to place: ${opts.file}: ${why}; fix the rows and run again` };
    }
    if (rejected.length) return { go: false, exitCode: 1, message: `no call to place: all ${rejected.length} appointment(s) to confirm in the store were skipped (reasons above)` };
    return { go: false, exitCode: 0, message: 'no call to place: no appointment in the store needs confirming' };
  }
  if (targets.length > opts.maxCalls && !opts.yes) {
    return {
      go: false,
      exitCode: 1,
      message: `${targets.length} calls to place from ${from}, more than --max-calls ${opts.maxCalls}; none placed. Check the list, then run again with --yes to place all ${targets.length} (or raise --max-calls)`,
    };
  }
  const skipped = rejected.length ? `, ${rejected.length} row(s) skipped` : '';
  return { go: true, message: `${targets.length} call(s) to place from ${from}${skipped}` };
}

/** A target as the dialer's output shows it: the number masked to its last 4 digits. */
export function targetRow(t: CampaignTarget) {
  return {
    appointmentId: t.appointment_id,
    phoneNumber: maskPhoneNumber(t.phone_e164),
    state: t.state,
    attempts: t.attempts,
    lastOutcome: t.last_outcome,
    sipStatus: t.last_sip_status,
    lastAttemptAt: t.last_attempt_at,
    nextAt: t.state === 'pending' ? t.next_at : null,
    timezone: t.timezone,
    detail: t.detail === null ? null : redactText(t.detail),
  };
}

/** The report of a campaign (`--json`'s last line): its id, whether it finished, the counts and every target. */
export function campaignReport(campaignId: string, finished: boolean, targets: readonly CampaignTarget[], rejected: readonly RejectedRow[]) {
  return { event: 'summary' as const, campaign: campaignId, finished, summary: summarize(targets, rejected.length), targets: targets.map(targetRow), rejected };
}

/** Columns of `--report FILE.csv`, one row per target. */
export const REPORT_COLUMNS = ['appointment_id', 'phone_number', 'state', 'attempts', 'last_outcome', 'sip_status', 'last_attempt_at', 'next_attempt_at', 'timezone', 'detail'] as const;

/** A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180 §2). */
const csvField = (v: string | number | null) => {
  const text = v === null ? '' : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/**
 * `--report FILE.csv`: a header of {@link REPORT_COLUMNS} and one row per target, in input order,
 * with the full E.164 number (the clinic calls back from it; the file is written 0600).
 */
export function reportCsv(targets: readonly CampaignTarget[]): string {
  const rows = targets.map((t) =>
    [t.appointment_id, t.phone_e164, t.state, t.attempts, t.last_outcome, t.last_sip_status, t.last_attempt_at, t.state === 'pending' ? t.next_at : null, t.timezone, t.detail].map(csvField).join(','),
  );
  return `${[REPORT_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}

/** The line printed for a campaign event (numbers masked), or undefined for none. */
export function eventLine(e: CampaignEvent): string {
  const who = `${maskPhoneNumber(e.type === 'waiting' ? '' : e.target.phone_e164)} appointment ${e.type === 'waiting' ? '' : e.target.appointment_id}`;
  switch (e.type) {
    case 'skipped':
      return `skipped ${who}: ${redactText(e.reason)}`;
    case 'deferred':
      return `deferred ${who} to ${e.until.toISOString()}: ${redactText(e.reason)}`;
    case 'dialing':
      return `dialing ${who} (attempt ${e.attempt})`;
    case 'released':
      return `${who}: its call was never placed (the dialer stopped first); it will be dialed`;
    case 'waiting':
      return `waiting until ${e.until.toISOString()} for ${e.pending} target(s) (retries, calling hours)`;
    case 'ended': {
      const sip = e.record.sip_status ? ` (SIP ${e.record.sip_status})` : '';
      const error = e.record.error && e.record.outcome === 'failed' ? ` — ${redactText(e.record.error)}` : '';
      const retry = e.retryAt ? `; will try again after ${e.retryAt.toISOString()}` : '';
      return `${who}: ${e.record.outcome}${sip}${error} (attempt ${e.attempt}${e.recovered ? ', recovered' : ''})${retry}`;
    }
  }
}

/** One JSON line per event (`--json`, or when stdout is not a terminal): numbers masked. */
export function eventJson(e: CampaignEvent): Record<string, unknown> {
  const at = new Date().toISOString();
  if (e.type === 'waiting') return { event: e.type, at, until: e.until.toISOString(), pending: e.pending };
  const base = { event: e.type, at, appointmentId: e.target.appointment_id, phoneNumber: maskPhoneNumber(e.target.phone_e164) };
  switch (e.type) {
    case 'skipped':
      return { ...base, reason: redactText(e.reason) };
    case 'deferred':
      return { ...base, until: e.until.toISOString(), reason: redactText(e.reason) };
    case 'dialing':
      return { ...base, at: e.at.toISOString(), room: e.room, attempt: e.attempt };
    case 'released':
      return base;
    case 'ended':
      return {
        ...base,
        room: e.record.room,
        attempt: e.attempt,
        outcome: e.record.outcome,
        sipStatus: e.record.sip_status,
        error: e.record.error === null ? null : redactText(e.record.error),
        startedAt: e.record.started_at,
        endedAt: e.record.ended_at,
        retryAt: e.retryAt?.toISOString() ?? null,
        recovered: e.recovered,
      };
  }
}
