/**
 * The outbound dialer: for each target, a room of its own, the agent dispatched into it with the
 * appointment as JSON job metadata (the agent then dials the patient through the outbound trunk
 * and keeps the call record), then the outcome read back from the store. Calls are paced: a delay
 * between starts and a cap on calls at once.
 */
import { NOT_ANSWERED, RESCHEDULED } from '../call/outcome.js';
import type { LiveKitApi } from '../livekit/index.js';
import type { AppointmentStore, CallRecord } from '../store/index.js';
import { writeOutboundMetadata } from './metadata.js';
import type { CallTarget } from './targets.js';

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
