/**
 * A web visit on the LiveKit side: a room of its own, the agent dispatched explicitly with the
 * visit as job metadata (src/worker/metadata.ts), and a short-lived token for the visitor's browser
 * that lets it into that room with a microphone and on-screen keys — nothing more.
 */
import { randomBytes } from 'node:crypto';
import { TrackSource } from '@livekit/protocol';
import { AccessToken, type VideoGrant } from 'livekit-server-sdk';
import type { LiveKitApi } from '../livekit/index.js';
import { VISITOR_TOKEN_TTL_S, writeWebMetadata } from '../worker/metadata.js';

export { VISITOR_JOIN_TIMEOUT_MS, VISITOR_TOKEN_TTL_S } from '../worker/metadata.js';

/**
 * A visit's room closes this long after everyone has left, in s (LiveKit `emptyTimeout`): a visitor
 * who never joins leaves no room behind.
 */
const ROOM_EMPTY_TIMEOUT_S = 120;
/** The visitor, the agent, and the front desk after a warm transfer. */
const ROOM_MAX_PARTICIPANTS = 3;

/** What the browser needs to join: where, as whom, with which token. */
export interface Visit {
  /** The LiveKit URL the browser connects to. */
  readonly url: string;
  readonly room: string;
  readonly identity: string;
  /** The visitor's access token (JWT), valid {@link VISITOR_TOKEN_TTL_S} s. */
  readonly token: string;
}

/** Who runs visits: the project's API, its key and secret (to sign visitors' tokens), and the agent dispatched. */
export interface VisitSettings {
  readonly api: Pick<LiveKitApi, 'rooms' | 'dispatch'>;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** AGENT_NAME: the worker the visit is dispatched to. */
  readonly agentName: string;
  /** The LiveKit URL browsers connect to (WEB_LIVEKIT_URL, else LIVEKIT_URL). */
  readonly browserUrl: string;
}

/**
 * What a visitor's token allows (LiveKit docs, "Tokens & grants"): joining its own room only,
 * hearing the agent, publishing its microphone and nothing else (no camera, no screen), and data —
 * which carries the on-screen keys as DTMF (livekit-server drops data from a participant without
 * it). It may not change its own name, metadata or attributes: what identifies a visitor comes from
 * the server, never from the browser.
 */
export function visitorGrant(room: string): VideoGrant {
  return {
    room,
    roomJoin: true,
    canSubscribe: true,
    canPublish: true,
    canPublishSources: [TrackSource.MICROPHONE],
    canPublishData: true,
    canUpdateOwnMetadata: false,
    roomCreate: false,
    roomAdmin: false,
    roomList: false,
    roomRecord: false,
    hidden: false,
  };
}

/** A name of `prefix` and 12 random hex digits: rooms and identities nobody can guess or collide with. */
const unique = (prefix: string): string => `${prefix}-${randomBytes(6).toString('hex')}`;

/**
 * Starts a visit: creates its room, dispatches the agent with `{direction:"web", visitor, patientId}`
 * (the patient only when the caller verified a visit link), and signs the visitor's token. A visit
 * whose dispatch fails leaves no room behind.
 * @throws the server SDK's error when LiveKit cannot be reached or refuses (src/livekit/errors.ts explains it).
 */
export async function startVisit(s: VisitSettings, patientId?: string): Promise<Visit> {
  const room = unique('web');
  const identity = unique('visitor');
  const metadata = writeWebMetadata({ visitor: identity, ...(patientId ? { patientId } : {}) });
  await s.api.rooms.createRoom({ name: room, emptyTimeout: ROOM_EMPTY_TIMEOUT_S, departureTimeout: 20, maxParticipants: ROOM_MAX_PARTICIPANTS });
  try {
    await s.api.dispatch.createDispatch(room, s.agentName, { metadata });
  } catch (err) {
    await s.api.rooms.deleteRoom(room).catch(() => undefined);
    throw err;
  }
  const at = new AccessToken(s.apiKey, s.apiSecret, { identity, ttl: VISITOR_TOKEN_TTL_S });
  at.addGrant(visitorGrant(room));
  return { url: s.browserUrl, room, identity, token: await at.toJwt() };
}
