/**
 * Smoke test of the local telephony stack, end to end: a real SIP call from SIPp through
 * livekit-sip into a LiveKit room, with RTP audio and RFC 2833 DTMF, watched by an rtc-node
 * participant. No product code runs here: this proves the ground every later test stands on.
 */
import { ParticipantKind } from '@livekit/rtc-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { speechUlaw } from '../../devtools/audio.js';
import { clients, provisionInbound, uniqueNumber, waitForRoom, type Clients, type InboundRoute } from '../../devtools/livekit.js';
import { RoomObserver } from '../../devtools/room-observer.js';
import { rmsDbfs, SILENCE_DBFS } from '../../devtools/rtp.js';
import { SipCaller } from '../../devtools/sipp.js';

describe('local telephony stack', () => {
  let c: Clients;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(() => {
    c = clients();
  });

  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
  });

  it('routes a SIPp call into its own room with caller ID, audio and DTMF, and ends it on BYE', async () => {
    const route: InboundRoute = await provisionInbound(c);
    cleanup.push(() => route.remove());
    const callerId = uniqueNumber();

    const call = await SipCaller.dial({
      to: route.number,
      from: callerId,
      audioFile: speechUlaw('Hello, this is a test call from the clinic smoke test. One two three.'),
      dtmf: [{ digits: '12#', atMs: 4000 }],
      hangupAfterMs: 8000,
    });
    cleanup.push(() => call.kill());

    const roomName = await waitForRoom(c, route.roomPrefix);
    const observer = await RoomObserver.join(c, roomName);
    cleanup.push(() => observer.close());
    // Like an agent's voice: livekit-sip answers once it can subscribe to a track in the room.
    await observer.publishTone();

    const sip = await observer.sipParticipant();
    expect(sip.kind).toBe(ParticipantKind.SIP);
    expect(sip.attributes['sip.phoneNumber']).toBe(callerId);
    expect(sip.attributes['sip.trunkPhoneNumber']).toBe(route.number);
    expect(sip.attributes['sip.trunkID']).toBe(route.trunkId);
    expect(sip.attributes['sip.ruleID']).toBe(route.ruleId);

    const result = await call.result();
    expect(result.exitCode, result.log).toBe(0);

    // The caller's BYE makes the SIP participant leave the room.
    await observer.waitFor(() => observer.left.has(sip.identity), 10_000, 'the SIP participant to leave');

    expect(observer.dtmf.map((d) => d.digit)).toEqual(['1', '2', '#']);
    expect(observer.dtmf.every((d) => d.from === sip.identity)).toBe(true);

    const heard = observer.audio.get(sip.identity);
    expect(heard, 'a subscribed audio track from the SIP participant').toBeDefined();
    expect(heard!.samples).toBeGreaterThan(16_000); // more than a second of it
    expect(observer.levelDbfs(sip.identity)).toBeGreaterThan(SILENCE_DBFS);

    // The caller heard the room: the tone came back as PCMU RTP that is not silent.
    expect(result.audio.length).toBeGreaterThan(8000);
    expect(rmsDbfs(result.audio)).toBeGreaterThan(SILENCE_DBFS);

    // The SIP dialog as the caller saw it: INVITE answered 200, then our BYE answered 200.
    const lines = result.sip.map((m) => m.firstLine);
    expect(lines.find((l) => l.startsWith('INVITE'))).toContain(route.number);
    expect(lines.some((l) => l.startsWith('BYE'))).toBe(true);
  });
});
