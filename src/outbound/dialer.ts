/**
 * The outbound dialer: for each target, a room of its own, the agent dispatched into it with the
 * appointment as JSON job metadata (the agent then dials the patient through the outbound trunk
 * and keeps the call record), then the outcome read back from the store. Calls are paced: a delay
 * between starts and a cap on calls at once.
 */
import { NOT_ANSWERED, RESCHEDULED } from '../call/outcome.js';
import type { LiveKitApi } from '../livekit/index.js';
import { maskPhoneNumber, redactText } from '../logging/index.js';
import type { AppointmentStore, CallRecord } from '../store/index.js';
import { writeOutboundMetadata } from './metadata.js';
import type { CallTarget, ChosenTargets, RejectedRow } from './targets.js';

/** Options of {@link placeCall}. */
export interface PlaceCallOptions {
  readonly agentName: string;
  /** How long the call may take in all (ringing + talk + slack), in ms. */
  readonly timeoutMs: number;
  /** How long to wait for a worker to take the job, in ms. */
  readonly dispatchTimeoutMs?: number;
  /** Called once the room exists and the agent is dispatched. */
  readonly onStart?: (room: string) => void;
}

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

/**
 * Places one call and waits for its outcome.
 * @throws the server API's error when the room or the dispatch cannot be created (LiveKit
 *   unreachable, wrong keys): the caller reports it as a configuration problem.
 */
export async function placeCall(api: LiveKitApi, store: AppointmentStore, target: CallTarget, opts: PlaceCallOptions): Promise<PlacedCall> {
  const startedAt = Date.now();
  const room = roomNameFor(target.appointmentId, startedAt);
  const metadata = writeOutboundMetadata({ appointmentId: target.appointmentId, phoneNumber: target.phoneNumber });
  await api.rooms.createRoom({ name: room, emptyTimeout: 60, maxParticipants: 4, metadata });
  try {
    await api.dispatch.createDispatch(room, opts.agentName, { metadata });
    opts.onStart?.(room);
    const dispatchDeadline = startedAt + (opts.dispatchTimeoutMs ?? 20_000);
    const deadline = startedAt + opts.timeoutMs;
    for (;;) {
      const record = (await store.callsInRoom(room))[0];
      if (record?.ended_at) return { target, room, record, startedAt, endedAt: Date.now() };
      const now = Date.now();
      if ((!record && now > dispatchDeadline) || now > deadline) {
        const error = record
          ? `the call did not end within ${Math.round(opts.timeoutMs / 1000)} s`
          : `no worker took the call within ${Math.round((dispatchDeadline - startedAt) / 1000)} s: is the worker running with AGENT_NAME=${opts.agentName}? (a worker that refused the job says why in its log)`;
        const own = record ?? (await store.startCall({ room, direction: 'outbound', mode: 'none', phoneE164: target.phoneNumber, appointmentId: target.appointmentId }));
        const closed = (await store.endCall(own.id, { outcome: 'failed', error }))!;
        return { target, room, record: closed, startedAt, endedAt: Date.now() };
      }
      await sleep(100);
    }
  } finally {
    await api.rooms.deleteRoom(room).catch(() => undefined);
  }
}

/** Options of {@link runCampaign}. */
export interface CampaignOptions extends PlaceCallOptions {
  /** Delay between the starts of two calls, in ms (0 allowed). */
  readonly delayMs: number;
  /** Most calls at once (≥ 1). */
  readonly concurrency: number;
  /** Called as each call ends. */
  readonly onResult?: (call: PlacedCall, done: number, total: number) => void;
}

/**
 * Places every target, starting calls at least `delayMs` apart and never more than
 * `concurrency` at once. A server API failure stops the campaign and propagates (no further calls
 * are placed; calls under way finish first).
 */
export async function runCampaign(api: LiveKitApi, store: AppointmentStore, targets: readonly CallTarget[], opts: CampaignOptions): Promise<PlacedCall[]> {
  const results: PlacedCall[] = [];
  const running = new Set<Promise<void>>();
  let nextStart = 0;
  let failure: unknown;
  for (const target of targets) {
    while (running.size >= Math.max(1, opts.concurrency)) await Promise.race(running);
    if (failure) break;
    const wait = nextStart - Date.now();
    if (wait > 0) await sleep(wait);
    nextStart = Date.now() + opts.delayMs;
    const p: Promise<void> = placeCall(api, store, target, opts)
      .then((r) => {
        results.push(r);
        opts.onResult?.(r, results.length, targets.length);
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => running.delete(p));
    running.add(p);
  }
  await Promise.all(running);
  if (failure) throw failure;
  return results;
}

/** Counts for the summary table. */
export interface CampaignSummary {
  placed: number;
  answered: number;
  confirmed: number;
  rescheduled: number;
  /** Calls that did not connect or failed, by outcome. */
  failed: Record<string, number>;
  /** Rows of the input that were not dialed. */
  skipped: number;
}

/**
 * The campaign's counts: answered or not (`NOT_ANSWERED` of src/call/outcome.ts, counted by
 * outcome), confirmed, wanting another time (`RESCHEDULED`), and the input rows skipped.
 */
export function summarize(calls: readonly PlacedCall[], skipped: number): CampaignSummary {
  const s: CampaignSummary = { placed: calls.length, answered: 0, confirmed: 0, rescheduled: 0, failed: {}, skipped };
  for (const c of calls) {
    const o = c.record.outcome;
    if (NOT_ANSWERED.has(o)) s.failed[o] = (s.failed[o] ?? 0) + 1;
    else s.answered++;
    if (o === 'confirmed') s.confirmed++;
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

/** The line the dialer prints as a call ends, its number masked: `[1/2] +*******0101 appointment a-1: busy (SIP 486)`. */
export function callLine(c: PlacedCall, done: number, total: number): string {
  const sip = c.record.sip_status ? ` (SIP ${c.record.sip_status})` : '';
  const error = c.record.error && c.record.outcome === 'failed' ? ` — ${redactText(c.record.error)}` : '';
  return `[${done}/${total}] ${maskPhoneNumber(c.target.phoneNumber)} appointment ${c.target.appointmentId}: ${c.record.outcome}${sip}${error}`;
}

/** The `--json` report: the summary, each call (number masked to its last 4 digits) and the skipped rows. */
export function campaignReport(calls: readonly PlacedCall[], rejected: readonly RejectedRow[]) {
  return {
    summary: summarize(calls, rejected.length),
    calls: calls.map((c) => ({
      appointmentId: c.target.appointmentId,
      phoneNumber: maskPhoneNumber(c.target.phoneNumber),
      room: c.room,
      outcome: c.record.outcome,
      sipStatus: c.record.sip_status,
      error: c.record.error === null ? null : redactText(c.record.error),
      startedAt: new Date(c.startedAt).toISOString(),
      endedAt: new Date(c.endedAt).toISOString(),
    })),
    skipped: rejected,
  };
}
