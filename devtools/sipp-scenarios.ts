/**
 * SIPp scenario XML for the test phone: a caller (UAC) that dials, streams audio, presses keys and
 * hangs up; a callee (UAS) that answers, refuses or never answers. Pure string builders, so the
 * timing and DTMF rules are unit-tested without SIPp.
 *
 * DTMF goes out as RFC 2833/4733 `telephone-event` RTP with payload type 96: SIPp 3.6's
 * `play_dtmf` hard-codes 96, so the SDP offers `a=rtpmap:96 telephone-event/8000`.
 */

/** Keys one `play_dtmf` action sends, `atMs` after the call was answered. */
export interface DtmfPress {
  /** Digits, of `0-9 * # A-D`. */
  readonly digits: string;
  /** Offset from the answer (200 OK / ACK), in ms. */
  readonly atMs: number;
}

/** A DTMF action as SIPp will run it: the digits actually written into `play_dtmf`. */
export interface DtmfAction {
  readonly atMs: number;
  /** Digits passed to `play_dtmf`, a filler included when needed (see {@link planDtmf}). */
  readonly play: string;
}

/** Tone length of each digit, in ms (SIPp's default is 200). */
export const DTMF_TONE_MS = 160;

/**
 * Orders presses by time and adds, where needed, a filler digit that livekit-sip drops.
 *
 * SIPp builds every `play_dtmf` the same way: digit k of an action carries RTP timestamp
 * 24400 + 2·k·tone (SIPp src/prepare_pcap.c, prepare_dtmf), so the first digit of every action has
 * the same timestamp. livekit-sip drops an event whose timestamp equals the previous event's
 * (pkg/sip/media_port.go, dtmfHandler: "RFC 4733 requires all packets of a given digit to share
 * identical timestamps"). So after an action of exactly one digit, the next action's first digit
 * would be lost; we put a filler `D` in front of it instead, which is the one dropped.
 */
export function planDtmf(presses: readonly DtmfPress[]): DtmfAction[] {
  const sorted = [...presses].sort((a, b) => a.atMs - b.atMs);
  const actions: DtmfAction[] = [];
  let previousLength = 0;
  for (const press of sorted) {
    if (!/^[0-9*#A-D]+$/.test(press.digits)) {
      throw new Error(`DTMF digits "${press.digits}": use only 0-9, *, # and A-D`);
    }
    if (!(press.atMs >= 0)) throw new Error(`DTMF offset ${press.atMs} ms: must be 0 or more`);
    const play = previousLength === 1 ? `D${press.digits}` : press.digits;
    actions.push({ atMs: press.atMs, play });
    previousLength = play.length;
  }
  return actions;
}

/**
 * The `play_dtmf` digits of presses made on cue, in order, with the filler of {@link planDtmf}
 * after an action of one digit.
 */
export function planCued(cued: readonly string[]): string[] {
  return planDtmf(cued.map((digits) => ({ digits, atMs: 0 }))).map((a) => a.play);
}

const sdp = (direction: 'sendrecv') => `v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 96
      a=rtpmap:0 PCMU/8000
      a=rtpmap:96 telephone-event/8000
      a=fmtp:96 0-16
      a=ptime:20
      a=${direction}`;

/** A request the phone may get while it waits, besides the far end's BYE, and the label it leads to. */
interface Awaited {
  readonly request: string;
  readonly next: string;
}

/**
 * Waits `ms` for a BYE from the far end: BYE → label `remote_bye`, timeout → label `next`; each of
 * `also` meanwhile → its own label.
 */
const waitForBye = (ms: number, next: string, also: readonly Awaited[] = []) => {
  const timeout = `timeout="${Math.max(1, Math.round(ms))}" ontimeout="${next}"`;
  // SIPp waits at the first recv of the block: the optional ones carry the timeout too, or the wait never ends.
  return `${also.map((a) => `  <recv request="${a.request}" optional="true" ${timeout} next="${a.next}"/>\n`).join('')}  <recv request="BYE" ${timeout} next="remote_bye"/>\n`;
};

/**
 * The requests a test sends the phone to cue it (see `SipCaller.press` in sipp.ts): an INFO presses
 * the next keys of `cued`, a MESSAGE hangs up. No carrier sends either inside our calls.
 */
export const CUE = { press: 'INFO', hangUp: 'MESSAGE' } as const;

/** A MESSAGE (the test's cue) hangs up at once, whatever the phone was waiting for. */
const HANG_UP_CUE: Awaited = { request: CUE.hangUp, next: 'hangup_cue' };

/** A response (`status`, default 200 OK) to the request just received, with `extra` header lines. */
const replyToLast = (extra = '', status = '200 OK') => `  <send>
    <![CDATA[
      SIP/2.0 ${status}
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]${extra}
      Content-Length: 0
    ]]>
  </send>
`;

/** The phone's 200 OK to a cue (a request from the test, answered to its Via). */
const cueAnswered = replyToLast();

/** How the test caller answers a REFER (a cold transfer, RFC 3515). */
export type ReferAnswer =
  /** 202 Accepted, then a NOTIFY whose sipfrag is `sipfrag` (default `SIP/2.0 200 OK`: the desk answered), then livekit-sip's BYE. */
  | { readonly kind: 'accept'; readonly sipfrag?: string }
  /**
   * Refused with this final status (e.g. 403, 603): the call goes on — `thenMs` later (a BYE meanwhile
   * is answered) with the step the REFER interrupted (the rest of that step's wait is not kept).
   */
  | { readonly kind: 'refuse'; readonly status: number; readonly reason: string; readonly thenMs: number };

/**
 * What the caller does with a REFER that came while waiting before step `next`: the reply, then —
 * accepted — the NOTIFY of the transfer's result and livekit-sip's BYE, or — refused — straight on
 * to `next`. `dialog`: our From/To/Call-ID lines; `contact`: our Contact line.
 */
function referBranch(next: string, answer: ReferAnswer, dialog: string, contact: string): string {
  const reply = answer.kind === 'accept' ? '202 Accepted' : `${answer.status} ${answer.reason}`;
  let xml = `  <label id="refer_${next}"/>\n${replyToLast(`\n${contact}`, reply)}`;
  if (answer.kind === 'refuse') return `${xml}${waitForBye(answer.thenMs, next, [HANG_UP_CUE])}`;
  xml += `  <send retrans="500">
    <![CDATA[
      NOTIFY [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${dialog}
      CSeq: 3 NOTIFY
      Max-Forwards: 70
${contact}
      Event: refer
      Subscription-State: terminated;reason=noresource
      Content-Type: message/sipfrag;version=2.0
      Content-Length: [len]

      ${answer.sipfrag ?? 'SIP/2.0 200 OK'}
    ]]>
  </send>
  <recv response="200"/>
  <recv request="BYE" timeout="15000" ontimeout="local_bye" next="remote_bye"/>
`;
  return xml;
}

const answerBye = `  <label id="remote_bye"/>
${replyToLast('\n      Contact: <sip:[local_ip]:[local_port];transport=[transport]>')}`;

/**
 * The in-call part shared by caller and callee: start streaming, press keys at their offsets,
 * then hang up after `hangupAfterMs` unless the far end sends BYE first. `byeHeaders` are the
 * dialog headers of our own BYE.
 */
function inCall(opts: {
  audioFile?: string;
  dtmf: readonly DtmfPress[];
  cued: readonly string[];
  hangupAfterMs: number;
  byeHeaders: string;
  /** The caller's answer to a REFER, with its dialog and Contact lines; absent: a REFER aborts the scenario. */
  refer?: { answer: ReferAnswer; dialog: string; contact: string };
}): string {
  if (opts.dtmf.length && opts.cued.length) throw new Error('press keys at offsets (dtmf) or on cue (cued), not both');
  let xml = '';
  if (opts.audioFile) {
    // -1 loops forever: livekit-sip hangs up a call that sends no RTP for ~15 s.
    xml += `  <nop><action><exec rtp_stream="${opts.audioFile},-1,0"/></action></nop>\n`;
  }
  let now = 0;
  // A REFER (a cold transfer) may come during any wait, when the test says how to answer it.
  const steps: string[] = [];
  const also = (next: string): Awaited[] => (opts.refer ? [{ request: 'REFER', next: `refer_${next}` }, HANG_UP_CUE] : [HANG_UP_CUE]);
  planDtmf(opts.dtmf).forEach((action, i) => {
    if (action.atMs >= opts.hangupAfterMs) return;
    xml += waitForBye(action.atMs - now, `dtmf_${i}`, also(`dtmf_${i}`));
    xml += `  <label id="dtmf_${i}"/>\n`;
    xml += `  <nop><action><exec play_dtmf="${action.play},${DTMF_TONE_MS}"/></action></nop>\n`;
    steps.push(`dtmf_${i}`);
    now = action.atMs;
  });
  // Keys on cue: each action waits for its INFO, the hang-up time at most; a MESSAGE hangs up at once.
  planCued(opts.cued).forEach((play, i) => {
    // A refused REFER comes back to this wait (its label), not on to the keys.
    xml += `  <label id="wait_cue_${i}"/>\n`;
    xml += waitForBye(opts.hangupAfterMs, 'local_bye', [{ request: CUE.press, next: `cue_${i}` }, ...also(`wait_cue_${i}`)]);
    steps.push(`wait_cue_${i}`);
    xml += `  <label id="cue_${i}"/>\n${cueAnswered}`;
    xml += `  <nop><action><exec play_dtmf="${play},${DTMF_TONE_MS}"/></action></nop>\n`;
  });
  xml += waitForBye(opts.cued.length ? opts.hangupAfterMs : opts.hangupAfterMs - now, 'local_bye', also('local_bye'));
  steps.push('local_bye');
  if (opts.refer) {
    // The REFER branches sit out of the straight path: jumped over, reached only from a wait.
    const r = opts.refer;
    xml += `  <nop next="local_bye"/>\n${steps.map((next) => referBranch(next, r.answer, r.dialog, r.contact)).join('')}`;
  }
  xml += `  <label id="hangup_cue"/>\n${cueAnswered}`;
  xml += `  <label id="local_bye"/>
  <send retrans="500">
    <![CDATA[
${opts.byeHeaders}
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" next="done"/>
${answerBye}  <label id="done"/>
  <nop><action><exec rtp_stream="pause"/></action></nop>
`;
  return xml;
}

/** What the test caller does once SIPp has dialed. */
export interface CallerScript {
  /** Caller ID put in From (becomes `sip.phoneNumber`), e.g. `+15550001234`. */
  readonly callerId: string;
  /** Raw 8 kHz µ-law file streamed for the whole call (looped). */
  readonly audioFile?: string;
  /** Key presses, offsets from the answer. */
  readonly dtmf?: readonly DtmfPress[];
  /** Keys pressed on cue instead, one entry per cue, in order (see {@link CUE}). */
  readonly cued?: readonly string[];
  /** Hang up this long after the answer unless the far end hangs up first (or a cue says so), in ms. */
  readonly hangupAfterMs: number;
  /** How a REFER (the agent's cold transfer) is answered; absent: a REFER fails the scenario. */
  readonly refer?: ReferAnswer;
}

/** The caller scenario (UAC). The dialed number is SIPp's `-s` (`[service]`). */
export function callerScenario(script: CallerScript): string {
  const from = `"${script.callerId}" <sip:${script.callerId}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]`;
  const dialog = `      From: ${from}
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="test caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${from}
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:${script.callerId}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      ${sdp('sendrecv')}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${dialog}
      CSeq: 1 ACK
      Contact: <sip:${script.callerId}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
${inCall({
  audioFile: script.audioFile,
  dtmf: script.dtmf ?? [],
  cued: script.cued ?? [],
  hangupAfterMs: script.hangupAfterMs,
  byeHeaders: `      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${dialog}
      CSeq: 2 BYE
      Max-Forwards: 70`,
  refer: script.refer && { answer: script.refer, dialog, contact: `      Contact: <sip:${script.callerId}@[local_ip]:[local_port]>` },
})}</scenario>
`;
}

/** How the test callee answers an INVITE. */
export type CalleeAnswer =
  | { readonly kind: 'answer'; readonly afterMs: number }
  | { readonly kind: 'reject'; readonly status: 486 | 480 | 603 | 503 | 404; readonly afterMs?: number }
  | { readonly kind: 'never' };

/** What the test callee does. */
export interface CalleeScript {
  readonly answer: CalleeAnswer;
  readonly audioFile?: string;
  readonly dtmf?: readonly DtmfPress[];
  /** Keys pressed on cue instead, one entry per cue, in order (see {@link CUE}). */
  readonly cued?: readonly string[];
  /** Hang up this long after answering unless the far end hangs up first (or a cue says so), in ms. */
  readonly hangupAfterMs?: number;
}

const REASONS: Record<number, string> = {
  486: 'Busy Here',
  480: 'Temporarily Unavailable',
  603: 'Decline',
  503: 'Service Unavailable',
  404: 'Not Found',
};

const responseHeaders = (status: string, extra = '') => `      SIP/2.0 ${status}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>${extra}`;

/** The callee scenario (UAS), run with `sipp -sf … -p PORT` waiting for one INVITE. */
export function calleeScenario(script: CalleeScript): string {
  // SIPp refuses a scenario that assigns a variable it never uses: capture only what this path needs.
  const captures: Record<CalleeAnswer['kind'], string[]> = {
    answer: [
      '<ereg regexp=".*" search_in="hdr" header="From:" assign_to="invite_from"/>',
      '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="invite_to"/>',
      '<ereg regexp="sip:[^&gt;]*" search_in="hdr" header="Contact:" assign_to="remote_contact"/>',
    ],
    never: ['<ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="invite_cseq"/>'],
    reject: [],
  };
  const actions = captures[script.answer.kind];
  let xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="test callee">
  <recv request="INVITE" crlf="true">${
    actions.length ? `\n    <action>\n${actions.map((a) => `      ${a}\n`).join('')}    </action>\n  ` : ''
  }</recv>
  <send>
    <![CDATA[
${responseHeaders('180 Ringing')}
      Content-Length: 0
    ]]>
  </send>
`;
  const answer = script.answer;
  if (answer.kind === 'never') {
    // Ring until the caller gives up: CANCEL → 200, then 487 for the INVITE, then its ACK.
    xml += `  <recv request="CANCEL"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$invite_cseq] INVITE
      Content-Length: 0
    ]]>
  </send>
  <!-- livekit-sip does not always ACK the 487 once it has given up: wait for it briefly. -->
  <recv request="ACK" timeout="2000" ontimeout="done"/>
  <label id="done"/>
  <nop/>
</scenario>
`;
    return xml;
  }
  if (answer.afterMs && answer.afterMs > 0) xml += `  <pause milliseconds="${answer.afterMs}"/>\n`;
  if (answer.kind === 'reject') {
    xml += `  <send>
    <![CDATA[
${responseHeaders(`${answer.status} ${REASONS[answer.status]}`)}
      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
`;
    return xml;
  }
  xml += `  <send retrans="500">
    <![CDATA[
${responseHeaders('200 OK', '\n      Content-Type: application/sdp')}
      Content-Length: [len]

      ${sdp('sendrecv')}
    ]]>
  </send>
  <recv request="ACK" rtd="true"/>
${inCall({
  audioFile: script.audioFile,
  dtmf: script.dtmf ?? [],
  cued: script.cued ?? [],
  hangupAfterMs: script.hangupAfterMs ?? 30_000,
  byeHeaders: `      BYE [$remote_contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$invite_to];tag=[pid]SIPpTag01[call_number]
      To: [$invite_from]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Max-Forwards: 70`,
})}</scenario>
`;
  return xml;
}
