/**
 * The web page server as tests run it: `scripts/web.ts` (what `make web` runs) as a child process on
 * a free port, sending its visits to a test worker's agent name, with a visit-link secret of its
 * own; its log goes to .stack/run-logs/ for the log check. Links for test patients are signed here
 * as `make visit-link` signs them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { signVisit, visitUrl } from '../src/web/index.js';
import { startChild, type WatchedChild } from './child.js';
import { RUN_LOGS_DIR, TEST_VISIT_LINK_SECRET } from './logs.js';
import { ensureStack, REPO_ROOT } from './stack.js';
import { freeTcpPort } from './worker.js';

/** A running web page server. */
export interface TestWeb extends WatchedChild {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** A visit link for `patientId`, signed with the server's secret (or `secret`), valid `days` from `now`. */
  link(patientId: string, opts?: { days?: number; now?: Date; secret?: string }): Promise<string>;
}

/**
 * Starts the web page server for the worker registered as `agentName`, and waits until it listens.
 * @param env more settings (WEB_LANGUAGE, CLINIC_NAME, VISIT_LINK_SECRET: "" for links off…).
 * @throws Error with its output when it exits or does not listen within 60 s × WAIT_SCALE.
 */
export async function startWeb(agentName: string, env: Record<string, string> = {}): Promise<TestWeb> {
  const stack = ensureStack();
  const port = await freeTcpPort();
  mkdirSync(RUN_LOGS_DIR, { recursive: true });
  const child = await startChild({
    what: 'web page server',
    args: ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'web.ts')],
    cwd: RUN_LOGS_DIR, // no .env here: the test's environment is the whole configuration
    env: {
      LIVEKIT_URL: stack.url,
      LIVEKIT_API_KEY: stack.apiKey,
      LIVEKIT_API_SECRET: stack.apiSecret,
      AGENT_NAME: agentName,
      WEB_HOST: '127.0.0.1',
      WEB_PORT: String(port),
      CLINIC_NAME: 'Main Street Clinic',
      VISIT_LINK_SECRET: TEST_VISIT_LINK_SECRET,
      LOG_LEVEL: 'info',
      ...env,
    },
    logFile: join(RUN_LOGS_DIR, `web-${agentName}.log`),
    ready: '"msg":"web page at',
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    ...child,
    url,
    async link(patientId, opts = {}) {
      const { token } = await signVisit(opts.secret ?? TEST_VISIT_LINK_SECRET, patientId, opts.days ?? 7, opts.now);
      return visitUrl(url, token);
    },
  };
}
