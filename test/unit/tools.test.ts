/**
 * The voice model's tools in a text-only AgentSession: the framework's FakeLLM plays the model's
 * tool calls, the real tools run against a real SQLite store.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initializeLogger, voice } from '@livekit/agents';
import { DateTime } from 'luxon';
import pino from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CallRecorder, situationOf, type CallOutcome, type Situation } from '../../src/call/index.js';
import type { Kysely } from 'kysely';
import { openSqliteStore, type Database, type SqlStore } from '../../src/store/index.js';
import { appointmentTools } from '../../src/voice/index.js';
import { inspectDatabase } from '../../devtools/database.js';

const TZ = 'America/Los_Angeles';
const start = DateTime.now().setZone(TZ).plus({ days: 1 }).set({ hour: 10, minute: 0, second: 0, millisecond: 0 });

describe('voice tools change the real records', () => {
  let store: SqlStore;
  let situation: Situation;
  let recorder: CallRecorder;
  let callId: string;
  let outcomes: CallOutcome[];
  let session: voice.AgentSession;
  /** What was saved, read independently of the store (devtools/database.ts). */
  let db: Kysely<Database>;

  beforeAll(() => initializeLogger({ pretty: false, level: 'error' }));
  beforeEach(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tools-')), 'app.db');
    store = await openSqliteStore(file);
    db = inspectDatabase(file);
    await store.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
    await store.upsertPatient({ id: 'p1', name: 'Maria Garcia', phoneE164: '+14155550101' });
    await store.upsertPatient({ id: 'p2', name: 'James Wilson', phoneE164: '+14155550102' });
    await store.upsertAppointment({ id: 'a1', patientId: 'p1', providerId: 'dr', start, service: 'check-up', location: 'Main Street' });
    await store.upsertAppointment({ id: 'a2', patientId: 'p2', providerId: 'dr', start: start.plus({ hours: 2 }), service: 'check-up', location: 'Main Street' });
    await store.addFreeSlots('dr', start.plus({ days: 1 }).set({ hour: 9 }), 2, 'Main Street');
    situation = situationOf('inbound', await store.lookupCaller('+14155550101'));
    recorder = await CallRecorder.open(store, { room: 'r1', direction: 'inbound', mode: 'gemini', patientId: 'p1', appointmentId: 'a1' });
    callId = recorder.id;
    outcomes = [];
  });
  afterEach(async () => {
    await session?.close();
    await db.destroy();
    await store.close();
  });

  /**
   * Runs one user turn through a session whose model answers with `calls`. The call is only told
   * of each change (`outcomes`): a booking tool saves the outcome with its change, so what the
   * record says was written by the tool's transaction, not here. `request_operator` has no booking
   * change: `changed` saves its outcome, as the call does.
   */
  async function turn(
    userInput: string,
    calls: { name: string; args: Record<string, unknown> }[],
    onSession?: (s: voice.AgentSession) => void,
    changed: (o: CallOutcome) => Promise<void> = async (o) => {
      if (o === 'operator_requested') await recorder.setOutcome(o);
      outcomes.push(o);
    },
  ) {
    const tools = appointmentTools({ store, callId, situation, log: pino({ level: 'silent' }), changed });
    await session?.close(); // a test's earlier turn
    session = new voice.AgentSession({ llm: new voice.testing.FakeLLM([{ input: userInput, toolCalls: calls }]) });
    onSession?.(session);
    await session.start({ agent: new voice.Agent({ instructions: 'test', tools }) });
    return session.run({ userInput }).wait();
  }

  /** The tools' answers in a turn's events, in order, parsed. */
  const outputs = (r: { events: { type: string; item: unknown }[] }) =>
    r.events
      .filter((e) => e.type === 'function_call_output')
      .map((e) => e.item as { name: string; output: string; isError: boolean })
      .map((o) => ({ name: o.name, isError: o.isError, ...(o.isError ? { error: o.output } : JSON.parse(o.output)) }) as Record<string, unknown>);

  it('confirm: the appointment is confirmed, logged as voice on this call, the outcome kept', async () => {
    const r = await turn('yes I will come', [{ name: 'confirm_appointment', args: {} }]);
    r.expect.nextEvent().isFunctionCall({ name: 'confirm_appointment' });
    const out = r.expect.nextEvent().isFunctionCallOutput({ isError: false });
    expect(JSON.parse(out.event().item.output)).toMatchObject({ result: 'confirmed' });
    expect((await store.getAppointment('a1'))?.status).toBe('confirmed');
    expect((await store.booking.changes('a1')).map((c) => [c.change, c.source, c.call_id])).toEqual([['confirmed', 'voice', callId]]);
    expect((await store.getCall(callId))?.outcome).toBe('confirmed');
    expect(outcomes).toEqual(['confirmed']);
  });

  it('reschedule to a free slot listed from the store: moved, old slot freed', async () => {
    const [slot] = await store.booking.openSlots('dr');
    const r = await turn('move me please', [
      { name: 'list_open_slots', args: {} },
      { name: 'reschedule_appointment', args: { slot_id: slot!.id } },
    ]);
    r.expect.nextEvent().isFunctionCall({ name: 'list_open_slots' });
    r.expect.containsFunctionCallOutput({ isError: false });
    const listed = r.events.find((e) => e.type === 'function_call_output' && e.item.name === 'list_open_slots')!;
    expect(JSON.parse((listed.item as { output: string }).output).slots.map((x: { slot_id: string }) => x.slot_id)).toContain(slot!.id);
    expect(await store.getAppointment('a1')).toMatchObject({ slot_id: slot!.id, starts_at: slot!.starts_at });
    expect((await store.booking.openSlots('dr')).map((x) => x.id)).toContain('slot-a1');
    expect(outcomes).toEqual(['rescheduled']);
  });

  it('reschedule to a taken slot: refused, nothing changed', async () => {
    const r = await turn('move me to that one', [{ name: 'reschedule_appointment', args: { slot_id: 'slot-a2' } }]);
    const out = r.events.find((e) => e.type === 'function_call_output')!;
    expect(JSON.parse((out.item as { output: string }).output)).toMatchObject({ result: 'slot_taken' });
    expect(await store.getAppointment('a1')).toMatchObject({ slot_id: 'slot-a1', status: 'scheduled' });
    expect(await store.booking.changes('a1')).toEqual([]);
    expect(outcomes).toEqual([]);
  });

  it('cancel with the reason', async () => {
    await turn('cancel it', [{ name: 'cancel_appointment', args: { reason: 'moving away' } }]);
    expect((await store.getAppointment('a1'))?.status).toBe('cancelled');
    expect(JSON.parse((await store.booking.changes('a1'))[0]!.detail!)).toEqual({ reason: 'moving away' });
    expect((await store.getCall(callId))?.outcome).toBe('cancelled');
  });

  it('walk-in and reminder preferences', async () => {
    await turn('mornings work, remind me a day before', [
      { name: 'set_walk_in_availability', args: { flexible: false, specific_times: 'weekday mornings', notice_minutes: 120 } },
      { name: 'set_reminder_preference', args: { lead_minutes: 1440 } },
    ]);
    expect(await db.selectFrom('walkin_preferences').selectAll().executeTakeFirst()).toMatchObject({ patient_id: 'p1', flexible: 0, specific_times: 'weekday mornings', notice_minutes: 120 });
    expect(await db.selectFrom('reminder_preferences').selectAll().executeTakeFirst()).toMatchObject({ patient_id: 'p1', lead_minutes: 1440 });
  });

  it('conditional confirmation: a callback saved, a bad time refused with a message for the model', async () => {
    const at = DateTime.now().setZone(TZ).plus({ days: 2 }).set({ hour: 17, minute: 0, second: 0, millisecond: 0 });
    const r = await turn('call me back the day after tomorrow at five', [
      { name: 'confirm_with_callback', args: { callback_at: 'tomorrow at five', reason: 'check work shift' } },
      { name: 'confirm_with_callback', args: { callback_at: at.toISO(), reason: 'check work shift' } },
    ]);
    const outs = r.events.filter((e) => e.type === 'function_call_output').map((e) => e.item as { output: string; isError: boolean });
    expect(outs[0]).toMatchObject({ isError: true });
    expect(outs[0]!.output).toContain('callback_at');
    expect(await db.selectFrom('callbacks').selectAll().execute()).toEqual([
      expect.objectContaining({ appointment_id: 'a1', callback_at: at.toUTC().toISO(), reason: 'check work shift', status: 'pending', call_id: callId }),
    ]);
    expect((await store.getAppointment('a1'))?.status).toBe('scheduled');
  });

  it('a change is made and reported made even when telling the call fails', async () => {
    const r = await turn('yes I will come', [{ name: 'confirm_appointment', args: {} }], undefined, async () => {
      throw new Error('the call is gone');
    });
    expect(outputs(r)).toEqual([expect.objectContaining({ name: 'confirm_appointment', isError: false, result: 'confirmed' })]);
    expect((await store.getAppointment('a1'))?.status).toBe('confirmed');
    expect((await store.getCall(callId))?.outcome).toBe('confirmed');
  });

  it('reschedule refuses a slot that has started or is another provider\'s, and says why', async () => {
    await store.upsertProvider({ id: 'dr2', name: 'Doctor Patel' });
    await store.addFreeSlots('dr2', start.plus({ days: 2 }).set({ hour: 9 }), 1, 'Main Street');
    const [other] = await store.booking.openSlots('dr2');
    await store.addFreeSlots('dr', DateTime.now().setZone(TZ).minus({ hours: 2 }), 1, 'Main Street');
    const past = (await db.selectFrom('slots').select(['id', 'starts_at']).where('provider_id', '=', 'dr').orderBy('starts_at').executeTakeFirstOrThrow()).id;
    const r = await turn('move me', [
      { name: 'reschedule_appointment', args: { slot_id: past } },
      { name: 'reschedule_appointment', args: { slot_id: other!.id } },
    ]);
    const [inPast, otherProvider] = outputs(r);
    expect(inPast).toMatchObject({ isError: false, result: 'slot_in_past' });
    expect(inPast!.why).toMatch(/already passed, so the appointment was not moved/);
    expect(otherProvider).toMatchObject({ isError: false, result: 'other_provider' });
    expect(otherProvider!.why).toMatch(/different provider.*only move to another time with the same provider/);
    expect(await store.getAppointment('a1')).toMatchObject({ slot_id: 'slot-a1', status: 'scheduled' });
    expect(await store.booking.changes('a1')).toEqual([]);
    expect((await store.getCall(callId))?.outcome).toBe('in_progress');
    expect(outcomes).toEqual([]);
  });

  it('a callback in the past or more than 30 days ahead is refused with a reason to tell the caller', async () => {
    const r = await turn('call me back', [
      { name: 'confirm_with_callback', args: { callback_at: DateTime.now().minus({ hours: 1 }).toISO(), reason: 'check' } },
      { name: 'confirm_with_callback', args: { callback_at: DateTime.now().plus({ days: 31 }).toISO(), reason: 'check' } },
    ]);
    const [past, far] = outputs(r);
    expect(past).toMatchObject({ isError: false, result: 'callback_in_past' });
    expect(past!.why).toMatch(/has already passed \(it is now .+\), so no callback was saved/);
    expect(far).toMatchObject({ isError: false, result: 'callback_too_far' });
    expect(far!.why).toMatch(/more than 30 days away, and the clinic only calls back within 30 days/);
    expect(await db.selectFrom('callbacks').selectAll().execute()).toEqual([]);
  });

  it('a callback time without an offset is the appointment\'s local time', async () => {
    const local = DateTime.now().setZone(TZ).plus({ days: 3 }).set({ hour: 17, minute: 0, second: 0, millisecond: 0 });
    await turn('call me back', [{ name: 'confirm_with_callback', args: { callback_at: local.toFormat("yyyy-LL-dd'T'HH:mm"), reason: 'check' } }]);
    expect(await db.selectFrom('callbacks').select('callback_at').execute()).toEqual([{ callback_at: local.toUTC().toISO() }]);
  });

  it('the model repeating a tool call does not log the change twice', async () => {
    const [slot] = await store.booking.openSlots('dr');
    const callbackAt = DateTime.now().setZone(TZ).plus({ days: 2 }).set({ hour: 17, minute: 0, second: 0, millisecond: 0 }).toISO();
    const r = await turn('move me, and call me back', [
      { name: 'reschedule_appointment', args: { slot_id: slot!.id } },
      { name: 'reschedule_appointment', args: { slot_id: slot!.id } },
      { name: 'confirm_with_callback', args: { callback_at: callbackAt, reason: 'check shift' } },
      { name: 'confirm_with_callback', args: { callback_at: callbackAt, reason: 'check shift' } },
    ]);
    expect(outputs(r).map((o) => o.result).sort()).toEqual(['already_in_slot', 'already_requested', 'callback_saved', 'rescheduled']);
    expect((await store.booking.changes('a1')).map((c) => c.change).sort()).toEqual(['callback_requested', 'rescheduled']);
    expect(await db.selectFrom('callbacks').selectAll().execute()).toHaveLength(1);
    expect(outcomes).toEqual(['rescheduled']);

    await turn('cancel it, please cancel it', [
      { name: 'cancel_appointment', args: { reason: 'moving away' } },
      { name: 'cancel_appointment', args: { reason: 'moving away' } },
    ]);
    expect((await store.booking.changes('a1')).filter((c) => c.change === 'cancelled')).toHaveLength(1);
    expect((await store.getCall(callId))?.outcome).toBe('cancelled');
  });

  it('request_operator saves its outcome through the call', async () => {
    const r = await turn('a person please', [{ name: 'request_operator', args: {} }]);
    expect(outputs(r)).toEqual([expect.objectContaining({ isError: false, result: 'recorded' })]);
    expect((await store.getCall(callId))?.outcome).toBe('operator_requested');
  });

  it('end_call is the framework\'s end-call tool: the session closes after it', async () => {
    let closed!: Promise<string>;
    const r = await turn('that is all, bye', [{ name: 'end_call', args: {} }], (s) => {
      closed = new Promise((resolve) => s.on(voice.AgentSessionEventTypes.Close, (ev) => resolve(String(ev.reason))));
    });
    r.expect.nextEvent().isFunctionCall({ name: 'end_call' });
    expect(await closed).toBe('user_initiated');
  });
});
