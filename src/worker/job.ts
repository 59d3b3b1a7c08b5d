/**
 * One job = one call, on the LiveKit side: reads what the dispatch says the job is (./metadata.ts:
 * an outbound call, a web visit, or nothing for an inbound SIP call), joins the room audio-only,
 * binds the room's events and the job's shutdown to the call (src/call/call.ts), hands it its voice
 * (src/voice/) and, for an outbound job, the patient to dial (src/outbound/dial.ts) or, for a web
 * visit, the visitor to wait for and the patient its link named; then ends the job with the call —
 * so no job process outlives its call.
 */
import { AutoSubscribe, type JobContext } from '@livekit/agents';
import { DisconnectReason, RoomEvent } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { Call, callScript, type CallRoom, type CallVoice, type IdentityPolicy } from '../call/index.js';
import { liveKitApi, lostConnection } from '../livekit/index.js';
// The job's part of outbound only: the dialer and target selection stay out of job processes.
import { outboundLeg, PATIENT_IDENTITY } from '../outbound/dial.js';
import { machineScreen } from '../outbound/screen.js';
import type { AppointmentStore } from '../store/index.js';
import { frontDesk, messageBox } from '../transfer/index.js';
import { startVoice } from '../voice/index.js';
import type { WorkerSetup } from './handoff.js';
import { parseJobMetadata, VISITOR_JOIN_TIMEOUT_MS } from './metadata.js';

/** What a job process keeps between jobs (made in prewarm). */
export interface ProcessState extends WorkerSetup {
  readonly store: AppointmentStore;
  readonly log: Logger;
}

/** How callers prove who they are, from CALLER_VERIFICATION, OUTBOUND_VERIFICATION and DOB_ORDER. */
export function identityPolicy(config: WorkerSetup['config']): IdentityPolicy {
  return {
    inbound: config.CALLER_VERIFICATION,
    outbound: config.OUTBOUND_VERIFICATION === 'confirm-name' ? 'name' : config.OUTBOUND_VERIFICATION,
    order: config.DOB_ORDER,
  };
}

/** Runs one call to its end, then shuts the job down. */
export async function runJob(ctx: JobContext, state: ProcessState): Promise<void> {
  const { config, store } = state;
  const name = ctx.job.room?.name || 'unknown-room';
  const log = state.log.child({ room: name, job: ctx.job.id });

  // Metadata first: a job that is not what it claims ends at once, before joining — nothing dialed, nobody waited for.
  let job;
  try {
    job = parseJobMetadata(ctx.job.metadata);
  } catch (err) {
    log.error(`job refused, nothing dialed: ${(err as Error).message}`);
    await ctx.deleteRoom(name).catch(() => undefined);
    ctx.shutdown('bad job metadata');
    return;
  }
  await ctx.connect(undefined, AutoSubscribe.AUDIO_ONLY);

  let deleted = false;
  const room: CallRoom = {
    name,
    waitForParticipant: (identity) => ctx.waitForParticipant(identity),
    has: (identity) => ctx.room.remoteParticipants.has(identity),
    async hangUp() {
      if (deleted) return;
      deleted = true;
      await ctx.deleteRoom().catch((err: unknown) => log.debug({ err }, 'room already gone'));
    },
    async leave() {
      await ctx.room.disconnect().catch((err: unknown) => log.debug({ err }, 'already left the room'));
    },
  };
  const voice: CallVoice = {
    mode: state.voice.mode,
    reason: state.voice.reason,
    // A web visitor's page shows what is said (the framework's transcription stream); a phone has no screen.
    start: (request) =>
      startVoice({ plan: state.voice, prompt: state.prompt, clinic: config.CLINIC_NAME }, { room: ctx.room, log, transcripts: request.situation.direction === 'web' }, request),
  };
  const desk = frontDesk(config, liveKitApi(config), name, ctx.room);
  const call = new Call({
    store,
    room,
    voice,
    script: callScript(config.CLINIC_NAME, config.DOB_ORDER),
    country: config.PHONE_DEFAULT_COUNTRY,
    menuTimeoutMs: config.MENU_TIMEOUT_MS,
    maxDurationMs: config.CALL_MAX_DURATION_S * 1000,
    log,
    identity: identityPolicy(config),
    // A browser cannot be REFERred: a web visitor reaches the desk by a warm transfer only, else leaves a message.
    desk: job?.direction === 'web' && !desk?.warm ? undefined : desk,
    messages: messageBox(config, ctx.room, name),
    web: job?.direction === 'web' ? { visitor: job.visitor, patientId: job.patientId, joinTimeoutMs: VISITOR_JOIN_TIMEOUT_MS } : undefined,
    outbound:
      job?.direction !== 'outbound'
        ? undefined
        : outboundLeg(
            liveKitApi(config),
            { trunkId: config.OUTBOUND_TRUNK_ID, ringingTimeoutS: config.OUTBOUND_RINGING_TIMEOUT_S, maxCallS: config.OUTBOUND_MAX_CALL_S },
            name,
            job,
            log,
            config.OUTBOUND_AMD === 'on' ? () => machineScreen(ctx.room, PATIENT_IDENTITY, log) : undefined,
          ),
    voicemail: { callback: config.TELNYX_PHONE_NUMBER, includeDate: config.VOICEMAIL_INCLUDE_DATE === 'yes' },
  });

  // However the call ends — hang-up, any disconnect reason, our own hang-up, the job shut down —
  // the call closes its record once; then the job ends.
  ctx.addShutdownCallback(async () => {
    await call.close('job shutdown');
  });
  // While the connection to LiveKit is down, participants "leave" because we lost them, not because they hung up.
  let reconnecting = false;
  ctx.room.on(RoomEvent.Reconnecting, () => {
    reconnecting = true;
    log.warn('connection to LiveKit interrupted: reconnecting');
  });
  ctx.room.on(RoomEvent.Reconnected, () => {
    reconnecting = false;
    log.info('connection to LiveKit back');
  });
  ctx.room.on(RoomEvent.ParticipantDisconnected, (p) => {
    if (reconnecting || !ctx.room.isConnected) {
      call.receive({ type: 'room_closed', lost: 'lost the connection to LiveKit (participants dropped while reconnecting)' });
      return;
    }
    const reason = p.disconnectReason === undefined ? 'unknown' : (DisconnectReason[p.disconnectReason] ?? String(p.disconnectReason));
    call.receive({ type: 'participant_left', identity: p.identity, reason });
  });
  ctx.room.on(RoomEvent.Disconnected, (reason) => call.receive({ type: 'room_closed', lost: lostConnection(reason) }));
  ctx.room.on(RoomEvent.DtmfReceived, (_code, digit, p) => call.receive({ type: 'key', digit, from: p?.identity }));

  const ended = await call.run();
  ctx.shutdown(ended.why);
}
