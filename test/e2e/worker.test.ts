/**
 * The worker process itself: its health endpoint, and SIGTERM letting an active call finish
 * before it exits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { speechUlaw } from '../support/audio.js';
import { clients, provisionInbound, type InboundRoute } from '../support/livekit.js';
import { addPatient } from '../support/patients.js';
import { SipCaller } from '../support/sipp.js';
import { startWorker, type TestWorker } from '../support/worker.js';

describe('worker process', () => {
  let worker: TestWorker;
  let route: InboundRoute;

  beforeAll(async () => {
    worker = await startWorker('lifecycle');
    route = await provisionInbound(clients(), { agentName: worker.agentName });
  });
  afterAll(async () => {
    await route?.remove();
    await worker?.stop();
  });

  it('answers its health endpoint while it takes jobs', async () => {
    const port = /Server is listening on port (\d+)/.exec(worker.output())?.[1];
    expect(port).toBe(worker.port);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
  });

  it('on SIGTERM lets the active call finish, saves it, then exits', async () => {
    const p = await addPatient(worker.store, { service: 'check-up' });
    const phone = p.phone;
    const call = await SipCaller.dial({
      to: route.number,
      from: phone,
      audioFile: speechUlaw('Hello.'),
      dtmf: [{ digits: '1', atMs: 6000 }],
      hangupAfterMs: 30_000,
    });
    // Once the call is up, ask the worker to stop.
    const deadline = Date.now() + 15_000;
    while (!worker.output().includes('greeting caller') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const exited = new Promise<number | null>((r) => worker.process.once('exit', (code) => r(code)));
    worker.process.kill('SIGTERM');

    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);
    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
    const record = (await worker.store.db.selectFrom('call_records').selectAll().where('phone_e164', '=', phone).executeTakeFirst())!;
    expect(record.outcome).toBe('confirmed');
    expect(record.ended_at).not.toBeNull();
    expect(await exited).not.toBeNull(); // the worker went away on its own once the call was over
  });
});
