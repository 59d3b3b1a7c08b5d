/**
 * Web visits on the local stack, keypad mode, warm worker: headless Chromium (fake microphone)
 * opens the page `make web` serves and presses Start, one visit after another (anonymous, a new page
 * each time, hung up once the assistant is heard), and reads what the page measured itself
 * (src/web/page/main.ts `visit.timings`, ms after Start was pressed). Prints JSON:
 *   start_to_session_ms      p50/p95 of Start → `POST /api/session` answered (the microphone opened
 *                            first, then the room created, the agent dispatched, the token signed)
 *   start_to_joined_ms       → the room joined over WebRTC and the microphone published
 *   start_to_first_audio_ms  → the assistant's voice first heard in the page (above -50 dBFS; the
 *                            page measures every 50 ms, so figures are up to 50 ms late)
 * Target: Start → first audio p95 ≤ 1500 ms, the phone's target (INVITE → first audio ≤ 1200 ms,
 * bench/inbound.ts) plus the browser's own steps: the microphone and the WebRTC connection.
 */
import { speechWav } from '../devtools/audio.js';
import { openBrowser } from '../devtools/browser.js';
import { startWeb } from '../devtools/web.js';
import { CALLER_ID_ONLY, startWorker } from '../devtools/worker.js';
import { summary } from './stats.js';

const VISITS = Number(process.env.BENCH_CALLS ?? 20);
const log = (m: string) => process.stderr.write(`bench web: ${m}\n`);

interface Timings {
  sessionMs?: number;
  joinedMs?: number;
  firstAudioMs?: number;
}

const worker = await startWorker('bench-web', CALLER_ID_ONLY);
const web = await startWeb(worker.agentName, { WEB_LANGUAGE: 'en-US' });
const browser = await openBrowser({ microphone: speechWav('Hello, I would like to ask about my appointment.'), name: 'bench-web' });
const ended = () => worker.output().split('\n').filter((l) => l.includes('"msg":"call ended"')).length;

/** One visit: Start, the assistant heard, Hang up; resolves with the page's timings once the worker has closed the call. */
async function visit(): Promise<Timings | undefined> {
  const before = ended();
  const page = await browser.context.newPage();
  try {
    await page.goto(web.url);
    await page.click('#start');
    // Polled from here: the page's Content-Security-Policy forbids the string predicates of waitForFunction.
    const read = async () => JSON.parse(await page.evaluate<string>('JSON.stringify({ t: window.visit.timings, status: window.visit.status })')) as { t: Timings; status: string };
    const deadline = Date.now() + 30_000;
    let now = await read();
    while (now.t.firstAudioMs === undefined && now.status !== 'error' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      now = await read();
    }
    const timings = now.t;
    const heard = timings.firstAudioMs !== undefined;
    if (!heard) log(`visit not heard: ${now.status}`);
    await page.click('#hangup').catch(() => undefined);
    const closing = Date.now() + 30_000;
    while (ended() === before && Date.now() < closing) await new Promise((r) => setTimeout(r, 50));
    return heard ? timings : undefined;
  } finally {
    await page.close();
  }
}

try {
  log('warm-up visit');
  await visit();
  const session: number[] = [];
  const joined: number[] = [];
  const firstAudio: number[] = [];
  let failed = 0;
  for (let i = 0; i < VISITS; i++) {
    // The job process that ran the last visit is replaced by a warm one before the next visit.
    await new Promise((r) => setTimeout(r, 3000));
    const t = await visit();
    if (!t?.firstAudioMs || t.sessionMs === undefined || t.joinedMs === undefined) {
      failed++;
      continue;
    }
    session.push(t.sessionMs);
    joined.push(t.joinedMs);
    firstAudio.push(t.firstAudioMs);
    log(`visit ${i + 1}/${VISITS}: session ${t.sessionMs} ms, joined ${t.joinedMs} ms, first audio ${t.firstAudioMs} ms`);
  }
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'web',
        mode: 'keypad',
        visits: VISITS,
        failed,
        start_to_session_ms: summary(session),
        start_to_joined_ms: summary(joined),
        start_to_first_audio_ms: summary(firstAudio),
        targets: { start_to_first_audio_p95_ms: 1500 },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await browser.close();
  await web.stop();
  await worker.stop();
}
