/**
 * How busy the worker tells LiveKit it is. livekit-server dispatches a job only to workers whose
 * reported load is below its agent target load, 0.7 by default (livekit-server
 * pkg/agent/config.go DefaultTargetLoad; affinity = target − load in pkg/service/agentservice.go),
 * and the framework's default load is the machine's CPU use — which a call's own start-up pushes
 * past 0.7 on a small server. We report calls instead: `maxCalls` active calls reach the target.
 */

/** livekit-server's default agent target load. */
export const TARGET_LOAD = 0.7;

/** Load for `active` calls out of `maxCalls`: 0 when idle, {@link TARGET_LOAD} when full. */
export function callLoad(active: number, maxCalls: number): number {
  return (Math.min(active, maxCalls) / maxCalls) * TARGET_LOAD;
}
