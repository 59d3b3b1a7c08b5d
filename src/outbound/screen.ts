/**
 * The answering-machine check of an answered outbound call, bound to LiveKit: the patient's audio
 * track (rtc-node `AudioStream`, 8 kHz mono, what a phone line carries) fed to the detector of
 * ./amd.ts from the answer on. The call (src/call/call.ts) acts on its verdicts.
 */
import { AudioStream, TrackKind, type Room } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import type { MachineScreen, MachineVerdict } from '../call/index.js';
import { AMD_DEFAULTS, AnsweringMachineDetector, type AmdOptions } from './amd.js';

/** Sample rate the callee's audio is analysed at, Hz (a phone line's). */
export const SCREEN_SAMPLE_RATE = 8000;

/** How long the patient's audio track may take to appear after the answer, in ms; without it the verdict is unsure. */
export const TRACK_WAIT_MS = 3000;

/**
 * Starts listening to `identity`'s audio in `room`. With no audio track within {@link TRACK_WAIT_MS},
 * or when the stream fails, the verdict is `unsure` (the call then greets, as for a person).
 */
export function machineScreen(room: Room, identity: string, log: Logger, options: AmdOptions = AMD_DEFAULTS): MachineScreen {
  const detector = new AnsweringMachineDetector(SCREEN_SAMPLE_RATE, options);
  let stopped = false;
  let stream: AudioStream | undefined;
  let settle!: (v: MachineVerdict) => void;
  let late!: (v: MachineVerdict) => void;
  let over!: () => void;
  const verdict = new Promise<MachineVerdict>((r) => (settle = r));
  const lateMachine = new Promise<MachineVerdict>((r) => (late = r));
  const greetingOver = new Promise<void>((r) => (over = r));
  const audioTrack = () => [...(room.remoteParticipants.get(identity)?.trackPublications.values() ?? [])].find((p) => p.kind === TrackKind.KIND_AUDIO && p.track)?.track;

  void (async () => {
    const until = Date.now() + TRACK_WAIT_MS;
    let track = audioTrack();
    while (!track && !stopped && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      track = audioTrack();
    }
    if (!track) {
      if (!stopped) settle({ kind: 'unsure', reason: `no audio from the callee within ${TRACK_WAIT_MS} ms` });
      return;
    }
    stream = new AudioStream(track, { sampleRate: SCREEN_SAMPLE_RATE, numChannels: 1 });
    for await (const frame of stream as unknown as AsyncIterable<{ data: Int16Array }>) {
      if (stopped) break;
      const v = detector.push(frame.data);
      if (detector.verdict && detector.verdict === detector.lateVerdict) late(detector.lateVerdict);
      if (v) settle(v);
      if (detector.greetingOverMs !== undefined) over();
    }
  })().catch((err: unknown) => {
    log.warn({ err }, 'answering-machine check failed: the call goes on as with a person');
    settle({ kind: 'unsure', reason: `the callee's audio failed: ${(err as Error).message}` });
  });

  return {
    verdict,
    lateMachine,
    greetingOver,
    stop() {
      stopped = true;
      void stream?.cancel().catch(() => undefined);
    },
  };
}
