/**
 * A person when the caller asks for one, end to end on the real stack in keypad mode: key 0 → a cold
 * transfer by SIP REFER that the SIPp phone accepts (202, NOTIFY 200) or refuses (then a message);
 * outside opening hours straight to a message; each message recorded from the caller's audio, saved,
 * and POSTed to a webhook receiver here that checks its Standard Webhooks signature — down at first,
 * it gets the message once it is up, once.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { speechUlaw } from '../../devtools/audio.js';
import { clients, provisionInbound, type InboundRoute } from '../../devtools/livekit.js';
import { addPatient } from '../../devtools/patients.js';
import { firstHeardAfter, speechWords } from '../../devtools/speech-check.js';
import { SipCaller, type CallResult } from '../../devtools/sipp.js';
import { waitFor } from '../../devtools/wait.js';
import { startWebhookReceiver } from '../../devtools/webhook-receiver.js';
import { CALLER_ID_ONLY, startWorker, type TestWorker } from '../../devtools/worker.js';
import { callScript } from '../../src/call/index.js';
import type { ReferAnswer } from '../../devtools/sipp-scenarios.js';

const script = callScript('Main Street Clinic');
const DESK = '+14155550100';
const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const ZONE = 'America/Los_Angeles';

/** A receiver checking the notifications' signatures. */
const receiver = (port = 0) => startWebhookReceiver(SECRET, port);

/** Opening hours that exclude now in the clinic's zone: every day but today. */
function closedToday(): string {
  const today = DateTime.now().setZone(ZONE).weekday; // 1 = Monday
  const names = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  return names.filter((_, i) => i + 1 !== today).map((d) => `${d} 00:00-24:00`).join('; ');
}

describe('a person when the caller asks for one', () => {
  let hook: Awaited<ReturnType<typeof receiver>>;
  let hookPort: number;
  const cleanup: (() => Promise<void>)[] = [];
  const workers: TestWorker[] = [];
  const routes: InboundRoute[] = [];

  beforeAll(async () => {
    // The receiver's port, reserved and closed: it is down when the first message comes.
    const probe = await receiver();
    hookPort = probe.port;
    await probe.close();
  });
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
  });
  afterAll(async () => {
    for (const r of routes) await r.remove().catch(() => undefined);
    for (const w of workers) await w.stop().catch(() => undefined);
    await hook?.close();
  });

  async function worker(name: string, env: Record<string, string>) {
    const w = await startWorker(name, {
      ...CALLER_ID_ONLY,
      CLINIC_TIMEZONE: ZONE,
      NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook`,
      NOTIFY_WEBHOOK_SECRET: SECRET,
      MENU_TIMEOUT_MS: '20000',
      ...env,
    });
    workers.push(w);
    const route = await provisionInbound(clients(), { agentName: w.agentName });
    routes.push(route);
    return { w, route };
  }

  async function call(route: InboundRoute, from: string, dtmf: { digits: string; atMs: number }[], hangupAfterMs: number, refer?: ReferAnswer): Promise<CallResult> {
    const caller = await SipCaller.dial({ to: route.number, from, audioFile: speechUlaw('Hello, this is Maria. Please call me back about my cleaning.'), dtmf, hangupAfterMs, refer });
    cleanup.push(() => caller.kill());
    const result = await caller.result();
    expect(result.exitCode, result.log).toBe(0);
    return result;
  }

  it('cold: 0 → "please hold", a REFER to the desk that the phone accepts → transferred', async () => {
    const { w, route } = await worker('transfer-cold', { OPERATOR_NUMBER: DESK, TRANSFER_MODE: 'cold' });
    const p = await addPatient(w.store);
    // The greeting ends about 14 s after the answer.
    const result = await call(route, p.phone, [{ digits: '0', atMs: 16_000 }], 45_000, { kind: 'accept' });

    const refer = result.sip.find((m) => m.firstLine.startsWith('REFER'));
    expect(refer?.text).toMatch(new RegExp(`Refer-To: <?tel:\\${DESK}>?`, 'i'));
    const record = (await w.db.selectFrom('call_records').selectAll().where('phone_e164', '=', p.phone).executeTakeFirst())!;
    expect(record).toMatchObject({ outcome: 'transferred', transfer_status: 'accepted', transfer_target: DESK });
    expect((await w.store.digits(record.id)).map((d) => [d.digit, d.action])).toEqual([['0', 'operator']]);
    const pressed = result.dtmfSent[0]!.timeMs;
    expect(await firstHeardAfter(result, pressed, [script.connecting(), script.leaveMessage('failed')])).toBe(speechWords(script.connecting()));
  });

  it('cold, refused (403): back to the agent, a message taken and saved; the receiver, down at first, gets it once', async () => {
    const { w, route } = await worker('transfer-refused', { OPERATOR_NUMBER: DESK, TRANSFER_MODE: 'cold' });
    const p = await addPatient(w.store);
    // 0 at 16 s; the REFER refused; then the apology and the message prompt (about 12 s) and 8 s of message, then #.
    const result = await call(route, p.phone, [{ digits: '0', atMs: 16_000 }, { digits: '#', atMs: 90_000 }], 110_000, { kind: 'refuse', status: 403, reason: 'Forbidden', thenMs: 20_000 });

    const record = (await w.db.selectFrom('call_records').selectAll().where('phone_e164', '=', p.phone).executeTakeFirst())!;
    expect(record).toMatchObject({ outcome: 'message_taken', transfer_status: 'refused', transfer_detail: '403 Forbidden', transfer_target: DESK });
    const [message] = await w.store.messages.ofCall(record.id);
    expect(message).toMatchObject({ via: 'keypad', patient_id: p.patientId, callback_e164: p.phone });
    expect(message!.recording_ms).toBeGreaterThan(3000);
    const file = join(dirname(w.dbPath), message!.recording_path!);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const prompt = result.sip.findIndex((m) => m.firstLine.startsWith('SIP/2.0 403'));
    expect(prompt).toBeGreaterThan(-1);

    // The receiver was down: the first try failed and is kept; once it is up, the retry (5 s later) delivers it, once.
    await waitFor('the first delivery attempt', async () => (await w.store.outbox.all())[0]?.attempts === 1, 30_000);
    expect((await w.store.outbox.all())[0]!.last_error).toMatch(/ECONNREFUSED/);
    hook = await receiver(hookPort);
    await waitFor('the notification', () => hook.got.length === 1, 30_000);
    await new Promise((r) => setTimeout(r, 8000));
    expect(hook.got).toHaveLength(1);
    expect(hook.got[0]!.body).toMatchObject({ type: 'message.created', data: { call_id: record.id, patient_id: p.patientId, callback_number: p.phone, via: 'keypad' } });
    expect((await w.store.outbox.all())[0]!.delivered_at).not.toBeNull();
  });

  it('outside opening hours: straight to a message, the desk never rung', async () => {
    const { w, route } = await worker('transfer-closed', { OPERATOR_NUMBER: DESK, TRANSFER_MODE: 'cold', CLINIC_HOURS: closedToday() });
    const p = await addPatient(w.store);
    const result = await call(route, p.phone, [{ digits: '0', atMs: 16_000 }, { digits: '#', atMs: 36_000 }], 55_000, { kind: 'accept' });
    expect(result.sip.some((m) => m.firstLine.startsWith('REFER'))).toBe(false);
    const record = (await w.db.selectFrom('call_records').selectAll().where('phone_e164', '=', p.phone).executeTakeFirst())!;
    expect(record).toMatchObject({ outcome: 'message_taken', transfer_status: null });
    expect(await w.store.messages.ofCall(record.id)).toHaveLength(1);
    const pressed = result.dtmfSent[0]!.timeMs;
    expect(await firstHeardAfter(result, pressed, [script.leaveMessage('closed'), script.connecting()])).toBe(speechWords(script.leaveMessage('closed')));
  });
});
