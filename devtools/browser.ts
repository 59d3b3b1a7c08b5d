/**
 * A real browser for the web page's tests: Debian's Chromium, headless, driven by playwright-core,
 * with a fake microphone that plays a WAV file (or none, or one the visitor refuses). What the page
 * prints to its console, and any error it throws, is kept in .stack/run-logs/ for the log check.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { keepLog } from './logs.js';

/** Chromium's binary: CHROMIUM_PATH, else Debian's (its /usr/bin/chromium is a wrapper script around it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p)) ?? '/usr/bin/chromium';

/** A page in its own browser. */
export interface TestBrowser {
  readonly page: Page;
  readonly context: BrowserContext;
  /** The page's console lines and errors so far. */
  readonly console: string[];
  close(): Promise<void>;
}

/**
 * Opens Chromium with one page.
 * @param opts.microphone a WAV file the fake microphone plays (looped); `refused`: the visitor
 *   refuses the microphone; `none`: the machine has no microphone at all.
 * @param opts.name for the kept log of the page's console.
 * @throws Error when Chromium is not installed (scripts/stack/install.sh installs Debian's `chromium`).
 */
export async function openBrowser(opts: { microphone: string | 'refused' | 'none'; name: string }): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/stack/install.sh (Debian package chromium) or set CHROMIUM_PATH`);
  const mic = opts.microphone;
  const args = [
    '--no-sandbox', // tests run as root in CI
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    // This machine has no network beyond loopback: no background requests to Google.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
    // livekit-server offers only its 127.0.0.1 candidate here; Chromium leaves loopback out of ICE without this.
    '--allow-loopback-in-peer-connection',
    ...(mic === 'none' ? [] : ['--use-fake-device-for-media-stream']),
    ...(mic === 'none' || mic === 'refused' ? [] : ['--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${mic}`]),
  ];
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  // A phone-sized window: the page is made to be read on one.
  const context = await browser.newContext({ viewport: { width: 412, height: 915 }, deviceScaleFactor: 1, permissions: mic === 'refused' || mic === 'none' ? [] : ['microphone'] });
  const page = await context.newPage();
  const lines: string[] = [];
  page.on('console', (m) => lines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`[pageerror] ${e.message}`));
  return {
    page,
    context,
    console: lines,
    async close() {
      keepLog(`browser-${opts.name}`, lines.join('\n'));
      await browser.close().catch(() => undefined);
    },
  };
}
