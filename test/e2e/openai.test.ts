/**
 * OpenAI Realtime as the voice (VOICE_MODEL=openai): the real worker with the real OpenAI plugin,
 * pointed at a local Realtime API stand-in (OPENAI_BASE_URL), answering a real SIP call; when the
 * model's websocket closes mid-call, the call goes on in keypad mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { speechUlaw } from '../../devtools/audio.js';
import { clients, provisionInbound, type InboundRoute } from '../../devtools/livekit.js';
import { OpenAIRealtimeStandIn } from '../../devtools/openai-standin.js';
import { addPatient } from '../../devtools/patients.js';
import { rmsDbfs, SILENCE_DBFS } from '../../devtools/rtp.js';
import { firstSpeech, heardAfter, recognizeAmong, speechWords } from '../../devtools/speech-check.js';
import { waitFor } from '../../devtools/wait.js';
import { callScript, MENU, modelLostError } from '../../src/call/index.js';
import { SipCaller } from '../../devtools/sipp.js';
import { CALLER_ID_ONLY, heardOut, startWorker, type TestWorker } from '../../devtools/worker.js';

const GREETING = 'Hello Maria, this is the clinic calling assistant. Shall I confirm your visit?';
const CONFIRMED = 'Thank you, your appointment is confirmed. Goodbye.';

describe('OpenAI Realtime with a local stand-in', () => {
  let standIn: OpenAIRealtimeStandIn;
  let worker: TestWorker;
  let route: InboundRoute;

  beforeAll(async () => {
    standIn = await OpenAIRealtimeStandIn.start((instructions) => (/pressed 1/.test(instructions) ? CONFIRMED : GREETING));
    worker = await startWorker('openai', { ...CALLER_ID_ONLY, VOICE_MODEL: 'openai', OPENAI_API_KEY: 'test-key-not-a-secret', OPENAI_BASE_URL: standIn.baseUrl, OPENAI_VOICE: 'cedar' });
    route = await provisionInbound(clients(), { agentName: worker.agentName });
  });
  afterAll(async () => {
    await route?.remove();
    await worker?.stop();
    await standIn?.close();
  });

  /** Waits until the model was asked for a reply matching `asked` (after the first `since` requests), then as long as `reply` takes to play out at the caller. */
  async function said(asked: string, reply: string, since: number): Promise<void> {
    await waitFor(`the model asked: ${asked}`, () => standIn.responseInstructions().slice(since).some((t) => t.includes(asked)), 20_000, worker.output);
    await heardOut(Date.now(), reply);
  }

  it('greets with the model\'s voice, with our voice, instructions and tools; a press is saved and told to the model', async () => {
    const p = await addPatient(worker.store, { time: { hour: 11, minute: 45 } });
    const since = standIn.responseInstructions().length;
    const connectionsBefore = standIn.connections;
    const call = await SipCaller.dial({ to: route.number, from: p.phone, audioFile: speechUlaw('Hello, I am calling about my appointment.'), cued: ['1'], hangupAfterMs: 120_000 });
    // The greeting played out, then the press; the model's answer played out, then the hang-up.
    await said('Greet Maria', GREETING, since);
    await call.press();
    await said('pressed 1', CONFIRMED, since);
    await call.hangUp();
    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);

    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
    const record = (await worker.db.selectFrom('call_records').selectAll().where('phone_e164', '=', p.phone).executeTakeFirst())!;
    expect(record).toMatchObject({ mode: 'openai', outcome: 'confirmed' });
    expect(standIn.connections - connectionsBefore).toBe(1); // one model connection for the whole call

    // The plugin configured the session with our voice, the prompt file, the caller's facts and our tools.
    const sessions = standIn.events.filter((e) => e.type === 'session.update').map((e) => JSON.stringify(e.session));
    const all = sessions.join('\n');
    expect(all).toContain('"cedar"');
    expect(all).toContain('appointment coordinator');
    expect(all).toContain('Maria Garcia');
    expect(all).toContain('reschedule_appointment');
    // Asked to greet, then told about the press.
    const asked = standIn.responseInstructions().join('\n');
    expect(asked).toMatch(/Greet Maria Garcia/);
    expect(asked).toMatch(/pressed 1\. Their appointment is now confirmed/);
    // The caller's audio reached the model.
    expect(standIn.events.some((e) => e.type === 'input_audio_buffer.append')).toBe(true);

    expect(rmsDbfs(result.audio)).toBeGreaterThan(SILENCE_DBFS);
    const speech = firstSpeech(result.audio, 8000)!;
    expect(await recognizeAmong(result.audio.subarray(speech.start, speech.end), 8000, [GREETING, CONFIRMED])).toBe(speechWords(GREETING));
  });

  it('the model\'s websocket closes mid-call: keypad mode takes over (notice heard, press saved), the record says why', async () => {
    const p = await addPatient(worker.store, { name: 'Nina Patel' });
    const since = standIn.responseInstructions().length;
    const connectionsBefore = standIn.connections;
    const call = await SipCaller.dial({ to: route.number, from: p.phone, audioFile: speechUlaw('Hello, I am calling about my appointment.'), cued: ['1'], hangupAfterMs: 120_000 });
    await said('Greet Nina', GREETING, since);
    // This call's takeover, not an earlier try's (the worker is shared): the press must come after it.
    const takeovers = () => worker.output().split('keypad mode takes over').length - 1;
    const before = takeovers();
    const droppedAt = Date.now();
    standIn.drop(1000);
    // Keypad mode takes over and says so; then the press, and the call ends with the confirmation.
    const notice = callScript('Main Street Clinic').modelLost(MENU);
    await waitFor('keypad mode to take over', () => takeovers() > before || undefined, 20_000, worker.output);
    await heardOut(Date.now(), notice);
    await call.press();
    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);
    expect(result.dtmfSent[0]!.timeMs).toBeGreaterThan(droppedAt);

    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
    const record = (await worker.db.selectFrom('call_records').selectAll().where('phone_e164', '=', p.phone).executeTakeFirst())!;
    const why = "the model's websocket closed (code 1000)";
    expect(record).toMatchObject({ mode: 'openai', outcome: 'confirmed', error: modelLostError(why) });
    expect((await worker.store.callEvents(record.id)).map((e) => [e.kind, e.detail])).toEqual([['voice_lost', why]]);
    expect(await heardAfter(result, droppedAt, [notice, GREETING, CONFIRMED], result.dtmfSent[0]!.timeMs)).toContain(speechWords(notice));
  });
});
