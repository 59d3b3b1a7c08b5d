/**
 * Messages callers leave, and their notifications (src/store/messages.ts, src/notify/webhook.ts): saved
 * with the call's outcome and the notification in one transaction, then POSTed to a real HTTP receiver
 * on 127.0.0.1 that checks the Standard Webhooks signature — a receiver down at first gets it once
 * it is up, once; a wrong secret is refused by the receiver and retried.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver } from '../../devtools/webhook-receiver.js';
import { WebhookNotifier } from '../../src/notify/index.js';
import { openSqliteStore, type SqlStore } from '../../src/store/index.js';

const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const silent = pino({ level: 'silent' });

/** A receiver checking signatures with `secret` (default: the notifier's). */
const receiver = (secret = SECRET, port = 0) => startWebhookReceiver(secret, port);

describe('messages and their notifications', () => {
  let store: SqlStore;
  let callId: string;

  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
    await store.upsertPatient({ id: 'p1', name: 'Maria Garcia', phoneE164: '+14155550101' });
    callId = (await store.startCall({ room: 'r1', direction: 'inbound', mode: 'keypad', phoneE164: '+14155550101', patientId: 'p1' })).id;
  });
  afterEach(async () => {
    await store.close();
  });

  it('a message is saved with its call outcome and its notification, in one transaction', async () => {
    const m = await store.messages.save({ callId, patientId: 'p1', callerName: 'Maria', callbackE164: '+14155550101', reason: 'move my visit', via: 'voice' }, true);
    expect(await store.messages.ofCall(callId)).toEqual([m]);
    expect((await store.getCall(callId))?.outcome).toBe('message_taken');
    const [row] = await store.outbox.all();
    expect(row).toMatchObject({ event_id: `msg_${m.id}`, type: 'message.created', attempts: 0, delivered_at: null });
    expect(JSON.parse(row!.payload)).toEqual({
      type: 'message.created',
      timestamp: m.created_at,
      data: { message_id: m.id, call_id: callId, patient_id: 'p1', caller_name: 'Maria', callback_number: '+14155550101', reason: 'move my visit', recording: null, via: 'voice' },
    });
    // No receiver configured: the message only.
    await store.messages.save({ callId, via: 'keypad', recordingPath: 'messages/x.wav', recordingMs: 4200 }, false);
    expect(await store.outbox.all()).toHaveLength(1);
  });

  it('a message for a call that does not exist saves nothing: no message, no notification', async () => {
    await expect(store.messages.save({ callId: 'no-such-call', via: 'voice' }, true)).rejects.toThrow(/FOREIGN KEY/);
    expect(await store.outbox.all()).toEqual([]);
  });

  it('delivered signed; a receiver down at first gets it once it is up, exactly once', async () => {
    const m = await store.messages.save({ callId, reason: 'call me', via: 'voice' }, true);
    // A port nobody listens on yet.
    const probe = await receiver();
    const port = probe.port;
    await probe.close();
    const notifier = new WebhookNotifier({ outbox: store.outbox, url: `http://127.0.0.1:${port}/hook`, secret: SECRET, log: silent, schedule: [50] });
    await notifier.deliverDue();
    let [row] = await store.outbox.all();
    expect(row).toMatchObject({ attempts: 1, delivered_at: null });
    expect(row!.last_error).toMatch(/ECONNREFUSED/);
    // Not due again before its time.
    await notifier.deliverDue(new Date(Date.parse(row!.next_attempt_at) - 1));
    expect((await store.outbox.all())[0]!.attempts).toBe(1);

    const up = await receiver(SECRET, port);
    await new Promise((r) => setTimeout(r, 60));
    await notifier.deliverDue();
    await notifier.deliverDue();
    [row] = await store.outbox.all();
    expect(row).toMatchObject({ attempts: 2, last_error: null });
    expect(row!.delivered_at).not.toBeNull();
    expect(up.got).toEqual([{ id: `msg_${m.id}`, body: JSON.parse(row!.payload) }]);
    await up.close();
  });

  it('a receiver that refuses the signature (another secret): kept, retried, never marked delivered', async () => {
    await store.messages.save({ callId, via: 'voice' }, true);
    const other = await receiver(`whsec_${Buffer.alloc(32, 2).toString('base64')}`);
    const notifier = new WebhookNotifier({ outbox: store.outbox, url: `http://127.0.0.1:${other.port}/`, secret: SECRET, log: silent, schedule: [60_000] });
    await notifier.deliverDue();
    const [row] = await store.outbox.all();
    expect(row).toMatchObject({ attempts: 1, delivered_at: null, last_error: 'HTTP 401' });
    expect(Date.parse(row!.next_attempt_at) - Date.now()).toBeGreaterThan(50_000);
    expect(other.refused).toEqual(['No matching signature found']);
    await other.close();
  });
});
