/**
 * Web visitors end to end: headless Chromium (Debian's, driven by playwright-core) with a fake
 * microphone opens the page `make web` serves, joins a room on the local livekit-server through
 * WebRTC, hears the real worker's agent (measured in the page), and presses the on-screen keys,
 * which reach the call as DTMF. In keypad mode, and with the Gemini Live stand-in in Arabic.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { speechWav } from '../../devtools/audio.js';
import { openBrowser, type TestBrowser } from '../../devtools/browser.js';
import { GeminiStandIn } from '../../devtools/gemini-standin.js';
import { TEST_MODEL_KEY } from '../../devtools/logs.js';
import { addPatient } from '../../devtools/patients.js';
import { STACK_DIR } from '../../devtools/stack.js';
import { waitFor } from '../../devtools/wait.js';
import { startWeb, type TestWeb } from '../../devtools/web.js';
import { CALLER_ID_ONLY, startWorker, type TestWorker } from '../../devtools/worker.js';
import { callScript } from '../../src/call/index.js';
import { stringsFor } from '../../src/web/index.js';

const SCREENSHOTS = join(STACK_DIR, 'screenshots');
const script = callScript('Main Street Clinic');
const en = stringsFor('en-US');
/** What the visitor says into the fake microphone, then 4 s of quiet (looped). */
const VISITOR_SPEECH = 'Hello, I would like to ask about my appointment.';

/** What the page shows (src/web/page/main.ts `window.visit`). */
interface PageView {
  status: string;
  state: string;
  agentState?: string;
  error?: string;
  peakDbfs: number | null;
  heardMs: number;
  transcript: { who: 'agent' | 'you'; text: string }[];
  keys: string[];
  room?: string;
}

/** `window.visit` of the page (evaluated in the page, as text: it is a browser expression). */
const view = async (page: Page): Promise<PageView> => JSON.parse(await page.evaluate<string>('JSON.stringify(window.visit)')) as PageView;

/** Waits until the page shows what `ok` looks for. */
function pageShows(page: Page, what: string, ok: (v: PageView) => boolean, timeoutMs = 30_000, context?: () => string): Promise<PageView> {
  let last: PageView | undefined;
  return waitFor(
    what,
    async () => {
      last = await view(page);
      return ok(last) && last;
    },
    timeoutMs,
    () => `page: ${JSON.stringify(last)}\n${context?.() ?? ''}`,
  );
}

/** The call record of the visit in `room`, once `worker` has closed it. */
const recordClosed = (worker: TestWorker, room: string) =>
  waitFor(
    `the record of ${room} closed`,
    async () => {
      const row = await worker.db.selectFrom('call_records').selectAll().where('room', '=', room).executeTakeFirst();
      return row?.ended_at ? row : undefined;
    },
    15_000,
    worker.output,
  );

/** The agent's words the page showed, in order. */
const agentSaid = (v: PageView) => v.transcript.filter((l) => l.who === 'agent').map((l) => l.text);

describe('web visitors in a real browser (keypad mode)', () => {
  let worker: TestWorker;
  let web: TestWeb;
  const open: TestBrowser[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    worker = await startWorker('web', CALLER_ID_ONLY);
    web = await startWeb(worker.agentName, { WEB_LANGUAGE: 'en-US' });
  });
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });
  afterAll(async () => {
    await web?.stop();
    await worker?.stop();
  });

  async function browser(name: string, microphone: string | 'refused' | 'none' = speechWav(VISITOR_SPEECH)) {
    const b = await openBrowser({ microphone, name });
    open.push(b);
    return b;
  }

  const closedRecord = (room: string) => recordClosed(worker, room);

  /** "visit started" lines the web server logged so far. */
  const visitsStarted = () => web.output().split('\n').filter((l) => l.includes('"msg":"visit started"')).length;

  it('a visit link: the page joins, the greeting is heard in it, and the on-screen 1 confirms the linked patient\'s appointment', async () => {
    const p = await addPatient(worker.store, { time: { hour: 10, minute: 30 } });
    const { page, console } = await browser('linked');
    await page.goto(await web.link(p.patientId));
    expect(await page.locator('h1').textContent()).toBe('Main Street Clinic');
    expect(await page.getAttribute('html', 'dir')).toBe('ltr');
    await page.click('#start');

    const greeting = script.greeting(p.name, p.appointment, 'web');
    // The greeting reaches the page as audio (its level measured on the way to the speaker) and as text.
    const joined = await pageShows(
      page,
      'the greeting heard in the page',
      (v) => v.heardMs >= 2000 && agentSaid(v).some((t) => t.startsWith('Hello Maria, welcome to Main Street Clinic. You have')),
      30_000,
      () => `${console.join('\n')}\n${worker.output().slice(-3000)}`,
    );
    expect(joined.status).toBe('joined');
    expect(joined.peakDbfs!).toBeGreaterThan(-30);
    expect(greeting.startsWith(agentSaid(joined)[0]!)).toBe(true);
    expect(['speaking', 'listening']).toContain(joined.state);
    expect(await page.locator('#state').textContent()).toBe(en.states[joined.state as 'speaking']);
    await page.screenshot({ path: join(SCREENSHOTS, 'web-joined.png') });

    await page.click('button[data-digit="1"]');
    const ended = await pageShows(page, 'the confirmation, then the end of the call', (v) => v.status === 'ended', 30_000, worker.output);
    expect(ended.keys).toEqual(['1']);
    expect(agentSaid(ended)).toContain(script.confirmed());
    expect(await page.locator('#state').textContent()).toBe(en.states.ended);

    // Saved: the linked patient's appointment, by the keypad, on a web call.
    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
    const record = await closedRecord(joined.room!);
    expect(record).toMatchObject({ direction: 'web', mode: 'keypad', outcome: 'confirmed', patient_id: p.patientId, appointment_id: p.appointmentId, sip_call_id: null });
    expect((await worker.store.digits(record.id)).map((d) => [d.digit, d.action])).toEqual([['1', 'confirm']]);
    expect((await worker.store.booking.changes(p.appointmentId)).map((c) => [c.change, c.source, c.call_id])).toEqual([['confirmed', 'keypad', record.id]]);
    expect(console.filter((l) => l.startsWith('[pageerror]'))).toEqual([]);
  });

  it('an anonymous visitor gets the web welcome and nothing about any patient; 1 changes nothing', async () => {
    const p = await addPatient(worker.store);
    const { page } = await browser('anonymous');
    await page.goto(web.url);
    const session = page.waitForResponse((r) => r.url().endsWith('/api/session'));
    await page.click('#start');
    const answer = await (await session).text();
    expect(JSON.parse(answer)).toEqual({ url: expect.stringMatching(/^ws:/), room: expect.stringMatching(/^web-/), identity: expect.stringMatching(/^visitor-/), token: expect.any(String) });

    const welcomed = await pageShows(page, 'the web welcome', (v) => agentSaid(v).join(' ').startsWith(script.webWelcome()) || (v.heardMs >= 2000 && agentSaid(v).length > 0), 30_000, worker.output);
    expect(script.webWelcome().startsWith(agentSaid(welcomed)[0]!)).toBe(true);
    await pageShows(page, 'the whole welcome', (v) => agentSaid(v)[0] === script.webWelcome(), 30_000, worker.output);
    await page.click('button[data-digit="1"]');
    const answered = await pageShows(page, 'the answer to 1', (v) => /^Sorry, that key is not an option\./.test(agentSaid(v)[1] ?? ''), 30_000, worker.output);
    expect(agentSaid(answered)).toHaveLength(2);
    await page.click('#hangup');
    const left = await pageShows(page, 'the hang-up', (v) => v.status === 'ended');
    expect(left.state).toBe('hungUp');

    const record = await closedRecord(welcomed.room!);
    expect(record).toMatchObject({ direction: 'web', patient_id: null, appointment_id: null, phone_e164: null });
    expect((await worker.store.digits(record.id)).map((d) => [d.digit, d.action])).toEqual([['1', 'ignored']]);
    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('scheduled');
    // Nothing the page was shown or sent names a patient.
    const shown = `${await page.content()}\n${answer}\n${JSON.stringify(answered)}`;
    expect(shown).not.toMatch(/Maria|Garcia|dental|Chen/);
  });

  it('an expired or forged link: the page says so in words, and no visit starts', async () => {
    const p = await addPatient(worker.store);
    const before = visitsStarted();
    const records = (await worker.db.selectFrom('call_records').select('id').execute()).length;
    const cases = [
      { link: await web.link(p.patientId, { days: 7, now: new Date(Date.now() - 8 * 86_400_000) }), error: 'link_expired' },
      { link: await web.link(p.patientId, { secret: 'a-secret-the-clinic-never-had-0123456789' }), error: 'link_invalid' },
    ];
    for (const { link, error } of cases) {
      const { page } = await browser(error);
      await page.goto(link);
      await page.click('#start');
      const failed = await pageShows(page, `the error ${error}`, (v) => v.status === 'error');
      expect(failed.error).toBe(error);
      expect(await page.locator('#error').textContent()).toBe(en.errors[error as 'link_expired']);
      expect(await page.locator('#error').isVisible()).toBe(true);
      expect(await page.locator('#start').textContent()).toBe(en.again);
      expect(failed.room).toBeUndefined();
    }
    expect(visitsStarted()).toBe(before);
    expect((await worker.db.selectFrom('call_records').select('id').execute()).length).toBe(records);
  });

  it('no microphone, a refused one, or the server gone: each said in words', async () => {
    for (const [microphone, error] of [
      ['refused', 'microphone_denied'],
      ['none', 'no_microphone'],
    ] as const) {
      const { page } = await browser(`microphone-${microphone}`, microphone);
      await page.goto(web.url);
      await page.click('#start');
      const failed = await pageShows(page, `the error ${error}`, (v) => v.status === 'error');
      expect(failed.error).toBe(error);
      expect(await page.locator('#error').textContent()).toBe(en.errors[error]);
    }
    // The page is loaded, then its server stops: asking for a visit fails in words, not silently.
    const gone = await startWeb(worker.agentName, { WEB_LANGUAGE: 'en-US' });
    const { page } = await browser('server-gone');
    await page.goto(gone.url);
    await gone.stop();
    await page.click('#start');
    const failed = await pageShows(page, 'the error server_unreachable', (v) => v.status === 'error');
    expect(failed.error).toBe('server_unreachable');
    expect(await page.locator('#error').textContent()).toBe(en.errors.server_unreachable);
  });
});

describe('a web visit with the Gemini Live stand-in, in Arabic (WEB_LANGUAGE ar-XA)', () => {
  const GREETING = 'Hello Maria, welcome to the clinic. Would you like to confirm your appointment?';
  const CONFIRMED = 'Thank you, your appointment is confirmed. Goodbye.';
  let standIn: GeminiStandIn;
  let worker: TestWorker;
  let web: TestWeb;
  let b: TestBrowser | undefined;

  beforeAll(async () => {
    standIn = await GeminiStandIn.start((text) => (/pressed 1/.test(text) ? CONFIRMED : GREETING));
    worker = await startWorker('web-gemini', { ...CALLER_ID_ONLY, GOOGLE_API_KEY: TEST_MODEL_KEY, GOOGLE_GEMINI_BASE_URL: standIn.baseUrl });
    // WEB_LANGUAGE unset: ar-XA, the default.
    web = await startWeb(worker.agentName);
  });
  afterAll(async () => {
    await b?.close();
    await web?.stop();
    await worker?.stop();
    await standIn?.close();
  });

  it('the model speaks with the visitor in the web language, knowing the linked patient; the page is right to left', async () => {
    const p = await addPatient(worker.store, { time: { hour: 10, minute: 30 } });
    b = await openBrowser({ microphone: speechWav(VISITOR_SPEECH), name: 'gemini-arabic' });
    const { page } = b;
    await page.goto(await web.link(p.patientId));
    const ar = stringsFor('ar-XA');
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(await page.getAttribute('html', 'lang')).toBe('ar-XA');
    expect(await page.evaluate<string>('getComputedStyle(document.body).direction')).toBe('rtl');
    expect(await page.locator('#start').textContent()).toBe(ar.start);
    await page.click('#start');

    const joined = await pageShows(page, 'the model\'s greeting heard in the page', (v) => v.heardMs >= 2000 && agentSaid(v).join(' ').includes('Hello Maria'), 30_000, worker.output);
    expect(joined.peakDbfs!).toBeGreaterThan(-30);
    expect(await page.locator('#state').textContent()).toBe(ar.states[joined.state as 'speaking']);
    await page.screenshot({ path: join(SCREENSHOTS, 'web-arabic.png') });

    // The session was set up for the web: its language, and the linked patient's real facts.
    const setup = standIn.messages().find((m) => m.setup)?.setup as {
      generationConfig: { speechConfig: { languageCode?: string } };
      systemInstruction: { parts: { text: string }[] };
    };
    expect(setup.generationConfig.speechConfig.languageCode).toBe('ar-XA');
    const instructions = setup.systemInstruction.parts.map((part) => part.text).join('\n');
    expect(instructions).toContain('The visitor is on the clinic web site');
    expect(instructions).toContain('Speak Arabic');
    expect(instructions).toContain('The caller is Maria Garcia. They have your dental cleaning with Doctor Chen');
    expect(standIn.clientTexts().join('\n')).toMatch(/Greet Maria Garcia/);
    // The visitor's microphone reached the model.
    expect(standIn.messages().some((m) => (m.realtimeInput as { audio?: unknown } | undefined)?.audio)).toBe(true);

    // The on-screen 1 is a key press like a phone's: saved, then told to the model.
    await page.click('button[data-digit="1"]');
    await waitFor('the press told to the model', () => /pressed 1\. Their appointment is now confirmed/.test(standIn.clientTexts().join('\n')), 30_000, worker.output);
    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
    await page.click('#hangup');
    await pageShows(page, 'the hang-up', (v) => v.status === 'ended');
    const record = await recordClosed(worker, joined.room!);
    expect(record).toMatchObject({ direction: 'web', mode: 'gemini', outcome: 'confirmed', patient_id: p.patientId });
  });
});
