/**
 * The worker process itself: its health endpoint, job processes warming up at a lower CPU priority
 * than calls, and SIGTERM letting an active call finish before it exits.
 */
import { networkInterfaces } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { speechUlaw } from '../../devtools/audio.js';
import { clients, provisionInbound, type InboundRoute } from '../../devtools/livekit.js';
import { addPatient } from '../../devtools/patients.js';
import { SipCaller } from '../../devtools/sipp.js';
import { CALLER_ID_ONLY, startWorker, type TestWorker } from '../../devtools/worker.js';
import { canRestorePriority, WARM_UP_NICE } from '../../src/worker/priority.js';

/** Field `n` (1-based, as in proc(5)) of /proc/<pid>/stat: 4 = parent pid, 19 = nice. */
function statField(pid: number, n: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3]);
}

async function until(ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('worker process', () => {
  let worker: TestWorker;
  let route: InboundRoute;

  beforeAll(async () => {
    worker = await startWorker('lifecycle', CALLER_ID_ONLY);
    route = await provisionInbound(clients(), { agentName: worker.agentName });
  });
  afterAll(async () => {
    await route?.remove();
    await worker?.stop();
  });

  it('refuses to start when VOICE_MODEL names a model whose key is missing, with one line saying so', async () => {
    await expect(startWorker('nokey', { VOICE_MODEL: 'openai' })).rejects.toThrow(
      /worker exited \(1\):\nVOICE_MODEL=openai needs OPENAI_API_KEY: set it in \.env, or set VOICE_MODEL=keypad to run without a model\n$/,
    );
  });

  it('answers its health endpoint while it takes jobs', async () => {
    const port = /Server is listening on port (\d+)/.exec(worker.output())?.[1];
    expect(port).toBe(worker.port);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    // Only on loopback by default (WORKER_HOST): another address of this host is refused.
    const other = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (other) await expect(fetch(`http://${other}:${port}/worker`)).rejects.toThrow();
  });

  it('runs no end-of-turn inference process, and its job processes with a small young generation', async () => {
    const children = () =>
      readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return statField(Number(d), 4) === worker.process.pid;
          } catch {
            return false;
          }
        })
        .map((d) => readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0'));
    await until(() => children().some((c) => c.some((a) => a.includes('job_proc_lazy_main'))), 30_000);
    // Before: agents 1.9.0 ran inference_proc_lazy_main (≈280 MB) for a turn detector no mode uses.
    expect(children().filter((c) => c.some((a) => a.includes('inference_proc')))).toEqual([]);
    expect(worker.output()).toContain('the local end-of-turn model is left out');
    for (const job of children().filter((c) => c.some((a) => a.includes('job_proc_lazy_main')))) expect(job).toContain('--max-semi-space-size=2');
  });

  it.runIf(canRestorePriority())('warms job processes up at nice 10 and runs the call at nice 0', async () => {
    const jobProcesses = () =>
      readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('job_proc_lazy_main') && statField(Number(d), 4) === worker.process.pid;
          } catch {
            return false;
          }
        })
        .map(Number);
    // The idle process the worker keeps ready runs at the warm-up priority.
    await until(() => jobProcesses().some((pid) => statField(pid, 19) === WARM_UP_NICE), 30_000);

    const p = await addPatient(worker.store, { service: 'check-up' });
    const call = await SipCaller.dial({ to: route.number, from: p.phone, audioFile: speechUlaw('Hello.'), dtmf: [{ digits: '1', atMs: 4000 }], hangupAfterMs: 20_000 });
    await until(() => /"msg":"greeting caller"/.test(worker.output()), 15_000);
    const line = worker.output().split('\n').find((l) => l.includes('"msg":"greeting caller"'))!;
    const callPid = (JSON.parse(line) as { pid: number }).pid;
    expect(statField(callPid, 19)).toBe(0);
    expect((await call.result()).exitCode).toBe(0);
  });

  it('on SIGTERM lets the active call finish, saves it, then exits', async () => {
    const greetings = () => worker.output().split('"msg":"greeting caller"').length - 1;
    const greetedBefore = greetings();
    const p = await addPatient(worker.store, { service: 'check-up' });
    const phone = p.phone;
    const call = await SipCaller.dial({
      to: route.number,
      from: phone,
      audioFile: speechUlaw('Hello.'),
      dtmf: [{ digits: '1', atMs: 6000 }],
      hangupAfterMs: 30_000,
    });
    // Once this call is up (one more greeting than before), ask the worker to stop.
    const deadline = Date.now() + 15_000;
    while (greetings() <= greetedBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const exited = new Promise<number | null>((r) => worker.process.once('exit', (code) => r(code)));
    worker.process.kill('SIGTERM');

    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);
    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
    const record = (await worker.db.selectFrom('call_records').selectAll().where('phone_e164', '=', phone).executeTakeFirst())!;
    expect(record.outcome).toBe('confirmed');
    expect(record.ended_at).not.toBeNull();
    expect(await exited).toBe(0); // the worker went away on its own once the call was over, exit 0 after a clean drain
  });
});
