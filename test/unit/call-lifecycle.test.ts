/**
 * One call's life driven by fake room events, with no servers: a fake room, voice and dial stand in
 * for LiveKit, the store is a real SQLite file (spied on to count how often a record is closed).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParticipantKind } from '@livekit/rtc-node';
import { DateTime } from 'luxon';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Call,
  callScript,
  MENU,
  modelLostError,
  type CallPhase,
  type IdentityPolicy,
  type CallRoom,
  type CallVoice,
  type DialResult,
  type FrontDesk,
  type MachineScreen,
  type MachineVerdict,
  type MessageBox,
  type OutboundLeg,
  type ParticipantLike,
  type Speaker,
  type Utterance,
  type VoiceRequest,
  type VoicemailSettings,
  type WebVisit,
} from '../../src/call/index.js';
import { openSqliteStore, type AppointmentStore, type SqlStore } from '../../src/store/index.js';

const PHONE = '+14155550101';
const CALLER: ParticipantLike = {
  identity: `sip_${PHONE}`,
  kind: ParticipantKind.SIP,
  attributes: { 'sip.phoneNumber': PHONE, 'sip.trunkPhoneNumber': '+14155550100', 'sip.callID': 'SCL_test', 'sip.ruleID': 'SDR_test' },
};
const script = callScript('Main Street Clinic');
const log = pino({ level: 'silent' });

/** A promise and its resolve, to hold a step of the call where a test wants it. */
function gate<T = void>() {
  let open!: (v: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

const until = async (ok: () => boolean | Promise<boolean>, what: string) => {
  const deadline = Date.now() + 3000;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

class FakeRoom implements CallRoom {
  readonly name = 'call-test';
  readonly present = new Set<string>();
  hangUps = 0;
  /** Who has joined, in order, and who waits for whom (undefined: anyone), as the job's room does. */
  private readonly joined: ParticipantLike[] = [];
  private readonly waiting: { identity?: string; found: (p: ParticipantLike) => void }[] = [];
  waitForParticipant = (identity?: string) =>
    new Promise<ParticipantLike>((found) => {
      const here = this.joined.find((p) => identity === undefined || p.identity === identity);
      if (here) found(here);
      else this.waiting.push({ identity, found });
    });
  join(p: ParticipantLike): void {
    this.present.add(p.identity);
    this.joined.push(p);
    for (const w of this.waiting.splice(0)) {
      if (w.identity === undefined || w.identity === p.identity) w.found(p);
      else this.waiting.push(w);
    }
  }
  has = (identity: string) => this.present.has(identity);
  async hangUp(): Promise<void> {
    this.hangUps++;
  }
  leaves = 0;
  async leave(): Promise<void> {
    this.leaves++;
  }
}

/** Records what it is asked to say; `hold` keeps the next utterance playing until released. */
class FakeSpeaker implements Speaker {
  readonly said: string[] = [];
  closed = false;
  hold?: ReturnType<typeof gate<void>>;
  constructor(public mode: string) {}
  async say(u: Utterance): Promise<void> {
    this.said.push(this.mode === 'keypad' ? u.text : u.facts);
    await this.hold?.promise;
    this.hold = undefined;
  }
  /** Every switch of the caller's audio to the voice (hearCaller), in order. */
  readonly hearing: boolean[] = [];
  hearCaller(on: boolean): void {
    this.hearing.push(on);
  }
  interrupts = 0;
  /** The utterance being said ends early, as a real session's does when interrupted. */
  interrupt(): void {
    this.interrupts++;
    this.hold?.open();
  }
  /** As a real session: closing ends what is playing. */
  async close(): Promise<void> {
    this.closed = true;
    this.hold?.open();
  }
}

class FakeVoice implements CallVoice {
  readonly reason = 'test';
  readonly requests: VoiceRequest[] = [];
  readonly starting = gate();
  constructor(
    readonly speaker: FakeSpeaker,
    readonly mode = speaker.mode,
    private readonly failure?: Error,
  ) {
    this.starting.open();
  }
  held(): this {
    (this as { starting: ReturnType<typeof gate<void>> }).starting = gate();
    return this;
  }
  async start(req: VoiceRequest): Promise<Speaker> {
    this.requests.push(req);
    await this.starting.promise;
    if (this.failure) throw this.failure;
    return this.speaker;
  }
}

describe('a call driven by room events', () => {
  let sql: SqlStore;
  let store: AppointmentStore;
  let closes: number;
  /** Store methods to hold before they run, by name. */
  let holds: Map<string, Promise<void>>;
  /** Store methods called so far, by name. */
  let calls: string[];
  /** Store (and booking) methods to fail, by name, with the error they throw. */
  let fails: Map<string, Error>;

  beforeEach(async () => {
    sql = await openSqliteStore(join(mkdtempSync(join(tmpdir(), 'call-')), 'app.db'));
    await sql.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
    await sql.upsertPatient({ id: 'p1', name: 'Maria Garcia', phoneE164: PHONE });
    const start = DateTime.now().setZone('America/Los_Angeles').plus({ days: 1 }).set({ hour: 10, minute: 30 });
    await sql.upsertAppointment({ id: 'a1', patientId: 'p1', providerId: 'dr', start, service: 'dental cleaning', location: 'the Main Street clinic' });
    closes = 0;
    holds = new Map();
    calls = [];
    fails = new Map();
    /** Records, holds and fails the calls of `target`'s methods. */
    const spied = <T extends object>(target: T): T =>
      new Proxy(target, {
        get(t, key) {
          const value = Reflect.get(t, key) as unknown;
          if (key === 'booking' || key === 'doNotCall') return spied(value as object);
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            calls.push(String(key));
            if (key === 'endCall') closes++;
            await holds.get(String(key));
            const failure = fails.get(String(key));
            if (failure) throw failure;
            return (value as (...a: unknown[]) => unknown).apply(t, args);
          };
        },
      });
    // The real store, with its calls recorded (record closes counted) and any of them held or failed where a test says.
    store = spied(sql);
  });
  afterEach(() => sql.close());

  /** Caller ID alone, as before identity checks: the tests of other behaviour use it. */
  const NO_CHECK: IdentityPolicy = { inbound: 'none', outbound: 'none', order: 'MDY' };

  function makeCall(
    voice: FakeVoice,
    opts: {
      outbound?: OutboundLeg;
      web?: WebVisit;
      menuTimeoutMs?: number;
      maxDurationMs?: number;
      identity?: IdentityPolicy;
      desk?: FrontDesk;
      messages?: MessageBox;
      voicemail?: VoicemailSettings;
    } = {},
  ) {
    const room = new FakeRoom();
    const call = new Call({
      store,
      room,
      voice,
      script,
      country: 'US',
      menuTimeoutMs: opts.menuTimeoutMs ?? 60_000,
      maxDurationMs: opts.maxDurationMs ?? 600_000,
      log,
      outbound: opts.outbound,
      web: opts.web,
      identity: opts.identity ?? NO_CHECK,
      desk: opts.desk,
      messages: opts.messages,
      voicemail: opts.voicemail,
    });
    const running = call.run();
    return { room, call, running };
  }

  const inState = (call: Call, state: CallPhase) => until(() => call.state === state, `state ${state}`);
  const recordOf = async () => (await sql.callsInRoom('call-test'))[0]!;

  /** Everything that could close the call again: none of it may close the record a second time. */
  async function closeAgain(call: Call) {
    call.receive({ type: 'participant_left', identity: CALLER.identity, reason: 'CLIENT_INITIATED' });
    call.receive({ type: 'room_closed' });
    await call.close('job shutdown');
  }

  /** An outbound leg whose dial waits for `answer`. */
  function leg(answer: Promise<DialResult>): OutboundLeg & { dialed: (string | undefined)[] } {
    const dialed: (string | undefined)[] = [];
    return { appointmentId: 'a1', phoneNumber: PHONE, identity: 'patient', dialed, dial: (phone) => (dialed.push(phone), answer) };
  }

  describe('hang-up in each state closes the record once', () => {
    it('connecting (the voice still starting): hung_up; the voice that arrives late is closed', async () => {
      const speaker = new FakeSpeaker('keypad');
      const voice = new FakeVoice(speaker).held();
      const { room, call, running } = makeCall(voice);
      room.join(CALLER);
      await until(() => voice.requests.length === 1, 'the voice to be asked for');
      expect(call.state).toBe('connecting');
      call.receive({ type: 'participant_left', identity: CALLER.identity, reason: 'CLIENT_INITIATED' });
      const ended = await running;
      expect(ended.record).toMatchObject({ outcome: 'hung_up', direction: 'inbound', phone_e164: PHONE, appointment_id: 'a1' });
      expect(ended.why).toBe('participant left (reason CLIENT_INITIATED)');
      voice.starting.open();
      await until(() => speaker.closed, 'the late voice to be closed');
      expect(speaker.said).toEqual([]);
      await closeAgain(call);
      expect(closes).toBe(1);
      expect(room.hangUps).toBeGreaterThan(0);
    });

    it('dialing: the callee leaving is the dial\'s to report; the room closing ends it as hung_up', async () => {
      const answer = gate<DialResult>();
      const outbound = leg(answer.promise);
      const { call, running } = makeCall(new FakeVoice(new FakeSpeaker('keypad')), { outbound });
      await inState(call, 'dialing');
      expect(outbound.dialed).toEqual([PHONE]);
      call.receive({ type: 'participant_left', identity: 'patient' });
      expect(call.state).toBe('dialing');
      call.receive({ type: 'room_closed' });
      const ended = await running;
      expect(ended.record).toMatchObject({ outcome: 'hung_up', direction: 'outbound', appointment_id: 'a1' });
      answer.open({ ok: true });
      await closeAgain(call);
      expect(closes).toBe(1);
    });

    it.each(['greeting', 'menu', 'conversation'] as const)('%s: hung_up', async (state) => {
      const speaker = new FakeSpeaker(state === 'conversation' ? 'gemini' : 'keypad');
      if (state === 'greeting') speaker.hold = gate();
      const { room, call, running } = makeCall(new FakeVoice(speaker));
      room.join(CALLER);
      await inState(call, state);
      call.receive({ type: 'participant_left', identity: CALLER.identity });
      expect((await running).record?.outcome).toBe('hung_up');
      expect(speaker.closed).toBe(true);
      await closeAgain(call);
      expect(closes).toBe(1);
    });

    it('closing (the goodbye playing): the outcome already saved stays', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker));
      room.join(CALLER);
      await inState(call, 'menu');
      call.receive({ type: 'key', digit: '1', from: CALLER.identity });
      speaker.hold = gate(); // after the press: the press itself interrupts the menu
      await until(() => speaker.said.length === 2, 'the confirmation');
      expect(call.state).toBe('closing');
      call.receive({ type: 'participant_left', identity: CALLER.identity });
      speaker.hold?.open();
      expect((await running).record?.outcome).toBe('confirmed');
      await closeAgain(call);
      expect(closes).toBe(1);
    });
  });

  it('a caller who hangs up while being looked up is still on record', async () => {
    const lookup = gate();
    holds.set('lookupCallers', lookup.promise);
    const voice = new FakeVoice(new FakeSpeaker('keypad'));
    const { room, call, running } = makeCall(voice);
    room.join(CALLER);
    await until(() => calls.includes('lookupCallers'), 'the lookup');
    call.receive({ type: 'participant_left', identity: CALLER.identity, reason: 'CLIENT_INITIATED' });
    lookup.open();
    const ended = await running;
    expect(ended.record).toMatchObject({ outcome: 'hung_up', phone_e164: PHONE, appointment_id: 'a1' });
    expect(voice.requests).toEqual([]);
    expect(closes).toBe(1);
  });

  it('an outbound patient who hangs up just after answering ends the call', async () => {
    // An appointment no longer in the store: the first outcome (unknown_caller) is saved right after the answer.
    const firstOutcome = gate();
    holds.set('setCallOutcome', firstOutcome.promise);
    const speaker = new FakeSpeaker('keypad');
    const { room, call, running } = makeCall(new FakeVoice(speaker), { outbound: { ...leg(Promise.resolve({ ok: true })), appointmentId: 'gone' } });
    room.present.add('patient');
    await until(() => calls.includes('setCallOutcome'), 'the first outcome being saved');
    call.receive({ type: 'participant_left', identity: 'patient' });
    firstOutcome.open();
    const ended = await running;
    expect(ended.why).toBe('participant left (reason unknown)');
    expect(ended.record?.outcome).toBe('unknown_caller');
    expect(speaker.said).toEqual([]);
  });

  it('a press before the greeting is answered instead of it, and saved', async () => {
    const speaker = new FakeSpeaker('keypad');
    const voice = new FakeVoice(speaker).held();
    const { room, call, running } = makeCall(voice);
    room.join(CALLER);
    await until(() => voice.requests.length === 1, 'the voice to be asked for');
    call.receive({ type: 'key', digit: '1', from: CALLER.identity });
    call.receive({ type: 'key', digit: '5', from: 'someone-else' });
    voice.starting.open();
    const ended = await running;
    expect(speaker.said).toEqual([script.confirmed()]);
    expect(ended.record?.outcome).toBe('confirmed');
    expect((await sql.digits(ended.record!.id)).map((d) => [d.digit, d.action])).toEqual([['1', 'confirm']]);
    expect((await sql.getAppointment('a1'))?.status).toBe('confirmed');
    expect(room.hangUps).toBeGreaterThan(0);
  });

  it('a press while an outbound call rings waits for the answer', async () => {
    const answer = gate<DialResult>();
    const speaker = new FakeSpeaker('keypad');
    const { room, call, running } = makeCall(new FakeVoice(speaker), { outbound: leg(answer.promise) });
    await inState(call, 'dialing');
    call.receive({ type: 'key', digit: '2', from: 'patient' });
    room.present.add('patient');
    answer.open({ ok: true });
    expect((await running).record?.outcome).toBe('reschedule_requested');
    expect(speaker.said).toEqual([script.rescheduleRequested()]);
  });

  it('a failed dial ends the call with its outcome and SIP status, nothing said', async () => {
    const speaker = new FakeSpeaker('keypad');
    const { running } = makeCall(new FakeVoice(speaker), { outbound: leg(Promise.resolve({ ok: false, outcome: 'busy', sipStatus: 486, reason: 'busy here' })) });
    const ended = await running;
    expect(ended.record).toMatchObject({ outcome: 'busy', sip_status: 486, error: 'busy here' });
    expect(ended.why).toBe('dial failed: busy here');
    expect(speaker.said).toEqual([]);
    expect(closes).toBe(1);
  });

  it('the model failing mid-call: the caller is told, the keypad menu follows, the press is saved, the record says so', async () => {
    const speaker = new FakeSpeaker('gemini');
    const voice = new FakeVoice(speaker);
    const { room, call, running } = makeCall(voice);
    room.join(CALLER);
    await inState(call, 'conversation');
    // What the fallback does (src/voice/sessions.ts): keypad mode speaks from now on, then the call is told.
    speaker.mode = 'keypad';
    voice.requests[0]!.voiceEvents.lost('the model\'s websocket closed (code 1000)');
    await inState(call, 'menu');
    expect(speaker.said.at(-1)).toBe(script.modelLost(MENU));
    call.receive({ type: 'key', digit: '1', from: CALLER.identity });
    const ended = await running;
    expect(ended.record).toMatchObject({ outcome: 'confirmed', error: modelLostError("the model's websocket closed (code 1000)") });
    // Saved when it happened, not only at the close.
    expect((await store.callEvents(ended.record!.id)).map((e) => [e.kind, e.detail])).toEqual([['voice_lost', "the model's websocket closed (code 1000)"]]);
    expect(speaker.said.at(-1)).toBe(script.confirmed());
  });

  it('the model resumed on a new connection: saved at once, the call goes on with no error', async () => {
    const speaker = new FakeSpeaker('gemini');
    const voice = new FakeVoice(speaker);
    const { room, call, running } = makeCall(voice);
    room.join(CALLER);
    await inState(call, 'conversation');
    voice.requests[0]!.voiceEvents.resumed("the model's server announced the end of the connection (goAway, 10s left)", 140);
    call.receive({ type: 'key', digit: '1', from: CALLER.identity });
    const ended = await running;
    expect(ended.record).toMatchObject({ outcome: 'confirmed', error: null });
    expect((await store.callEvents(ended.record!.id)).map((e) => [e.kind, e.detail])).toEqual([
      ['voice_resumed', "the model's server announced the end of the connection (goAway, 10s left); resumed after 140 ms"],
    ]);
  });

  it('no voice left (the model lost and keypad mode could not start): the call ends failed, and says why', async () => {
    const voice = new FakeVoice(new FakeSpeaker('gemini'));
    const { room, call, running } = makeCall(voice);
    room.join(CALLER);
    await inState(call, 'conversation');
    const why = "the model's websocket closed (code 1000); keypad mode could not start: no flite";
    voice.requests[0]!.voiceEvents.gone(why);
    const ended = await running;
    expect(ended.record!.outcome).toBe('failed');
    expect(ended.record!.error).toContain(why);
    expect(room.hangUps).toBeGreaterThan(0);
    expect((await store.callEvents(ended.record!.id)).map((e) => e.kind)).toEqual(['voice_gone']);
  });

  it('a tool outcome is saved before the tool answers, and the call closes with it', async () => {
    const voice = new FakeVoice(new FakeSpeaker('gemini'));
    const { room, call, running } = makeCall(voice);
    room.join(CALLER);
    await inState(call, 'conversation');
    await voice.requests[0]!.tools.changed('rescheduled');
    expect((await recordOf()).outcome).toBe('rescheduled');
    call.receive({ type: 'participant_left', identity: CALLER.identity });
    expect((await running).record?.outcome).toBe('rescheduled');
  });

  it('the record is closed, with the reason, when the voice fails to start', async () => {
    const speaker = new FakeSpeaker('gemini');
    const { room, running } = makeCall(new FakeVoice(speaker, 'gemini', new Error('websocket refused')));
    room.join(CALLER);
    const ended = await running;
    expect(ended.record).toMatchObject({ outcome: 'hung_up', error: 'websocket refused', mode: 'gemini' });
    expect(ended.why).toBe('voice session failed');
    expect(room.hangUps).toBeGreaterThan(0);
    expect(closes).toBe(1);
  });

  it('silence after the menu: repeated once, then goodbye with no_response', async () => {
    const speaker = new FakeSpeaker('keypad');
    const { room, running } = makeCall(new FakeVoice(speaker), { menuTimeoutMs: 20 });
    room.join(CALLER);
    const ended = await running;
    expect(speaker.said.slice(1)).toEqual([script.repeatMenu(true), script.goodbye()]);
    expect(ended.record?.outcome).toBe('no_response');
    expect(ended.why).toBe('the agent hung up');
  });

  it('an unknown caller: unknown_caller saved before the greeting; a key that is not an option changes nothing', async () => {
    const speaker = new FakeSpeaker('keypad');
    const { room, call, running } = makeCall(new FakeVoice(speaker));
    room.join({ ...CALLER, identity: 'sip_other', attributes: { ...CALLER.attributes, 'sip.phoneNumber': '+14155550199' } });
    await inState(call, 'menu');
    expect((await recordOf()).outcome).toBe('unknown_caller');
    call.receive({ type: 'key', digit: '1', from: 'sip_other' });
    await until(() => speaker.said.length === 2, 'the answer to the key');
    expect(speaker.said).toEqual([script.unknownCaller(), script.unknownKey()]);
    call.receive({ type: 'participant_left', identity: 'sip_other' });
    const ended = await running;
    expect(ended.record).toMatchObject({ outcome: 'unknown_caller', patient_id: null });
    expect((await sql.digits(ended.record!.id)).map((d) => [d.digit, d.action])).toEqual([['1', 'ignored']]);
  });

  describe('faults', () => {
    const digitsOf = async (id: string) => (await sql.digits(id)).map((d) => [d.digit, d.action]);

    it('a save that fails: an apology and the menu again, nothing confirmed; the next press confirms once', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { menuTimeoutMs: 200 });
      room.join(CALLER);
      await inState(call, 'menu');
      fails.set('confirm', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }));
      call.receive({ type: 'key', digit: '1', from: CALLER.identity });
      await until(() => speaker.said.length === 2, 'the apology');
      expect(speaker.said[1]).toBe(script.notSaved(true));
      expect(call.state).toBe('menu');
      expect((await recordOf()).outcome).toBe('in_progress');
      expect((await sql.getAppointment('a1'))?.status).toBe('scheduled');
      fails.clear();
      call.receive({ type: 'key', digit: '1', from: CALLER.identity });
      const ended = await running;
      expect(speaker.said.slice(2)).toEqual([script.confirmed()]);
      expect(ended.record).toMatchObject({ outcome: 'confirmed' });
      expect(ended.record?.error).toMatch(/key 1 not saved: database is locked/);
      expect(await digitsOf(ended.record!.id)).toEqual([['1', 'failed'], ['1', 'confirm']]);
      expect((await sql.booking.changes('a1')).map((c) => c.change)).toEqual(['confirmed']);
    });

    it('a save that fails re-arms the menu timer: silence after the apology still gets the menu and a goodbye', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { menuTimeoutMs: 30 });
      room.join(CALLER);
      await inState(call, 'menu');
      fails.set('confirm', new Error('database is locked'));
      call.receive({ type: 'key', digit: '1', from: CALLER.identity });
      const ended = await running;
      expect(speaker.said.slice(1)).toEqual([script.notSaved(true), script.repeatMenu(true), script.goodbye()]);
      expect(ended.record?.outcome).toBe('no_response');
    });

    it('1 on an appointment cancelled (by staff) during the call is refused, said so, and the outcome stays', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker));
      room.join(CALLER);
      await inState(call, 'menu');
      await sql.booking.cancel('a1', 'staff', { source: 'staff' });
      call.receive({ type: 'key', digit: '1', from: CALLER.identity });
      await until(() => speaker.said.length === 2, 'the answer');
      expect(speaker.said[1]).toBe(script.appointmentCancelled());
      expect(call.state).toBe('menu');
      call.receive({ type: 'participant_left', identity: CALLER.identity });
      const ended = await running;
      expect(ended.record?.outcome).not.toBe('confirmed');
      expect((await sql.getAppointment('a1'))?.status).toBe('cancelled');
      expect(await digitsOf(ended.record!.id)).toEqual([['1', 'refused']]);
    });

    it('1 on an appointment already confirmed says so, and changes nothing twice', async () => {
      await sql.booking.confirm('a1', { source: 'staff' });
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker));
      room.join(CALLER);
      await inState(call, 'menu');
      call.receive({ type: 'key', digit: '1', from: CALLER.identity });
      const ended = await running;
      expect(speaker.said.at(-1)).toBe(script.alreadyConfirmed());
      expect(ended.record?.outcome).toBe('confirmed');
      expect((await sql.booking.changes('a1')).length).toBe(1);
    });

    it('"12" pressed quickly: the whole confirmation plays, the 2 is saved as ignored, then the hang-up', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker));
      room.join(CALLER);
      await inState(call, 'menu');
      const confirmation = gate();
      call.receive({ type: 'key', digit: '1', from: CALLER.identity });
      speaker.hold = confirmation; // after the press: the press itself interrupts the menu
      await until(() => speaker.said.length === 2, 'the confirmation to start');
      const interruptsBefore = speaker.interrupts;
      call.receive({ type: 'key', digit: '2', from: CALLER.identity });
      await new Promise((r) => setTimeout(r, 20));
      expect(speaker.interrupts).toBe(interruptsBefore);
      expect(room.hangUps).toBe(0);
      confirmation.open();
      const ended = await running;
      expect(room.hangUps).toBeGreaterThan(0);
      expect(ended.record?.outcome).toBe('confirmed');
      expect(speaker.said.slice(1)).toEqual([script.confirmed()]);
      expect(await digitsOf(ended.record!.id)).toEqual([['1', 'confirm'], ['2', 'ignored']]);
    });

    it('a menu repeat that fails to play is logged and the goodbye still comes', async () => {
      const speaker = new FakeSpeaker('keypad');
      const say = speaker.say.bind(speaker);
      speaker.say = async (u) => {
        if (u.text === script.repeatMenu(true)) throw new Error('flite failed');
        return say(u);
      };
      const { room, running } = makeCall(new FakeVoice(speaker), { menuTimeoutMs: 20 });
      room.join(CALLER);
      const ended = await running;
      expect(speaker.said.at(-1)).toBe(script.goodbye());
      expect(ended.record?.outcome).toBe('no_response');
    });

    it('a flood of keys is capped: at most 20 taken', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker));
      room.join(CALLER);
      await inState(call, 'menu');
      for (let i = 0; i < 200; i++) call.receive({ type: 'key', digit: '5', from: CALLER.identity });
      await until(async () => (await sql.digits((await recordOf()).id)).length === 20, '20 keys saved');
      await new Promise((r) => setTimeout(r, 50));
      expect((await sql.digits((await recordOf()).id)).length).toBe(20);
      // Keys behind others get no sentence each: the last one is answered.
      expect(speaker.said.filter((t) => t === script.unknownKey()).length).toBe(1);
      call.receive({ type: 'participant_left', identity: CALLER.identity });
      await running;
    });

    it('a call at its time limit: goodbye, hang-up', async () => {
      const speaker = new FakeSpeaker('gemini');
      const { room, running } = makeCall(new FakeVoice(speaker), { maxDurationMs: 100 });
      room.join(CALLER);
      const ended = await running;
      expect(speaker.said.at(-1)).toMatch(/time limit/);
      expect(ended.why).toBe('the agent hung up');
      expect(room.hangUps).toBeGreaterThan(0);
    });

    it('LiveKit lost mid-call: the record says so, and failed when nothing was chosen', async () => {
      const { room, call, running } = makeCall(new FakeVoice(new FakeSpeaker('keypad')));
      room.join(CALLER);
      await inState(call, 'menu');
      call.receive({ type: 'room_closed', lost: 'lost the connection to LiveKit (SIGNAL_CLOSE)' });
      const ended = await running;
      expect(ended.record).toMatchObject({ outcome: 'failed', error: 'lost the connection to LiveKit (SIGNAL_CLOSE)' });
    });

    it('a caller ID that is not a valid number is kept as received', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker));
      room.join({ ...CALLER, identity: 'sip_anon', attributes: { ...CALLER.attributes, 'sip.phoneNumber': '5551' } });
      await inState(call, 'menu');
      call.receive({ type: 'participant_left', identity: 'sip_anon' });
      const ended = await running;
      expect(ended.record).toMatchObject({ phone_e164: null, phone_received: '5551', outcome: 'unknown_caller' });
    });
  });

  describe('who is calling: the identity check before anything about the patient', () => {
    const DOB_CHECK: IdentityPolicy = { inbound: 'dob', outbound: 'name', order: 'MDY' };
    const MARIA_DOB = '1985-03-14';
    /** Presses `digits` one after another, 60 ms apart (a quick caller, under the call's cap of 20 keys a second). */
    const keys = async (call: Call, digits: string, from = CALLER.identity) => {
      for (const digit of digits) {
        call.receive({ type: 'key', digit, from });
        await new Promise((r) => setTimeout(r, 60));
      }
    };
    const eventsOf = async (id: string) => (await sql.callEvents(id)).map((e) => [e.kind, e.detail]);
    const appointment = async () => (await sql.getAppointment('a1'))!;

    beforeEach(async () => {
      await sql.upsertPatient({ id: 'p1', name: 'Maria Garcia', phoneE164: PHONE, dateOfBirth: MARIA_DOB });
    });

    it('the right date of birth, then 1: the appointment only after the date, then confirmed; no digit of the date kept', async () => {
      const speaker = new FakeSpeaker('keypad');
      const voice = new FakeVoice(speaker);
      const { room, call, running } = makeCall(voice, { identity: DOB_CHECK });
      room.join(CALLER);
      await inState(call, 'menu');
      // Before: the clinic's name and the question only; the record does not name the patient yet.
      expect(speaker.said).toEqual([script.verifyDob()]);
      expect(voice.requests[0]!.greeting.text).toBe(script.verifyDob());
      expect(await recordOf()).toMatchObject({ patient_id: null, appointment_id: null, outcome: 'in_progress' });
      await keys(call, '0314');
      await keys(call, '1985');
      await until(() => speaker.said.length === 2, 'the answer to the date');
      expect(speaker.said[1]).toBe(script.verified('Maria Garcia', await appointment()));
      expect(await recordOf()).toMatchObject({ patient_id: 'p1', appointment_id: 'a1' });
      await keys(call, '1');
      const ended = await running;
      expect(ended.record?.outcome).toBe('confirmed');
      expect(speaker.said.at(-1)).toBe(script.confirmed());
      expect((await sql.digits(ended.record!.id)).map((d) => [d.digit, d.action])).toEqual([['1', 'confirm']]);
      expect(await eventsOf(ended.record!.id)).toEqual([['identity_verified', 'attempt 1 of 3, by keypad']]);
    });

    it('three wrong dates: nothing about the appointment said, nothing changed, not_verified; 1 is not an option after', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { identity: DOB_CHECK });
      room.join(CALLER);
      await inState(call, 'menu');
      // 1 alone is the first digit of a date, not a confirmation.
      await keys(call, '1');
      await keys(call, '1121990');
      await until(() => speaker.said.length === 2, 'the first wrong date');
      await keys(call, '13141985');
      await until(() => speaker.said.length === 3, 'the second');
      await keys(call, '03151985');
      await until(() => speaker.said.length === 4, 'the third');
      expect(speaker.said).toEqual([script.verifyDob(), script.dobWrong('no_match'), script.dobWrong('not_a_date'), script.notVerified()]);
      expect((await recordOf()).outcome).toBe('not_verified');
      await keys(call, '1');
      await until(() => speaker.said.length === 5, 'the answer to 1');
      expect(speaker.said[4]).toBe(script.unknownKey());
      call.receive({ type: 'participant_left', identity: CALLER.identity });
      const ended = await running;
      expect(ended.record).toMatchObject({ outcome: 'not_verified', patient_id: null, appointment_id: null });
      expect((await appointment()).status).toBe('scheduled');
      expect(await sql.booking.changes('a1')).toEqual([]);
      const events = await eventsOf(ended.record!.id);
      expect(events).toEqual([
        ['identity_failed', 'attempt 1 of 3, by keypad: no patient with this number has that date of birth'],
        ['identity_failed', 'attempt 2 of 3, by keypad: not a date'],
        ['identity_failed', 'attempt 3 of 3, by keypad: no patient with this number has that date of birth'],
      ]);
      // Only the key pressed after the check is kept as a key press.
      expect((await sql.digits(ended.record!.id)).map((d) => [d.digit, d.action])).toEqual([['1', 'ignored']]);
      for (const said of speaker.said) expect(said).not.toMatch(/Maria|dental|Chen/);
    });

    it('not verified, then silence: the operator offered again, then goodbye; the outcome stays not_verified', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { identity: DOB_CHECK, menuTimeoutMs: 200 });
      room.join(CALLER);
      await inState(call, 'menu');
      await keys(call, '01011990');
      await until(() => speaker.said.length === 2, 'the first wrong date');
      await keys(call, '01011990');
      await until(() => speaker.said.length === 3, 'the second');
      await keys(call, '01011990');
      const ended = await running;
      expect(speaker.said.slice(3)).toEqual([script.notVerified(), script.repeatMenu(false), script.goodbye()]);
      expect(ended.record?.outcome).toBe('not_verified');
    });

    it('* starts the date again; silence after half a date asks for all of it again', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { identity: DOB_CHECK, menuTimeoutMs: 250 });
      room.join(CALLER);
      await inState(call, 'menu');
      await keys(call, '0315*');
      await until(() => speaker.said.length === 2, 'the restart');
      expect(speaker.said[1]).toBe(script.dobAgain());
      await keys(call, '0314');
      await until(() => speaker.said.length === 3, 'the prompt after silence');
      expect(speaker.said[2]).toBe(script.dobAgain());
      // The 4 digits before the silence are forgotten: a whole date passes.
      await keys(call, '03141985');
      await until(() => speaker.said.length === 4, 'the verified greeting');
      expect(speaker.said[3]).toBe(script.verified('Maria Garcia', await appointment()));
      call.receive({ type: 'participant_left', identity: CALLER.identity });
      const ended = await running;
      expect(await eventsOf(ended.record!.id)).toEqual([['identity_verified', 'attempt 1 of 3, by keypad']]);
    });

    it('a family on one number: the date of birth picks the patient, and their own appointment', async () => {
      await sql.upsertPatient({ id: 'p2', name: 'Lucas Garcia', phoneE164: PHONE, dateOfBirth: '2016-09-05' });
      const start = DateTime.now().setZone('America/Los_Angeles').plus({ days: 2 }).set({ hour: 15, minute: 30 });
      await sql.upsertAppointment({ id: 'a2', patientId: 'p2', providerId: 'dr', start, service: 'child check-up', location: 'the Main Street clinic' });
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { identity: DOB_CHECK });
      room.join(CALLER);
      await inState(call, 'menu');
      await keys(call, '09052016');
      await until(() => speaker.said.length === 2, 'the verified greeting');
      expect(speaker.said[1]).toBe(script.verified('Lucas Garcia', (await sql.getAppointment('a2'))!));
      await keys(call, '2');
      const ended = await running;
      expect(ended.record).toMatchObject({ patient_id: 'p2', appointment_id: 'a2', outcome: 'reschedule_requested' });
      expect((await sql.getAppointment('a2'))!.status).toBe('reschedule_requested');
      expect((await appointment()).status).toBe('scheduled');
    });

    it('no date of birth on file: nothing about the patient, the operator only, not_verified saved before the greeting', async () => {
      await sql.upsertPatient({ id: 'p1', name: 'Maria Garcia', phoneE164: PHONE, dateOfBirth: null });
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { identity: DOB_CHECK });
      room.join(CALLER);
      await inState(call, 'menu');
      expect(speaker.said).toEqual([script.cannotVerify('inbound')]);
      expect((await recordOf()).outcome).toBe('not_verified');
      await keys(call, '0');
      const ended = await running;
      expect(ended.record?.outcome).toBe('operator_requested');
      expect((await eventsOf(ended.record!.id)).map(([kind]) => kind)).toEqual(['identity_unavailable']);
    });

    it('an attempt that cannot be saved does not count: an apology, and the check goes on', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { identity: DOB_CHECK });
      room.join(CALLER);
      await inState(call, 'menu');
      fails.set('recordCallEvent', new Error('database is locked'));
      await keys(call, '03141985');
      await until(() => speaker.said.length === 2, 'the apology');
      expect(speaker.said[1]).toBe(`Sorry, I could not check that just now. ${script.dobAgain()}`);
      expect(await recordOf()).toMatchObject({ patient_id: null });
      fails.clear();
      await keys(call, '03141985');
      await until(() => speaker.said.length === 3, 'the verified greeting');
      expect(speaker.said[2]).toBe(script.verified('Maria Garcia', await appointment()));
      call.receive({ type: 'participant_left', identity: CALLER.identity });
      expect((await running).record?.error).toMatch(/identity check not saved: database is locked/);
    });

    it('a voice model: the tools see an unverified caller until verify_identity matches, then the patient', async () => {
      const speaker = new FakeSpeaker('gemini');
      const voice = new FakeVoice(speaker);
      const { room, call, running } = makeCall(voice, { identity: DOB_CHECK });
      room.join(CALLER);
      await inState(call, 'conversation');
      const tools = voice.requests[0]!.tools;
      expect(voice.requests[0]!.situation).toMatchObject({ kind: 'unverified', method: 'dob' });
      expect(tools.identity).toBe('dob');
      expect(tools.situation.kind).toBe('unverified');
      expect(await tools.verify({ dateOfBirth: '1985-03-15' })).toMatchObject({ kind: 'wrong', left: 2 });
      expect(tools.situation.kind).toBe('unverified');
      expect(await tools.verify({ dateOfBirth: MARIA_DOB })).toMatchObject({ kind: 'verified', attempt: 2 });
      expect(tools.situation).toMatchObject({ kind: 'appointment', patient: { id: 'p1' } });
      expect(await recordOf()).toMatchObject({ patient_id: 'p1', appointment_id: 'a1' });
      // The model says the rest itself: the call adds nothing.
      expect(speaker.said).toHaveLength(1);
      call.receive({ type: 'participant_left', identity: CALLER.identity });
      const ended = await running;
      expect((await eventsOf(ended.record!.id)).map(([kind, detail]) => `${kind}: ${detail}`)).toEqual([
        'identity_failed: attempt 1 of 3, by voice: no patient with this number has that date of birth',
        'identity_verified: attempt 2 of 3, by voice',
      ]);
    });

    it('a voice model and the keypad: a date entered on the keys verifies, and the model is told the patient\'s facts', async () => {
      const speaker = new FakeSpeaker('gemini');
      const voice = new FakeVoice(speaker);
      const { room, call, running } = makeCall(voice, { identity: DOB_CHECK });
      room.join(CALLER);
      await inState(call, 'conversation');
      expect(speaker.said[0]).not.toMatch(/Maria|dental/);
      await keys(call, '03141985');
      await until(() => speaker.said.length === 2, 'the model told');
      expect(speaker.said[1]).toMatch(/^The caller proved who they are on the keypad\. Greet Maria Garcia and tell them about your dental cleaning/);
      expect(voice.requests[0]!.tools.situation.kind).toBe('appointment');
      call.receive({ type: 'participant_left', identity: CALLER.identity });
      await running;
    });

    describe('a call we placed: "If this is Maria, press 1"', () => {
      it('2: someone else — a message for Maria, nothing about the appointment, not_verified, hang-up', async () => {
        const speaker = new FakeSpeaker('keypad');
        const { room, call, running } = makeCall(new FakeVoice(speaker), { outbound: leg(Promise.resolve({ ok: true })), identity: DOB_CHECK });
        room.present.add('patient');
        await inState(call, 'menu');
        expect(speaker.said).toEqual([script.calledForName('Maria Garcia')]);
        await keys(call, '2', 'patient');
        const ended = await running;
        expect(speaker.said[1]).toBe(script.someoneElse('Maria Garcia'));
        expect(ended.record).toMatchObject({ outcome: 'not_verified', direction: 'outbound', appointment_id: 'a1' });
        expect(ended.why).toBe('the agent hung up');
        expect((await eventsOf(ended.record!.id)).map(([kind]) => kind)).toEqual(['identity_declined']);
        expect((await appointment()).status).toBe('scheduled');
        for (const said of speaker.said) expect(said).not.toMatch(/dental|Chen|Garcia/);
      });

      it('1: it is Maria — then the appointment and the menu; 1 again confirms', async () => {
        const speaker = new FakeSpeaker('keypad');
        const { room, call, running } = makeCall(new FakeVoice(speaker), { outbound: leg(Promise.resolve({ ok: true })), identity: DOB_CHECK });
        room.present.add('patient');
        await inState(call, 'menu');
        await keys(call, '1', 'patient');
        await until(() => speaker.said.length === 2, 'the appointment');
        expect(speaker.said[1]).toBe(script.verified('Maria Garcia', await appointment(), 'outbound'));
        await keys(call, '1', 'patient');
        expect((await running).record?.outcome).toBe('confirmed');
      });

      it('OUTBOUND_VERIFICATION=dob asks the date of birth of the patient we called for', async () => {
        const speaker = new FakeSpeaker('keypad');
        const { room, call, running } = makeCall(new FakeVoice(speaker), { outbound: leg(Promise.resolve({ ok: true })), identity: { ...DOB_CHECK, outbound: 'dob' } });
        room.present.add('patient');
        await inState(call, 'menu');
        expect(speaker.said).toEqual([script.calledForDob('Maria Garcia')]);
        await keys(call, '03141985', 'patient');
        await until(() => speaker.said.length === 2, 'the appointment');
        expect(speaker.said[1]).toBe(script.verified('Maria Garcia', await appointment(), 'outbound'));
        call.receive({ type: 'participant_left', identity: 'patient' });
        await running;
      });
    });

    it('1 pressed twice at "If this is Maria, press one": the second belongs to the question and confirms nothing', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { outbound: leg(Promise.resolve({ ok: true })), identity: DOB_CHECK });
      room.present.add('patient');
      await inState(call, 'menu');
      call.receive({ type: 'key', digit: '1', from: 'patient' });
      call.receive({ type: 'key', digit: '1', from: 'patient' });
      await until(() => speaker.said.length === 2, 'the appointment');
      await new Promise((r) => setTimeout(r, 50));
      expect(speaker.said[1]).toBe(script.verified('Maria Garcia', await appointment(), 'outbound'));
      expect((await appointment()).status).toBe('scheduled');
      call.receive({ type: 'participant_left', identity: 'patient' });
      const ended = await running;
      expect(ended.record?.outcome).toBe('hung_up');
      expect(await sql.digits(ended.record!.id)).toEqual([]);
    });

    it('keys pressed before the identity question answer nothing: the question is asked', async () => {
      const speaker = new FakeSpeaker('keypad');
      const voice = new FakeVoice(speaker).held();
      const { room, call, running } = makeCall(voice, { identity: DOB_CHECK });
      room.join(CALLER);
      await until(() => voice.requests.length === 1, 'the voice to be asked for');
      await keys(call, '03141985');
      voice.starting.open();
      await inState(call, 'menu');
      expect(speaker.said).toEqual([script.verifyDob()]);
      expect(await recordOf()).toMatchObject({ patient_id: null });
      call.receive({ type: 'participant_left', identity: CALLER.identity });
      expect(await eventsOf((await running).record!.id)).toEqual([]);
    });

    it('"not Maria" said to the model: the call is not_verified, and the tools say so', async () => {
      const speaker = new FakeSpeaker('gemini');
      const voice = new FakeVoice(speaker);
      const { room, call, running } = makeCall(voice, { outbound: leg(Promise.resolve({ ok: true })), identity: DOB_CHECK });
      room.present.add('patient');
      await inState(call, 'conversation');
      const tools = voice.requests[0]!.tools;
      expect(tools.identity).toBe('name');
      expect(await tools.verify({ isPatient: false })).toEqual({ kind: 'declined' });
      expect(tools.situation.kind).toBe('not_verified');
      expect(await tools.verify({ isPatient: true })).toEqual({ kind: 'ignored' });
      expect((await recordOf()).outcome).toBe('not_verified');
      call.receive({ type: 'participant_left', identity: 'patient' });
      await running;
    });

    it('a web visitor is never identified by its own attributes: no lookup, nothing about any patient', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { identity: DOB_CHECK });
      room.join({ identity: 'visitor', kind: ParticipantKind.STANDARD, attributes: { phoneNumber: PHONE } });
      await inState(call, 'menu');
      expect(speaker.said).toEqual([script.webWelcome()]);
      expect(calls).not.toContain('lookupCallers');
      call.receive({ type: 'participant_left', identity: 'visitor' });
      const ended = await running;
      expect(ended.record).toMatchObject({ direction: 'web', patient_id: null, phone_e164: null, phone_received: null });
    });
  });
  describe('a person when the caller asks for one (key 0)', () => {
    /** A message box whose recording lasts until the caller's # (or `spoke` false: they say nothing). */
    function box(spoke = true): MessageBox & { recording: ReturnType<typeof gate<void>>; stopped: boolean } {
      const recording = gate();
      const b = {
        notify: true,
        recording,
        stopped: false,
        async record(_identity: string, stop: AbortSignal) {
          recording.open();
          await new Promise<void>((r) => stop.addEventListener('abort', () => r(), { once: true }));
          b.stopped = true;
          return { path: 'messages/m.wav', ms: 4200, spoke };
        },
      };
      return b;
    }
    it('an anonymous web visitor, no desk, voice mode: the model is asked for a number to call back, as the visit has none', async () => {
      const speaker = new FakeSpeaker('gemini');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { messages: box(), web: { visitor: 'visitor-9', joinTimeoutMs: 60_000 } });
      room.join({ identity: 'visitor-9', kind: ParticipantKind.STANDARD, attributes: {} });
      await inState(call, 'conversation');
      call.receive({ type: 'key', digit: '0', from: 'visitor-9' });
      await until(() => speaker.said.length === 2, 'the message offered');
      expect(speaker.said[1]).toContain('ask their name, the phone number to call them back at (this call has none)');
      await call.close('test over');
      expect((await running).record).toMatchObject({ direction: 'web', outcome: 'operator_requested' });
    });

    function desk(result: Awaited<ReturnType<FrontDesk['transfer']>>, open = true, warm = false): FrontDesk & { transfers: string[]; briefings: string[] } {
      const transfers: string[] = [];
      const briefings: string[] = [];
      return {
        target: '+14155550100',
        warm,
        transfers,
        briefings,
        isOpen: () => open,
        transfer: async (identity: string, briefing: string) => (transfers.push(identity), briefings.push(briefing), result),
      };
    }
    const saved = () => sql.messages.ofCall;
    /** Waits for the callback question, then answers it with `keys` (1: keep the caller ID). */
    /** A keypad call whose caller presses 0 at the menu, with a message box and no desk. */
    async function askForPerson() {
      const speaker = new FakeSpeaker('keypad');
      const messages = box();
      const made = makeCall(new FakeVoice(speaker), { messages });
      made.room.join(CALLER);
      await inState(made.call, 'menu');
      made.call.receive({ type: 'key', digit: '0', from: CALLER.identity });
      return { speaker, messages, ...made };
    }
    async function answerCallback(call: Call, speaker: FakeSpeaker, keys: string[]) {
      await until(() => speaker.said.includes(script.callbackIs(PHONE.slice(-4))), 'the callback question');
      for (const k of keys) call.receive({ type: 'key', digit: k, from: CALLER.identity });
    }

    it('no desk configured: asked for a message, # ends it, saved with its notification, then said saved', async () => {
      const { speaker, messages, room, call, running } = await askForPerson();
      await answerCallback(call, speaker, ['1']);
      await messages.recording.promise;
      expect(call.state).toBe('message');
      expect(speaker.said.slice(-3)).toEqual([script.deskUnavailable('no_desk'), script.callbackIs('0101'), script.recordNow()]);
      // A digit while recording is part of nothing; # ends the message.
      call.receive({ type: 'key', digit: '5', from: CALLER.identity });
      call.receive({ type: 'key', digit: '#', from: CALLER.identity });
      const ended = await running;
      expect(ended.record?.outcome).toBe('message_taken');
      expect(speaker.said.at(-1)).toBe(script.messageSaved());
      const id = (await recordOf()).id;
      expect(await saved().call(sql.messages, id)).toMatchObject([{ via: 'keypad', patient_id: 'p1', callback_e164: PHONE, recording_path: 'messages/m.wav', recording_ms: 4200 }]);
      expect((await sql.outbox.all()).map((r) => r.type)).toEqual(['message.created']);
      expect((await sql.digits(id)).map((d) => [d.digit, d.action])).toEqual([['0', 'operator']]);
      expect(room.hangUps).toBeGreaterThan(0);
    });

    it('the desk open: "please hold", the transfer accepted and saved, the agent gone', async () => {
      const speaker = new FakeSpeaker('keypad');
      const d = desk({ status: 'accepted', detail: 'REFER accepted' });
      const { room, call, running } = makeCall(new FakeVoice(speaker), { messages: box(), desk: d });
      room.join(CALLER);
      await inState(call, 'menu');
      call.receive({ type: 'key', digit: '0', from: CALLER.identity });
      const ended = await running;
      expect(d.transfers).toEqual([CALLER.identity]);
      expect(speaker.said.at(-1)).toBe(script.connecting());
      expect(ended.record).toMatchObject({ outcome: 'transferred', transfer_status: 'accepted', transfer_target: '+14155550100', transfer_detail: 'REFER accepted' });
      expect(ended.record?.transfer_at).not.toBeNull();
      expect(calls.indexOf('setCallOutcome')).toBeLessThan(calls.indexOf('recordTransfer'));
      // Cold: the caller has left with the REFER; the room is ended.
      expect([room.hangUps > 0, room.leaves]).toEqual([true, 0]);
    });

    it('a warm transfer accepted: the desk briefed with who is calling and why, the agent leaves the room to the two of them', async () => {
      const speaker = new FakeSpeaker('keypad');
      const d = desk({ status: 'accepted', detail: 'the desk pressed 1 (warm transfer)' }, true, true);
      const { room, call, running } = makeCall(new FakeVoice(speaker), { messages: box(), desk: d });
      room.join(CALLER);
      await inState(call, 'menu');
      call.receive({ type: 'key', digit: '0', from: CALLER.identity });
      const ended = await running;
      expect(ended.record).toMatchObject({ outcome: 'transferred', transfer_status: 'accepted' });
      expect(d.briefings).toHaveLength(1);
      expect(d.briefings[0]).toMatch(/^Hello, this is the Main Street Clinic phone assistant with a caller for the front desk\. Maria Garcia is on the line, calling from a number ending in \d \d \d \d, about their .+\. They asked to speak with a person\.$/);
      expect(d.briefings[0]).not.toContain(PHONE); // never the whole number
      expect([room.hangUps, room.leaves]).toEqual([0, 1]);
    });

    it('the desk busy: the transfer saved as busy, then a message', async () => {
      const speaker = new FakeSpeaker('keypad');
      const messages = box();
      const { room, call, running } = makeCall(new FakeVoice(speaker), { messages, desk: desk({ status: 'busy', detail: '486 Busy Here' }) });
      room.join(CALLER);
      await inState(call, 'menu');
      call.receive({ type: 'key', digit: '0', from: CALLER.identity });
      await answerCallback(call, speaker, ['1']);
      await messages.recording.promise;
      expect(await recordOf()).toMatchObject({ outcome: 'transfer_failed', transfer_status: 'busy', transfer_detail: '486 Busy Here' });
      expect(speaker.said.slice(-4, -2)).toEqual([script.connecting(), script.deskUnavailable('failed')]);
      call.receive({ type: 'key', digit: '#', from: CALLER.identity });
      expect((await running).record?.outcome).toBe('message_taken');
    });

    it('a callback number that is not one is refused and asked again; # with nothing keyed keeps the caller\'s own', async () => {
      const { speaker, messages, call, running } = await askForPerson();
      await answerCallback(call, speaker, ['2']);
      await until(() => speaker.said.at(-1) === script.callbackAsk(), 'asked for the number');
      for (const k of ['1', '2', '#']) call.receive({ type: 'key', digit: k, from: CALLER.identity });
      await until(() => speaker.said.includes(script.callbackInvalid()), 'the refusal');
      await until(() => speaker.said.filter((x) => x === script.callbackAsk()).length === 2, 'the question again');
      call.receive({ type: 'key', digit: '#', from: CALLER.identity }); // nothing keyed: the caller's own number
      await messages.recording.promise;
      call.receive({ type: 'key', digit: '#', from: CALLER.identity });
      await running;
      expect((await sql.messages.ofCall((await recordOf()).id))[0]).toMatchObject({ callback_e164: PHONE });
    });

    it('the desk closed: straight to a message, nothing rung', async () => {
      const speaker = new FakeSpeaker('keypad');
      const d = desk({ status: 'accepted', detail: '' }, false);
      const messages = box();
      const { room, call } = makeCall(new FakeVoice(speaker), { messages, desk: d });
      room.join(CALLER);
      await inState(call, 'menu');
      call.receive({ type: 'key', digit: '0', from: CALLER.identity });
      // Another number keyed in (without its country code), * first undoing a wrong start.
      await answerCallback(call, speaker, ['2']);
      await until(() => speaker.said.at(-1) === script.callbackAsk(), 'asked for the number');
      for (const k of ['9', '*', ...'4155550199', '#']) call.receive({ type: 'key', digit: k, from: CALLER.identity });
      await messages.recording.promise;
      expect(d.transfers).toEqual([]);
      expect(speaker.said.slice(-4)).toEqual([script.deskUnavailable('closed'), script.callbackIs('0101'), script.callbackAsk(), script.recordNow()]);
      call.receive({ type: 'key', digit: '#', from: CALLER.identity });
      await until(async () => (await sql.messages.ofCall((await recordOf()).id)).length === 1, 'the message saved');
      expect((await sql.messages.ofCall((await recordOf()).id))[0]).toMatchObject({ callback_e164: '+14155550199' });
      await call.close('test over');
    });

    it('nothing said: no message saved, the request kept; hanging up mid-message keeps what was said', async () => {
      const speaker = new FakeSpeaker('keypad');
      const silent = box(false);
      let { room, call, running } = makeCall(new FakeVoice(speaker), { messages: silent });
      room.join(CALLER);
      await inState(call, 'menu');
      call.receive({ type: 'key', digit: '0', from: CALLER.identity });
      await silent.recording.promise;
      call.receive({ type: 'key', digit: '#', from: CALLER.identity });
      expect((await running).record?.outcome).toBe('operator_requested');
      expect(speaker.said.at(-1)).toBe(script.noMessage());
      expect(await sql.outbox.all()).toEqual([]);

      const talking = box(true);
      await sql.close();
      sql = await openSqliteStore(join(mkdtempSync(join(tmpdir(), 'call-')), 'app.db'));
      await sql.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
      await sql.upsertPatient({ id: 'p1', name: 'Maria Garcia', phoneE164: PHONE });
      store = sql;
      ({ room, call, running } = makeCall(new FakeVoice(new FakeSpeaker('keypad')), { messages: talking }));
      room.join(CALLER);
      await inState(call, 'menu');
      call.receive({ type: 'key', digit: '0', from: CALLER.identity });
      await talking.recording.promise;
      call.receive({ type: 'participant_left', identity: CALLER.identity, reason: 'CLIENT_INITIATED' });
      const ended = await running;
      expect(talking.stopped).toBe(true);
      expect(ended.record?.outcome).toBe('message_taken');
      expect(await sql.messages.ofCall(ended.record!.id)).toHaveLength(1);
    });
  });

  describe('an answering machine on a call we placed (OUTBOUND_AMD)', () => {
    /** A screen whose verdicts the test gives. */
    function fakeScreen() {
      const verdict = gate<MachineVerdict>();
      const lateMachine = gate<MachineVerdict>();
      const greetingOver = gate<void>();
      const screen = { verdict: verdict.promise, lateMachine: lateMachine.promise, greetingOver: greetingOver.promise, stopped: false, stop: () => void (screen.stopped = true) };
      return { screen, verdict, lateMachine, greetingOver };
    }
    const MACHINE: MachineVerdict = { kind: 'machine', reason: 'a voicemail beep' };
    const screened = (screen: MachineScreen) => ({ ...leg(Promise.resolve({ ok: true })), screen: () => screen });

    it('a machine: voicemail saved first, the message only once its greeting is over, then the call ends', async () => {
      const speaker = new FakeSpeaker('keypad');
      const s = fakeScreen();
      const { room, call, running } = makeCall(new FakeVoice(speaker), { outbound: screened(s.screen), voicemail: { callback: '+14155550100', includeDate: false } });
      room.present.add('patient');
      await inState(call, 'screening');
      s.verdict.open(MACHINE);
      await inState(call, 'voicemail');
      await until(async () => (await recordOf()).outcome === 'voicemail', 'the outcome saved');
      await new Promise((r) => setTimeout(r, 50));
      expect(speaker.said).toEqual([]);
      s.greetingOver.open();
      const ended = await running;
      expect(speaker.said).toEqual([script.voicemail('+14155550100')]);
      expect(ended).toMatchObject({ why: 'voicemail left', record: { outcome: 'voicemail', direction: 'outbound' } });
      expect(s.screen.stopped).toBe(true);
      expect(room.hangUps).toBeGreaterThan(0);
      await closeAgain(call);
      expect(closes).toBe(1);
    });

    it('with VOICEMAIL_INCLUDE_DATE the message names the day; the outcome not saved → nothing said, failed', async () => {
      const speaker = new FakeSpeaker('keypad');
      const s = fakeScreen();
      const { room, call, running } = makeCall(new FakeVoice(speaker), { outbound: screened(s.screen), voicemail: { includeDate: true } });
      room.present.add('patient');
      await inState(call, 'screening');
      s.verdict.open(MACHINE);
      s.greetingOver.open();
      await running;
      expect(speaker.said[0]).toMatch(/^Hello, this is Main Street Clinic with a message about an appointment on .+\. Please call us back\. Thank you\. Goodbye\.$/);

      const speaker2 = new FakeSpeaker('keypad');
      const s2 = fakeScreen();
      const second = makeCall(new FakeVoice(speaker2), { outbound: screened(s2.screen) });
      second.room.present.add('patient');
      await inState(second.call, 'screening');
      fails.set('setCallOutcome', new Error('database is locked'));
      s2.verdict.open(MACHINE);
      s2.greetingOver.open();
      const ended = await second.running;
      expect(speaker2.said).toEqual([]);
      expect(ended.record?.error).toMatch(/answering machine \(a voicemail beep\); the outcome could not be saved: database is locked/);
    });

    it('a person (or unsure): greeted as before; a key while screening is a person too', async () => {
      for (const first of ['human', 'unsure', 'key'] as const) {
        const speaker = new FakeSpeaker('keypad');
        const s = fakeScreen();
        const { room, call } = makeCall(new FakeVoice(speaker), { outbound: screened(s.screen) });
        room.present.add('patient');
        await inState(call, 'screening');
        if (first === 'key') call.receive({ type: 'key', digit: '1', from: 'patient' });
        else s.verdict.open({ kind: first, reason: 'test' });
        await until(() => speaker.said.length > 0 || call.state === 'closed', 'something said');
        // The voice did not hear the answer while it was screened (a model must not answer a voicemail), then does.
        expect(speaker.hearing).toEqual([false, true]);
        if (first === 'key') expect(speaker.said[0], first).toBe(script.confirmed());
        else expect(speaker.said[0], first).toMatch(/^Hello Maria, this is Main Street Clinic calling about your dental cleaning/);
        await call.close('test over');
      }
    });

    it('a machine found during the greeting: the greeting stops, the message is left after its beep', async () => {
      const speaker = new FakeSpeaker('keypad');
      speaker.hold = gate();
      const s = fakeScreen();
      const { room, call, running } = makeCall(new FakeVoice(speaker), { outbound: screened(s.screen) });
      room.present.add('patient');
      await inState(call, 'screening');
      s.verdict.open({ kind: 'human', reason: '600 ms of speech, then 800 ms of quiet' });
      await inState(call, 'greeting');
      s.lateMachine.open({ kind: 'machine', reason: 'a voicemail beep after the greeting began' });
      await until(() => speaker.interrupts > 0, 'the greeting interrupted');
      s.greetingOver.open();
      const ended = await running;
      expect(speaker.said).toHaveLength(2);
      expect(speaker.said[1]).toBe(script.voicemail(undefined));
      expect(ended.record?.outcome).toBe('voicemail');
    });
  });

  describe('a patient we called asks not to be called again (key 9)', () => {
    it('9: the number dialed on the do-not-call list with the outcome, saved before they hear so; then the call ends', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { outbound: leg(Promise.resolve({ ok: true })) });
      room.present.add('patient');
      await until(() => speaker.said.length > 0, 'the greeting');
      expect(speaker.said[0]).toMatch(/or zero for the operator\. If you do not want calls like this one, press nine\.$/);
      holds.set('optOutFromCall', new Promise((r) => setTimeout(r, 100)));
      call.receive({ type: 'key', digit: '9', from: 'patient' });
      await until(() => calls.includes('optOutFromCall'), 'the opt-out saved');
      expect(speaker.said).toHaveLength(1); // nothing said while it is being saved
      const ended = await running;
      expect(speaker.said[1]).toBe(script.optedOut());
      expect(ended.record).toMatchObject({ outcome: 'opted_out', direction: 'outbound' });
      expect(await sql.doNotCall.get(PHONE)).toMatchObject({ source: 'keypad', call_id: ended.record!.id });
      expect((await sql.digits(ended.record!.id)).map((d) => [d.digit, d.action])).toEqual([['9', 'opt_out']]);
    });

    it('9 not saved (database locked): an apology and the choices, never "we will not call"; 9 on a call in means nothing', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call } = makeCall(new FakeVoice(speaker), { outbound: leg(Promise.resolve({ ok: true })) });
      room.present.add('patient');
      await until(() => speaker.said.length > 0, 'the greeting');
      fails.set('optOutFromCall', new Error('database is locked'));
      call.receive({ type: 'key', digit: '9', from: 'patient' });
      await until(() => speaker.said.length > 1, 'the answer');
      expect(speaker.said[1]).toMatch(/^Sorry, I could not save your choice just now\./);
      expect(speaker.said.join(' ')).not.toContain('will not call');
      expect(await sql.doNotCall.get(PHONE)).toBeUndefined();
      await call.close('test over');

      const inbound = new FakeSpeaker('keypad');
      const second = makeCall(new FakeVoice(inbound));
      second.room.join(CALLER);
      await until(() => inbound.said.length > 0, 'the greeting');
      expect(inbound.said[0]).not.toContain('nine');
      second.call.receive({ type: 'key', digit: '9', from: CALLER.identity });
      await until(() => inbound.said.length > 1, 'the answer');
      expect(inbound.said[1]).toMatch(/^Sorry, that key is not an option\./);
      expect(await sql.doNotCall.get(PHONE)).toBeUndefined();
      await second.call.close('test over');
    });
  });
  describe('a web visitor (a visit the web server started)', () => {
    /** A browser participant, as livekit-client joins: kind STANDARD, and whatever attributes it claims. */
    const visitor = (identity: string, attributes: Record<string, string> = {}): ParticipantLike => ({ identity, kind: ParticipantKind.STANDARD, attributes });
    /** Dates of birth are asked of phone callers: a visit link is the proof instead. */
    const DOB: IdentityPolicy = { inbound: 'dob', outbound: 'name', order: 'MDY' };

    it('from a verified link: the linked patient is greeted with their appointment, no date of birth asked; 1 confirms; the record is the web\'s', async () => {
      const speaker = new FakeSpeaker('keypad');
      const voice = new FakeVoice(speaker);
      const { room, call, running } = makeCall(voice, { web: { visitor: 'visitor-1', patientId: 'p1', joinTimeoutMs: 60_000 }, identity: DOB });
      room.join(visitor('visitor-1'));
      await inState(call, 'menu');
      expect(voice.requests[0]).toMatchObject({ identity: 'visitor-1', situation: { kind: 'appointment', direction: 'web' } });
      expect(speaker.said[0]).toMatch(/^Hello Maria, welcome to Main Street Clinic\. You have your dental cleaning with Doctor Chen on /);
      call.receive({ type: 'key', digit: '1', from: 'visitor-1' });
      const ended = await running;
      expect(speaker.said.at(-1)).toBe(script.confirmed());
      // The number on file is where staff would call back; the patient and appointment come from the link.
      expect(ended.record).toMatchObject({ direction: 'web', outcome: 'confirmed', patient_id: 'p1', appointment_id: 'a1', phone_e164: PHONE, sip_call_id: null });
      expect((await sql.getAppointment('a1'))?.status).toBe('confirmed');
      expect((await sql.booking.changes('a1')).map((c) => [c.change, c.source, c.call_id])).toEqual([['confirmed', 'keypad', ended.record!.id]]);
      expect(await sql.callEvents(ended.record!.id)).toEqual([]);
    });

    it('without a link: the web welcome, nothing about any patient — whatever the browser claims — and 1 changes nothing', async () => {
      const speaker = new FakeSpeaker('keypad');
      const voice = new FakeVoice(speaker);
      const { room, call, running } = makeCall(voice, { web: { visitor: 'visitor-2', joinTimeoutMs: 60_000 }, identity: DOB });
      room.join(visitor('visitor-2', { phoneNumber: PHONE, patientId: 'p1', 'sip.phoneNumber': PHONE }));
      await inState(call, 'menu');
      expect(speaker.said).toEqual([script.webWelcome()]);
      expect(voice.requests[0]!.situation).toEqual({ kind: 'unknown_visitor', direction: 'web' });
      call.receive({ type: 'key', digit: '1', from: 'visitor-2' });
      await until(() => speaker.said.length === 2, 'the answer to 1');
      expect(speaker.said[1]).toMatch(/^Sorry, that key is not an option\./);
      await call.close('test over');
      const ended = await running;
      expect(ended.record).toMatchObject({ direction: 'web', patient_id: null, appointment_id: null, phone_e164: null });
      expect((await sql.getAppointment('a1'))?.status).toBe('scheduled');
    });

    it('talks with its own visitor only: someone else joining first is not taken for them, and their keys do nothing', async () => {
      const speaker = new FakeSpeaker('keypad');
      const voice = new FakeVoice(speaker);
      const { room, call, running } = makeCall(voice, { web: { visitor: 'visitor-3', patientId: 'p1', joinTimeoutMs: 60_000 } });
      room.join(visitor('intruder'));
      await new Promise((r) => setTimeout(r, 50));
      expect(voice.requests).toEqual([]);
      room.join(visitor('visitor-3'));
      await inState(call, 'menu');
      expect(voice.requests[0]!.identity).toBe('visitor-3');
      call.receive({ type: 'key', digit: '1', from: 'intruder' });
      await new Promise((r) => setTimeout(r, 50));
      expect((await sql.getAppointment('a1'))?.status).toBe('scheduled');
      call.receive({ type: 'participant_left', identity: 'intruder' });
      expect(call.state).toBe('menu');
      call.receive({ type: 'participant_left', identity: 'visitor-3', reason: 'CLIENT_INITIATED' });
      expect((await running).record).toMatchObject({ outcome: 'hung_up', direction: 'web', patient_id: 'p1' });
    });

    it('a visitor who never joins: the visit ends after the join timeout, with no record, the room removed', async () => {
      const voice = new FakeVoice(new FakeSpeaker('keypad'));
      const { room, running } = makeCall(voice, { web: { visitor: 'visitor-4', joinTimeoutMs: 50 } });
      const ended = await running;
      expect(ended).toEqual({ record: undefined, why: 'the visitor did not join within 0 s' });
      expect(voice.requests).toEqual([]);
      expect(room.hangUps).toBeGreaterThan(0);
      expect(await sql.callsInRoom('call-test')).toEqual([]);
    });

    it('a link naming a patient no longer on file: an anonymous visitor', async () => {
      const speaker = new FakeSpeaker('keypad');
      const { room, call, running } = makeCall(new FakeVoice(speaker), { web: { visitor: 'visitor-5', patientId: 'p-gone', joinTimeoutMs: 60_000 } });
      room.join(visitor('visitor-5'));
      await inState(call, 'menu');
      expect(speaker.said).toEqual([script.webWelcome()]);
      await call.close('test over');
      expect((await running).record).toMatchObject({ direction: 'web', patient_id: null, phone_e164: null });
    });
  });
});
