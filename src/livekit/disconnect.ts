/**
 * Why a job's room connection ended: a hang-up (the room deleted or closed, we left, we were removed)
 * or a lost connection to LiveKit (the server gone, the signal channel closed, a failed rejoin).
 * Reasons are LiveKit's `DisconnectReason` (livekit/protocol models.proto; rtc-node re-exports it).
 */
import { DisconnectReason } from '@livekit/rtc-node';

/** Reasons that mean the call was ended on purpose, by someone. */
const ENDED = new Set<DisconnectReason>([
  DisconnectReason.CLIENT_INITIATED,
  DisconnectReason.PARTICIPANT_REMOVED,
  DisconnectReason.ROOM_DELETED,
  DisconnectReason.ROOM_CLOSED,
]);

/**
 * Undefined when the room was left or closed on purpose; otherwise why the connection to LiveKit
 * was lost, as kept on the call record: "lost the connection to LiveKit (SIGNAL_CLOSE)".
 */
export function lostConnection(reason: DisconnectReason | undefined): string | undefined {
  if (reason !== undefined && ENDED.has(reason)) return undefined;
  const name = reason === undefined ? 'no reason given' : (DisconnectReason[reason] ?? String(reason));
  return `lost the connection to LiveKit (${name})`;
}
