/**
 * OpenAI Realtime as the voice (VOICE_MODEL=openai): the real worker with the real OpenAI plugin,
 * pointed at a local Realtime API stand-in (OPENAI_BASE_URL), answering a real SIP call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { speechUlaw } from '../../devtools/audio.js';
import { clients, provisionInbound, type InboundRoute } from '../../devtools/livekit.js';
import { OpenAIRealtimeStandIn } from '../../devtools/openai-standin.js';
import { addPatient } from '../../devtools/patients.js';
import { rmsDbfs, SILENCE_DBFS } from '../../devtools/rtp.js';
import { firstSpeech, recognizeAmong, speechWords } from '../../devtools/speech-check.js';
import { SipCaller } from '../../devtools/sipp.js';
import { startWorker, type TestWorker } from '../../devtools/worker.js';

const GREETING = 'Hello Maria, this is the clinic calling assistant. Shall I confirm your visit?';
const CONFIRMED = 'Thank you, your appointment is confirmed. Goodbye.';

describe('OpenAI Realtime with a local stand-in', () => {
  let standIn: OpenAIRealtimeStandIn;
  let worker: TestWorker;
  let route: InboundRoute;

  beforeAll(async () => {
    standIn = await OpenAIRealtimeStandIn.start((instructions) => (/pressed 1/.test(instructions) ? CONFIRMED : GREETING));
    worker = await startWorker('openai', { VOICE_MODEL: 'openai', OPENAI_API_KEY: 'test-key-not-a-secret', OPENAI_BASE_URL: standIn.baseUrl, OPENAI_VOICE: 'cedar' });
    route = await provisionInbound(clients(), { agentName: worker.agentName });
  });
  afterAll(async () => {
    await route?.remove();
    await worker?.stop();
    await standIn?.close();
  });

  it('greets with the model\'s voice, with our voice, instructions and tools; a press is saved and told to the model', async () => {
    const p = await addPatient(worker.store, { time: { hour: 11, minute: 45 } });
    const call = await SipCaller.dial({
      to: route.number,
      from: p.phone,
      audioFile: speechUlaw('Hello, I am calling about my appointment.'),
      dtmf: [{ digits: '1', atMs: 9000 }],
      hangupAfterMs: 30_000,
    });
    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);

    expect((await worker.store.getAppointment(p.appointmentId))?.status).toBe('confirmed');
    const record = (await worker.db.selectFrom('call_records').selectAll().where('phone_e164', '=', p.phone).executeTakeFirst())!;
    expect(record).toMatchObject({ mode: 'openai', outcome: 'confirmed' });

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
});
