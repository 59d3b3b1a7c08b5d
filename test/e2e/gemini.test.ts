/**
 * Gemini mode end to end: the real worker with the real Google plugin, pointed at a local Gemini
 * Live stand-in (GOOGLE_GEMINI_BASE_URL), answering a real SIP call. The caller hears the model's
 * audio; a key press is saved and then told to the model, whose reply the caller hears too. Outbound,
 * the model greets the patient we called first. The model's tools change real records, and when its
 * connection fails the call goes on in keypad mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personAnswering, speechUlaw } from '../../devtools/audio.js';
import { GeminiStandIn } from '../../devtools/gemini-standin.js';
import { clients, provisionInbound, provisionOutbound, type InboundRoute, type OutboundRoute } from '../../devtools/livekit.js';
import { addPatient } from '../../devtools/patients.js';
import { rmsDbfs, SILENCE_DBFS } from '../../devtools/rtp.js';
import { firstSpeech, heardAfter, recognizeAmong, speechWords } from '../../devtools/speech-check.js';
import { waitFor } from '../../devtools/wait.js';
import { freePorts, SipCallee, SipCaller } from '../../devtools/sipp.js';
import { callScript, MENU, modelLostError } from '../../src/call/index.js';
import { DateTime } from 'luxon';
import { CALLER_ID_ONLY, heardOut, placeTestCall, startWorker, type TestWorker } from '../../devtools/worker.js';

const GREETING = 'Hello Maria, this is the clinic assistant. Would you like to confirm your appointment?';
const CONFIRMED = 'Thank you, your appointment is confirmed. Goodbye.';
const MOVED = 'Done, your appointment is moved.';
/** The slot the stand-in's reschedule call asks for (set by the test before the call). */
let rescheduleTo = '';

describe('Gemini mode with a local Live API stand-in', () => {
  let standIn: GeminiStandIn;
  let worker: TestWorker;
  let route: InboundRoute;
  let trunk: OutboundRoute;
  let calleePort: number;

  beforeAll(async () => {
    standIn = await GeminiStandIn.start((text) => {
      if (/^toolResponse reschedule_appointment/.test(text)) return MOVED;
      if (/^toolResponse /.test(text)) return { say: undefined };
      if (/Greet Rita/.test(text)) return { say: GREETING, toolCalls: [{ name: 'reschedule_appointment', args: { slot_id: rescheduleTo } }] };
      if (/Greet Carla/.test(text)) return { say: GREETING, toolCalls: [{ name: 'confirm_appointment' }] };
      return /pressed 1/.test(text) ? CONFIRMED : GREETING;
    });
    calleePort = (await freePorts()) + 3;
    trunk = await provisionOutbound(clients(), calleePort);
    worker = await startWorker('gemini', {
      ...CALLER_ID_ONLY,
      GOOGLE_API_KEY: 'test-key-not-a-secret',
      GOOGLE_GEMINI_BASE_URL: standIn.baseUrl,
      OUTBOUND_TRUNK_ID: trunk.trunkId,
      // A silent model is given up on sooner than by default (8 s), to keep the test short.
      MODEL_REPLY_TIMEOUT_S: '4',
    });
    route = await provisionInbound(clients(), { agentName: worker.agentName });
  });
  afterAll(async () => {
    await route?.remove();
    await trunk?.remove();
    await worker?.stop();
    await standIn?.close();
  });

  it('greets with the model\'s voice, saves a press, then tells the model what it did', async () => {
    const p = await addPatient(worker.store, { time: { hour: 10, minute: 30 } });
    const phone = p.phone;
    const since = standIn.clientTexts().length;
    const connectionsBefore = standIn.connections.length;
    const call = await SipCaller.dial({ to: route.number, from: phone, audioFile: speechUlaw('Hello, I am calling about my appointment.'), cued: ['1'], hangupAfterMs: 120_000 });
    // The caller has heard the greeting, presses 1, hears the model's answer and hangs up.
    await greeted('Maria', since);
    await call.press();
    await answered(since);
    await call.hangUp();
    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);

    // Saved, before and regardless of what the model says.
    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
    const record = (await worker.db.selectFrom('call_records').selectAll().where('phone_e164', '=', phone).executeTakeFirst())!;
    expect(record).toMatchObject({ mode: 'gemini', outcome: 'confirmed' });

    // One model connection for the whole call: its first setup already carried the call's tools, so
    // the framework's update of them found nothing to change (before: a second connection every call).
    const connections = standIn.connections.slice(connectionsBefore);
    expect(connections).toHaveLength(1);
    const declared = (connections[0]!.find((m) => m.setup)?.setup as { tools?: { functionDeclarations?: { name: string }[] }[] }).tools?.flatMap((t) => t.functionDeclarations ?? []).map((f) => f.name);
    expect(declared).toEqual(expect.arrayContaining(['confirm_appointment', 'reschedule_appointment', 'list_open_slots']));

    // The plugin's session setup carried our model, voice, language and the caller's real facts.
    const setup = connections[0]!.find((m) => m.setup)?.setup as {
      model: string;
      generationConfig: { speechConfig: { languageCode?: string; voiceConfig: { prebuiltVoiceConfig: { voiceName: string } } } };
      systemInstruction: { parts: { text: string }[] };
    };
    expect(setup.model).toBe('models/gemini-3.8-live');
    expect(setup.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName).toBe('Puck');
    expect(setup.generationConfig.speechConfig.languageCode).toBe('en-US');
    const instructions = standIn.messages().flatMap((m) => ((m.setup as typeof setup | undefined)?.systemInstruction?.parts ?? []).map((p) => p.text)).join('\n');
    expect(instructions).toContain('appointment coordinator'); // src/agent/coordinator.md
    expect(instructions).toContain('Maria Garcia');
    expect(instructions).toContain('dental cleaning with Doctor Chen');

    // The model was asked to greet, then told about the press and its effect.
    const texts = standIn.clientTexts().join('\n');
    expect(texts).toMatch(/Greet Maria Garcia/);
    expect(texts).toMatch(/pressed 1\. Their appointment is now confirmed/);
    // The caller's audio reached the model as 16 kHz PCM.
    expect(standIn.messages().some((m) => (m.realtimeInput as { audio?: { mimeType: string } } | undefined)?.audio?.mimeType === 'audio/pcm')).toBe(true);

    // What the caller heard was the model's voice: the stand-in's greeting.
    expect(rmsDbfs(result.audio)).toBeGreaterThan(SILENCE_DBFS);
    const speech = firstSpeech(result.audio, 8000)!;
    expect(await recognizeAmong(result.audio.subarray(speech.start, speech.end), 8000, [GREETING, CONFIRMED])).toBe(speechWords(GREETING));
  });

  it('calls a patient out: the model greets them first with their appointment, and their press is saved', async () => {
    const p = await addPatient(worker.store, { time: { hour: 9, minute: 0 } });
    const phone = await SipCallee.listen({ port: calleePort, answer: { kind: 'answer', afterMs: 1500 }, audioFile: personAnswering(), cued: ['1'], hangupAfterMs: 120_000, timeoutS: 240 });
    const turnsBefore = standIn.clientTexts().length;
    const placing = placeTestCall(worker, p);
    await greeted('Maria', turnsBefore);
    await phone.press();
    await answered(turnsBefore);
    await phone.hangUp();
    const placed = await placing;
    const result = await phone.result();
    expect(result.exitCode, result.log).toBe(0);
    expect(placed.record).toMatchObject({ direction: 'outbound', mode: 'gemini', outcome: 'confirmed', appointment_id: p.appointmentId });
    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');

    // This call's session was set up with the patient's facts, and the model was asked to greet them.
    const setups = standIn.messages().filter((m) => m.setup);
    const instructions = JSON.stringify(setups[setups.length - 1]);
    expect(instructions).toContain('appointment coordinator'); // src/agent/coordinator.md
    expect(instructions).toContain('Maria Garcia');
    expect(instructions).toContain('You placed this call to the patient to confirm their appointment');
    expect(standIn.clientTexts().slice(turnsBefore).join('\n')).toMatch(/Greet Maria Garcia/);

    // The callee heard the model's greeting first.
    expect(rmsDbfs(result.audio)).toBeGreaterThan(SILENCE_DBFS);
    const speech = firstSpeech(result.audio, 8000)!;
    expect(await recognizeAmong(result.audio.subarray(speech.start, speech.end), 8000, [GREETING, CONFIRMED])).toBe(speechWords(GREETING));
  });

  /** An inbound call from `phone` that presses `digits`; resolves with SIPp's result. */
  async function inboundCall(phone: string, dtmf: { digits: string; atMs: number }[] = [], hangupAfterMs = 25_000) {
    const call = await SipCaller.dial({ to: route.number, from: phone, audioFile: speechUlaw('Hello, I would like to move my appointment.'), dtmf, hangupAfterMs });
    return call.result();
  }

  it('the model reschedules through its tool: the store shows the new slot, the old one is free, the model got the result', async () => {
    const p = await addPatient(worker.store, { name: 'Rita Moreno' });
    await worker.store.addFreeSlots('dr-chen', DateTime.now().setZone('America/Los_Angeles').plus({ days: 2 }).set({ hour: 15, minute: 0, second: 0, millisecond: 0 }), 1, 'the Main Street clinic');
    const slot = (await worker.store.booking.openSlots('dr-chen')).find((x) => x.starts_at.includes('T') && x.id.startsWith('slot-dr-chen-'))!;
    rescheduleTo = slot.id;
    const result = await inboundCall(p.phone);
    expect(result.exitCode, result.log).toBe(0);

    expect(await worker.store.getAppointment(p.appointmentId)).toMatchObject({ slot_id: slot.id, starts_at: slot.starts_at, status: 'confirmed' });
    expect((await worker.store.booking.openSlots('dr-chen')).map((x) => x.id)).toContain(`slot-${p.appointmentId}`);
    // gemini-3.8-live (the default) calls asynchronously: the call came before its words, and the result got its own turn.
    expect(standIn.toolCalls.find((c) => c.names.includes('reschedule_appointment'))).toMatchObject({ async: true });
    const response = standIn.toolResponses().find((r) => r.name === 'reschedule_appointment')!;
    expect(JSON.parse(response.response.output!)).toMatchObject({ result: 'rescheduled' });
    const record = (await worker.db.selectFrom('call_records').selectAll().where('phone_e164', '=', p.phone).executeTakeFirst())!;
    expect(record.outcome).toBe('rescheduled');
    expect((await worker.store.booking.changes(p.appointmentId)).map((c) => [c.change, c.source, c.call_id])).toEqual([['rescheduled', 'voice', record.id]]);
  });

  it('a press of 1 and the model\'s confirm for the same appointment confirm it once', async () => {
    const p = await addPatient(worker.store, { name: 'Carla Diaz' });
    const result = await inboundCall(p.phone, [{ digits: '1', atMs: 9000 }], 25_000);
    expect(result.exitCode, result.log).toBe(0);

    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
    const record = (await worker.db.selectFrom('call_records').selectAll().where('phone_e164', '=', p.phone).executeTakeFirst())!;
    expect(record.outcome).toBe('confirmed');
    // Both paths ran: the press is saved and the model's tool call got its answer …
    expect((await worker.store.digits(record.id)).map((d) => [d.digit, d.action])).toEqual([['1', 'confirm']]);
    const outputs = standIn.toolResponses().filter((r) => r.name === 'confirm_appointment').map((r) => JSON.parse(r.response.output!) as { result: string });
    expect(outputs.length).toBeGreaterThan(0);
    // … and the appointment was confirmed exactly once.
    expect((await worker.store.booking.changes(p.appointmentId)).filter((c) => c.change === 'confirmed')).toHaveLength(1);
    expect(outputs.map((o) => o.result).every((r) => r === 'confirmed' || r === 'already_confirmed')).toBe(true);
  });

  /**
   * Waits until the stand-in was asked to greet `name` (in a turn after the first `since`) and has
   * answered, then until that greeting has played out at the caller (its flite length plus the margin of
   * `heardOut` for the way through LiveKit and the phone).
   */
  async function greeted(name: string, since = 0): Promise<void> {
    await waitFor(`the model asked to greet ${name}`, () => standIn.clientTexts().slice(since).some((t) => t.includes(`Greet ${name}`)), 20_000, worker.output);
    const greeting = await waitFor('the greeting spoken', () => standIn.spoken.at(-1), 10_000);
    await heardOut(greeting.at, greeting.text);
  }

  /** Waits until the model (a turn after the first `since`) was told of the press and its answer has played out at the caller. */
  async function answered(since: number): Promise<void> {
    await waitFor('the model told of the press', () => standIn.clientTexts().slice(since).some((t) => /pressed 1/.test(t)), 20_000, worker.output);
    const reply = await waitFor('the model\'s answer', () => standIn.spoken.at(-1)?.text === CONFIRMED && standIn.spoken.at(-1), 20_000);
    await heardOut(reply.at, reply.text);
  }

  const script = callScript('Main Street Clinic');
  /** A caller who talks about their appointment and presses 1 when the test says so (`call.press()`). */
  const callerPressing1 = (phone: string) =>
    SipCaller.dial({ to: route.number, from: phone, audioFile: speechUlaw('Hello, I am calling about my appointment.'), cued: ['1'], hangupAfterMs: 120_000 });
  const recordOf = async (phone: string) => (await worker.db.selectFrom('call_records').selectAll().where('phone_e164', '=', phone).executeTakeFirst())!;
  const eventsOf = async (callId: string) => (await worker.store.callEvents(callId)).map((e) => [e.kind, e.detail]);
  /** Waits until the call of `phone` has saved an event of `kind`. */
  const saved = (phone: string, kind: string) =>
    waitFor(`a ${kind} event`, async () => {
      const record = await worker.db.selectFrom('call_records').selectAll().where('phone_e164', '=', phone).executeTakeFirst();
      return record && (await eventsOf(record.id)).some((e) => e[0] === kind);
    }, 20_000, worker.output);
  /** Waits as long as `text` takes to say, and some more for the way through LiveKit and the phone. */

  it.each([1000, 1011])('the model\'s websocket closes with %i mid-call: the caller is told, keypad mode takes over, the press is saved, the record says why', async (code) => {
    const p = await addPatient(worker.store, { name: code === 1000 ? 'Nina Patel' : 'Omar Haddad' });
    const since = standIn.clientTexts().length;
    const call = await callerPressing1(p.phone);
    await greeted(p.name.split(' ')[0]!, since);
    const droppedAt = Date.now();
    standIn.drop(code);
    // Keypad mode takes over and says so; then the caller presses 1, and the call ends with the confirmation.
    const notice = script.modelLost(MENU);
    await saved(p.phone, 'voice_lost');
    await heardOut(Date.now(), notice);
    await call.press();
    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);
    expect(result.dtmfSent[0]!.timeMs).toBeGreaterThan(droppedAt); // the press came after the failure

    // The press after the failure went through keypad mode and was saved.
    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
    const record = await recordOf(p.phone);
    const why = `the model's websocket closed (code ${code})`;
    expect(record).toMatchObject({ outcome: 'confirmed', error: modelLostError(why) });
    expect(await eventsOf(record.id)).toEqual([['voice_lost', why]]);
    expect((await worker.store.digits(record.id)).map((d) => [d.digit, d.action])).toEqual([['1', 'confirm']]);

    // What the caller heard after the failure: the keypad notice, in flite's voice, and after the press the confirmation.
    const candidates = [notice, GREETING, script.confirmed()];
    expect(await heardAfter(result, droppedAt, candidates, result.dtmfSent[0]!.timeMs)).toContain(speechWords(notice));
    expect(await heardAfter(result, result.dtmfSent[0]!.timeMs, candidates)).toContain(speechWords(script.confirmed()));
  });

  it('goAway: the model goes on over a new connection that carries the resumption handle; a later press is answered by the model', async () => {
    const p = await addPatient(worker.store, { name: 'Lena Fischer' });
    const since = standIn.clientTexts().length;
    const call = await callerPressing1(p.phone);
    await greeted('Lena', since);
    const handle = standIn.handles.at(-1)!;
    const connections = standIn.connections.length;
    const warnedAt = Date.now();
    standIn.goAway(2000);
    await saved(p.phone, 'voice_resumed');
    await call.press();
    // The model's answer to the press has been spoken and had time to reach the phone.
    await answered(since);
    await call.hangUp();
    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);
    expect(result.dtmfSent[0]!.timeMs).toBeGreaterThan(warnedAt);

    // A new connection, set up with the last handle the server gave before its goAway.
    expect(standIn.connections.length).toBeGreaterThan(connections);
    expect(standIn.setupHandles().slice(-1)).toEqual([handle]);
    const record = await recordOf(p.phone);
    expect(record).toMatchObject({ mode: 'gemini', outcome: 'confirmed', error: null });
    const events = await eventsOf(record.id);
    expect(events).toHaveLength(1);
    expect(events[0]![0]).toBe('voice_resumed');
    expect(events[0]![1]).toMatch(/goAway/);
    // The caller heard the model's answer, not keypad mode.
    const heard = await heardAfter(result, result.dtmfSent[0]!.timeMs, [CONFIRMED, script.confirmed(), script.modelLost(MENU)]);
    expect(heard).toContain(speechWords(CONFIRMED));
    expect(heard).not.toContain(speechWords(script.modelLost(MENU)));
  });

  it('the model goes silent: once no reply has come for MODEL_REPLY_TIMEOUT_S, keypad mode says what the model did not, and the press is saved', async () => {
    const p = await addPatient(worker.store, { name: 'Ruth Okafor' });
    const since = standIn.clientTexts().length;
    const call = await callerPressing1(p.phone);
    try {
      await greeted('Ruth', since);
      standIn.setSilent(true);
      await call.press();
      const result = await call.result();
      expect(result.exitCode, result.log).toBe(0);

      expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
      const record = await recordOf(p.phone);
      expect(record.outcome).toBe('confirmed');
      expect(record.error).toMatch(/^the voice model was lost \(no reply from the model \d+\.\d s after one was due\); the call went on in keypad mode$/);
      const events = await eventsOf(record.id);
      expect(events.map((e) => e[0])).toEqual(['voice_lost']);
      // The confirmation the model never spoke is said in keypad mode, about MODEL_REPLY_TIMEOUT_S (4 s here) after the press.
      const pressedAt = result.dtmfSent[0]!.timeMs;
      expect(await heardAfter(result, pressedAt, [script.confirmed(), script.modelLost(MENU), CONFIRMED])).toContain(speechWords(script.confirmed()));
      const bye = result.sip.find((m) => m.firstLine.startsWith('BYE'))!;
      expect(bye.timeMs - pressedAt).toBeGreaterThan(4000);
    } finally {
      standIn.setSilent(false);
    }
  });

  it('the older gemini-2.5 native-audio model, which calls functions blocking, still confirms through its tool', async () => {
    const older = await startWorker('gemini', {
      ...CALLER_ID_ONLY,
      GOOGLE_API_KEY: 'test-key-not-a-secret',
      GOOGLE_GEMINI_BASE_URL: standIn.baseUrl,
      GEMINI_MODEL: 'gemini-2.5-flash-native-audio-preview-12-2025',
    });
    const olderRoute = await provisionInbound(clients(), { agentName: older.agentName });
    try {
      const p = await addPatient(older.store, { name: 'Carla Diaz' });
      const before = standIn.toolCalls.length;
      const call = await SipCaller.dial({ to: olderRoute.number, from: p.phone, audioFile: speechUlaw('Hello.'), hangupAfterMs: 15_000 });
      const result = await call.result();
      expect(result.exitCode, result.log).toBe(0);
      expect((await older.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
      expect(standIn.toolCalls.slice(before)).toEqual([{ async: false, names: ['confirm_appointment'] }]);
      const record = (await older.db.selectFrom('call_records').selectAll().where('phone_e164', '=', p.phone).executeTakeFirst())!;
      expect(record).toMatchObject({ mode: 'gemini', outcome: 'confirmed', error: null });
    } finally {
      await olderRoute.remove();
      await older.stop();
    }
  });
});
