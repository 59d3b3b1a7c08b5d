/**
 * What the test phone hears: reading RTP out of a tcpdump capture, decoding G.711 µ-law to 16-bit
 * PCM, writing WAV files and measuring loudness. Pure functions over buffers (unit-tested).
 */

/** One RTP packet as captured. */
export interface RtpPacket {
  /** Capture time, ms since the Unix epoch (pcap record header). */
  readonly timeMs: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payloadType: number;
  readonly marker: boolean;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly payload: Buffer;
}

/** A decoded RFC 4733 telephone-event. */
export interface DtmfEvent {
  readonly timeMs: number;
  /** 0-9, *, #, A-D. */
  readonly digit: string;
  readonly timestamp: number;
}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_RAW = 101;

/** One UDP datagram as captured. */
export interface UdpDatagram {
  /** Capture time, ms since the Unix epoch (pcap record header). */
  readonly timeMs: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly data: Buffer;
}

/**
 * Parses a classic pcap file (libpcap format, as `tcpdump -w` writes it) and returns its IPv4 UDP
 * datagrams in capture order. A last record cut short by stopping tcpdump is ignored.
 * @throws Error when the buffer is not a pcap file.
 */
export function parsePcapUdp(file: Buffer): UdpDatagram[] {
  if (file.length < 24) return [];
  const magic = file.readUInt32LE(0);
  let le: boolean;
  let nanos = false;
  if (magic === 0xa1b2c3d4) le = true;
  else if (magic === 0xd4c3b2a1) le = false;
  else if (magic === 0xa1b23c4d) (le = true), (nanos = true);
  else if (magic === 0x4d3cb2a1) (le = false), (nanos = true);
  else throw new Error('not a pcap file (bad magic number)');
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20);

  const datagrams: UdpDatagram[] = [];
  let offset = 24;
  while (offset + 16 <= file.length) {
    const sec = u32(offset);
    const frac = u32(offset + 4);
    const captured = u32(offset + 8);
    const start = offset + 16;
    offset = start + captured;
    if (offset > file.length) break;
    const timeMs = sec * 1000 + (nanos ? frac / 1e6 : frac / 1e3);
    let ip = start;
    if (linkType === LINKTYPE_ETHERNET) {
      if (file.readUInt16BE(start + 12) !== 0x0800) continue;
      ip = start + 14;
    } else if (linkType === LINKTYPE_LINUX_SLL) {
      if (file.readUInt16BE(start + 14) !== 0x0800) continue;
      ip = start + 16;
    } else if (linkType !== LINKTYPE_RAW) {
      continue;
    }
    if (file[ip]! >> 4 !== 4 || file[ip + 9] !== 17) continue; // IPv4 + UDP only
    const udp = ip + (file[ip]! & 0x0f) * 4;
    const end = Math.min(udp + file.readUInt16BE(udp + 4), offset);
    if (end < udp + 8) continue;
    datagrams.push({
      timeMs,
      srcPort: file.readUInt16BE(udp),
      dstPort: file.readUInt16BE(udp + 2),
      data: Buffer.from(file.subarray(udp + 8, end)),
    });
  }
  return datagrams;
}

/** Reads an RTP packet (RFC 3550 §5.1) out of a datagram; undefined when it is not RTP v2. */
export function parseRtp(d: UdpDatagram): RtpPacket | undefined {
  const b = d.data;
  if (b.length < 12 || b[0]! >> 6 !== 2) return undefined;
  const csrcCount = b[0]! & 0x0f;
  let payloadStart = 12 + csrcCount * 4;
  if ((b[0]! & 0x10) !== 0 && payloadStart + 4 <= b.length) payloadStart += 4 + b.readUInt16BE(payloadStart + 2) * 4;
  let payloadEnd = b.length;
  if ((b[0]! & 0x20) !== 0 && payloadEnd > payloadStart) payloadEnd -= b[payloadEnd - 1]!; // padding
  if (payloadStart > payloadEnd) return undefined;
  return {
    timeMs: d.timeMs,
    srcPort: d.srcPort,
    dstPort: d.dstPort,
    payloadType: b[1]! & 0x7f,
    marker: (b[1]! & 0x80) !== 0,
    sequence: b.readUInt16BE(2),
    timestamp: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    payload: Buffer.from(b.subarray(payloadStart, payloadEnd)),
  };
}

/** The RTP packets of a pcap file, in capture order. */
export function parsePcapRtp(file: Buffer): RtpPacket[] {
  return parsePcapUdp(file).flatMap((d) => parseRtp(d) ?? []);
}

/** A SIP message seen in a capture: its time and first line (`INVITE sip:…`, `SIP/2.0 200 OK`). */
export interface SipMessageSeen {
  readonly timeMs: number;
  readonly firstLine: string;
  /** The whole message as text (headers and body). */
  readonly text: string;
  readonly srcPort: number;
  readonly dstPort: number;
}

/** SIP messages (text starting with a method or `SIP/2.0`) among captured datagrams. */
export function sipMessages(datagrams: readonly UdpDatagram[]): SipMessageSeen[] {
  return datagrams.flatMap((d) => {
    const head = d.data.subarray(0, 200).toString('latin1');
    if (!/^(SIP\/2\.0 \d{3}|[A-Z]+ \S+ SIP\/2\.0)/.test(head)) return [];
    return [{ timeMs: d.timeMs, firstLine: head.split('\r\n')[0]!, text: d.data.toString('latin1'), srcPort: d.srcPort, dstPort: d.dstPort }];
  });
}

/** Decodes one G.711 µ-law byte to a 16-bit linear sample (ITU-T G.711). */
export function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  return u & 0x80 && magnitude !== 0 ? -magnitude : magnitude;
}

/**
 * Builds the 8 kHz PCM16 signal of the PCMU (payload type 0) packets of one stream, each placed
 * at its RTP timestamp relative to the first, with silence where packets are missing.
 */
export function decodePcmu(packets: readonly RtpPacket[]): Int16Array {
  const audio = packets.filter((p) => p.payloadType === 0);
  if (audio.length === 0) return new Int16Array(0);
  const first = audio[0]!.timestamp;
  const position = (p: RtpPacket) => (p.timestamp - first) >>> 0; // wraps like RTP timestamps do
  const length = Math.max(...audio.map((p) => position(p) + p.payload.length));
  if (length > 8000 * 3600) throw new Error('RTP timestamps jump by more than an hour; not one stream');
  const pcm = new Int16Array(length);
  for (const p of audio) {
    const at = position(p);
    for (let i = 0; i < p.payload.length; i++) pcm[at + i] = ulawToLinear(p.payload[i]!);
  }
  return pcm;
}

const EVENT_DIGITS = '0123456789*#ABCD';

/** RFC 4733 telephone-events in the capture (one per event, at its first packet). */
export function decodeTelephoneEvents(packets: readonly RtpPacket[], payloadType: number): DtmfEvent[] {
  const events: DtmfEvent[] = [];
  let lastTimestamp = -1;
  for (const p of packets) {
    if (p.payloadType !== payloadType || p.payload.length < 4 || p.timestamp === lastTimestamp) continue;
    lastTimestamp = p.timestamp;
    const digit = EVENT_DIGITS[p.payload[0]!];
    if (digit) events.push({ timeMs: p.timeMs, digit, timestamp: p.timestamp });
  }
  return events;
}

/** A 16-bit mono PCM WAV file. */
export function encodeWav(pcm: Int16Array, sampleRate: number): Buffer {
  const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** Root-mean-square level of 16-bit samples, in dBFS (−Infinity for digital silence). */
export function rmsDbfs(pcm: Int16Array): number {
  if (pcm.length === 0) return -Infinity;
  let sum = 0;
  for (const s of pcm) sum += s * s;
  const rms = Math.sqrt(sum / pcm.length);
  return rms === 0 ? -Infinity : 20 * Math.log10(rms / 32768);
}

/** Level below which audio counts as silent, in dBFS (µ-law idle noise sits near −70). */
export const SILENCE_DBFS = -50;
