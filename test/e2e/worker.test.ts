/**
 * The worker process itself: its health endpoint, and SIGTERM letting an active call finish
 * before it exits.
 */
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAppointment, upsertPatient, upsertProvider } from '../../src/store/seed.js';
import { speechUlaw } from '../support/audio.js';
import { clients, provisionInbound, uniqueNumber, type InboundRoute } from '../support/livekit.js';
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
    await upsertProvider(worker.store, { id: 'dr', name: 'Doctor Chen' });
    const phone = uniqueNumber();
    await upsertPatient(worker.store, { id: 'p-term', name: 'Maria Garcia', phoneE164: phone });
    await upsertAppointment(worker.store, {
      id: 'a-term',
      patientId: 'p-term',
      providerId: 'dr',
      start: DateTime.now().setZone('America/Los_Angeles').plus({ days: 1 }).set({ hour: 11, minute: 0 }),
      service: 'check-up',
      location: 'the clinic',
    });
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
    expect((await worker.store.getAppointment('a-term'))?.status).toBe('confirmed');
    const record = (await worker.store.db.selectFrom('call_records').selectAll().where('phone_e164', '=', phone).executeTakeFirst())!;
    expect(record.outcome).toBe('confirmed');
    expect(record.ended_at).not.toBeNull();
    expect(await exited).not.toBeNull(); // the worker went away on its own once the call was over
  });
});
