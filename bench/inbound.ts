/**
 * npm run bench — inbound calls on the local stack, keypad mode, warm worker. Prints JSON:
 *   invite_to_first_audio_ms  p50/p95 of INVITE sent → first non-silent agent audio at the caller
 *   dtmf_to_db_ms             p50/p95 of DTMF sent (first RFC 2833 packet) → appointment row updated
 *   rss_mb                    worker + job processes' resident memory with 1, 5 and 10 calls up,
 *                             dialed at once, and how long the last of them took to be answered
 * Targets (issue 4): invite_to_first_audio p95 ≤ 1200 ms, dtmf_to_db p95 ≤ 150 ms.
 * Timings are read from tcpdump captures and SQLite on the same clock; nothing here is a test.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { DateTime } from 'luxon';
import { speechUlaw } from '../devtools/audio.js';
import { clients, provisionInbound, uniqueNumber } from '../devtools/livekit.js';
import { type CallResult, SipCaller } from '../devtools/sipp.js';
import { ulawToLinear } from '../devtools/rtp.js';
import { CALLER_ID_ONLY, startWorker } from '../devtools/worker.js';
import { summary } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 20);
const log = (m: string) => process.stderr.write(`bench: ${m}\n`);


/** INVITE → first received PCMU packet louder than −45 dBFS. */
function firstAudioMs(r: CallResult): number | undefined {
  const invite = r.sip.find((m) => m.firstLine.startsWith('INVITE'));
  const loud = r.rtp.find((p) => {
    if (p.payloadType !== 0) return false;
    let sum = 0;
    for (const b of p.payload) sum += ulawToLinear(b) ** 2;
    return 20 * Math.log10(Math.sqrt(sum / p.payload.length) / 32768) > -45;
  });
  return invite && loud ? loud.timeMs - invite.timeMs : undefined;
}

/** Resident memory of a process and all its descendants, in MB (Linux /proc), and how many processes that is. */
function treeRss(root: number): { mb: number; processes: number } {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone
    }
  }
  let kb = 0;
  let processes = 0;
  const walk = (pid: number) => {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      processes++;
    } catch {
      return;
    }
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return { mb: Math.round(kb / 1024), processes };
}

const c = clients();
// A long menu timeout keeps every call of a burst up until the slowest is answered.
const worker = await startWorker('bench', { ...CALLER_ID_ONLY, WORKER_MAX_CALLS: '12', MENU_TIMEOUT_MS: '30000' });
const route = await provisionInbound(c, { agentName: worker.agentName });
const audio = speechUlaw('Hello, I am calling about my appointment.');
await worker.store.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
let n = 0;
async function patient() {
  const i = ++n;
  const phone = uniqueNumber();
  await worker.store.upsertPatient({ id: `bp${i}`, name: 'Maria Garcia', phoneE164: phone });
  const start = DateTime.now().setZone('America/Los_Angeles').plus({ days: 1 }).startOf('day').plus({ minutes: 15 * i });
  await worker.store.upsertAppointment({ id: `ba${i}`, patientId: `bp${i}`, providerId: 'dr', start, service: 'check-up', location: 'the clinic' });
  return { phone, appointmentId: `ba${i}` };
}

/** One call pressing 1 two seconds after the answer; resolves with its timings. */
async function measuredCall() {
  const p = await patient();
  const call = await SipCaller.dial({ to: route.number, from: p.phone, audioFile: audio, dtmf: [{ digits: '1', atMs: 2000 }], hangupAfterMs: 20_000 });
  let updatedAt: number | undefined;
  const poll = (async () => {
    const deadline = Date.now() + 25_000;
    while (!updatedAt && Date.now() < deadline) {
      if ((await worker.store.getAppointment(p.appointmentId))?.status === 'confirmed') updatedAt = Date.now();
      else await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const result = await call.result();
  await poll;
  const sent = result.dtmfSent.find((e) => e.digit === '1');
  return { firstAudio: firstAudioMs(result), dtmfToDb: sent && updatedAt ? updatedAt - sent.timeMs : undefined, exit: result.exitCode };
}

try {
  log('warm-up call');
  await measuredCall();
  const firstAudio: number[] = [];
  const dtmfToDb: number[] = [];
  let failed = 0;
  for (let i = 0; i < CALLS; i++) {
    const m = await measuredCall();
    if (m.exit !== 0 || m.firstAudio === undefined || m.dtmfToDb === undefined) failed++;
    if (m.firstAudio !== undefined) firstAudio.push(m.firstAudio);
    if (m.dtmfToDb !== undefined) dtmfToDb.push(m.dtmfToDb);
    log(`call ${i + 1}/${CALLS}: first audio ${m.firstAudio?.toFixed(0)} ms, dtmf→db ${m.dtmfToDb?.toFixed(0)} ms`);
  }

  // Memory with 1, 5 and 10 calls up at once, all dialed at the same moment: sampled once every
  // call has its record (its job runs), with the time the burst took to be answered.
  type Level = { mb: number; processes: number; answered?: number; all_answered_after_ms?: number };
  const rss: Record<string, Level> = { idle: treeRss(worker.process.pid!) };
  const openCalls = async () => (await worker.db.selectFrom('call_records').select((eb) => eb.fn.countAll<number>().as('n')).where('ended_at', 'is', null).executeTakeFirstOrThrow()).n;
  for (const level of [1, 5, 10]) {
    const phones = await Promise.all(Array.from({ length: level }, async () => (await patient()).phone));
    const dialedAt = Date.now();
    const calls = await Promise.all(phones.map((from) => SipCaller.dial({ to: route.number, from, audioFile: audio, hangupAfterMs: 35_000 })));
    const deadline = dialedAt + 35_000;
    while ((await openCalls()) < level && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const sample = treeRss(worker.process.pid!);
    const results = await Promise.all(calls.map((x) => x.result()));
    const answers = results.map((r) => r.sip.find((m) => m.firstLine.startsWith('SIP/2.0 200'))?.timeMs);
    const answered = answers.filter((t): t is number => t !== undefined);
    rss[`calls_${level}`] = { ...sample, answered: answered.length, all_answered_after_ms: Math.round(Math.max(...answered) - Math.min(...results.map((r) => r.sip[0]!.timeMs))) };
    while ((await openCalls()) > 0) await new Promise((r) => setTimeout(r, 200));
    log(`rss with ${level} calls: ${JSON.stringify(rss[`calls_${level}`])}`);
  }

  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'inbound',
        mode: 'keypad',
        calls: CALLS,
        failed,
        invite_to_first_audio_ms: summary(firstAudio),
        dtmf_to_db_ms: summary(dtmfToDb),
        rss_mb: rss,
        targets: { invite_to_first_audio_p95_ms: 1200, dtmf_to_db_p95_ms: 150 },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await route.remove();
  await worker.stop();
}
