/**
 * The web server visitors reach (hono on node:http): the page (./page.ts) and `POST /api/session`,
 * which checks a visit link (./link.ts) and starts a visit (./visit.ts). A visitor's identity comes
 * only from a link the clinic signed: what the browser says about itself is never read.
 *
 * `POST /api/session` takes `{}` or `{"link":"<token>"}` (at most 4 KB) and answers:
 * - 200 `{url, room, identity, token}` — join `room` at `url` with `token`;
 * - 400 `{error:"bad_request"}` — the body is not that JSON;
 * - 403 `{error:"expired"|"invalid"|"links_off"}` — the link is past its date, not one the clinic
 *   signed (altered, another secret, malformed), or links are off (no VISIT_LINK_SECRET); nothing
 *   about any patient is in the answer, and no visit is started;
 * - 503 `{error:"unavailable"}` — LiveKit could not be reached or refused.
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import { z } from 'zod';
import { checkVisit } from './link.js';
import type { PageAssets } from './page.js';
import type { Visit } from './visit.js';

/** What the server is made with. */
export interface WebServerOptions {
  readonly page: PageAssets;
  /** VISIT_LINK_SECRET; undefined: links are off and every visitor is anonymous. */
  readonly linkSecret?: string;
  /** Starts a visit (./visit.ts `startVisit`), for the patient a checked link named. @throws when LiveKit fails. */
  readonly startVisit: (patientId?: string) => Promise<Visit>;
  /** The LiveKit URL browsers connect to: the page may open connections there (Content-Security-Policy). */
  readonly browserUrl: string;
  readonly log: Logger;
  /** Turns a LiveKit failure into one line for the log (src/livekit/errors.ts). */
  readonly describeError?: (err: unknown) => string;
}

/** The largest body `POST /api/session` reads, in bytes: a link's token is well under 1 KB. */
const MAX_BODY_BYTES = 4096;

/** `POST /api/session`'s body. */
const sessionRequest = z.object({ link: z.string().min(1).max(2048).optional() });

/** What a refused request is told, in words for the page's developer (the page shows its own words). */
const REFUSED = {
  bad_request: 'the body must be JSON: {} for an anonymous visit, or {"link":"<token from the visit link>"}',
  expired: 'this visit link has expired; ask the clinic for a new one',
  invalid: 'this visit link is not one the clinic signed',
  links_off: 'visit links are off on this server (no VISIT_LINK_SECRET); open the page without a link',
  unavailable: 'the assistant cannot be reached right now; try again in a few minutes',
} as const;

/**
 * The origins livekit-client reaches a LiveKit URL at: its websocket and its HTTP(S) form; for
 * LiveKit Cloud (`*.livekit.cloud`, `*.livekit.run`) every host of that domain, as the client may move
 * to a region's own host (livekit-client RegionUrlProvider: `/settings/regions`).
 */
export function liveKitOrigins(url: string): string[] {
  const u = new URL(url);
  const secure = u.protocol === 'wss:' || u.protocol === 'https:';
  const cloud = ['livekit.cloud', 'livekit.run'].find((d) => u.hostname.endsWith(`.${d}`));
  const host = cloud ? `*.${cloud}` : u.host;
  return [`${secure ? 'wss' : 'ws'}://${host}`, `${secure ? 'https' : 'http'}://${host}`];
}

/** The app: routes and headers, no socket (tests call `app.request`). */
export function webApp(o: WebServerOptions): Hono {
  const app = new Hono();
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", ...liveKitOrigins(o.browserUrl)],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      permissionsPolicy: { microphone: ['self'], camera: [], geolocation: [] },
    }),
  );
  const asset = (body: string, type: string) => (c: Context) => c.body(body, 200, { 'content-type': type, 'cache-control': 'no-cache' });
  app.get('/', asset(o.page.html, 'text/html; charset=utf-8'));
  app.get('/visit.js', asset(o.page.script, 'text/javascript; charset=utf-8'));
  app.get('/visit.css', asset(o.page.css, 'text/css; charset=utf-8'));
  app.get('/healthz', (c) => c.text('ok'));

  app.post(
    '/api/session',
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json({ error: 'bad_request', message: `the body is larger than ${MAX_BODY_BYTES} bytes` }, 413) }),
    async (c) => {
      c.header('cache-control', 'no-store');
      const parsed = sessionRequest.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success) return c.json({ error: 'bad_request', message: REFUSED.bad_request }, 400);
      let patientId: string | undefined;
      if (parsed.data.link !== undefined) {
        if (!o.linkSecret) {
          o.log.warn('a visit link was presented, but links are off (VISIT_LINK_SECRET unset): refused');
          return c.json({ error: 'links_off', message: REFUSED.links_off }, 403);
        }
        const checked = await checkVisit(o.linkSecret, parsed.data.link);
        if (!checked.ok) {
          o.log.info({ why: checked.why }, 'visit link refused');
          return c.json({ error: checked.why, message: REFUSED[checked.why] }, 403);
        }
        patientId = checked.patientId;
      }
      try {
        const visit = await o.startVisit(patientId);
        o.log.info({ room: visit.room, linked: patientId !== undefined }, 'visit started');
        return c.json(visit);
      } catch (err) {
        o.log.error({ error: o.describeError?.(err) ?? (err as Error).message }, 'visit not started: LiveKit failed');
        return c.json({ error: 'unavailable', message: REFUSED.unavailable }, 503);
      }
    },
  );
  app.notFound((c) => c.text('not found', 404));
  app.onError((err, c) => {
    o.log.error({ err }, 'web request failed');
    return c.json({ error: 'internal' }, 500);
  });
  return app;
}

/**
 * Serves `app` on `host`:`port` and resolves once it listens.
 * @throws the socket's error (EADDRINUSE: the port is taken; EACCES: a port under 1024 without root).
 */
export function serveWeb(app: Hono, host: string, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(server));
    server.once('error', reject);
  });
}
