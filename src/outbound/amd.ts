/**
 * Answering-machine detection (AMD) with no cloud model: the classic telephone-system approach
 * (Asterisk's app_amd, the carriers' "AMD" of predictive dialers) from the callee's first seconds of
 * audio — how long until they speak, how long they speak before pausing, and a voicemail beep —
 * plus, once a machine is found, when its greeting is over so a message can be left after it.
 *
 * The rules, in the order they are applied to each 20 ms of audio:
 * 1. a beep (a steady pure tone, see {@link ToneTracker}) → machine;
 * 2. speech going on, its pauses shorter than the quiet that ends a greeting included, for
 *    `machineSpeechMs` → machine (people answer with a word or a sentence and wait; a greeting is
 *    read out);
 * 3. speech, then quiet → human: `afterGreetingSilenceMs` of it after a short greeting, and
 *    `beepWaitMs` after one longer than `longGreetingMs` — a long first sentence is a voicemail's
 *    when its beep follows, and a talkative person's when nothing does;
 * 4. nothing said for `initialSilenceMs`, or `totalAnalysisMs` passed → unsure, which the call treats
 *    as a human (a person who answers and waits in silence must not get a voicemail message).
 * Starting points are Asterisk's (amd.conf: initial_silence 2500, greeting 1500,
 * after_greeting_silence 800 ms). Its word count (maximum_number_of_words) is not used: it takes a
 * long human sentence for a machine, and synthetic and recorded greetings run their words together.
 * The limits were set on the labelled set in test/fixtures/amd, whose precision and recall
 * test/unit/amd.test.ts checks and `npm run bench` reports: people's first stretch of speech there
 * is at most 1.4 s, or 4.6 s for a long sentence; machines speak on past 5.5 s, or beep.
 */

/** What the first seconds of an answered call sounded like. */
export interface AmdVerdict {
  readonly kind: 'human' | 'machine' | 'unsure';
  /** Which rule decided, in words for the log and the call record. */
  readonly reason: string;
  /** Time into the audio when it was decided, in ms. */
  readonly atMs: number;
}

/** Thresholds of {@link AnsweringMachineDetector}; every duration in ms. */
export interface AmdOptions {
  /** No speech this long after the answer → unsure. */
  readonly initialSilenceMs: number;
  /** Quiet this long after a short greeting → human; shorter pauses are part of the greeting. */
  readonly afterGreetingSilenceMs: number;
  /** A greeting longer than this is a machine's if a beep follows: quiet must last `beepWaitMs` for a human. */
  readonly longGreetingMs: number;
  /** See `longGreetingMs`. */
  readonly beepWaitMs: number;
  /** Speech (with its short pauses) this long → machine. */
  readonly machineSpeechMs: number;
  /** Longest analysis; undecided by then → unsure. */
  readonly totalAnalysisMs: number;
  /** How long after a human or unsure verdict a machine can still be found (see `lateVerdict`). */
  readonly lateWatchMs: number;
  /** Speech on, after such a verdict, this long → machine after all. */
  readonly lateSpeechMs: number;
  /** Audio above this level, in dBFS, is speech (telephone line noise is about -60). */
  readonly speechDbfs: number;
}

/** See the module header for where each comes from. */
export const AMD_DEFAULTS: AmdOptions = {
  initialSilenceMs: 2500,
  afterGreetingSilenceMs: 800,
  longGreetingMs: 2000,
  beepWaitMs: 1500,
  machineSpeechMs: 5500,
  totalAnalysisMs: 8000,
  lateWatchMs: 8000,
  lateSpeechMs: 4000,
  speechDbfs: -40,
};

/** Length of one analysis window, in ms. */
export const AMD_WINDOW_MS = 20;

/** Level of `samples` in dBFS (-Infinity for digital silence). */
function levelDbfs(samples: Int16Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  return sum === 0 ? -Infinity : 10 * Math.log10(sum / (to - from) / 32768 ** 2);
}

/** Lowest and highest beep frequency looked for, and the step, in Hz (voicemail beeps are 400–2000 Hz, most 1000 Hz). */
const TONE_MIN_HZ = 350;
const TONE_MAX_HZ = 2500;
const TONE_STEP_HZ = 25;
/** Share of a window's power in one frequency for it to count as a tone (1 = a pure sine). */
const TONE_PURITY = 0.6;
/** A beep lasts at least this long, in windows (100 ms). */
const BEEP_MIN_WINDOWS = 5;
/** Its frequency may wander this many steps between windows. */
const TONE_DRIFT_STEPS = 2;

/**
 * Finds beeps: windows whose power sits in one frequency (Goertzel's algorithm at every
 * {@link TONE_STEP_HZ} between 350 and 2500 Hz), above the speech level, for at least 100 ms at a
 * steady frequency. Speech spreads its power over many harmonics and never counts.
 */
export class ToneTracker {
  private readonly coefficients: number[] = [];
  private run = 0;
  private lastStep = -1;
  /** Set when a beep has ended: the time its last window ended, in ms. */
  beepEndedAtMs?: number;
  /** The time the current beep began, in ms, while one is sounding (`BEEP_MIN_WINDOWS` in). */
  beepStartedAtMs?: number;

  constructor(private readonly sampleRate: number, private readonly speechDbfs: number) {
    for (let f = TONE_MIN_HZ; f <= Math.min(TONE_MAX_HZ, sampleRate / 2 - TONE_STEP_HZ); f += TONE_STEP_HZ) {
      this.coefficients.push(2 * Math.cos((2 * Math.PI * f) / sampleRate));
    }
  }

  /** The step (index into the frequencies) holding most of the window's power, or -1 when it is no tone. */
  private toneStep(w: Int16Array): number {
    let energy = 0;
    for (let i = 0; i < w.length; i++) energy += w[i]! * w[i]!;
    if (energy === 0) return -1;
    let best = -1;
    let bestPower = 0;
    for (let k = 0; k < this.coefficients.length; k++) {
      const c = this.coefficients[k]!;
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < w.length; i++) {
        const s = w[i]! + c * s1 - s2;
        s2 = s1;
        s1 = s;
      }
      const power = s1 * s1 + s2 * s2 - c * s1 * s2;
      if (power > bestPower) {
        bestPower = power;
        best = k;
      }
    }
    // A sine of amplitude A over N samples: Goertzel power (N·A/2)², energy N·A²/2 → ratio N/2.
    return (2 * bestPower) / (w.length * energy) >= TONE_PURITY ? best : -1;
  }

  /**
   * One window of audio ending at `endMs`.
   * @returns true when a beep is sounding in it.
   */
  push(w: Int16Array, endMs: number): boolean {
    const step = levelDbfs(w, 0, w.length) > this.speechDbfs ? this.toneStep(w) : -1;
    const steady = step >= 0 && (this.run === 0 || Math.abs(step - this.lastStep) <= TONE_DRIFT_STEPS);
    if (steady) {
      this.run++;
      this.lastStep = step;
      if (this.run === BEEP_MIN_WINDOWS) this.beepStartedAtMs = endMs - BEEP_MIN_WINDOWS * AMD_WINDOW_MS;
      return this.run >= BEEP_MIN_WINDOWS;
    }
    if (this.run >= BEEP_MIN_WINDOWS) this.beepEndedAtMs = endMs - AMD_WINDOW_MS;
    this.run = step >= 0 ? 1 : 0;
    this.lastStep = step;
    return false;
  }
}

/**
 * Decides human or machine from the callee's audio as it arrives (any sample rate, 16-bit mono),
 * then — for a machine — tells when its greeting is over. Feed it with {@link push}.
 */
export class AnsweringMachineDetector {
  private readonly windowSamples: number;
  private readonly pending: number[] = [];
  private readonly tone: ToneTracker;
  private elapsedMs = 0;
  private firstSpeechMs?: number;
  private lastSpeechMs?: number;
  private decided?: AmdVerdict;
  private lateMachine?: AmdVerdict;
  private greetingOverAtMs?: number;
  /** Start of the current stretch of speech (pauses shorter than `afterGreetingSilenceMs` included), in ms. */
  private stretchStartMs?: number;

  constructor(sampleRate: number, private readonly o: AmdOptions = AMD_DEFAULTS) {
    this.windowSamples = Math.round((sampleRate * AMD_WINDOW_MS) / 1000);
    this.tone = new ToneTracker(sampleRate, o.speechDbfs);
  }

  /** The verdict, once there is one: the first, or a later "machine" that overrode a human or unsure one. */
  get verdict(): AmdVerdict | undefined {
    return this.lateMachine ?? this.decided;
  }

  /**
   * A machine found after the first verdict said human or unsure: within `lateWatchMs` of it, a beep,
   * or the callee speaking on for `lateSpeechMs` — a voicemail whose first sentence was short and
   * followed by a pause goes on reading its greeting, where a person stops to listen. The call
   * then stops its greeting and leaves the message instead.
   */
  get lateVerdict(): AmdVerdict | undefined {
    return this.lateMachine;
  }

  /**
   * For a machine: the time (ms into the audio) its greeting was over — the end of its beep, or
   * `endSilenceMs` of quiet after its last speech — once it is; a message may be left from then.
   */
  get greetingOverMs(): number | undefined {
    return this.greetingOverAtMs;
  }

  /** Quiet after a machine's last speech that ends its greeting when no beep comes, in ms. */
  static readonly END_SILENCE_MS = 1500;

  /**
   * More audio. Returns the verdict as soon as there is one (and the same verdict after), else undefined.
   * @param samples 16-bit mono at the rate given to the constructor; any length.
   */
  push(samples: Int16Array): AmdVerdict | undefined {
    for (const s of samples) {
      this.pending.push(s);
      if (this.pending.length === this.windowSamples) {
        this.window(Int16Array.from(this.pending));
        this.pending.length = 0;
      }
    }
    return this.decided;
  }

  private window(w: Int16Array): void {
    this.elapsedMs += AMD_WINDOW_MS;
    const now = this.elapsedMs;
    const beeping = this.tone.push(w, now);
    const speech = !beeping && levelDbfs(w, 0, w.length) > this.o.speechDbfs;
    if (speech) {
      this.firstSpeechMs ??= now - AMD_WINDOW_MS;
      if (this.lastSpeechMs === undefined || now - this.lastSpeechMs >= this.o.afterGreetingSilenceMs) this.stretchStartMs = now - AMD_WINDOW_MS;
      this.lastSpeechMs = now;
    }
    if (!this.decided) this.decide(now, beeping);
    else if (this.decided.kind !== 'machine' && !this.lateMachine && now - this.decided.atMs <= this.o.lateWatchMs) {
      if (beeping) this.lateMachine = { kind: 'machine', reason: 'a voicemail beep after the greeting began', atMs: now };
      else if (speech && now - this.stretchStartMs! >= this.o.lateSpeechMs) {
        this.lateMachine = { kind: 'machine', reason: `${now - this.stretchStartMs!} ms of speech on after the greeting began`, atMs: now };
      }
    }
    if (this.verdict?.kind === 'machine' && this.greetingOverAtMs === undefined) {
      if (this.tone.beepEndedAtMs !== undefined) this.greetingOverAtMs = this.tone.beepEndedAtMs;
      else if (!beeping && this.lastSpeechMs !== undefined && now - this.lastSpeechMs >= AnsweringMachineDetector.END_SILENCE_MS) this.greetingOverAtMs = now;
    }
  }

  private decide(now: number, beeping: boolean): void {
    const o = this.o;
    const say = (kind: AmdVerdict['kind'], reason: string) => (this.decided = { kind, reason, atMs: now });
    if (beeping) return void say('machine', 'a voicemail beep');
    if (this.firstSpeechMs === undefined) {
      if (now >= o.initialSilenceMs) say('unsure', `nothing said in ${o.initialSilenceMs} ms`);
      return;
    }
    const quietMs = now - this.lastSpeechMs!;
    const greetingMs = this.lastSpeechMs! - this.firstSpeechMs;
    const endsGreeting = greetingMs > o.longGreetingMs ? o.beepWaitMs : o.afterGreetingSilenceMs;
    if (quietMs >= endsGreeting) return void say('human', `${greetingMs} ms of speech, then ${quietMs} ms of quiet`);
    if (quietMs >= o.afterGreetingSilenceMs) {
      // A long greeting's pause: a beep may still come, or more of the greeting (which then counts on from its start).
      if (now >= o.totalAnalysisMs) say('unsure', `undecided after ${o.totalAnalysisMs} ms`);
      return;
    }
    if (greetingMs >= o.machineSpeechMs) return void say('machine', `${greetingMs} ms of speech without a pause for an answer`);
    if (now >= o.totalAnalysisMs) say('unsure', `undecided after ${o.totalAnalysisMs} ms`);
  }
}

/**
 * The verdicts for a whole recording (tests and the labelled set's evaluation): the audio pushed in
 * 20 ms pieces, then silence until every rule could end. `first` is what the call acts on at once;
 * `final` includes a late machine (see {@link AnsweringMachineDetector.lateVerdict}).
 */
export function detectInRecording(samples: Int16Array, sampleRate: number, o: AmdOptions = AMD_DEFAULTS): { first: AmdVerdict; final: AmdVerdict } {
  const d = new AnsweringMachineDetector(sampleRate, o);
  const piece = Math.round((sampleRate * AMD_WINDOW_MS) / 1000);
  const quiet = new Int16Array(Math.round(((o.totalAnalysisMs + o.lateWatchMs) * sampleRate) / 1000));
  const all = new Int16Array(samples.length + quiet.length);
  all.set(samples);
  let first: AmdVerdict | undefined;
  for (let i = 0; i < all.length; i += piece) {
    d.push(all.subarray(i, i + piece));
    first ??= d.verdict;
  }
  return { first: first!, final: d.verdict! };
}
