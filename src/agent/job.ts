/**
 * One agent job = one call: join the room audio-only, find out who is on the line, look their
 * appointment up, open the call record, pick the voice (Gemini or keypad), run the call, and close
 * the record however the call ends — then end the job, so no job process outlives its call.
 */
import { AutoSubscribe, type JobContext, type JobProcess } from '@livekit/agents';
import { RoomEvent, type RemoteParticipant } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { classifyParticipant, type Connection } from '../call/classify.js';
import { ConfigError, type AppConfig } from '../config/index.js';
import { toE164, type CountryCode } from '../phone/index.js';
import { keypadPrompts } from '../speech/prompts.js';
import type { AppointmentStore, CallerLookup, CallOutcome } from '../store/index.js';
import { SipCallError } from 'livekit-server-sdk';
import { liveKitApi } from '../livekit/index.js';
import { dialFailureOutcome, parseOutboundMetadata } from '../outbound/outcome.js';
import { CallFlow, greetingFor, type Speaker } from './call-flow.js';
import { phoneInstructions } from './instructions.js';
import { FallbackSpeaker, startGeminiSpeaker, startKeypadSpeaker, startOpenAISpeaker } from './speakers.js';
import { appointmentTools } from './tools.js';

/** Which voice runs, and why (logged at start). */
export interface VoiceChoice {
  readonly mode: 'keypad' | 'gemini' | 'openai';
  readonly reason: string;
}

/**
 * The voice: VOICE_MODEL when set, else Gemini when GOOGLE_API_KEY is set, else OpenAI Realtime
 * when OPENAI_API_KEY is set, else keypad mode (no model at all).
 * @throws ConfigError naming the missing key when VOICE_MODEL names a model without its key.
 */
export function chooseVoice(config: Partial<Pick<AppConfig, 'VOICE_MODEL' | 'GOOGLE_API_KEY' | 'OPENAI_API_KEY'>>): VoiceChoice {
  const keyOf = { gemini: 'GOOGLE_API_KEY', openai: 'OPENAI_API_KEY' } as const;
  const chosen = config.VOICE_MODEL;
  if (chosen === 'keypad') return { mode: 'keypad', reason: 'VOICE_MODEL=keypad: fixed prompts with local flite speech, answers by keypad' };
  if (chosen) {
    if (!config[keyOf[chosen]]) {
      throw new ConfigError([`VOICE_MODEL=${chosen} needs ${keyOf[chosen]}: set it in .env, or set VOICE_MODEL=keypad to run without a model`]);
    }
    return { mode: chosen, reason: `VOICE_MODEL=${chosen}` };
  }
  if (config.GOOGLE_API_KEY) return { mode: 'gemini', reason: 'GOOGLE_API_KEY is set' };
  if (config.OPENAI_API_KEY) return { mode: 'openai', reason: 'OPENAI_API_KEY is set (and GOOGLE_API_KEY is not)' };
  return { mode: 'keypad', reason: 'GOOGLE_API_KEY is not set: fixed prompts with local flite speech, answers by keypad' };
}

/** What a job process keeps between jobs (made in prewarm). */
export interface ProcessState {
  readonly config: AppConfig;
  readonly store: AppointmentStore;
  readonly log: Logger;
  /** The coordinator prompt (AGENT_PROMPT_FILE or src/agent/coordinator.md). */
  readonly prompt: string;
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

  const outbound = parseOutboundMetadata(ctx.job.metadata);
  const country = config.PHONE_DEFAULT_COUNTRY as CountryCode;
  let connection: Connection;
  let phone: string | undefined;
  let lookup: CallerLookup | undefined;
  if (outbound) {
    // We call the patient: the appointment comes with the job; the SIP participant comes later.
    phone = toE164(outbound.phoneNumber, country);
    connection = { kind: 'sip', identity: PATIENT_IDENTITY, sip: { phoneNumber: phone, direction: 'outbound' } };
    const appointment = await store.getAppointment(outbound.appointmentId);
    const patient = appointment ? await store.getPatient(appointment.patient_id) : undefined;
    lookup = patient ? { patient, appointment } : undefined;
  } else {
    const participant: RemoteParticipant = await ctx.waitForParticipant();
    connection = classifyParticipant(participant);
    phone = callerNumber(connection, country);
    lookup = phone ? await store.lookupCaller(phone) : undefined;
  }
  const direction = connection.kind === 'web' ? 'web' : connection.sip.direction;
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
    appointmentId: lookup?.appointment?.id ?? outbound?.appointmentId ?? null,
  });

  // However the call ends — hang-up, any disconnect reason, our own hang-up, a crash of the
  // session — the record is closed and the job shuts down.
  let flow: CallFlow | undefined;
  let speaker: Speaker | undefined;
  let ended = false;
  let roomDeleted = false;
  /** Set when the voice model failed and keypad mode took over: kept on the call record. */
  let modelLost: string | undefined;
  const deleteRoom = async () => {
    if (roomDeleted) return;
    roomDeleted = true;
    await ctx.deleteRoom().catch((err: unknown) => log.debug({ err }, 'room already gone'));
  };
  const finish = async (why: string, error?: string, failure?: { outcome: CallOutcome; sipStatus?: number }) => {
    if (ended) return;
    ended = true;
    const final = flow ? await flow.end(error ?? modelLost) : await store.endCall(record.id, { error: error ?? modelLost, ...failure });
    log.info({ outcome: final?.outcome, why }, 'call ended');
    // Stop speaking to an empty room, and release the room, so the job process can exit now.
    await speaker?.close().catch((err: unknown) => log.warn({ err }, 'closing the voice session failed'));
    await deleteRoom();
    ctx.shutdown(why);
  };
  ctx.addShutdownCallback(() => finish('job shutdown'));
  // While an outbound call rings, the SIP participant leaving means the dial failed: dialPatient
  // reports that with its SIP status, so it is not a hang-up.
  let dialing = Boolean(outbound);
  ctx.room.on(RoomEvent.ParticipantDisconnected, (p) => {
    if (p.identity === connection.identity && !dialing) void finish(`participant left (reason ${p.disconnectReason ?? 'unknown'})`);
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
    const tools = () => appointmentTools({ store, callId: record.id, lookup, log, onOutcome: (o) => flow?.toolOutcome(o) });
    const instructions = phoneInstructions(state.prompt, config.CLINIC_NAME, direction, lookup);
    const model =
      voiceChoice.mode === 'gemini'
        ? await startGeminiSpeaker(
            target,
            {
              apiKey: config.GOOGLE_API_KEY!,
              model: config.GEMINI_MODEL,
              voice: config.GEMINI_VOICE,
              language: direction === 'web' ? config.WEB_LANGUAGE : config.SIP_LANGUAGE,
              instructions,
              baseUrl: config.GOOGLE_GEMINI_BASE_URL,
            },
            tools(),
          )
        : voiceChoice.mode === 'openai'
          ? await startOpenAISpeaker(
              target,
              { apiKey: config.OPENAI_API_KEY!, model: config.OPENAI_REALTIME_MODEL, voice: config.OPENAI_VOICE, instructions, baseUrl: config.OPENAI_BASE_URL },
              tools(),
            )
          : undefined;
    // A model that fails mid-call hands the call to keypad mode instead of leaving the caller in silence.
    speaker = model
      ? new FallbackSpeaker(
          model,
          () => startKeypadSpeaker(target),
          () => {
            modelLost = 'the voice model session failed; the call went on in keypad mode';
            void flow?.modelLost();
          },
          log,
        )
      : await startKeypadSpeaker(target, [greetingFor(prompts, lookup, direction).text]);
  } catch (err) {
    log.error({ err }, 'voice session failed to start');
    await finish('voice session failed', (err as Error).message);
    return;
  }

  if (ended) {
    await speaker.close();
    return;
  }
  if (outbound) {
    // The session is up before the phone rings, so the patient hears us from their first word.
    const dialed = await dialPatient(ctx, config, phone, log);
    if (!dialed.ok) {
      await finish(`dial failed: ${dialed.reason}`, dialed.reason, { outcome: dialed.outcome, sipStatus: dialed.sipStatus });
      return;
    }
    dialing = false;
    if (ended) return;
    if (!ctx.room.remoteParticipants.has(PATIENT_IDENTITY)) {
      await finish('patient left as the call was answered');
      return;
    }
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

/** Participant identity of the patient we dial. */
export const PATIENT_IDENTITY = 'patient';

/** Result of dialing the patient. */
type DialResult = { ok: true } | { ok: false; outcome: CallOutcome; sipStatus?: number; reason: string };

/**
 * Dials the patient through OUTBOUND_TRUNK_ID into this room and waits until they answer (or the
 * ringing timeout passes). Failures come back as the outcome to save, with the SIP status code.
 */
async function dialPatient(ctx: JobContext, config: AppConfig, phone: string | undefined, log: Logger): Promise<DialResult> {
  if (!phone) return { ok: false, outcome: 'invalid_number', reason: 'the phone number in the job metadata is not a valid number' };
  if (!config.OUTBOUND_TRUNK_ID) return { ok: false, outcome: 'failed', reason: 'OUTBOUND_TRUNK_ID is not set: run make setup-sip' };
  try {
    await liveKitApi(config).sip.createSipParticipant(config.OUTBOUND_TRUNK_ID, phone, ctx.room.name!, {
      participantIdentity: PATIENT_IDENTITY,
      waitUntilAnswered: true,
      ringingTimeout: Number(config.OUTBOUND_RINGING_TIMEOUT_S),
      maxCallDuration: Number(config.OUTBOUND_MAX_CALL_S),
    });
    log.info({ phoneNumber: phone }, 'patient answered');
    return { ok: true };
  } catch (err) {
    const status = err instanceof SipCallError ? err.sipStatusCode : undefined;
    const outcome = dialFailureOutcome(status);
    log.info({ phoneNumber: phone, sipStatus: status, outcome, err }, 'dial failed');
    return { ok: false, outcome, sipStatus: status, reason: (err as Error).message };
  }
}

/** Prewarm of a job process: configuration, logger and an open, migrated store. */
export type PrewarmFn = (proc: JobProcess) => Promise<void>;
