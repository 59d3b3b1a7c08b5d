/**
 * npm run bench — runs the benchmarks one after another on the local stack and prints one JSON
 * object: {"inbound": …, "gemini": …, "openai": …, "outbound": …, "web": …, "amd": …}. BENCH=inbound,
 * gemini, openai, pool, outbound, web or amd runs one (or a comma-separated list; pool — the warm
 * process curve, ~15 min — only when named); BENCH_CALLS changes the number of measured calls
 * (default 20), BENCH_WORKER_ENV (JSON) a worker setting. Progress goes to stderr.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildWorker } from '../devtools/build.js';
import { REPO_ROOT, ensureStack } from '../devtools/stack.js';

ensureStack();
buildWorker(); // the worker runs from dist/, as in production
const which = (process.env.BENCH ?? 'inbound,gemini,openai,outbound,web,amd').split(',');
const results: Record<string, unknown> = {};
for (const name of which) {
  // gemini and openai: bench/voice.ts in that mode.
  const [file, ...args] = name === 'gemini' || name === 'openai' ? ['voice', name] : [name];
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', `${file}.ts`), ...args], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  results[name] = JSON.parse(out.toString());
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
