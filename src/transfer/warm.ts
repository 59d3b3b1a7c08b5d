/**
 * Warm transfer that works on self-hosted LiveKit as on LiveKit Cloud. The framework's
 * `WarmTransferTask` moves participants between rooms with `moveParticipant`, which open-source
 * livekit-server answers "not implemented" (livekit/livekit#4203). Here the desk is dialed into the
 * caller's own room instead, and who hears whom is set per track with RoomService
 * `UpdateSubscriptions` (LiveKit docs, "Server APIs › UpdateSubscriptions"; a SIP participant
 * otherwise hears every audio track of its room):
 *
 * | while            | the caller hears        | the desk hears  |
 * |------------------|-------------------------|-----------------|
 * | the desk rings   | hold music              | —               |
 * | the desk answers | hold music              | the briefing    |
 * | the desk took it | the desk                | the caller      |
 *
 * The desk takes the call with key 1 and declines with 2 (or by hanging up); no key within
 * {@link WarmOptions.decisionMs} after the briefing, said twice, counts as declined.
 */
import type { TransferResult } from './cold.js';
import { transferFailure } from './cold.js';
import { waitAtMost } from '../call/index.js';

/** The participant identity the desk's SIP call gets in the caller's room. */
export const DESK_IDENTITY = 'front-desk';

/** A track the agent publishes for the transfer, and how to take it down. */
export interface OwnTrack {
  readonly sid: string;
  close(): Promise<void>;
}

/** The agent's side of the room (bound to rtc-node's `Room` in ./desk.ts). */
export interface WarmRoom {
  /** Publishes hold music (the agents framework's hold clip), looped until closed. */
  startHold(): Promise<OwnTrack>;
  /** Publishes a silent track the briefing is spoken on. */
  openBriefing(): Promise<OwnTrack & { say(text: string): Promise<void> }>;
  /** The sids of the audio tracks `identity` has published so far. */
  audioTracksOf(identity: string): string[];
  /** The sids of the agent's other audio tracks (its voice to the caller). */
  agentVoiceTracks(): string[];
  /** Resolves with the sid of the first audio track `identity` publishes, or undefined after `timeoutMs`. */
  audioTrackFrom(identity: string, timeoutMs: number): Promise<string | undefined>;
  /** The next key `identity` presses (RFC 2833 via livekit-sip), 'left' when they leave, 'timeout' once `until` settles. */
  nextKey(identity: string, until: Promise<unknown>): Promise<string | 'left' | 'timeout'>;
}

/** What a warm transfer asks of LiveKit's server API (livekit-server-sdk `SipClient`, `RoomServiceClient`). */
export interface WarmApi {
  /**
   * Dials the desk into the room as `identity` and resolves once it answered.
   * @throws SipCallError with the desk's SIP status when it is busy, declines or does not answer.
   */
  dial(identity: string): Promise<void>;
  /** Subscribes (`on`) or unsubscribes `identity` to the tracks `trackSids`. */
  hear(identity: string, trackSids: readonly string[], on: boolean): Promise<void>;
  /** Removes `identity` from the room (its SIP call is hung up). */
  remove(identity: string): Promise<void>;
}

/** Timing of a warm transfer. */
export interface WarmOptions {
  /** How long the desk may ring, in s (OPERATOR_RING_TIMEOUT_S); reported in a no-answer's detail. */
  readonly ringTimeoutS: number;
  /** How long the desk has to press a key after each briefing, in ms. */
  readonly decisionMs: number;
}

/** Longest the transfer waits for its own tracks to be taken down, in ms. */
export const CLOSE_WAIT_MS = 3000;

/** What the desk is asked once it has heard who is calling. */
export const DESK_QUESTION = 'Press 1 to take the call, or 2 if you cannot.';

/**
 * Puts `caller` on hold, dials the desk, briefs it with `briefing` where the caller cannot hear, and
 * connects the two if the desk presses 1. Never throws: every way it can end is a {@link TransferResult}
 * (`accepted`: caller and desk hear each other and the agent's part is over; otherwise the desk has
 * been removed, the hold music stopped, and the caller is the agent's again).
 */
export async function warmTransfer(room: WarmRoom, api: WarmApi, caller: string, briefing: string, opts: WarmOptions): Promise<TransferResult> {
  const opened: OwnTrack[] = [];
  let dialed = false;
  // Taking a track down must not hold the caller (a track whose frames no longer drain would): after
  // CLOSE_WAIT_MS the caller moves on regardless.
  const closeAll = () => waitAtMost(Promise.all(opened.map((t) => t.close().catch(() => undefined))), CLOSE_WAIT_MS);
  const undo = async () => {
    if (dialed) await api.remove(DESK_IDENTITY).catch(() => undefined);
    await closeAll();
  };
  try {
    const hold = await room.startHold();
    opened.push(hold);
    const brief = await room.openBriefing();
    opened.push(brief);
    // The caller never hears the briefing: unsubscribed before a word is said on it.
    await api.hear(caller, [brief.sid], false);

    try {
      dialed = true;
      await api.dial(DESK_IDENTITY);
    } catch (err) {
      const failed = transferFailure(err, opts.ringTimeoutS);
      await undo();
      return failed;
    }
    // The desk hears only the briefing; the caller does not hear the desk until it takes the call.
    await api.hear(DESK_IDENTITY, [...room.audioTracksOf(caller), hold.sid, ...room.agentVoiceTracks()], false);
    const deskTrack = room.audioTracksOf(DESK_IDENTITY)[0] ?? (await room.audioTrackFrom(DESK_IDENTITY, 5000));
    // Once more, now that the caller's own subscription to each new track has surely been made: an
    // unsubscribe sent as a track is published can lose the race with the SIP participant's auto-subscribe.
    await api.hear(caller, deskTrack ? [brief.sid, deskTrack] : [brief.sid], false);

    // Keys count from the first word of the briefing: a desk that knows what to do need not wait for its end.
    let answer: string | 'left' | 'timeout' = 'timeout';
    for (let round = 0; round < 2 && answer === 'timeout'; round++) {
      const deadline = brief.say(`${briefing} ${DESK_QUESTION}`).then(() => new Promise((r) => setTimeout(r, opts.decisionMs)));
      do answer = await room.nextKey(DESK_IDENTITY, deadline);
      while (answer !== '1' && answer !== '2' && answer !== 'left' && answer !== 'timeout');
    }
    if (answer !== '1') {
      await undo();
      const detail = answer === '2' ? 'the desk pressed 2' : answer === 'left' ? 'the desk hung up during the briefing' : `no key from the desk in ${Math.round((2 * opts.decisionMs) / 1000)} s`;
      return { status: 'declined', detail };
    }

    // Connected: the music stops, and caller and desk hear each other.
    await closeAll();
    const tracks = room.audioTracksOf(DESK_IDENTITY);
    await api.hear(caller, tracks, true);
    await api.hear(DESK_IDENTITY, room.audioTracksOf(caller), true);
    return { status: 'accepted', detail: 'the desk pressed 1 (warm transfer)' };
  } catch (err) {
    await undo();
    return { status: 'failed', detail: (err instanceof Error ? err.message : String(err)).slice(0, 200) };
  }
}
