/**
 * The test phone: SIPp placing (SipCaller) or taking (SipCallee) one real SIP call on loopback,
 * streaming µ-law RTP, sending RFC 2833 DTMF, and — through tcpdump, since SIPp cannot record —
 * capturing what comes back, decoded to a 16-bit PCM WAV.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodePcmu,
  decodeTelephoneEvents,
  encodeWav,
  parsePcapUdp,
  parseRtp,
  sipMessages,
  type DtmfEvent,
  type RtpPacket,
  type SipMessageSeen,
} from './rtp.js';
import { callerScenario, calleeScenario, CUE, DTMF_TONE_MS, type CalleeAnswer, type DtmfPress, type ReferAnswer } from './sipp-scenarios.js';
import { ensureStack, STACK_DIR } from './stack.js';
import { WAIT_SCALE } from './wait.js';

/** What one call looked like from the test phone. */
export interface CallResult {
  /** SIPp's exit code: 0 when the scenario ran to its end. */
  readonly exitCode: number | null;
  /** RTP packets sent to the phone's media port. */
  readonly rtp: readonly RtpPacket[];
  /** The PCMU audio the phone received, 8 kHz PCM16. */
  readonly audio: Int16Array;
  /** WAV file of {@link audio}. */
  readonly wavPath: string;
  /** RFC 2833 events the phone received (payload type 96, as offered). */
  readonly dtmf: readonly DtmfEvent[];
  /** RFC 2833 events the phone sent, with the capture time of each event's first packet. */
  readonly dtmfSent: readonly DtmfEvent[];
  /** RTP packets the phone sent (its audio and its RFC 2833 events), with their capture times. */
  readonly rtpSent: readonly RtpPacket[];
  /** SIP messages to and from the phone, in order, with their capture times. */
  readonly sip: readonly SipMessageSeen[];
  /** Folder with the scenario, SIPp's logs and the capture. */
  readonly dir: string;
  /** SIPp's screen output and error log, for failure messages. */
  readonly log: string;
}

/** Binds a UDP socket to 127.0.0.1:port to see whether it is free. */
function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** An even port P with P..P+3 free (SIPp uses the media port and the ones above it for RTCP/video). */
export async function freePorts(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = 30000 + 2 * Math.floor(Math.random() * 9000);
    const free = await Promise.all([0, 1, 2, 3].map((d) => udpFree(p + d)));
    if (free.every(Boolean)) return p;
  }
  throw new Error('no free UDP ports between 30000 and 48000');
}

let callCounter = 0;

interface PhoneOptions {
  /** A label for the log folder. */
  readonly name: string;
  readonly scenario: string;
  /** Extra SIPp arguments (remote address, -s, …). */
  readonly args: readonly string[];
  /** Give up after this many seconds (SIPp -timeout). */
  readonly timeoutS: number;
  readonly sipPort: number;
  readonly mediaPort: number;
}

/** One SIPp process and the tcpdump capture beside it. */
class Phone {
  readonly dir: string;
  private sipp?: ChildProcess;
  private tcpdump?: ChildProcess;
  private exited?: Promise<number | null>;
  private output = '';
  private cues = 0;

  constructor(private readonly o: PhoneOptions) {
    this.dir = join(STACK_DIR, 'calls', `${Date.now()}-${process.pid}-${++callCounter}-${o.name}`);
    mkdirSync(this.dir, { recursive: true });
  }

  /** Starts the capture, waits until tcpdump listens, then starts SIPp. */
  async start(): Promise<void> {
    const pcap = join(this.dir, 'capture.pcap');
    // Both directions of RTP: what the phone receives, and the DTMF it sends (for timing).
    const filter = `udp and (port ${this.o.mediaPort} or port ${this.o.sipPort})`;
    this.tcpdump = spawn('tcpdump', ['-i', 'lo', '-n', '-U', '--immediate-mode', '-w', pcap, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 5000);
      this.tcpdump!.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.tcpdump!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`tcpdump exited (${code}): ${err}`));
      });
    });

    const scenarioPath = join(this.dir, 'scenario.xml');
    writeFileSync(scenarioPath, this.o.scenario);
    const args = [
      ...this.o.args,
      '-sf', scenarioPath,
      '-i', '127.0.0.1',
      '-p', String(this.o.sipPort),
      '-mi', '127.0.0.1',
      '-mp', String(this.o.mediaPort),
      ...(this.o.args.includes('-m') ? [] : ['-m', '1']),
      '-nostdin',
      // SIPp ends a run whose main loop was late 120 times (its minor watchdog, 500 ms): on a loaded
      // 2-core CI host that happens within one long call and fails it. Lateness is not what we test.
      '-watchdog_minor_threshold', '5000',
      '-watchdog_minor_maxtriggers', '100000',
      '-watchdog_major_threshold', '20000',
      '-watchdog_major_maxtriggers', '100000',
      '-timeout', `${this.o.timeoutS}s`,
      '-timeout_error',
      '-trace_err', '-error_file', join(this.dir, 'errors.log'),
      '-trace_msg', '-message_file', join(this.dir, 'messages.log'),
    ];
    this.sipp = spawn('sipp', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.sipp.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.sipp.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.sipp!.once('exit', (code) => resolve(code)));
  }

  /** Waits for SIPp to finish, stops the capture and decodes what the phone received. */
  async wait(): Promise<CallResult> {
    if (!this.exited) throw new Error('call not started');
    const exitCode = await this.exited;
    await new Promise((r) => setTimeout(r, 200)); // the last packets reach the capture
    await this.stopCapture();
    const datagrams = parsePcapUdp(readFileSync(join(this.dir, 'capture.pcap')));
    const rtp = datagrams.filter((d) => d.dstPort === this.o.mediaPort).flatMap((d) => parseRtp(d) ?? []);
    const rtpSent = datagrams.filter((d) => d.srcPort === this.o.mediaPort).flatMap((d) => parseRtp(d) ?? []);
    const audio = decodePcmu(rtp);
    const wavPath = join(this.dir, 'received.wav');
    writeFileSync(wavPath, encodeWav(audio, 8000));
    let log = this.output;
    try {
      log += readFileSync(join(this.dir, 'errors.log'), 'utf8');
    } catch {
      // no errors logged
    }
    return {
      exitCode,
      rtp,
      audio,
      wavPath,
      dtmf: decodeTelephoneEvents(rtp, 96),
      dtmfSent: decodeTelephoneEvents(rtpSent, 96),
      rtpSent,
      sip: sipMessages(datagrams.filter((d) => d.srcPort === this.o.sipPort || d.dstPort === this.o.sipPort)),
      dir: this.dir,
      log,
    };
  }

  private async stopCapture(): Promise<void> {
    const t = this.tcpdump;
    if (!t || t.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      t.once('exit', () => resolve());
      t.kill('SIGINT');
    });
  }

  /**
   * Resolves once the capture holds the 200 OK that answered the INVITE (either way: this phone's or
   * the far end's). @throws Error when none came within 20 s × {@link WAIT_SCALE}.
   */
  async answered(): Promise<void> {
    const deadline = Date.now() + 20_000 * WAIT_SCALE;
    const ok = () =>
      parsePcapUdp(readFileSync(join(this.dir, 'capture.pcap')))
        .map((d) => d.data.toString('latin1'))
        .some((t) => t.startsWith('SIP/2.0 200') && /^CSeq:\s*\d+\s+INVITE/im.test(t));
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`the call was not answered within ${20 * WAIT_SCALE} s (no 200 OK to the INVITE in ${this.dir})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Sends SIPp a cue: a `request` (see {@link CUE}) inside its call, from a socket of ours, which
   * SIPp answers with 200 OK and acts on. The call's Call-ID is read from the capture so far.
   * @throws Error when the capture holds no INVITE yet (the call has not started).
   */
  async cue(request: string): Promise<void> {
    const invite = parsePcapUdp(readFileSync(join(this.dir, 'capture.pcap')))
      .map((d) => d.data.toString('latin1'))
      .find((t) => t.startsWith('INVITE '));
    const callId = invite?.match(/^(?:Call-ID|i):\s*(\S+)/im)?.[1];
    if (!callId) throw new Error(`cannot cue the phone (${request}): no INVITE captured yet`);
    const n = ++this.cues;
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const message = [
      `${request} sip:phone@127.0.0.1:${this.o.sipPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${socket.address().port};branch=z9hG4bK-cue-${process.pid}-${n}`,
      'From: <sip:test@127.0.0.1>;tag=cue',
      'To: <sip:phone@127.0.0.1>',
      `Call-ID: ${callId}`,
      `CSeq: ${n} ${request}`,
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await new Promise<void>((resolve, reject) => socket.send(message, this.o.sipPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    // SIPp's 200 OK comes back to this socket; nobody needs it.
    setTimeout(() => socket.close(), 2000).unref();
  }

  /** Kills SIPp and the capture (for cleanup after a failed test). */
  async kill(): Promise<void> {
    if (this.sipp && this.sipp.exitCode === null) this.sipp.kill('SIGKILL');
    await this.stopCapture();
  }
}

/** Options of {@link SipCaller}. */
export interface SipCallerOptions {
  /** Number dialed (Request-URI user), e.g. the test trunk's `+1555…`. */
  readonly to: string;
  /** Caller ID (From user), e.g. `+14157774444`. */
  readonly from: string;
  /** Raw 8 kHz µ-law file streamed, looped, for the whole call (see audio.ts). */
  readonly audioFile?: string;
  /** Keys to press, at offsets from the answer. */
  readonly dtmf?: readonly DtmfPress[];
  /** Or keys to press when the test says so ({@link SipCaller.press}), one entry per press, in order. */
  readonly cued?: readonly string[];
  /** Hang up this long after the answer unless the far end (or {@link SipCaller.hangUp}) hangs up first, in ms. */
  readonly hangupAfterMs: number;
  /** Overall limit in s (default: hang-up time + 60 s — a call set up slowly on a loaded host still ends on its own). */
  readonly timeoutS?: number;
  /** How the phone answers a REFER (the agent's cold transfer); absent: a REFER fails the call. */
  readonly refer?: ReferAnswer;
}

/** A test phone in a call: what it received, and what the test makes it do meanwhile. */
abstract class TestPhone {
  protected constructor(private readonly phone: Phone) {}

  /** Waits for the call to end and returns what the phone received. */
  result(): Promise<CallResult> {
    return this.phone.wait();
  }

  /**
   * Presses the next keys of `cued` now (SIPp plays them as RFC 2833 events, {@link DTMF_TONE_MS}
   * each and as long again between digits). Leave them time to play before the next press: a
   * `play_dtmf` still playing is cut short by the next.
   */
  async press(): Promise<void> {
    // A cue while the call still rings is a message SIPp's scenario does not expect there: it aborts
    // the call. The agent may greet (and a test press) a moment before livekit-sip's 200 OK, which it
    // sends only once it has subscribed to the agent's track.
    await this.phone.answered();
    return this.phone.cue(CUE.press);
  }

  /** Hangs up now (BYE), instead of at the hang-up time. */
  hangUp(): Promise<void> {
    return this.phone.cue(CUE.hangUp);
  }

  /** Ends the call abruptly (SIPp killed, no BYE). */
  kill(): Promise<void> {
    return this.phone.kill();
  }
}

/**
 * Places one call into livekit-sip: `const call = await SipCaller.dial({...}); const r = await call.result();`
 */
export class SipCaller extends TestPhone {
  /** Starts the call (resolves once SIPp runs, not when it is answered). */
  static async dial(o: SipCallerOptions): Promise<SipCaller> {
    const stack = ensureStack();
    const mediaPort = await freePorts();
    const phone = new Phone({
      name: 'caller',
      scenario: callerScenario({ callerId: o.from, audioFile: o.audioFile, dtmf: o.dtmf, cued: o.cued, hangupAfterMs: o.hangupAfterMs, refer: o.refer }),
      args: [`${stack.sipHost}:${stack.sipPort}`, '-s', o.to],
      timeoutS: o.timeoutS ?? Math.ceil(o.hangupAfterMs / 1000) + 60,
      sipPort: mediaPort + 3,
      mediaPort,
    });
    await phone.start();
    return new SipCaller(phone);
  }
}

/** Options of {@link SipCallee}. */
export interface SipCalleeOptions {
  /** Answer after N ms, refuse with a status code, or never answer. */
  readonly answer: CalleeAnswer;
  readonly audioFile?: string;
  readonly dtmf?: readonly DtmfPress[];
  /** Or keys to press when the test says so ({@link SipCallee.press}), one entry per press, in order. */
  readonly cued?: readonly string[];
  /** Hang up this long after answering unless the far end (or {@link SipCallee.hangUp}) hangs up first, in ms. */
  readonly hangupAfterMs?: number;
  /** Overall limit in s (default 60). */
  readonly timeoutS?: number;
  /** The SIP port to listen on (default: a free one). */
  readonly port?: number;
  /** How many calls to take before exiting, each with the same script (default 1). */
  readonly calls?: number;
}

/**
 * Waits for one call on 127.0.0.1:`port` (point an outbound trunk there):
 * `const callee = await SipCallee.listen({...}); …dial…; const r = await callee.result();`
 */
export class SipCallee extends TestPhone {
  private constructor(
    phone: Phone,
    /** The SIP port the callee listens on. */
    readonly port: number,
  ) {
    super(phone);
  }

  static async listen(o: SipCalleeOptions): Promise<SipCallee> {
    const mediaPort = await freePorts();
    const port = o.port ?? mediaPort + 3;
    const phone = new Phone({
      name: 'callee',
      scenario: calleeScenario({ answer: o.answer, audioFile: o.audioFile, dtmf: o.dtmf, cued: o.cued, hangupAfterMs: o.hangupAfterMs }),
      args: o.calls && o.calls > 1 ? ['-m', String(o.calls)] : [],
      timeoutS: o.timeoutS ?? 60,
      sipPort: port,
      mediaPort,
    });
    await phone.start();
    return new SipCallee(phone, port);
  }
}
