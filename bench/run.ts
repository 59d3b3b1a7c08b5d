/**
 * npm run bench — runs the benchmarks one after another on the local stack and prints one JSON
 * object: {"inbound": …, "outbound": …, "web": …, "amd": …}. BENCH=inbound, outbound, web or amd runs one; BENCH_CALLS
 * changes the number of measured calls (default 20). Progress goes to stderr.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildWorker } from '../devtools/build.js';
import { REPO_ROOT, ensureStack } from '../devtools/stack.js';

ensureStack();
buildWorker(); // the worker runs from dist/, as in production
const which = (process.env.BENCH ?? 'inbound,outbound,web,amd').split(',');
const results: Record<string, unknown> = {};
for (const name of which) {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', `${name}.ts`)], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  results[name] = JSON.parse(out.toString());
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
