/**
 * make web — the page web visitors talk to the agent from, and `POST /api/session` behind it
 * (src/web/server.ts), on WEB_HOST:WEB_PORT. Visit links work when VISIT_LINK_SECRET is set.
 * Runs until SIGTERM or SIGINT; the worker (make gemini-sip) takes the visits it starts.
 */
import { runCli, UserError } from '../src/cli/index.js';
import { loadConfig } from '../src/config/index.js';
import { describeLiveKitError, liveKitApi } from '../src/livekit/index.js';
import { createLogger } from '../src/logging/index.js';
import { buildPage, publicUrl, serveWeb, startVisit, webApp } from '../src/web/index.js';

/** Hosts a browser may use the microphone on over plain http (W3C Secure Contexts: "potentially trustworthy"). */
const LOCAL = /^(localhost|127(\.\d+){3}|\[::1\])$/;

await runCli(async () => {
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, name: 'web' });
  const browserUrl = config.WEB_LIVEKIT_URL ?? config.LIVEKIT_URL;
  const page = await buildPage({ clinic: config.CLINIC_NAME, language: config.WEB_LANGUAGE });
  const api = liveKitApi(config);
  const app = webApp({
    page,
    linkSecret: config.VISIT_LINK_SECRET,
    browserUrl,
    log,
    describeError: (err) => describeLiveKitError(err, config.LIVEKIT_URL, 'starting a visit'),
    startVisit: (patientId) =>
      startVisit({ api, apiKey: config.LIVEKIT_API_KEY, apiSecret: config.LIVEKIT_API_SECRET, agentName: config.AGENT_NAME, browserUrl }, patientId),
  });
  const server = await serveWeb(app, config.WEB_HOST, config.WEB_PORT).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(
      `WEB_PORT: cannot listen on ${config.WEB_HOST}:${config.WEB_PORT} (${err.code ?? err.message}); ${err.code === 'EADDRINUSE' ? 'another program has that port: pick another WEB_PORT' : 'check WEB_HOST and WEB_PORT'}`,
    );
  });
  const url = publicUrl(config);
  const where = new URL(url);
  if (where.protocol === 'http:' && !LOCAL.test(where.hostname)) {
    log.warn(`WEB_PUBLIC_URL is ${url}: browsers allow the microphone only on https:// pages (or localhost); serve the page behind a TLS proxy`);
  }
  if (LOCAL.test(new URL(browserUrl).hostname) && !LOCAL.test(where.hostname)) {
    log.warn(`browsers will connect to LiveKit at ${browserUrl}, which only this host can reach; set WEB_LIVEKIT_URL to the address visitors reach it at`);
  }
  log.info(
    { url, livekit: browserUrl, agentName: config.AGENT_NAME, visitLinks: config.VISIT_LINK_SECRET ? 'on' : 'off' },
    `web page at ${url} (visit links ${config.VISIT_LINK_SECRET ? 'on' : 'off: set VISIT_LINK_SECRET'})`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  log.info('web page server stopping');
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
