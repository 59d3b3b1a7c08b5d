import { describe, expect, it } from 'vitest';
import { calleeScenario, callerScenario, planDtmf } from '../../devtools/sipp-scenarios.js';

describe('planDtmf', () => {
  it('orders presses by time', () => {
    expect(planDtmf([{ digits: '12', atMs: 5000 }, { digits: '34', atMs: 1000 }])).toEqual([
      { atMs: 1000, play: '34' },
      { atMs: 5000, play: '12' },
    ]);
  });

  it('puts a filler in front of an action that follows a single digit, and only there', () => {
    expect(
      planDtmf([
        { digits: '1', atMs: 1000 },
        { digits: '2', atMs: 2000 },
        { digits: '34', atMs: 3000 },
        { digits: '5', atMs: 4000 },
        { digits: '#', atMs: 5000 },
      ]).map((a) => a.play),
    ).toEqual(['1', 'D2', '34', '5', 'D#']);
  });

  it('rejects digits outside 0-9 * # A-D and negative offsets', () => {
    expect(() => planDtmf([{ digits: '1x', atMs: 0 }])).toThrow('DTMF digits "1x": use only 0-9, *, # and A-D');
    expect(() => planDtmf([{ digits: '1', atMs: -5 }])).toThrow('DTMF offset -5 ms: must be 0 or more');
  });
});

describe('callerScenario', () => {
  const xml = callerScenario({
    callerId: '+15550001234',
    audioFile: '/tmp/a.ulaw',
    dtmf: [
      { digits: '1', atMs: 2000 },
      { digits: '2', atMs: 3500 },
    ],
    hangupAfterMs: 8000,
  });

  it('dials from the caller ID and offers PCMU and telephone-event 96', () => {
    expect(xml).toContain('From: "+15550001234" <sip:+15550001234@[local_ip]:[local_port]>');
    expect(xml).toContain('m=audio [media_port] RTP/AVP 0 96');
    expect(xml).toContain('a=rtpmap:96 telephone-event/8000');
  });

  it('streams the audio in a loop and presses keys at their offsets, listening for BYE in between', () => {
    expect(xml).toContain('<exec rtp_stream="/tmp/a.ulaw,-1,0"/>');
    const waits = [...xml.matchAll(/<recv request="BYE" timeout="(\d+)" ontimeout="(\w+)"/g)].map((m) => [m[1], m[2]]);
    expect(waits).toEqual([
      ['2000', 'dtmf_0'],
      ['1500', 'dtmf_1'],
      ['4500', 'local_bye'],
    ]);
    expect(xml).toContain('play_dtmf="1,160"');
    expect(xml).toContain('play_dtmf="D2,160"');
  });

  it('hangs up at once on the test\'s cue (a MESSAGE), whatever it was waiting for', () => {
    const cues = [...xml.matchAll(/<recv request="MESSAGE" optional="true" timeout="(\d+)" ontimeout="(\w+)" next="hangup_cue"\/>/g)].map((m) => m[1]);
    expect(cues).toEqual(['2000', '1500', '4500']);
    expect(xml.indexOf('<label id="hangup_cue"/>')).toBeLessThan(xml.indexOf('<label id="local_bye"/>'));
  });

  it('presses keys on cue (an INFO each, answered 200 OK), up to the hang-up time', () => {
    const cued = callerScenario({ callerId: '+15550001234', cued: ['1', '2', '34'], hangupAfterMs: 60_000 });
    const waits = [...cued.matchAll(/<recv request="INFO" optional="true" timeout="(\d+)" ontimeout="(\w+)" next="(\w+)"\/>/g)].map((m) => m.slice(1));
    expect(waits).toEqual([
      ['60000', 'local_bye', 'cue_0'],
      ['60000', 'local_bye', 'cue_1'],
      ['60000', 'local_bye', 'cue_2'],
    ]);
    // Each cue is answered before its keys are played; after an action of one digit comes the filler.
    const played = [...cued.matchAll(/<label id="(cue_\d)"\/>\s*<send>\s*<!\[CDATA\[\s*SIP\/2\.0 200 OK[\s\S]*?play_dtmf="([^"]+)"/g)].map((m) => [m[1], m[2]]);
    expect(played).toEqual([
      ['cue_0', '1,160'],
      ['cue_1', 'D2,160'],
      ['cue_2', '34,160'],
    ]);
    expect(() => callerScenario({ callerId: '+15550001234', cued: ['1'], dtmf: [{ digits: '2', atMs: 0 }], hangupAfterMs: 1000 })).toThrow(
      'press keys at offsets (dtmf) or on cue (cued), not both',
    );
  });

  it('drops presses planned after the hang-up', () => {
    const late = callerScenario({ callerId: '+15550001234', dtmf: [{ digits: '9', atMs: 9000 }], hangupAfterMs: 5000 });
    expect(late).not.toContain('play_dtmf');
  });
});

describe('calleeScenario', () => {
  it('answers after the delay with SDP and hangs up later', () => {
    const xml = calleeScenario({ answer: { kind: 'answer', afterMs: 1500 }, hangupAfterMs: 4000 });
    expect(xml).toContain('<pause milliseconds="1500"/>');
    expect(xml).toContain('SIP/2.0 200 OK');
    expect(xml).toContain('BYE [$remote_contact] SIP/2.0');
    expect(xml).toMatch(/timeout="4000" ontimeout="local_bye"/);
  });

  it('refuses with the given code and reason', () => {
    expect(calleeScenario({ answer: { kind: 'reject', status: 486 } })).toContain('SIP/2.0 486 Busy Here');
    expect(calleeScenario({ answer: { kind: 'reject', status: 480 } })).toContain('SIP/2.0 480 Temporarily Unavailable');
    expect(calleeScenario({ answer: { kind: 'reject', status: 603 } })).toContain('SIP/2.0 603 Decline');
    expect(calleeScenario({ answer: { kind: 'reject', status: 503 } })).toContain('SIP/2.0 503 Service Unavailable');
  });

  it('never answers: rings until CANCEL, then 487', () => {
    const xml = calleeScenario({ answer: { kind: 'never' } });
    expect(xml).not.toContain('application/sdp');
    expect(xml).toContain('<recv request="CANCEL"/>');
    expect(xml).toContain('487 Request Terminated');
  });

  it('assigns only the variables its path uses (SIPp refuses unused ones)', () => {
    for (const answer of [{ kind: 'answer', afterMs: 0 }, { kind: 'never' }, { kind: 'reject', status: 486 }] as const) {
      const xml = calleeScenario({ answer });
      for (const [, name] of xml.matchAll(/assign_to="(\w+)"/g)) {
        expect(xml.split(`[$${name}]`).length - 1, `${answer.kind}: $${name} used`).toBeGreaterThan(0);
      }
    }
  });
});

describe('callerScenario answering a REFER (cold transfer)', () => {
  const dtmf = [{ digits: '0', atMs: 2000 }];
  it('accept: every wait takes a REFER; 202, then a NOTIFY of the desk\'s 200 in our dialog, then livekit-sip\'s BYE', () => {
    const xml = callerScenario({ callerId: '+15550001234', dtmf, hangupAfterMs: 8000, refer: { kind: 'accept' } });
    // Each carries its wait's timeout: SIPp waits at the first recv of a block (without it the wait never ended).
    expect(xml).toContain('<recv request="REFER" optional="true" timeout="2000" ontimeout="dtmf_0" next="refer_dtmf_0"/>');
    expect(xml).toContain('<recv request="REFER" optional="true" timeout="6000" ontimeout="local_bye" next="refer_local_bye"/>');
    const branch = xml.slice(xml.indexOf('<label id="refer_local_bye"/>'));
    expect(branch).toMatch(/SIP\/2\.0 202 Accepted[\s\S]*NOTIFY \[next_url\] SIP\/2\.0[\s\S]*tag=\[pid\]SIPpTag00\[call_number\][\s\S]*\[peer_tag_param\][\s\S]*Event: refer[\s\S]*Content-Type: message\/sipfrag;version=2\.0[\s\S]*SIP\/2\.0 200 OK/);
    expect(branch).toMatch(/<recv response="200"\/>\s*<recv request="BYE" timeout="15000" ontimeout="local_bye" next="remote_bye"\/>/);
    // The branches are off the straight path: the last wait is followed by a jump over them.
    expect(xml).toMatch(/ontimeout="local_bye" next="remote_bye"\/>\n {2}<nop next="local_bye"\/>\n {2}<label id="refer_dtmf_0"\/>/);
  });

  it('refuse: the status, then the step the REFER came before, after thenMs; without refer no REFER is expected', () => {
    const xml = callerScenario({ callerId: '+15550001234', dtmf, hangupAfterMs: 8000, refer: { kind: 'refuse', status: 403, reason: 'Forbidden', thenMs: 5000 } });
    expect(xml).toMatch(/<label id="refer_dtmf_0"\/>\s*<send>\s*<!\[CDATA\[\s*SIP\/2\.0 403 Forbidden[\s\S]*?<recv request="BYE" timeout="5000" ontimeout="dtmf_0" next="remote_bye"\/>/);
    expect(xml).not.toContain('NOTIFY');
    expect(callerScenario({ callerId: '+15550001234', dtmf, hangupAfterMs: 8000 })).not.toContain('REFER');
  });
});
