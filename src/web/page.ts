/**
 * The visit page as the server sends it: its HTML (the clinic's name, the language and its
 * direction, the words of ./page/strings.ts), its script (./page/main.ts with livekit-client,
 * bundled by esbuild once when the server starts) and its style sheet (./page/visit.css).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { stringsFor, textDirection } from './page/strings.js';

/** The three files of the page, ready to serve. */
export interface PageAssets {
  readonly html: string;
  readonly script: string;
  readonly css: string;
}

/** What the page is made for: the clinic's name and the language spoken with visitors (WEB_LANGUAGE). */
export interface PageSettings {
  readonly clinic: string;
  readonly language: string;
}

/** A file of the page's sources; from src/web/ and from its build in dist/web/ alike (both two levels under the repository). */
const source = (name: string) => fileURLToPath(new URL(`../../src/web/page/${name}`, import.meta.url));

/**
 * Builds the page: bundles its script for browsers of the last few years (ES2020: every browser
 * WebRTC and livekit-client support), minified, and renders the HTML.
 * @throws esbuild's error when the page's script does not compile (a broken checkout).
 */
export async function buildPage(s: PageSettings): Promise<PageAssets> {
  const bundle = await build({
    entryPoints: [source('main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2020',
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return { html: pageHtml(s), script: bundle.outputFiles[0]!.text, css: await readFile(source('visit.css'), 'utf8') };
}

/** `text` safe inside HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page's HTML: in WEB_LANGUAGE, right to left when it is written so, with the clinic's name. */
export function pageHtml({ clinic, language }: PageSettings): string {
  const t = stringsFor(language);
  const e = escapeHtml;
  const key = (digit: string, label?: string) =>
    `<button type="button" class="key" data-digit="${digit}"><span class="digit">${e(digit)}</span>${label ? `<span class="label">${e(label)}</span>` : ''}</button>`;
  const labels = t.keyLabels as Record<string, string>;
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'].map((d) => key(d, labels[d])).join('');
  return `<!doctype html>
<html lang="${e(language)}" dir="${textDirection(language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${e(clinic)}</title>
<link rel="stylesheet" href="/visit.css">
</head>
<body data-language="${e(language)}" data-status="idle">
<main class="visit">
  <header>
    <p class="eyebrow">${e(t.eyebrow)}</p>
    <h1>${e(clinic)}</h1>
    <p class="intro">${e(t.intro)}</p>
  </header>
  <section class="status" aria-live="polite">
    <span id="state" class="state" data-state="idle">${e(t.states.idle)}</span>
    <span id="meter" class="meter" aria-hidden="true"><span></span></span>
  </section>
  <p id="error" class="error" role="alert" hidden></p>
  <button type="button" id="start" class="primary">${e(t.start)}</button>
  <section id="call" class="call" hidden>
    <h2>${e(t.keypad)}</h2>
    <div id="keys" class="keys" dir="ltr">${keys}</div>
    <button type="button" id="hangup" class="hangup">${e(t.hangUp)}</button>
  </section>
  <section id="conversation" class="conversation" hidden>
    <h2>${e(t.transcript)}</h2>
    <ol id="transcript" class="transcript" aria-live="polite"></ol>
  </section>
  <p class="privacy">${e(t.privacy)}</p>
</main>
<script type="module" src="/visit.js"></script>
</body>
</html>
`;
}
