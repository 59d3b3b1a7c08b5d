/**
 * Vitest global setup of the e2e project: compiles src/ to dist/ (`npm run build`, incremental)
 * before any test starts a worker, so the tests run the current source the way production does;
 * clears the logs an earlier run kept (./logs.ts).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { clearRunLogs } from './logs.js';
import { REPO_ROOT } from './stack.js';

/** Runs `tsc -p tsconfig.build.json`. @throws Error with the compiler's output when it fails. */
export function buildWorker(): void {
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'tsconfig.build.json')], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

export default function setup(): void {
  buildWorker();
  // The log check after the run (devtools/check-logs.ts) reads this run's logs only.
  clearRunLogs();
}
