/**
 * Turning failures of LiveKit's server API into one line an operator can act on: which variable
 * to check and why, never a stack trace.
 */
import { ServerError } from 'livekit-server-sdk';

/** Network error codes that mean "nothing answered at that address". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);

function causeCode(err: unknown): string | undefined {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && UNREACHABLE.has(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * One line describing why a LiveKit server API call failed, naming LIVEKIT_URL when the server
 * cannot be reached and LIVEKIT_API_KEY / LIVEKIT_API_SECRET when it refuses them; otherwise the
 * server's own message with `action` in front.
 */
export function describeLiveKitError(err: unknown, url: string, action: string): string {
  const code = causeCode(err);
  if (code) {
    return `LIVEKIT_URL: cannot reach ${url} (${code}); is the server running and the URL right? For the local stack run \`make stack-up\``;
  }
  if (err instanceof ServerError || (err as { status?: unknown })?.status !== undefined) {
    const e = err as ServerError;
    if (e.status === 401 || e.code === 'unauthenticated') {
      return `LIVEKIT_API_KEY / LIVEKIT_API_SECRET: ${url} refused them (401 unauthenticated); check that both belong to this LiveKit project`;
    }
    if (e.status === 403 || e.code === 'permission_denied') {
      return `LIVEKIT_API_KEY: not allowed to ${action} (403); the key needs the SIP admin permission`;
    }
    return `${action} failed: ${e.message} (${e.code ?? e.status})`;
  }
  if (err instanceof Error && /fetch failed|Invalid URL/i.test(err.message)) {
    const cause = (err.cause as Error | undefined)?.message;
    return `LIVEKIT_URL: cannot reach ${url} (${cause ? `${err.message}: ${cause}` : err.message}); check the URL`;
  }
  return `${action} failed: ${err instanceof Error ? err.message : String(err)}`;
}
