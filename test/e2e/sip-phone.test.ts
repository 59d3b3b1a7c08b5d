/**
 * The test phone itself, on the real stack: DTMF at several moments of one call, a hang-up from
 * the LiveKit side, and SipCallee answering, refusing and ignoring calls placed through an
 * outbound trunk. Later tests rely on each of these behaviours.
 */
import { ParticipantKind } from '@livekit/rtc-node';
import { SipCallError } from 'livekit-server-sdk';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { speechUlaw } from '../../devtools/audio.js';
import {
  clients,
  provisionInbound,
  provisionOutbound,
  uniqueNumber,
  waitForRoom,
  type Clients,
} from '../../devtools/livekit.js';
import { RoomObserver } from '../../devtools/room-observer.js';
import { rmsDbfs, SILENCE_DBFS } from '../../devtools/rtp.js';
import { SipCallee, SipCaller } from '../../devtools/sipp.js';

describe('SipCaller and SipCallee on the local stack', () => {
  let c: Clients;
  const cleanup: (() => Promise<void>)[] = [];
  const later = (fn: () => Promise<void>) => cleanup.push(fn);

  beforeAll(() => {
    c = clients();
  });

  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
  });

  /** Dials a fresh route and returns the call and an observer publishing a tone in its room. */
  async function inboundCall(opts: Omit<Parameters<typeof SipCaller.dial>[0], 'to' | 'from'>) {
    const route = await provisionInbound(c);
    later(() => route.remove());
    const call = await SipCaller.dial({ ...opts, to: route.number, from: uniqueNumber() });
    later(() => call.kill());
    const roomName = await waitForRoom(c, route.roomPrefix);
    const observer = await RoomObserver.join(c, roomName);
    later(() => observer.close());
    await observer.publishTone();
    return { route, call, roomName, observer };
  }

  it('delivers digits pressed at separate moments, each once and in order', async () => {
    const { call, observer } = await inboundCall({
      audioFile: speechUlaw('Testing keypad presses.'),
      dtmf: [
        { digits: '1', atMs: 2500 },
        { digits: '2', atMs: 4000 },
        { digits: '34', atMs: 5500 },
        { digits: '5', atMs: 7000 },
      ],
      hangupAfterMs: 8500,
    });
    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);
    expect(observer.dtmf.map((d) => d.digit)).toEqual(['1', '2', '3', '4', '5']);
    // Presses arrive at their moments, not all at once.
    const t = observer.dtmf.map((d) => d.atMs);
    expect(t[1]! - t[0]!).toBeGreaterThan(1000);
    expect(t[4]! - t[2]!).toBeGreaterThan(1000);
  });

  it('presses keys and hangs up when the test cues it, not at set times', async () => {
    const { call, observer } = await inboundCall({ audioFile: speechUlaw('Testing cues.'), cued: ['1', '23'], hangupAfterMs: 60_000 });
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    expect(observer.dtmf).toEqual([]); // nothing pressed before the first cue
    await call.press();
    await observer.waitFor(() => observer.dtmf.length === 1 || undefined, 10_000, 'the first cued key');
    await call.press();
    await observer.waitFor(() => observer.dtmf.length === 3 || undefined, 10_000, 'the second cued keys');
    await call.hangUp();
    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);
    expect(observer.dtmf.map((d) => d.digit)).toEqual(['1', '2', '3']);
    expect(result.dtmfSent.map((d) => d.digit)).toEqual(['1', '2', '3']); // the filler D shares the 1's timestamp: one event
    // The caller hung up (its BYE to livekit-sip), long before its 60 s.
    expect(result.sip.some((m) => m.dstPort === 5060 && m.firstLine.startsWith('BYE'))).toBe(true);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('ends when LiveKit hangs up (room deleted → BYE to the caller)', async () => {
    const { call, observer, roomName } = await inboundCall({
      audioFile: speechUlaw('Please hang up on me.'),
      hangupAfterMs: 30_000,
    });
    const sip = await observer.sipParticipant();
    await observer.waitFor(() => observer.audio.get(sip.identity)?.samples, 5000, 'caller audio');
    const started = Date.now();
    await c.rooms.deleteRoom(roomName);
    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000); // well before its own 30 s hang-up
    const received = result.sip.filter((m) => m.dstPort !== 5060).map((m) => m.firstLine);
    expect(received.some((l) => l.startsWith('BYE'))).toBe(true);
  });

  it('SipCallee answers an outbound call, streams audio, presses a key and hears the room', async () => {
    const callee = await SipCallee.listen({
      answer: { kind: 'answer', afterMs: 1000 },
      audioFile: speechUlaw('Hello, this is the patient answering.'),
      dtmf: [{ digits: '5', atMs: 2000 }],
      hangupAfterMs: 5000,
    });
    later(() => callee.kill());
    const trunk = await provisionOutbound(c, callee.port);
    later(() => trunk.remove());
    const roomName = `test-outbound-${Date.now()}`;
    await c.rooms.createRoom({ name: roomName, emptyTimeout: 30 });
    later(() => c.rooms.deleteRoom(roomName));
    const observer = await RoomObserver.join(c, roomName);
    later(() => observer.close());
    await observer.publishTone();

    const patient = uniqueNumber();
    const dialed = Date.now();
    const info = await c.sip.createSipParticipant(trunk.trunkId, patient, roomName, {
      participantIdentity: 'patient',
      waitUntilAnswered: true,
      ringingTimeout: 10,
    });
    expect(Date.now() - dialed).toBeGreaterThanOrEqual(900); // it waited for the answer
    expect(info.participantIdentity).toBe('patient');

    const result = await callee.result();
    expect(result.exitCode, result.log).toBe(0);
    const invite = result.sip.find((m) => m.firstLine.startsWith('INVITE'));
    expect(invite?.firstLine).toContain(patient);
    expect(observer.dtmf.map((d) => d.digit)).toEqual(['5']);
    const sip = observer.participants().find((p) => p.identity === 'patient');
    expect(sip === undefined || sip.kind === ParticipantKind.SIP).toBe(true);
    expect(observer.levelDbfs('patient')).toBeGreaterThan(SILENCE_DBFS);
    expect(rmsDbfs(result.audio)).toBeGreaterThan(SILENCE_DBFS);
  });

  it.each([486, 603] as const)('SipCallee refuses with %i and the dialer sees that status', async (status) => {
    const callee = await SipCallee.listen({ answer: { kind: 'reject', status, afterMs: 300 } });
    later(() => callee.kill());
    const trunk = await provisionOutbound(c, callee.port);
    later(() => trunk.remove());
    const roomName = `test-refused-${status}-${Date.now()}`;
    const error = await c.sip
      .createSipParticipant(trunk.trunkId, uniqueNumber(), roomName, { waitUntilAnswered: true, ringingTimeout: 10 })
      .then(() => undefined, (e: unknown) => e);
    later(() => c.rooms.deleteRoom(roomName));
    expect(error).toBeInstanceOf(SipCallError);
    expect((error as SipCallError).sipStatusCode).toBe(status);
    expect((await callee.result()).exitCode).toBe(0);
  });

  it('SipCallee that never answers is cancelled when the ringing timeout passes', async () => {
    const callee = await SipCallee.listen({ answer: { kind: 'never' } });
    later(() => callee.kill());
    const trunk = await provisionOutbound(c, callee.port);
    later(() => trunk.remove());
    const roomName = `test-no-answer-${Date.now()}`;
    const started = Date.now();
    const error = await c.sip
      .createSipParticipant(trunk.trunkId, uniqueNumber(), roomName, { waitUntilAnswered: true, ringingTimeout: 3 })
      .then(() => undefined, (e: unknown) => e);
    later(() => c.rooms.deleteRoom(roomName));
    expect(error).toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    const result = await callee.result();
    expect(result.exitCode, result.log).toBe(0);
    expect(result.sip.some((m) => m.firstLine.startsWith('CANCEL'))).toBe(true);
  });
});
