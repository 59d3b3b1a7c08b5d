/**
 * The front desk and the message box of one call, bound to LiveKit: the desk from OPERATOR_NUMBER,
 * TRANSFER_MODE, CLINIC_HOURS (in CLINIC_TIMEZONE) and OPERATOR_RING_TIMEOUT_S; messages recorded
 * from the caller's audio track into files next to the database (DATABASE_PATH's folder, `messages/`).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { audioFramesFromFile, voice } from '@livekit/agents';
import { AudioFrame, AudioSource, AudioStream, LocalAudioTrack, RoomEvent, TrackKind, TrackPublishOptions, TrackSource, type Room } from '@livekit/rtc-node';
import { DateTime } from 'luxon';
import type { FrontDesk, MessageBox } from '../call/index.js';
import type { AppConfig } from '../config/index.js';
import type { LiveKitApi } from '../livekit/index.js';
import { referCaller } from './cold.js';
import { FLITE_SAMPLE_RATE, synthesizeFrames } from '../speech/flite.js';
import { isOpen, parseOpeningHours } from '../config/hours.js';
import { DESK_IDENTITY, warmTransfer, type OwnTrack, type WarmApi, type WarmRoom } from './warm.js';
import { MESSAGE_LIMITS, recordMessage, type PcmFrame } from './recording.js';

/** Sample rate messages are recorded at, Hz: wideband speech (ITU-T G.722's 16 kHz), more than a phone line carries. */
export const MESSAGE_SAMPLE_RATE = 16_000;

type DeskConfig = Pick<AppConfig, 'OPERATOR_NUMBER' | 'TRANSFER_MODE' | 'CLINIC_HOURS' | 'CLINIC_TIMEZONE' | 'OPERATOR_RING_TIMEOUT_S' | 'OUTBOUND_TRUNK_ID'>;

/** When, after the call starts, the hold clip is decoded (in ms): after the greeting's own start-up work. */
const HOLD_PRELOAD_DELAY_MS = 5000;

/** How long the desk has to press 1 or 2 after each briefing, in ms. */
export const DESK_DECISION_MS = 10_000;

/**
 * What is wrong with the desk's settings taken together (each variable alone is checked by its
 * schema): a warm transfer dials the desk through the outbound trunk, so it needs OUTBOUND_TRUNK_ID
 * and a number, not a SIP URI (a REFER can take either).
 */
export function deskProblems(config: DeskConfig): string[] {
  if (!config.OPERATOR_NUMBER || config.TRANSFER_MODE !== 'warm') return [];
  const fix = 'or set TRANSFER_MODE=cold to hand the call over by SIP REFER';
  if (config.OPERATOR_NUMBER.startsWith('sip:')) return [`OPERATOR_NUMBER: a warm transfer dials the desk through the outbound trunk and needs an E.164 number, not a SIP URI; give the desk's number, ${fix}`];
  if (!config.OUTBOUND_TRUNK_ID) return [`OUTBOUND_TRUNK_ID: missing; TRANSFER_MODE=warm dials the desk (OPERATOR_NUMBER) through the outbound trunk: run \`make setup-sip\` and copy the trunk id it prints, ${fix}`];
  return [];
}

/**
 * The front desk of a call in `room` (`rtcRoom`, the agent's connection to it), or undefined when
 * OPERATOR_NUMBER is not set (callers then leave a message): warm (./warm.ts) or cold (./cold.ts)
 * as TRANSFER_MODE says. Assumes {@link deskProblems} found nothing.
 */
export function frontDesk(config: DeskConfig, api: LiveKitApi, room: string, rtcRoom: Room): FrontDesk | undefined {
  const target = config.OPERATOR_NUMBER;
  if (!target) return undefined;
  const hours = config.CLINIC_HOURS ? parseOpeningHours(config.CLINIC_HOURS) : undefined;
  const ringS = config.OPERATOR_RING_TIMEOUT_S;
  const warm = config.TRANSFER_MODE === 'warm' && config.OUTBOUND_TRUNK_ID !== undefined;
  // Decoded ahead, once the greeting is under way, so that the caller hears music as soon as they are on hold.
  if (warm) setTimeout(() => void holdClip().catch(() => undefined), HOLD_PRELOAD_DELAY_MS).unref();
  return {
    target,
    warm,
    isOpen: (at) => !hours || isOpen(hours, DateTime.fromJSDate(at), config.CLINIC_TIMEZONE),
    transfer: (identity, briefing) =>
      warm
        ? warmTransfer(warmRoom(rtcRoom), warmApi(api, room, config.OUTBOUND_TRUNK_ID!, target, ringS), identity, briefing, { ringTimeoutS: ringS, decisionMs: DESK_DECISION_MS })
        : referCaller(api.sip, room, identity, target, ringS),
  };
}

/**
 * Where a keypad caller's message goes: `<folder of DATABASE_PATH>/messages/<call room>-<time>.wav`
 * (folder 0700, file 0600), recorded from the caller's microphone track at {@link MESSAGE_SAMPLE_RATE}.
 */
export function messageBox(config: Pick<AppConfig, 'DATABASE_PATH' | 'NOTIFY_WEBHOOK_URL'>, room: Room, roomName: string): MessageBox {
  const base = dirname(config.DATABASE_PATH);
  return {
    notify: config.NOTIFY_WEBHOOK_URL !== undefined,
    async record(identity, stop) {
      const track = [...(room.remoteParticipants.get(identity)?.trackPublications.values() ?? [])].find((p) => p.kind === TrackKind.KIND_AUDIO)?.track;
      if (!track) throw new Error(`no audio from ${identity} to record`);
      const folder = join(base, 'messages');
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      const file = join(folder, `${roomName.replace(/[^\w.-]/g, '_')}-${Date.now()}.wav`);
      const stream = new AudioStream(track, { sampleRate: MESSAGE_SAMPLE_RATE, numChannels: 1 });
      try {
        const rec = await recordMessage(stream as unknown as AsyncIterable<PcmFrame>, file, stop, MESSAGE_LIMITS);
        return { path: relative(base, file), ms: rec.ms, spoke: rec.spoke };
      } finally {
        await stream.cancel().catch(() => undefined);
      }
    },
  };
}

/** Name of the track the desk is briefed on (the caller is unsubscribed from it). */
const BRIEFING_TRACK = 'desk-briefing';

/** Name of the hold music's track (the desk is unsubscribed from it). */
const HOLD_TRACK = 'hold-music';

/** Hold music's volume, of the clip's own (the framework's hold clip is mastered loud). */
const HOLD_VOLUME = 0.5;

/** Sample rate the hold clip is decoded to, Hz: a phone line carries 8 kHz; 16 kHz leaves room. */
const HOLD_SAMPLE_RATE = 16_000;

let holdFrames: Promise<AudioFrame[]> | undefined;

/**
 * The agents framework's hold clip (`voice.BuiltinAudioClip.HOLD_MUSIC`, decoded by its bundled
 * ffmpeg) as 16 kHz mono frames at {@link HOLD_VOLUME}, decoded once per process and played from
 * memory. Not through `BackgroundAudioPlayer`: closing that while ffmpeg was still decoding crashed
 * the call process (agents 1.9.0 audio.js writes into a closed stream: ERR_INTERNAL_ASSERTION).
 * @throws the decoder's error (no ffmpeg: LIVEKIT_FFMPEG_PATH), and again on the next call.
 */
export function holdClip(): Promise<AudioFrame[]> {
  holdFrames ??= (async () => {
    const frames: AudioFrame[] = [];
    for await (const f of audioFramesFromFile(voice.getBuiltinAudioPath(voice.BuiltinAudioClip.HOLD_MUSIC), { sampleRate: HOLD_SAMPLE_RATE, numChannels: 1 })) {
      const data = Int16Array.from(f.data, (v) => Math.round(v * HOLD_VOLUME));
      frames.push(new AudioFrame(data, f.sampleRate, f.channels, f.samplesPerChannel));
    }
    if (frames.length === 0) throw new Error('the hold clip decoded to no audio');
    return frames;
  })();
  holdFrames.catch(() => (holdFrames = undefined));
  return holdFrames;
}

/** Publish options of the agent's own extra tracks (hold music, the briefing): a microphone's. */
function microphone(): TrackPublishOptions {
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_MICROPHONE;
  return options;
}

/** The agent's side of a warm transfer in `room` (rtc-node): hold music, the briefing track, the desk's keys. */
export function warmRoom(room: Room): WarmRoom {
  const audioOf = (identity: string) =>
    [...(room.remoteParticipants.get(identity)?.trackPublications.values() ?? [])].filter((p) => p.kind === TrackKind.KIND_AUDIO && p.sid).map((p) => p.sid!);
  return {
    async startHold(): Promise<OwnTrack> {
      const frames = await holdClip();
      const source = new AudioSource(HOLD_SAMPLE_RATE, 1);
      const publication = await room.localParticipant!.publishTrack(LocalAudioTrack.createAudioTrack(HOLD_TRACK, source), microphone());
      let playing = true;
      const played = (async () => {
        while (playing) for (let i = 0; i < frames.length && playing; i++) await source.captureFrame(frames[i]!);
      })().catch(() => undefined);
      return {
        sid: publication.sid!,
        async close() {
          playing = false;
          await played;
          await room.localParticipant?.unpublishTrack(publication.sid!).catch(() => undefined);
          await source.close();
        },
      };
    },
    async openBriefing() {
      const source = new AudioSource(FLITE_SAMPLE_RATE, 1);
      const publication = await room.localParticipant!.publishTrack(LocalAudioTrack.createAudioTrack(BRIEFING_TRACK, source), microphone());
      const sid = publication.sid!;
      return {
        sid,
        async say(text: string) {
          const frames: Parameters<AudioSource['captureFrame']>[0][] = [];
          await synthesizeFrames(text, {}, undefined, (f) => frames.push(...f));
          for (const f of frames) await source.captureFrame(f);
          await source.waitForPlayout();
        },
        async close() {
          await room.localParticipant?.unpublishTrack(sid).catch(() => undefined);
          await source.close();
        },
      };
    },
    audioTracksOf: audioOf,
    agentVoiceTracks: () =>
      [...(room.localParticipant?.trackPublications.values() ?? [])]
        .filter((p) => p.kind === TrackKind.KIND_AUDIO && p.sid && p.name !== BRIEFING_TRACK && p.name !== HOLD_TRACK)
        .map((p) => p.sid!),
    async audioTrackFrom(identity, timeoutMs) {
      for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
        const sid = audioOf(identity)[0];
        if (sid) return sid;
      }
      return undefined;
    },
    nextKey(identity, until) {
      return new Promise((resolve) => {
        let over = false;
        const done = (answer: string) => {
          if (over) return;
          over = true;
          room.off(RoomEvent.DtmfReceived, onKey);
          room.off(RoomEvent.ParticipantDisconnected, onLeft);
          resolve(answer);
        };
        const onKey = (_code: number, digit: string, p?: { identity: string }) => p?.identity === identity && done(digit);
        const onLeft = (p: { identity: string }) => p.identity === identity && done('left');
        void until.then(
          () => done('timeout'),
          () => done('timeout'),
        );
        room.on(RoomEvent.DtmfReceived, onKey);
        room.on(RoomEvent.ParticipantDisconnected, onLeft);
        if (!room.remoteParticipants.has(identity)) done('left');
      });
    },
  };
}

/** LiveKit's server API for a warm transfer in `room`: dial the desk on `trunkId`, set who hears whom, remove. */
export function warmApi(api: LiveKitApi, room: string, trunkId: string, desk: string, ringTimeoutS: number): WarmApi {
  return {
    async dial(identity) {
      await api.sip.createSipParticipant(trunkId, desk, room, {
        participantIdentity: identity,
        participantName: 'Front desk',
        waitUntilAnswered: true,
        ringingTimeout: ringTimeoutS,
        playDialtone: false,
      });
    },
    hear: (identity, trackSids, on) => (trackSids.length ? api.rooms.updateSubscriptions(room, identity, [...trackSids], on) : Promise.resolve()),
    remove: (identity) => api.rooms.removeParticipant(room, identity),
  };
}
