/**
 * Answering-machine detection on the labelled set (test/fixtures/amd): precision and recall of
 * "machine", on the part the thresholds were set on and on the part written after (heldOut), for
 * the first verdict (what the call acts on at once) and the final one (with a late machine), the
 * entries it got wrong, and how long the detector takes per second of audio. Needs flite, not the stack.
 */
import { performance } from 'node:perf_hooks';
import { AMD_SET_RATE, labelledGreetings, type LabelledGreeting } from '../devtools/amd-set.js';
import { detectInRecording } from '../src/outbound/amd.js';

const set = labelledGreetings();
const started = performance.now();
const rows = set.map((g) => ({ g, ...detectInRecording(g.audio, AMD_SET_RATE) }));
const ms = performance.now() - started;
const audioS = set.reduce((n, g) => n + g.audio.length / AMD_SET_RATE, 0);

/** Precision and recall of "machine" over `part`, for one of the verdicts. */
function score(part: (g: LabelledGreeting) => boolean, which: 'first' | 'final') {
  const own = rows.filter((r) => part(r.g));
  const machine = (r: (typeof rows)[number]) => r[which].kind === 'machine';
  const tp = own.filter((r) => machine(r) && r.g.label === 'machine').length;
  const said = own.filter(machine).length;
  const actual = own.filter((r) => r.g.label === 'machine').length;
  return { recordings: own.length, machines: actual, precision: said ? tp / said : 1, recall: actual ? tp / actual : 1 };
}

process.stdout.write(
  `${JSON.stringify({
    tunedOn: { first: score((g) => !g.heldOut, 'first'), final: score((g) => !g.heldOut, 'final') },
    heldOut: { first: score((g) => g.heldOut, 'first'), final: score((g) => g.heldOut, 'final') },
    all: { first: score(() => true, 'first'), final: score(() => true, 'final') },
    wrong: rows.filter((r) => (r.final.kind === 'machine') !== (r.g.label === 'machine')).map((r) => ({ id: r.g.id, label: r.g.label, verdict: r.final.kind, reason: r.final.reason })),
    msPerAudioSecond: ms / audioS,
  })}\n`,
);
