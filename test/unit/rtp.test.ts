import { describe, expect, it } from 'vitest';
import {
  decodePcmu,
  decodeTelephoneEvents,
  encodeWav,
  parsePcapRtp,
  parsePcapUdp,
  rmsDbfs,
  sipMessages,
  ulawToLinear,
} from '../../devtools/rtp.js';

/** Builds a little-endian, microsecond pcap (Ethernet link type) holding the given UDP datagrams. */
function pcap(datagrams: { timeMs: number; src: number; dst: number; data: Buffer }[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const records = datagrams.map((d) => {
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip[9] = 17;
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(d.src, 0);
    udp.writeUInt16BE(d.dst, 2);
    udp.writeUInt16BE(8 + d.data.length, 4);
    const frame = Buffer.concat([eth, ip, udp, d.data]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(d.timeMs / 1000), 0);
    rec.writeUInt32LE((d.timeMs % 1000) * 1000, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    return Buffer.concat([rec, frame]);
  });
  return Buffer.concat([header, ...records]);
}

function rtp(pt: number, seq: number, ts: number, payload: Buffer, marker = false): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | pt;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(ts, 4);
  h.writeUInt32BE(0x1234, 8);
  return Buffer.concat([h, payload]);
}

describe('G.711 µ-law', () => {
  it('decodes the reference points of ITU-T G.711', () => {
    expect(ulawToLinear(0xff)).toBe(0);
    expect(ulawToLinear(0x7f)).toBe(0);
    expect(ulawToLinear(0x80)).toBe(32124);
    expect(ulawToLinear(0x00)).toBe(-32124);
  });
});

describe('parsePcapRtp and decoding', () => {
  const loud = Buffer.alloc(160, 0x80); // +32124
  const quiet = Buffer.alloc(160, 0xff); // 0
  const file = pcap([
    { timeMs: 1000, src: 5060, dst: 30003, data: Buffer.from('SIP/2.0 200 OK\r\nVia: x\r\n\r\n') },
    { timeMs: 1020, src: 20000, dst: 30000, data: rtp(0, 1, 8000, loud) },
    // packet 2 (timestamp 8160) lost: silence must stand in its place
    { timeMs: 1060, src: 20000, dst: 30000, data: rtp(0, 3, 8320, quiet) },
    { timeMs: 1080, src: 20000, dst: 30000, data: rtp(96, 4, 9000, Buffer.from([1, 0x0a, 0, 160]), true) },
    { timeMs: 1100, src: 20000, dst: 30000, data: rtp(96, 5, 9000, Buffer.from([1, 0x8a, 0, 160])) },
    { timeMs: 1120, src: 20000, dst: 30000, data: rtp(96, 6, 9400, Buffer.from([11, 0x0a, 0, 160]), true) },
  ]);

  it('finds the RTP packets and SIP messages with their ports and times', () => {
    const packets = parsePcapRtp(file);
    expect(packets.map((p) => [p.payloadType, p.sequence, p.timestamp])).toEqual([
      [0, 1, 8000],
      [0, 3, 8320],
      [96, 4, 9000],
      [96, 5, 9000],
      [96, 6, 9400],
    ]);
    expect(packets[0]!.timeMs).toBe(1020);
    expect(packets[0]!.dstPort).toBe(30000);
    expect(packets[0]!.payload.length).toBe(160);
    expect(sipMessages(parsePcapUdp(file))).toMatchObject([{ timeMs: 1000, firstLine: 'SIP/2.0 200 OK', srcPort: 5060, dstPort: 30003 }]);
    expect(sipMessages(parsePcapUdp(file))[0]!.text).toMatch(/^SIP\/2\.0 200 OK/);
  });

  it('places PCMU payloads at their timestamps with silence for lost packets', () => {
    const pcm = decodePcmu(parsePcapRtp(file));
    expect(pcm.length).toBe(480);
    expect(pcm[0]).toBe(32124);
    expect(pcm[159]).toBe(32124);
    expect(pcm[160]).toBe(0);
    expect(pcm[479]).toBe(0);
    expect(rmsDbfs(pcm)).toBeGreaterThan(-10);
    expect(rmsDbfs(new Int16Array(100))).toBe(-Infinity);
  });

  it('reads each telephone-event once', () => {
    expect(decodeTelephoneEvents(parsePcapRtp(file), 96).map((e) => e.digit)).toEqual(['1', '#']);
  });

  it('ignores a record cut short at the end and refuses what is not pcap', () => {
    expect(parsePcapRtp(file.subarray(0, file.length - 10)).length).toBe(4);
    expect(() => parsePcapRtp(Buffer.from('definitely not a capture file'))).toThrow('not a pcap file');
  });
});

describe('encodeWav', () => {
  it('writes a 16-bit mono PCM header', () => {
    const wav = encodeWav(new Int16Array([1, -1, 2]), 8000);
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(8000);
    expect(wav.readUInt16LE(34)).toBe(16);
    expect(wav.readUInt32LE(40)).toBe(6);
    expect(wav.readInt16LE(46)).toBe(-1);
  });
});
