/**
 * Outbound calls on the local stack, keypad mode, warm worker: the real `outbound-calls` script
 * places 20 calls (one at a time, no delay) to a SIPp callee that answers after 300 ms and says
 * "Hello?" as a person does. Prints JSON:
 *   start_to_invite_ms            p50/p95 of the dialer claiming a call → INVITE at the callee
 *   answer_to_first_audio_ms      p50/p95 of the callee's 200 OK → first audible agent audio at the callee
 *   hello_to_first_audio_ms       the same from the end of the callee's "Hello?": the quiet the person hears
 * Targets: issue 5 set answer → first audio p95 ≤ 800 ms before calls were screened for answering
 * machines; since issue 15 the greeting waits for the detector's verdict — a person's short "Hello?"
 * is known by the 800 ms of quiet after it (src/outbound/amd.ts `afterGreetingSilenceMs`) — so the
 * target is now the quiet after "Hello?": p95 ≤ 1300 ms (those 800 ms, then 500 ms to speak).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { personAnswering, speechMs } from '../devtools/audio.js';
import { dialerEnv, runDialer } from '../devtools/dialer.js';
import { clients, provisionOutbound, uniqueNumber } from '../devtools/livekit.js';
import { ulawToLinear } from '../devtools/rtp.js';
import { freePorts, SipCallee } from '../devtools/sipp.js';
import { CALLER_ID_ONLY, startWorker } from '../devtools/worker.js';
import { summary } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 20);
const log = (m: string) => process.stderr.write(`bench outbound: ${m}\n`);

const c = clients();
const port = (await freePorts()) + 3;
const trunk = await provisionOutbound(c, port);
const worker = await startWorker('bench-out', { ...CALLER_ID_ONLY, OUTBOUND_TRUNK_ID: trunk.trunkId });
await worker.store.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
const dir = mkdtempSync(join(tmpdir(), 'bench-out-'));
const env = dialerEnv(c.stack, worker, trunk.trunkId);

async function campaign(count: number, tag: string) {
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    const phone = uniqueNumber();
    await worker.store.upsertPatient({ id: `${tag}p${i}`, name: 'Maria Garcia', phoneE164: phone });
    const start = DateTime.now().setZone('America/Los_Angeles').plus({ days: 1 }).startOf('day').plus({ minutes: 7 * i + (tag === 'w' ? 600 : 0) });
    await worker.store.upsertAppointment({ id: `${tag}a${i}`, patientId: `${tag}p${i}`, providerId: 'dr', start, service: 'check-up', location: 'the clinic' });
    rows.push(`${phone},${tag}a${i}`);
  }
  const csv = join(dir, `${tag}.csv`);
  writeFileSync(csv, `phone_number,appointment_id\n${rows.join('\n')}\n`);
  const callee = await SipCallee.listen({ port, answer: { kind: 'answer', afterMs: 300 }, audioFile: personAnswering(), hangupAfterMs: 4000, calls: count, timeoutS: 60 * count });
  const run = await runDialer([csv, '--json', '--delay-s', '0', '--max-attempts', '1'], env);
  if (run.code !== 0) throw new Error(`outbound-calls exited ${run.code}: ${run.stderr}`);
  const report = { calls: run.calls, starts: run.events.filter((e) => e.event === 'dialing').map((e) => Date.parse(e.at as string)) };
  const result = await callee.result();
  return { report, result };
}

try {
  log('warm-up call');
  await campaign(1, 'w');
  log(`${CALLS} calls`);
  const { report, result } = await campaign(CALLS, 'm');
  const invites = result.sip.filter((m) => m.firstLine.startsWith('INVITE')).map((m) => m.timeMs).sort((a, b) => a - b);
  const answers = result.sip.filter((m) => m.srcPort === port && m.firstLine.startsWith('SIP/2.0 200')).map((m) => m.timeMs).sort((a, b) => a - b);
  const starts = report.starts.sort((a, b) => a - b);
  const loud = result.rtp
    .filter((p) => {
      if (p.payloadType !== 0) return false;
      let sum = 0;
      for (const b of p.payload) sum += ulawToLinear(b) ** 2;
      return 20 * Math.log10(Math.sqrt(sum / p.payload.length) / 32768) > -45;
    })
    .map((p) => p.timeMs);
  const startToInvite = starts.map((s, i) => (invites[i] ?? NaN) - s).filter(Number.isFinite);
  const answerToAudio = answers
    .map((a, i) => {
      const next = invites[i + 1] ?? Infinity;
      const first = loud.find((t) => t >= a && t < next);
      return first === undefined ? NaN : first - a;
    })
    .filter(Number.isFinite);
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'outbound',
        mode: 'keypad',
        calls: CALLS,
        outcomes: report.calls.reduce<Record<string, number>>((acc, x) => ({ ...acc, [x.outcome]: (acc[x.outcome] ?? 0) + 1 }), {}),
        start_to_invite_ms: summary(startToInvite),
        answer_to_first_audio_ms: summary(answerToAudio),
        hello_to_first_audio_ms: summary(answerToAudio.map((x) => x - speechMs('Hello?'))),
        targets: { hello_to_first_audio_p95_ms: 1300 },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await worker.stop();
  await trunk.remove();
}
