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
import { CallRecorder, IdentityCheck, situationOf, type CallOutcome, type Situation, type ToolScope } from '../../src/call/index.js';
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
    await store.upsertPatient({ id: 'p1', name: 'Maria Garcia', phoneE164: '+14155550101', dateOfBirth: '1985-03-14' });
    await store.upsertPatient({ id: 'p2', name: 'James Wilson', phoneE164: '+14155550102' });
    await store.upsertAppointment({ id: 'a1', patientId: 'p1', providerId: 'dr', start, service: 'check-up', location: 'Main Street' });
    await store.upsertAppointment({ id: 'a2', patientId: 'p2', providerId: 'dr', start: start.plus({ hours: 2 }), service: 'check-up', location: 'Main Street' });
    await store.addFreeSlots('dr', start.plus({ days: 1 }).set({ hour: 9 }), 2, 'Main Street');
    situation = situationOf('inbound', (await store.lookupCallers('+14155550101'))[0]);
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
    check?: Pick<ToolScope, 'situation' | 'identity' | 'verify'>,
    extra: Pick<ToolScope, 'reachDesk' | 'leaveMessage' | 'optOut'> = {},
  ) {
    const scope: ToolScope = { store, callId, situation, log: pino({ level: 'silent' }), changed, verify: async () => ({ kind: 'ignored' }), ...extra };
    // The situation is read live, as the call's is: it changes once the caller has proved who they are.
    if (check) Object.defineProperties(scope, { identity: { value: check.identity }, verify: { value: check.verify }, situation: { get: () => check.situation } });
    const tools = appointmentTools(scope);
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

  describe('before the caller has proved who they are', () => {
    /**
     * The identity check of a call whose caller says dates to the model: the check of
     * src/call/verification.ts, the situation switched to the patient's once it passes (as the call does).
     */
    async function checking() {
      const check = new IdentityCheck('dob', await store.lookupCallers('+14155550101'));
      let now: Situation = { kind: 'unverified', direction: 'inbound', method: 'dob' };
      return {
        identity: 'dob' as const,
        get situation() {
          return now;
        },
        verify: async (a: { dateOfBirth: string } | { isPatient: boolean }) => {
          const step = 'dateOfBirth' in a ? check.spokenDate(a.dateOfBirth) : check.answer(a.isPatient);
          if (step.kind === 'verified') now = situationOf('inbound', step.who);
          if (step.kind === 'failed') now = { kind: 'not_verified', direction: 'inbound' };
          return step;
        },
      };
    }

    it('every booking and preference tool refuses, telling the model to verify first; nothing changes', async () => {
      const check = await checking();
      const calls = [
        { name: 'confirm_appointment', args: {} },
        { name: 'list_open_slots', args: {} },
        { name: 'reschedule_appointment', args: { slot_id: 'slot-x' } },
        { name: 'cancel_appointment', args: { reason: 'r' } },
        { name: 'set_walk_in_availability', args: { flexible: true } },
        { name: 'set_reminder_preference', args: { lead_minutes: 60 } },
        { name: 'confirm_with_callback', args: { callback_at: start.plus({ days: 1 }).toISO(), reason: 'r' } },
      ];
      for (const call of calls) {
        const r = await turn('do it', [call], undefined, undefined, check);
        const [out] = outputs(r);
        expect(out, call.name).toMatchObject({ name: call.name, isError: true });
        expect(String(out!.error), call.name).toMatch(/verify first — ask for their date of birth and call verify_identity/);
        expect(String(out!.error)).not.toMatch(/Maria|check-up|Chen/);
      }
      expect(await store.getAppointment('a1')).toMatchObject({ status: 'scheduled', starts_at: start.toUTC().toISO() });
      expect(await store.booking.changes('a1')).toEqual([]);
      expect(await db.selectFrom('walkin_preferences').selectAll().execute()).toEqual([]);
      expect(await db.selectFrom('reminder_preferences').selectAll().execute()).toEqual([]);
      expect(outcomes).toEqual([]);
    });

    it('confirm_appointment refused before verify_identity, works after it; a wrong date tells nothing', async () => {
      const check = await checking();
      let r = await turn('confirm my appointment', [{ name: 'confirm_appointment', args: {} }], undefined, undefined, check);
      expect(outputs(r)[0]).toMatchObject({ isError: true });
      r = await turn('it is march fifteenth 1985', [{ name: 'verify_identity', args: { date_of_birth: '1985-03-15' } }], undefined, undefined, check);
      const wrong = outputs(r)[0]!;
      expect(wrong).toMatchObject({ isError: false, result: 'no_match', attempts_left: 2 });
      expect(JSON.stringify(wrong)).not.toMatch(/Maria|check-up|Chen/);
      r = await turn('sorry, the fourteenth', [{ name: 'verify_identity', args: { date_of_birth: '1985-03-14' } }], undefined, undefined, check);
      const ok = outputs(r)[0]!;
      expect(ok).toMatchObject({ isError: false, result: 'verified' });
      expect(String(ok.facts)).toMatch(/^The caller is Maria Garcia\. They have your check-up with Doctor Chen/);
      r = await turn('confirm it', [{ name: 'confirm_appointment', args: {} }], undefined, undefined, check);
      expect(outputs(r)[0]).toMatchObject({ isError: false, result: 'confirmed' });
      expect((await store.getAppointment('a1'))?.status).toBe('confirmed');
    });

    it('request_operator works before verification; after three wrong dates the tools say the caller could not be verified', async () => {
      const check = await checking();
      let r = await turn('a person please', [{ name: 'request_operator', args: {} }], undefined, undefined, check);
      expect(outputs(r)[0]).toMatchObject({ isError: false, result: 'recorded' });
      for (const dob of ['1990-01-01', '1990-01-02']) await turn('my birthday', [{ name: 'verify_identity', args: { date_of_birth: dob } }], undefined, undefined, check);
      r = await turn('my birthday', [{ name: 'verify_identity', args: { date_of_birth: '1990-01-03' } }], undefined, undefined, check);
      expect(outputs(r)[0]).toMatchObject({ result: 'not_verified' });
      r = await turn('confirm it', [{ name: 'confirm_appointment', args: {} }], undefined, undefined, check);
      expect(String(outputs(r)[0]!.error)).toMatch(/could not prove who they are/);
      // Even the right date does not pass now.
      r = await turn('1985-03-14', [{ name: 'verify_identity', args: { date_of_birth: '1985-03-14' } }], undefined, undefined, check);
      expect(outputs(r)[0]).toMatchObject({ result: 'not_verified' });
      expect((await store.getAppointment('a1'))?.status).toBe('scheduled');
    });

    it('no verify_identity tool when the call has no check; a name check asks is_patient', async () => {
      const names = (scope: Partial<ToolScope>) =>
        appointmentTools({ store, callId, situation, log: pino({ level: 'silent' }), changed: async () => undefined, verify: async () => ({ kind: 'ignored' }), ...scope }).map(
          (t) => (t as { name?: string }).name,
        );
      expect(names({})).not.toContain('verify_identity');
      const named = appointmentTools({
        store,
        callId,
        situation: { kind: 'unverified', direction: 'outbound', method: 'name', calledFor: 'Maria Garcia' },
        identity: 'name',
        log: pino({ level: 'silent' }),
        changed: async () => undefined,
        verify: async () => ({ kind: 'declined' }),
      }).find((t) => (t as { name?: string }).name === 'verify_identity') as unknown as { parameters: { shape: Record<string, unknown> } };
      expect(Object.keys(named.parameters.shape)).toEqual(['is_patient']);
    });
  });
  describe('a person, or a message (transfer_to_operator, take_message)', () => {
    it('transfer_to_operator answers at once with what happens next; take_message saves a message with its notification', async () => {
      const asked: string[] = [];
      const saved: unknown[] = [];
      const scope = {
        reachDesk: async (summary?: string) => (asked.push(`desk: ${summary}`), 'closed' as const),
        leaveMessage: async (m: { callerName: string; callbackNumber?: string; reason: string }) => {
          if (m.callbackNumber === 'twelve') return 'bad_number' as const;
          saved.push(m);
          return 'saved' as const;
        },
      };
      const names = appointmentTools({ store, callId, situation, log: pino({ level: 'silent' }), changed: async () => undefined, verify: async () => ({ kind: 'ignored' }), ...scope }).map(
        (t) => (t as { name?: string }).name,
      );
      expect(names).toContain('transfer_to_operator');
      expect(names).toContain('take_message');
      expect(names).not.toContain('request_operator');

      const r = await turn('a person please', [{ name: 'transfer_to_operator', args: { summary: 'Maria wants to bring her visit forward.' } }], undefined, undefined, undefined, scope);
      expect(outputs(r)[0]).toMatchObject({ isError: false, result: 'take_message', why: 'the front desk is closed now' });
      // The model's note for the desk reaches the call (said in a warm transfer's briefing).
      expect(asked).toEqual(['desk: Maria wants to bring her visit forward.']);

      let m = await turn('I am Maria', [{ name: 'take_message', args: { caller_name: 'Maria', reason: 'move my visit', callback_number: 'twelve' } }], undefined, undefined, undefined, scope);
      expect(outputs(m)[0]).toMatchObject({ isError: true });
      expect(String(outputs(m)[0]!.error)).toMatch(/not a valid phone number; ask the caller to say the whole number again/);
      expect(saved).toEqual([]);
      m = await turn('I am Maria', [{ name: 'take_message', args: { caller_name: 'Maria', reason: 'move my visit' } }], undefined, undefined, undefined, scope);
      expect(outputs(m)[0]).toMatchObject({ isError: false, result: 'saved' });
      expect(saved).toEqual([{ callerName: 'Maria', reason: 'move my visit', callbackNumber: undefined }]);
    });

    it('both work before the caller is verified', async () => {
      const unverified: Situation = { kind: 'unverified', direction: 'inbound', method: 'dob' };
      const check = { identity: 'dob' as const, situation: unverified, verify: async () => ({ kind: 'ignored' }) as const };
      const scope = { reachDesk: async () => 'connecting' as const, leaveMessage: async () => 'saved' as const };
      const r = await turn('a person please', [{ name: 'transfer_to_operator', args: {} }], undefined, undefined, check, scope);
      expect(outputs(r)[0]).toMatchObject({ isError: false, result: 'connecting' });
      const m = await turn('message', [{ name: 'take_message', args: { caller_name: 'M', reason: 'r' } }], undefined, undefined, check, scope);
      expect(outputs(m)[0]).toMatchObject({ isError: false, result: 'saved' });
    });
  });
  describe('opt_out, on calls we place', () => {
    it('puts the number on the do-not-call list, before the caller is verified too; a failure to save is the model\'s to tell, nothing promised', async () => {
      const unverified: Situation = { kind: 'unverified', direction: 'outbound', method: 'name', calledFor: 'Maria Garcia' };
      const check = { identity: 'name' as const, situation: unverified, verify: async () => ({ kind: 'ignored' }) as const };
      const optOut = async () => {
        await store.doNotCall.optOutFromCall(callId, '+14155550101', 'voice');
      };
      const r = await turn('stop calling me', [{ name: 'opt_out', args: {} }], undefined, undefined, check, { optOut });
      expect(outputs(r)[0]).toMatchObject({ isError: false, result: 'saved' });
      expect(await store.doNotCall.get('+14155550101')).toMatchObject({ source: 'voice', call_id: callId });
      expect((await store.getCall(callId))?.outcome).toBe('opted_out');

      const failing = await turn('stop calling me', [{ name: 'opt_out', args: {} }], undefined, undefined, check, {
        optOut: async () => {
          throw new Error('database is locked');
        },
      });
      expect(outputs(failing)[0]).toMatchObject({ isError: true, error: expect.stringContaining('could not be saved') });
    });

    it('is not offered on other calls', async () => {
      const r = await turn('stop calling me', [{ name: 'opt_out', args: {} }]);
      expect(outputs(r)[0]).toMatchObject({ isError: true });
      expect(await store.doNotCall.list()).toEqual([]);
    });
  });
});
