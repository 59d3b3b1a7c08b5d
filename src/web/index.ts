/**
 * Web visitors: owns the visit links a clinic sends its patients (./link.ts), starting a visit on
 * LiveKit — its room, the agent's dispatch and the visitor's token (./visit.ts) — the web server
 * (./server.ts) and the page it serves (./page.ts builds ./page/: the browser side, with
 * livekit-client). The call itself is the same as a phone caller's (src/call/), told apart by its
 * job metadata (src/worker/metadata.ts).
 */
export { checkVisit, MIN_SECRET_LENGTH, signVisit, visitUrl, VisitLinkError, type SignedVisit, type VisitCheck } from './link.js';
export { buildPage, pageHtml, type PageAssets, type PageSettings } from './page.js';
export { serveWeb, webApp, type WebServerOptions } from './server.js';
export { startVisit, visitorGrant, VISITOR_JOIN_TIMEOUT_MS, VISITOR_TOKEN_TTL_S, type Visit, type VisitSettings } from './visit.js';
export { stringsFor, textDirection } from './page/strings.js';

/** The address patients open the page at: WEB_PUBLIC_URL, else where the server listens. */
export function publicUrl(config: { readonly WEB_PUBLIC_URL?: string; readonly WEB_HOST: string; readonly WEB_PORT: number }): string {
  if (config.WEB_PUBLIC_URL) return config.WEB_PUBLIC_URL.replace(/\/+$/, '');
  const host = config.WEB_HOST === '0.0.0.0' || config.WEB_HOST === '::' ? '127.0.0.1' : config.WEB_HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.WEB_PORT}`;
}
