/**
 * Web visitors without servers: visit links signed and checked (good, altered, expired, another
 * secret, another algorithm, another issuer), what a visitor's token allows, starting a visit on a
 * recording LiveKit API, and the web server's routes through hono's `app.request`.
 */
import { decodeJwt, SignJWT, UnsecuredJWT } from 'jose';
import { TokenVerifier } from 'livekit-server-sdk';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseJobMetadata } from '../../src/worker/metadata.js';
import {
  buildPage,
  checkVisit,
  pageHtml,
  publicUrl,
  signVisit,
  startVisit,
  textDirection,
  VISITOR_TOKEN_TTL_S,
  visitUrl,
  VisitLinkError,
  webApp,
  type PageAssets,
  type Visit,
  type VisitSettings,
} from '../../src/web/index.js';
import { VISIT_LINK_AUDIENCE, VISIT_LINK_ISSUER } from '../../src/web/link.js';
import { liveKitOrigins } from '../../src/web/server.js';

const SECRET = 'a-visit-link-secret-of-forty-characters!';
const OTHER = 'another-secret-of-at-least-32-characters';
const log = pino({ level: 'silent' });

/** The token's three base64url parts, one of them changed by a character. */
function altered(token: string, part: 0 | 1 | 2): string {
  const parts = token.split('.');
  const p = parts[part]!;
  const i = Math.floor(p.length / 2);
  parts[part] = `${p.slice(0, i)}${p[i] === 'A' ? 'B' : 'A'}${p.slice(i + 1)}`;
  return parts.join('.');
}

describe('visit links', () => {
  it('a link the clinic signed names its patient until it expires', async () => {
    const now = new Date('2026-12-07T12:00:00Z');
    const { token, expiresAt } = await signVisit(SECRET, 'demo-maria', 7, now);
    expect(expiresAt.toISOString()).toBe('2026-12-14T12:00:00.000Z');
    expect(await checkVisit(SECRET, token, now)).toEqual({ ok: true, patientId: 'demo-maria', expiresAt });
    // One second before expiry still good; at expiry (exp is exclusive per RFC 7519 §4.1.4) it is expired.
    expect((await checkVisit(SECRET, token, new Date(expiresAt.getTime() - 1000))).ok).toBe(true);
    expect(await checkVisit(SECRET, token, new Date(expiresAt.getTime() + 1000))).toEqual({ ok: false, why: 'expired' });
    // Two links for one patient are different links.
    expect((await signVisit(SECRET, 'demo-maria', 7, now)).token).not.toBe(token);
  });

  it('refuses altered, foreign and unsigned tokens as invalid — never as expired', async () => {
    const { token } = await signVisit(SECRET, 'demo-maria', 7);
    for (const part of [0, 1, 2] as const) expect(await checkVisit(SECRET, altered(token, part))).toEqual({ ok: false, why: 'invalid' });
    // The payload rewritten to name another patient, the signature kept.
    const [h, , s] = token.split('.');
    const payload = { ...decodeJwt(token), sub: 'demo-james' };
    expect(await checkVisit(SECRET, `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`)).toEqual({ ok: false, why: 'invalid' });
    // Signed with another secret, even when expired: nothing is learnt without the right key.
    expect(await checkVisit(OTHER, token)).toEqual({ ok: false, why: 'invalid' });
    const old = await signVisit(OTHER, 'demo-maria', 1, new Date('2020-01-01T00:00:00Z'));
    expect(await checkVisit(SECRET, old.token)).toEqual({ ok: false, why: 'invalid' });
    // alg "none".
    const unsecured = new UnsecuredJWT({}).setSubject('demo-maria').setIssuer(VISIT_LINK_ISSUER).setAudience(VISIT_LINK_AUDIENCE).setExpirationTime('1h').encode();
    expect(await checkVisit(SECRET, unsecured)).toEqual({ ok: false, why: 'invalid' });
    // Signed with the right key but for something else (a LiveKit access token, say): wrong issuer and audience.
    const key = new TextEncoder().encode(SECRET);
    const foreign = await new SignJWT({ video: { roomJoin: true } }).setProtectedHeader({ alg: 'HS256' }).setSubject('demo-maria').setIssuer('APIkey').setExpirationTime('1h').sign(key);
    expect(await checkVisit(SECRET, foreign)).toEqual({ ok: false, why: 'invalid' });
    // Right issuer and audience, no patient.
    const nobody = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(VISIT_LINK_ISSUER).setAudience(VISIT_LINK_AUDIENCE).setExpirationTime('1h').sign(key);
    expect(await checkVisit(SECRET, nobody)).toEqual({ ok: false, why: 'invalid' });
    // HS512 under the same key: only HS256 is taken.
    const hs512 = await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('demo-maria').setIssuer(VISIT_LINK_ISSUER).setAudience(VISIT_LINK_AUDIENCE).setExpirationTime('1h').sign(key);
    expect(await checkVisit(SECRET, hs512)).toEqual({ ok: false, why: 'invalid' });
    for (const junk of ['', 'not-a-token', 'a.b.c', `${token}.extra`]) expect(await checkVisit(SECRET, junk)).toEqual({ ok: false, why: 'invalid' });
  });

  it('links start with WEB_PUBLIC_URL, else where the server listens (a wildcard address as this host)', () => {
    expect(publicUrl({ WEB_PUBLIC_URL: 'https://visit.example.com/', WEB_HOST: '127.0.0.1', WEB_PORT: 8080 })).toBe('https://visit.example.com');
    expect(publicUrl({ WEB_HOST: '127.0.0.1', WEB_PORT: 8080 })).toBe('http://127.0.0.1:8080');
    expect(publicUrl({ WEB_HOST: '0.0.0.0', WEB_PORT: 9000 })).toBe('http://127.0.0.1:9000');
    expect(publicUrl({ WEB_HOST: '::1', WEB_PORT: 9000 })).toBe('http://[::1]:9000');
  });

  it('will not sign with a short secret or for nobody; the URL carries the token in its fragment', async () => {
    await expect(signVisit('too-short', 'demo-maria', 7)).rejects.toThrow(VisitLinkError);
    await expect(signVisit('too-short', 'demo-maria', 7)).rejects.toThrow(/VISIT_LINK_SECRET is too short: at least 32 characters/);
    await expect(signVisit(SECRET, ' ', 7)).rejects.toThrow(/needs a patient id/);
    expect(visitUrl('https://visit.example.com/', 'abc.def.ghi')).toBe('https://visit.example.com/#v=abc.def.ghi');
  });
});

/** A LiveKit API that records what it is asked; `failDispatch` makes the dispatch fail. */
function recordingApi(failDispatch = false) {
  const asked: string[] = [];
  const rooms: Record<string, unknown>[] = [];
  const dispatches: { room: string; agent: string; metadata?: string }[] = [];
  const api = {
    rooms: {
      createRoom: async (o: Record<string, unknown>) => (asked.push(`create ${o.name}`), rooms.push(o), {}),
      deleteRoom: async (name: string) => (asked.push(`delete ${name}`), undefined),
    },
    dispatch: {
      createDispatch: async (room: string, agent: string, o?: { metadata?: string }) => {
        asked.push(`dispatch ${room}`);
        if (failDispatch) throw new Error('twirp error unavailable');
        dispatches.push({ room, agent, metadata: o?.metadata });
        return {};
      },
    },
  };
  const settings = { api, apiKey: 'APIkey', apiSecret: 'an-api-secret-of-enough-length-0123', agentName: 'clinic-agent', browserUrl: 'wss://lk.example.com' } as unknown as VisitSettings;
  return { settings, asked, rooms, dispatches };
}

describe('a visit on LiveKit', () => {
  it('its own room, the agent dispatched with the visit, and a token that lets the visitor in with a microphone only', async () => {
    const { settings, rooms, dispatches } = recordingApi();
    const visit = await startVisit(settings, 'demo-maria');
    expect(visit.url).toBe('wss://lk.example.com');
    expect(visit.room).toMatch(/^web-[0-9a-f]{12}$/);
    expect(visit.identity).toMatch(/^visitor-[0-9a-f]{12}$/);
    expect(rooms).toEqual([expect.objectContaining({ name: visit.room, maxParticipants: 3, emptyTimeout: 120 })]);
    expect(dispatches).toHaveLength(1);
    expect(dispatches[0]).toMatchObject({ room: visit.room, agent: 'clinic-agent' });
    expect(parseJobMetadata(dispatches[0]!.metadata)).toEqual({ direction: 'web', visitor: visit.identity, patientId: 'demo-maria' });

    // The token as LiveKit reads it: signed with the project's secret, for this room and identity only.
    const claims = await new TokenVerifier('APIkey', 'an-api-secret-of-enough-length-0123').verify(visit.token);
    expect(claims.sub).toBe(visit.identity);
    expect(claims.exp! - claims.nbf!).toBe(VISITOR_TOKEN_TTL_S);
    expect(claims.video).toEqual({
      room: visit.room,
      roomJoin: true,
      canSubscribe: true,
      canPublish: true,
      canPublishSources: ['microphone'],
      canPublishData: true,
      canUpdateOwnMetadata: false,
      roomCreate: false,
      roomAdmin: false,
      roomList: false,
      roomRecord: false,
      hidden: false,
    });
    // Nothing about the patient travels to the browser.
    expect(JSON.stringify(claims)).not.toContain('demo-maria');
    expect(JSON.stringify(visit)).not.toContain('demo-maria');
  });

  it('an anonymous visit names no patient; a failed dispatch leaves no room behind', async () => {
    const ok = recordingApi();
    const visit = await startVisit(ok.settings);
    expect(parseJobMetadata(ok.dispatches[0]!.metadata)).toEqual({ direction: 'web', visitor: visit.identity });
    const failing = recordingApi(true);
    await expect(startVisit(failing.settings, 'demo-maria')).rejects.toThrow(/unavailable/);
    const room = failing.asked[0]!.slice('create '.length);
    expect(failing.asked).toEqual([`create ${room}`, `dispatch ${room}`, `delete ${room}`]);
  });
});

describe('the page', () => {
  it('is in the web language, right to left for Arabic, with the clinic\'s name escaped', () => {
    const en = pageHtml({ clinic: 'Main Street Clinic', language: 'en-US' });
    expect(en).toContain('<html lang="en-US" dir="ltr">');
    expect(en).toContain('<h1>Main Street Clinic</h1>');
    expect(en).toContain('Start talking');
    const ar = pageHtml({ clinic: 'عيادة <Main> & "Co"', language: 'ar-XA' });
    expect(ar).toContain('<html lang="ar-XA" dir="rtl">');
    expect(ar).toContain('<h1>عيادة &#60;Main&#62; &#38; &#34;Co&#34;</h1>');
    expect(ar).toContain('ابدأ المحادثة');
    // The keypad keeps a phone's layout in either direction.
    expect(ar).toContain('<div id="keys" class="keys" dir="ltr">');
    expect([textDirection('he-IL'), textDirection('fa'), textDirection('ur-PK'), textDirection('en-GB'), textDirection('es-US')]).toEqual(['rtl', 'rtl', 'rtl', 'ltr', 'ltr']);
  });

  it('bundles the browser script with livekit-client', async () => {
    const page = await buildPage({ clinic: 'Main Street Clinic', language: 'en-US' });
    expect(page.script.length).toBeGreaterThan(100_000);
    expect(page.script).toContain('lk.transcription');
    expect(page.css).toContain('.keys');
  });
});

describe('the web server', () => {
  const page: PageAssets = { html: '<!doctype html><title>page</title>', script: 'console.log(1)', css: 'body{}' };
  let started: (string | undefined)[];
  let failLiveKit: boolean;
  const visit: Visit = { url: 'wss://lk.example.com', room: 'web-1', identity: 'visitor-1', token: 'lk-token' };
  const app = (links = true) =>
    webApp({
      page,
      linkSecret: links ? SECRET : undefined,
      browserUrl: 'wss://lk.example.com',
      log,
      startVisit: async (patientId) => {
        started.push(patientId);
        if (failLiveKit) throw new Error('connect ECONNREFUSED');
        return visit;
      },
    });
  const post = (a: ReturnType<typeof app>, body: string) => a.request('/api/session', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  let good: string;
  let expired: string;

  beforeAll(async () => {
    good = (await signVisit(SECRET, 'demo-maria', 7)).token;
    expired = (await signVisit(SECRET, 'demo-maria', 1, new Date(Date.now() - 3 * 86_400_000))).token;
  });
  const reset = () => {
    started = [];
    failLiveKit = false;
  };

  it('serves the page with headers that keep it to itself and LiveKit', async () => {
    reset();
    const res = await app().request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toBe(page.html);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self' wss://lk.example.com https://lk.example.com");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('permissions-policy')).toContain('microphone=(self)');
    expect((await app().request('/visit.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await (await app().request('/visit.css')).text()).toBe('body{}');
    expect((await app().request('/healthz')).status).toBe(200);
    expect(liveKitOrigins('ws://127.0.0.1:7880')).toEqual(['ws://127.0.0.1:7880', 'http://127.0.0.1:7880']);
    expect(liveKitOrigins('wss://clinic-abc.livekit.cloud')).toEqual(['wss://*.livekit.cloud', 'https://*.livekit.cloud']);
    expect((await app().request('/nothing')).status).toBe(404);
  });

  it('a visit from a good link is started for its patient; without a link, anonymous', async () => {
    reset();
    const res = await post(app(), JSON.stringify({ link: good }));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual(visit);
    expect((await post(app(), '{}')).status).toBe(200);
    expect(started).toEqual(['demo-maria', undefined]);
  });

  it('an expired, altered or foreign link, or any link with links off: 403, nothing about any patient, no visit', async () => {
    reset();
    const refused = async (a: ReturnType<typeof app>, link: string, error: string) => {
      const res = await post(a, JSON.stringify({ link }));
      expect(res.status).toBe(403);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({ error });
      expect(text).not.toMatch(/maria|demo/i);
    };
    await refused(app(), expired, 'expired');
    await refused(app(), altered(good, 1), 'invalid');
    await refused(app(), (await signVisit(OTHER, 'demo-maria', 7)).token, 'invalid');
    await refused(app(false), good, 'links_off');
    expect(started).toEqual([]);
  });

  it('a body that is not the request: 400 or 413, saying what is expected; LiveKit down: 503', async () => {
    reset();
    for (const body of ['not json', '[]', '{"link":5}', '{"link":""}']) {
      const res = await post(app(), body);
      expect(res.status, body).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'bad_request', message: expect.stringContaining('{"link":"<token from the visit link>"}') });
    }
    expect((await post(app(), JSON.stringify({ link: 'x'.repeat(5000) }))).status).toBe(413);
    expect(started).toEqual([]);
    failLiveKit = true;
    const down = await post(app(), '{}');
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: 'unavailable' });
  });
});
