/**
 * What the phone benchmarks read from a call and from the machine: the first audio a caller heard
 * (from the tcpdump capture, the same clock as `Date.now()` here), and the memory of the worker's
 * process tree — RSS and PSS per process (Linux /proc; PSS divides shared pages among the processes
 * that share them, so it adds up to what the tree really holds, where RSS counts them again in
 * every process).
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { CallResult } from '../devtools/sipp.js';
import { ulawToLinear } from '../devtools/rtp.js';

/** Level above which an RTP packet counts as speech, in dBFS. */
const SPEECH_DBFS = -45;

/** dBFS of one PCMU payload. */
function packetDbfs(payload: Uint8Array): number {
  let sum = 0;
  for (const b of payload) sum += ulawToLinear(b) ** 2;
  return 20 * Math.log10(Math.sqrt(sum / Math.max(1, payload.length)) / 32768);
}

/** Capture time (ms since the epoch) of the first PCMU packet louder than {@link SPEECH_DBFS} in `packets` after `after`. */
export function firstLoud(packets: CallResult['rtp'], after = 0): number | undefined {
  return packets.find((p) => p.payloadType === 0 && p.timeMs >= after && packetDbfs(p.payload) > SPEECH_DBFS)?.timeMs;
}

/** Capture time of the INVITE and of the 200 OK that answered it. */
export function callTimes(r: CallResult): { invite?: number; answer?: number } {
  return {
    invite: r.sip.find((m) => m.firstLine.startsWith('INVITE'))?.timeMs,
    answer: r.sip.find((m) => m.firstLine.startsWith('SIP/2.0 200') && /CSeq:\s*\d+\s+INVITE/i.test(m.text))?.timeMs,
  };
}

/** INVITE → first received PCMU packet louder than {@link SPEECH_DBFS}, in ms. */
export function firstAudioMs(r: CallResult): number | undefined {
  const { invite } = callTimes(r);
  const loud = firstLoud(r.rtp);
  return invite !== undefined && loud !== undefined ? loud - invite : undefined;
}

/** One process of the tree: what it is, and its memory in MB. */
export interface ProcessMemory {
  readonly pid: number;
  /** `worker`, `job`, `inference` or the program's name. */
  readonly kind: string;
  readonly rssMb: number;
  readonly pssMb: number;
}

/** The memory of a process tree: totals in MB and each process. */
export interface TreeMemory {
  readonly rss_mb: number;
  readonly pss_mb: number;
  readonly processes: number;
  readonly by_process: readonly ProcessMemory[];
}

/** What a process of the worker's tree is, from its command line. */
function kindOf(pid: number, root: number): string {
  if (pid === root) return 'worker';
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  if (cmd.some((a) => /job_proc_lazy_main/.test(a))) return 'job';
  if (cmd.some((a) => /inference_proc_lazy_main/.test(a))) return 'inference';
  return (cmd[0] ?? '?').split('/').pop() ?? '?';
}

/** RSS and PSS of `root` and all its descendants (Linux: /proc/PID/status and smaps_rollup). */
export function treeMemory(root: number): TreeMemory {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone
    }
  }
  const all: ProcessMemory[] = [];
  const walk = (pid: number) => {
    try {
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      const pss = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      all.push({ pid, kind: kindOf(pid, root), rssMb: Math.round(rss / 1024), pssMb: Math.round(pss / 1024) });
    } catch {
      return;
    }
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return {
    rss_mb: all.reduce((s, p) => s + p.rssMb, 0),
    pss_mb: all.reduce((s, p) => s + p.pssMb, 0),
    processes: all.length,
    by_process: all,
  };
}

/** Waits `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Prints a benchmark's result on stdout, as bench/run.ts reads it: one JSON object. */
export function printResult(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
