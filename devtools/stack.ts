/**
 * The local stack from a test's point of view: bring it up once per test process (a no-op when it
 * already runs) and read its credentials from .stack/credentials.env.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'dotenv';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const STACK_DIR = process.env.STACK_DIR ?? join(REPO_ROOT, '.stack');

/** Where and how to reach the local stack. */
export interface StackInfo {
  /** ws://127.0.0.1:7880 */
  readonly url: string;
  /** http://127.0.0.1:7880, for the server API clients. */
  readonly httpUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** livekit-sip's SIP address. */
  readonly sipHost: string;
  readonly sipPort: number;
}

let cached: StackInfo | undefined;

/**
 * Starts the stack if it is not running (scripts/stack/stack.sh up) and returns how to reach it.
 * @throws Error with the script's output when the stack cannot be started.
 */
export function ensureStack(): StackInfo {
  if (cached) return cached;
  try {
    execFileSync(join(REPO_ROOT, 'scripts', 'stack', 'stack.sh'), ['up'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`local stack did not come up:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  const env = parse(readFileSync(join(STACK_DIR, 'credentials.env')));
  const url = env.LIVEKIT_URL!;
  cached = {
    url,
    httpUrl: url.replace(/^ws/, 'http'),
    apiKey: env.LIVEKIT_API_KEY!,
    apiSecret: env.LIVEKIT_API_SECRET!,
    sipHost: '127.0.0.1',
    sipPort: Number(process.env.STACK_SIP_PORT ?? 5060),
  };
  return cached;
}
