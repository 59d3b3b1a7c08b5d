/**
 * BENCH=gemini or BENCH=openai — inbound calls on the local stack in a voice model's mode, against
 * the local stand-in of that model (devtools/gemini-standin.ts, devtools/openai-standin.ts), the
 * worker with its default settings, warm. The stand-in answers the greeting at once with audio
 * trimmed of flite's leading silence and made before the calls, so every figure is ours. Prints JSON:
 *   invite_to_first_audio_ms  p50/p95: INVITE sent → first agent audio at the caller (tcpdump)
 *   answer_to_first_audio_ms  p50/p95: 200 OK → first agent audio at the caller
 *   model_in_ms               p50/p95: the caller's first spoken packet (capture) → the first loud
 *                             chunk of it at the stand-in (caller audio → model)
 *   model_out_ms              p50/p95: the stand-in sends its first audio → the caller hears it
 *   websockets_per_call       model connections each call opened (target: 1)
 *   event_loop_blocked        the framework's "event loop blocked" warnings during the measured calls
 *   burst                     5 and 10 calls dialed at once: the last caller hears the agent after
 *                             (ms from the first INVITE), memory with them up, PSS each call adds
 *   memory                    the worker's tree idle and with a call up: RSS and PSS per process
 * Targets (issue 17): INVITE → first audio p95 ≤ 650 ms, model each way p95 ≤ 120 ms, bursts of 5
 * ≤ 2000 ms and 10 ≤ 5000 ms, idle ≤ 400 MB PSS, a call ≤ 90 MB PSS more.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { speechUlaw, silenceUlaw } from '../devtools/audio.js';
import { GeminiStandIn, speech24k, type HeardChunk } from '../devtools/gemini-standin.js';
import { clients, provisionInbound } from '../devtools/livekit.js';
import { OpenAIRealtimeStandIn } from '../devtools/openai-standin.js';
import { SipCaller, type CallResult } from '../devtools/sipp.js';
import { CALLER_ID_ONLY, startWorker } from '../devtools/worker.js';
import { burst, memorySummary, seedPatient, untilWarm, workerEnv, type Seeded } from './phone.js';
import { callTimes, firstAudioMs, firstLoud, sleep, treeMemory, printResult } from './measure.js';
import { summary } from './stats.js';

const mode = process.argv[2] === 'openai' ? 'openai' : 'gemini';
const CALLS = Number(process.env.BENCH_CALLS ?? 20);
const log = (m: string) => process.stderr.write(`bench ${mode}: ${m}\n`);
const GREETING = 'Hello Maria, this is Main Street Clinic. How can I help you today?';
/** The caller is quiet for this long after the answer (the greeting plays), then speaks, in s. */
const SPEAKS_AFTER_S = 4;

/** The caller's audio: quiet while greeted, then one sentence, then quiet (raw 8 kHz µ-law, made once). */
function callerAudio(): string {
  const speech = speechUlaw('Yes, I would like to confirm my appointment.');
  const out = speech.replace(/\.ulaw$/, `-after${SPEAKS_AFTER_S}s.ulaw`);
  if (!existsSync(out)) writeFileSync(out, Buffer.concat([readFileSync(silenceUlaw(SPEAKS_AFTER_S)), readFileSync(speech), readFileSync(silenceUlaw(4))]));
  return out;
}

speech24k(GREETING); // made now: the stand-in answers from memory
const gemini = mode === 'gemini' ? await GeminiStandIn.start(() => GREETING) : undefined;
const openai = mode === 'openai' ? await OpenAIRealtimeStandIn.start(() => GREETING) : undefined;
const standIn = {
  connections: () => gemini?.connections.length ?? openai!.connections,
  heard: (): readonly HeardChunk[] => gemini?.heard ?? openai!.heard,
  spokenAt: (): readonly number[] => (gemini?.spoken ?? openai!.spoken).map((s) => s.at),
};
const env: Record<string, string> =
  mode === 'gemini'
    ? { VOICE_MODEL: 'gemini', GOOGLE_API_KEY: 'bench-key-not-a-secret', GOOGLE_GEMINI_BASE_URL: gemini!.baseUrl }
    : { VOICE_MODEL: 'openai', OPENAI_API_KEY: 'bench-key-not-a-secret', OPENAI_BASE_URL: openai!.baseUrl };
const worker = await startWorker(`bench-${mode}`, { ...CALLER_ID_ONLY, WORKER_IDLE_PROCESSES: '', ...env, ...workerEnv() }); // '' = unset: the default pool
const route = await provisionInbound(clients(), { agentName: worker.agentName });
const audio = callerAudio();
const blocked = () => worker.output().split('\n').filter((l) => l.includes('event loop blocked')).length;

interface Measured {
  firstAudio?: number;
  answerToAudio?: number;
  modelIn?: number;
  modelOut?: number;
  websockets: number;
  ok: boolean;
}

/** What one finished call measured, given the stand-in's records made while it ran. */
function measure(r: CallResult, websockets: number, spokenAt: readonly number[], heard: readonly HeardChunk[]): Measured {
  const { answer } = callTimes(r);
  const firstAudio = firstAudioMs(r);
  const heardAt = firstLoud(r.rtp);
  // The stand-in's first reply of this call → the first loud packet the caller received after it.
  const replyAt = spokenAt[0];
  const outAt = replyAt === undefined ? undefined : firstLoud(r.rtp, replyAt);
  // The caller's first spoken packet → the first loud chunk the stand-in received after it.
  const saidAt = firstLoud(r.rtpSent);
  const inAt = saidAt === undefined ? undefined : heard.find((h) => h.at >= saidAt && h.dbfs > -45)?.at;
  return {
    firstAudio,
    answerToAudio: answer !== undefined && heardAt !== undefined ? heardAt - answer : undefined,
    modelOut: replyAt !== undefined && outAt !== undefined ? outAt - replyAt : undefined,
    modelIn: saidAt !== undefined && inAt !== undefined ? inAt - saidAt : undefined,
    websockets,
    ok: r.exitCode === 0 && firstAudio !== undefined,
  };
}

/** One call: greeted, then says its sentence, and hangs up. */
async function measuredCall(): Promise<Measured> {
  const p: Seeded = await seedPatient(worker.store);
  const connections = standIn.connections();
  const spoken = standIn.spokenAt().length;
  const heard = standIn.heard().length;
  const call = await SipCaller.dial({ to: route.number, from: p.phone, audioFile: audio, hangupAfterMs: (SPEAKS_AFTER_S + 3) * 1000 });
  const result = await call.result();
  await sleep(500); // the job ends and its model connection closes
  return measure(result, standIn.connections() - connections, standIn.spokenAt().slice(spoken), standIn.heard().slice(heard));
}

try {
  log(`${await untilWarm(worker)} warm job processes`);
  log('warm-up call');
  await measuredCall();
  const all: Measured[] = [];
  const blockedBefore = blocked();
  for (let i = 0; i < CALLS; i++) {
    const m = await measuredCall();
    all.push(m);
    log(`call ${i + 1}/${CALLS}: first audio ${m.firstAudio} ms, model in ${m.modelIn} ms, out ${m.modelOut} ms, ${m.websockets} websocket(s)`);
  }
  const blockedDuringCalls = blocked() - blockedBefore;
  const values = (k: keyof Measured) => all.map((m) => m[k]).filter((v): v is number => typeof v === 'number');
  const idle = treeMemory(worker.process.pid!);
  const bursts = { calls_1: await burst(worker, route.number, 1, log), calls_5: await burst(worker, route.number, 5, log), calls_10: await burst(worker, route.number, 10, log) };
  printResult({
    benchmark: 'inbound',
    mode,
    calls: CALLS,
    failed: all.filter((m) => !m.ok).length,
    invite_to_first_audio_ms: summary(values('firstAudio')),
    answer_to_first_audio_ms: summary(values('answerToAudio')),
    model_in_ms: summary(values('modelIn')),
    model_out_ms: summary(values('modelOut')),
    websockets_per_call: summary(values('websockets')),
    event_loop_blocked: blockedDuringCalls,
    burst: bursts,
    memory: { idle: memorySummary(idle) },
    targets: { invite_to_first_audio_p95_ms: 650, model_each_way_p95_ms: 120, burst_5_ms: 2000, burst_10_ms: 5000, idle_pss_mb: 400, per_call_pss_mb: 90 },
  });
} finally {
  await route.remove();
  await worker.stop();
  await gemini?.close();
  await openai?.close();
}
