/**
 * LiveKit server API: owns making the server SDK clients from the configuration and explaining
 * their failures.
 */
import { AgentDispatchClient, RoomServiceClient, SipClient } from 'livekit-server-sdk';
import type { AppConfig } from '../config/index.js';

export { describeLiveKitError } from './errors.js';
export { lostConnection } from './disconnect.js';

/** The HTTP(S) URL the server SDK needs, from LIVEKIT_URL (ws → http, wss → https). */
export function apiUrl(url: string): string {
  return url.replace(/^ws(s?):/, 'http$1:');
}

/** Server API clients bound to the configured project. */
export interface LiveKitApi {
  readonly url: string;
  readonly sip: SipClient;
  readonly rooms: RoomServiceClient;
  readonly dispatch: AgentDispatchClient;
}

/** Makes the server API clients from LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET. */
export function liveKitApi(config: Pick<AppConfig, 'LIVEKIT_URL' | 'LIVEKIT_API_KEY' | 'LIVEKIT_API_SECRET'>): LiveKitApi {
  const url = apiUrl(config.LIVEKIT_URL);
  return {
    url: config.LIVEKIT_URL,
    sip: new SipClient(url, config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET),
    rooms: new RoomServiceClient(url, config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET),
    dispatch: new AgentDispatchClient(url, config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET),
  };
}
