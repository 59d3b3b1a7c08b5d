/**
 * BENCH=pool — the curve behind WORKER_IDLE_PROCESSES' default: for each number of warm job
 * processes, the idle worker's memory (PSS, all processes) and how long the last of 5 and of 10
 * callers dialing at the same moment waited for the agent's first words (keypad mode, the local
 * stack, WORKER_MAX_CALLS=10). BENCH_POOL lists the pool sizes (default 1,2,3,5,8,10). Prints JSON:
 *   [{ idle_processes, idle_pss_mb, burst_5_ms, burst_10_ms, pss_per_call_mb }]
 */
import { clients, provisionInbound } from '../devtools/livekit.js';
import { CALLER_ID_ONLY, startWorker } from '../devtools/worker.js';
import { printResult, sleep, treeMemory } from './measure.js';
import { burst, jobProcesses } from './phone.js';

const sizes = (process.env.BENCH_POOL ?? '1,2,3,5,8,10').split(',').map(Number);
const log = (m: string) => process.stderr.write(`bench pool: ${m}\n`);
const curve = [];
for (const size of sizes) {
  const worker = await startWorker(`bench-pool-${size}`, { ...CALLER_ID_ONLY, WORKER_IDLE_PROCESSES: String(size), WORKER_MAX_CALLS: '10' });
  const route = await provisionInbound(clients(), { agentName: worker.agentName });
  try {
    const deadline = Date.now() + 60_000;
    while (jobProcesses(worker) < size && Date.now() < deadline) await sleep(200);
    await sleep(2000);
    const idle = treeMemory(worker.process.pid!);
    log(`${size} warm: idle PSS ${idle.pss_mb} MB`);
    const five = await burst(worker, route.number, 5, log);
    const ten = await burst(worker, route.number, 10, log);
    curve.push({ idle_processes: size, idle_pss_mb: idle.pss_mb, burst_5_ms: five.last_heard_after_ms, burst_10_ms: ten.last_heard_after_ms, pss_per_call_mb: ten.pss_per_call_mb });
  } finally {
    await route.remove();
    await worker.stop();
  }
}
printResult({ benchmark: 'pool', mode: 'keypad', curve });
