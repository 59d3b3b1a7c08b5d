/**
 * The front desk and the message box of one call, bound to LiveKit: the desk from OPERATOR_NUMBER,
 * TRANSFER_MODE, CLINIC_HOURS (in CLINIC_TIMEZONE) and OPERATOR_RING_TIMEOUT_S; messages recorded
 * from the caller's audio track into files next to the database (DATABASE_PATH's folder, `messages/`).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { AudioStream, TrackKind, type Room } from '@livekit/rtc-node';
import { DateTime } from 'luxon';
import type { FrontDesk, MessageBox } from '../call/index.js';
import type { AppConfig } from '../config/index.js';
import type { LiveKitApi } from '../livekit/index.js';
import { referCaller } from './cold.js';
import { isOpen, parseOpeningHours } from './hours.js';
import { MESSAGE_LIMITS, recordMessage, type PcmFrame } from './recording.js';

/** Sample rate messages are recorded at, Hz: wideband speech (ITU-T G.722's 16 kHz), more than a phone line carries. */
export const MESSAGE_SAMPLE_RATE = 16_000;

type DeskConfig = Pick<AppConfig, 'OPERATOR_NUMBER' | 'TRANSFER_MODE' | 'CLINIC_HOURS' | 'CLINIC_TIMEZONE' | 'OPERATOR_RING_TIMEOUT_S'>;

/**
 * The front desk of a call in `room`, or undefined when OPERATOR_NUMBER is not set (callers then
 * leave a message). Cold transfer only so far; warm comes with the rest of issue 14.
 */
export function frontDesk(config: DeskConfig, api: LiveKitApi, room: string): FrontDesk | undefined {
  const target = config.OPERATOR_NUMBER;
  if (!target) return undefined;
  const hours = config.CLINIC_HOURS ? parseOpeningHours(config.CLINIC_HOURS) : undefined;
  return {
    target,
    isOpen: (at) => !hours || isOpen(hours, DateTime.fromJSDate(at), config.CLINIC_TIMEZONE),
    transfer: (identity) => referCaller(api.sip, room, identity, target, config.OPERATOR_RING_TIMEOUT_S),
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
