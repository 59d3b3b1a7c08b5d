/**
 * npm run bench — inbound calls on the local stack, keypad mode, the worker with its default
 * settings, warm. Prints JSON:
 *   invite_to_first_audio_ms  p50/p95 of INVITE sent → first non-silent agent audio at the caller
 *   answer_to_first_audio_ms  p50/p95 of 200 OK → that audio
 *   dtmf_to_db_ms             p50/p95 of DTMF sent (first RFC 2833 packet) → appointment row updated
 *   event_loop_blocked        the framework's "event loop blocked" warnings during the measured calls
 *   burst                     1, 5 and 10 calls dialed at once: when the last caller heard the agent
 *                             (ms after the first INVITE), and the worker's memory with them up
 *                             (RSS and PSS by kind of process; PSS each call adds)
 *   memory                    the idle worker: RSS and PSS of every process
 * Targets (issues 4 and 17): INVITE → first audio p95 ≤ 550 ms, DTMF → database p95 ≤ 150 ms, the
 * last of 5 callers ≤ 2000 ms and of 10 ≤ 5000 ms, idle ≤ 400 MB PSS, each call ≤ 90 MB PSS more.
 * Timings are read from tcpdump captures and SQLite on the same clock; nothing here is a test.
 */
import { speechUlaw } from '../devtools/audio.js';
import { clients, provisionInbound } from '../devtools/livekit.js';
import { SipCaller } from '../devtools/sipp.js';
import { CALLER_ID_ONLY, startWorker } from '../devtools/worker.js';
import { callTimes, firstAudioMs, firstLoud, sleep, treeMemory, printResult } from './measure.js';
import { burst, memorySummary, jobProcesses, seedPatient, untilWarm, workerEnv } from './phone.js';
import { summary } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 20);
const log = (m: string) => process.stderr.write(`bench: ${m}\n`);

const worker = await startWorker('bench', { ...CALLER_ID_ONLY, WORKER_IDLE_PROCESSES: '', ...workerEnv() }); // '' = unset: the default pool
const route = await provisionInbound(clients(), { agentName: worker.agentName });
const audio = speechUlaw('Hello, I am calling about my appointment.');
const blocked = () => worker.output().split('\n').filter((l) => l.includes('event loop blocked')).length;

/** One call pressing 1 two seconds after the answer; resolves with its timings. */
async function measuredCall() {
  const p = await seedPatient(worker.store);
  const call = await SipCaller.dial({ to: route.number, from: p.phone, audioFile: audio, dtmf: [{ digits: '1', atMs: 2000 }], hangupAfterMs: 20_000 });
  let updatedAt: number | undefined;
  const poll = (async () => {
    const deadline = Date.now() + 25_000;
    while (!updatedAt && Date.now() < deadline) {
      if ((await worker.store.getAppointment(p.appointmentId))?.status === 'confirmed') updatedAt = Date.now();
      else await sleep(2);
    }
  })();
  const result = await call.result();
  await poll;
  const sent = result.dtmfSent.find((e) => e.digit === '1');
  const { answer } = callTimes(result);
  const heard = firstLoud(result.rtp);
  return {
    firstAudio: firstAudioMs(result),
    answerToAudio: answer !== undefined && heard !== undefined ? heard - answer : undefined,
    dtmfToDb: sent && updatedAt ? updatedAt - sent.timeMs : undefined,
    exit: result.exitCode,
  };
}

try {
  log(`${await untilWarm(worker)} warm job processes`);
  log('warm-up call');
  await measuredCall();
  const firstAudio: number[] = [];
  const answerToAudio: number[] = [];
  const dtmfToDb: number[] = [];
  let failed = 0;
  const blockedBefore = blocked();
  for (let i = 0; i < CALLS; i++) {
    const m = await measuredCall();
    if (m.exit !== 0 || m.firstAudio === undefined || m.dtmfToDb === undefined) failed++;
    if (m.firstAudio !== undefined) firstAudio.push(m.firstAudio);
    if (m.answerToAudio !== undefined) answerToAudio.push(m.answerToAudio);
    if (m.dtmfToDb !== undefined) dtmfToDb.push(m.dtmfToDb);
    log(`call ${i + 1}/${CALLS}: first audio ${m.firstAudio?.toFixed(0)} ms, dtmf→db ${m.dtmfToDb?.toFixed(0)} ms`);
  }
  const blockedDuringCalls = blocked() - blockedBefore;

  const warm = jobProcesses(worker);
  await sleep(2000);
  const idle = treeMemory(worker.process.pid!);
  log(`idle: ${warm} warm job processes, PSS ${idle.pss_mb} MB`);
  const bursts = {
    calls_1: await burst(worker, route.number, 1, log),
    calls_5: await burst(worker, route.number, 5, log),
    calls_10: await burst(worker, route.number, 10, log),
  };

  printResult({
    benchmark: 'inbound',
    mode: 'keypad',
    calls: CALLS,
    failed,
    invite_to_first_audio_ms: summary(firstAudio),
    answer_to_first_audio_ms: summary(answerToAudio),
    dtmf_to_db_ms: summary(dtmfToDb),
    event_loop_blocked: blockedDuringCalls,
    burst: bursts,
    memory: { idle: memorySummary(idle) },
    targets: { invite_to_first_audio_p95_ms: 550, dtmf_to_db_p95_ms: 150, burst_5_ms: 2000, burst_10_ms: 5000, idle_pss_mb: 400, per_call_pss_mb: 90 },
  });
} finally {
  await route.remove();
  await worker.stop();
}
