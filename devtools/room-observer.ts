/**
 * A test participant (rtc-node) that joins a room and records what happens in it: who joins and
 * leaves, the DTMF digits received, and the level of every subscribed audio track.
 */
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  ParticipantKind,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
  type RemoteParticipant,
  type RemoteTrack,
} from '@livekit/rtc-node';
import { participantToken, type Clients } from './livekit.js';

/** A digit received through `RoomEvent.DtmfReceived`. */
export interface ObservedDtmf {
  readonly digit: string;
  readonly code: number;
  readonly from?: string;
  readonly atMs: number;
}

/** Sample rate the observer asks its audio streams for, in Hz. */
export const OBSERVER_RATE = 16000;

/** Audio heard from one remote participant. */
export interface ObservedAudio {
  /** Samples received ({@link OBSERVER_RATE} mono). */
  samples: number;
  /** Largest absolute sample value seen. */
  peak: number;
  /** Sum of squares, for the RMS level. */
  energy: number;
  /** The samples themselves, in the order received. */
  chunks: Int16Array[];
}

/** Joins `room` as `identity` and watches it until {@link RoomObserver.close}. */
export class RoomObserver {
  readonly dtmf: ObservedDtmf[] = [];
  readonly audio = new Map<string, ObservedAudio>();
  readonly left = new Set<string>();
  private readonly room = new Room();
  private readonly streams: AudioStream[] = [];
  private source?: AudioSource;

  private constructor() {}

  static async join(c: Clients, roomName: string, identity = 'test-observer'): Promise<RoomObserver> {
    const o = new RoomObserver();
    o.room.on(RoomEvent.DtmfReceived, (code, digit, participant) => {
      o.dtmf.push({ code, digit, from: participant?.identity, atMs: Date.now() });
    });
    o.room.on(RoomEvent.ParticipantDisconnected, (p) => o.left.add(p.identity));
    o.room.on(RoomEvent.TrackSubscribed, (track, _pub, participant) => o.listen(track, participant));
    const token = await participantToken(c.stack, roomName, identity);
    await o.room.connect(c.stack.url, token, { autoSubscribe: true, dynacast: false });
    return o;
  }

  private listen(track: RemoteTrack, participant: RemoteParticipant): void {
    if (track.kind !== TrackKind.KIND_AUDIO) return;
    const stats: ObservedAudio = { samples: 0, peak: 0, energy: 0, chunks: [] };
    this.audio.set(participant.identity, stats);
    const stream = new AudioStream(track, { sampleRate: OBSERVER_RATE, numChannels: 1 });
    this.streams.push(stream);
    void (async () => {
      try {
        for await (const frame of stream) {
          stats.chunks.push(Int16Array.from(frame.data));
          for (const s of frame.data) {
            stats.samples++;
            stats.energy += s * s;
            if (Math.abs(s) > stats.peak) stats.peak = Math.abs(s);
          }
        }
      } catch {
        // the stream ends when the track goes away
      }
    })();
  }

  /**
   * Publishes a microphone track playing a 440 Hz tone at −12 dBFS until {@link close}.
   * livekit-sip answers an inbound call only once it has subscribed to a track in the room
   * (pkg/sip/inbound.go, waitSubscribe), as it would to an agent's voice.
   */
  async publishTone(): Promise<void> {
    const rate = 48000;
    const frameSamples = rate / 100; // 10 ms frames
    this.source = new AudioSource(rate, 1);
    const track = LocalAudioTrack.createAudioTrack('test-tone', this.source);
    const options = new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE });
    await this.room.localParticipant!.publishTrack(track, options);
    const source = this.source;
    void (async () => {
      let n = 0;
      while (!source.closed) {
        const data = new Int16Array(frameSamples);
        for (let i = 0; i < frameSamples; i++, n++) data[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * n) / rate));
        try {
          await source.captureFrame(new AudioFrame(data, rate, 1, frameSamples));
        } catch {
          return; // source closed
        }
      }
    })();
  }

  /** Remote participants now in the room. */
  participants(): RemoteParticipant[] {
    return [...this.room.remoteParticipants.values()];
  }

  /** The first SIP participant (ParticipantKind.SIP) in the room, waiting up to `timeoutMs`. */
  async sipParticipant(timeoutMs = 10_000): Promise<RemoteParticipant> {
    return this.waitFor(() => this.participants().find((p) => p.kind === ParticipantKind.SIP), timeoutMs, 'a SIP participant');
  }

  /** Polls `probe` every 50 ms until it returns a value. @throws Error naming `what` on timeout. */
  async waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Everything `identity` sent, {@link OBSERVER_RATE} mono PCM16. */
  audioOf(identity: string): Int16Array {
    const chunks = this.audio.get(identity)?.chunks ?? [];
    const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** RMS level of what `identity` sent, in dBFS (−Infinity when nothing or silence). */
  levelDbfs(identity: string): number {
    const a = this.audio.get(identity);
    if (!a || a.samples === 0 || a.energy === 0) return -Infinity;
    return 20 * Math.log10(Math.sqrt(a.energy / a.samples) / 32768);
  }

  async close(): Promise<void> {
    await this.source?.close().catch(() => undefined);
    for (const s of this.streams) await s.cancel().catch(() => undefined);
    await this.room.disconnect();
  }
}
