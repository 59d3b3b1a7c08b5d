/**
 * One agent job = one call: join the room audio-only, find out who is on the line, look their
 * appointment up, open the call record, pick the voice (Gemini or keypad), run the call, and close
 * the record however the call ends — then end the job, so no job process outlives its call.
 */
import { AutoSubscribe, type JobContext, type JobProcess } from '@livekit/agents';
import { RoomEvent, type RemoteParticipant } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { classifyParticipant, type Connection } from '../call/classify.js';
import type { AppConfig } from '../config/index.js';
import { toE164, type CountryCode } from '../phone/index.js';
import { keypadPrompts } from '../speech/prompts.js';
import type { AppointmentStore, CallerLookup } from '../store/index.js';
import { CallFlow, type Speaker } from './call-flow.js';
import { phoneInstructions } from './instructions.js';
import { startGeminiSpeaker, startKeypadSpeaker } from './speakers.js';

/** Which voice runs, and why (logged at start). */
export interface VoiceChoice {
  readonly mode: 'keypad' | 'gemini';
  readonly reason: string;
}

/** Gemini when a key is configured, keypad mode otherwise. */
export function chooseVoice(config: Pick<AppConfig, 'GOOGLE_API_KEY'>): VoiceChoice {
  return config.GOOGLE_API_KEY
    ? { mode: 'gemini', reason: 'GOOGLE_API_KEY is set' }
    : { mode: 'keypad', reason: 'GOOGLE_API_KEY is not set: fixed prompts with local flite speech, answers by keypad' };
}

/** What a job process keeps between jobs (made in prewarm). */
export interface ProcessState {
  readonly config: AppConfig;
  readonly store: AppointmentStore;
  readonly log: Logger;
}

/** The caller's phone number, when there is one: SIP caller ID, or a web participant's `phoneNumber` attribute. */
function callerNumber(c: Connection, country: CountryCode): string | undefined {
  const raw = c.kind === 'sip' ? c.sip.phoneNumber : c.attributes.phoneNumber;
  return toE164(raw, country);
}

/** Runs one call to its end. */
export async function runCall(ctx: JobContext, state: ProcessState): Promise<void> {
  const { config, store } = state;
  await ctx.connect(undefined, AutoSubscribe.AUDIO_ONLY);
  const room = ctx.room.name ?? 'unknown-room';
  const log = state.log.child({ room, job: ctx.job.id });

  const participant: RemoteParticipant = await ctx.waitForParticipant();
  const connection = classifyParticipant(participant);
  const direction = connection.kind === 'web' ? 'web' : connection.sip.direction;
  const country = config.PHONE_DEFAULT_COUNTRY as CountryCode;
  const phone = callerNumber(connection, country);
  const lookup: CallerLookup | undefined = phone ? await store.lookupCaller(phone) : undefined;
  const voiceChoice = chooseVoice(config);
  log.info(
    { kind: connection.kind, direction, phoneNumber: phone, known: Boolean(lookup), appointment: lookup?.appointment?.id, mode: voiceChoice.mode },
    `call started (${voiceChoice.mode} mode: ${voiceChoice.reason})`,
  );

  const record = await store.startCall({
    room,
    direction,
    mode: voiceChoice.mode,
    sipCallId: connection.kind === 'sip' ? connection.sip.callId : null,
    phoneE164: phone ?? null,
    trunkNumber: connection.kind === 'sip' ? connection.sip.trunkPhoneNumber : null,
    patientId: lookup?.patient.id ?? null,
    appointmentId: lookup?.appointment?.id ?? null,
  });

  // However the call ends — hang-up, any disconnect reason, our own hang-up, a crash of the
  // session — the record is closed and the job shuts down.
  let flow: CallFlow | undefined;
  let speaker: Speaker | undefined;
  let ended = false;
  let roomDeleted = false;
  const deleteRoom = async () => {
    if (roomDeleted) return;
    roomDeleted = true;
    await ctx.deleteRoom().catch((err: unknown) => log.debug({ err }, 'room already gone'));
  };
  const finish = async (why: string, error?: string) => {
    if (ended) return;
    ended = true;
    const final = flow ? await flow.end(error) : await store.endCall(record.id, { error });
    log.info({ outcome: final?.outcome, why }, 'call ended');
    // Stop speaking to an empty room, and release the room, so the job process can exit now.
    await speaker?.close().catch((err: unknown) => log.warn({ err }, 'closing the voice session failed'));
    await deleteRoom();
    ctx.shutdown(why);
  };
  ctx.addShutdownCallback(() => finish('job shutdown'));
  ctx.room.on(RoomEvent.ParticipantDisconnected, (p) => {
    if (p.identity === connection.identity) void finish(`participant left (reason ${p.disconnectReason ?? 'unknown'})`);
  });
  ctx.room.on(RoomEvent.Disconnected, () => void finish('room closed'));

  const prompts = keypadPrompts(config.CLINIC_NAME);
  const target = { room: ctx.room, participantIdentity: connection.identity, log };
  // Presses that arrive while the voice starts count too: they wait for the flow.
  const early: { digit: string; at: Date }[] = [];
  ctx.room.on(RoomEvent.DtmfReceived, (_code, digit, p) => {
    if (p && p.identity !== connection.identity) return;
    if (flow) void flow.onDigit(digit);
    else early.push({ digit, at: new Date() });
  });

  try {
    speaker =
      voiceChoice.mode === 'gemini'
        ? await startGeminiSpeaker(target, {
            apiKey: config.GOOGLE_API_KEY!,
            model: config.GEMINI_MODEL,
            voice: config.GEMINI_VOICE,
            language: direction === 'web' ? config.WEB_LANGUAGE : config.SIP_LANGUAGE,
            instructions: phoneInstructions(config.CLINIC_NAME, direction, lookup),
            baseUrl: config.GOOGLE_GEMINI_BASE_URL,
          })
        : await startKeypadSpeaker(target);
  } catch (err) {
    log.error({ err }, 'voice session failed to start');
    await finish('voice session failed', (err as Error).message);
    return;
  }

  if (ended) {
    await speaker.close();
    return;
  }
  flow = new CallFlow({
    store,
    speaker,
    prompts,
    record,
    lookup,
    direction,
    hangup: deleteRoom,
    log,
    menuTimeoutMs: Number(config.MENU_TIMEOUT_MS),
  });
  await flow.prepare();
  for (const p of early.splice(0)) void flow.onDigit(p.digit, p.at);
  if (ended) return;
  await flow.greet();
}

/** Prewarm of a job process: configuration, logger and an open, migrated store. */
export type PrewarmFn = (proc: JobProcess) => Promise<void>;
