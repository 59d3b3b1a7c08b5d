/**
 * One call, from the job's start to its record closed, read top to bottom in {@link Call.run}:
 * open (who is on the line, their appointment, the record), start the voice, dial (outbound), greet,
 * then answer keys and the voice model's changes until someone hangs up. The record is closed
 * exactly once on every path. LiveKit, the voice and the dialing are ports handed in
 * (src/worker/job.ts binds them), so the whole life of a call runs in unit tests on fake room events.
 *
 * Rules kept here: the store is written before anything is said about it, and what is said follows
 * what the store answered (a failed save is apologised for, never confirmed); key presses are
 * handled one at a time, in order, and bounded; keys pressed before the greeting are answered
 * instead of it; once closing words have begun they play to the end and later keys are only saved;
 * every timer and queued step catches and logs its failure, so none can leave the caller in silence.
 */
import type { Logger } from 'pino';
import { registerPrivateValues } from '../logging/index.js';
import { toE164, type CountryCode } from '../phone/index.js';
import type { AppointmentStore, CallDirection, CallerLookup, CallEventKind, CallRecord } from '../store/index.js';
import { classifyParticipant, type Connection, type ParticipantLike } from './classify.js';
import { meaningOf, type BookingAnswer, type KeyMeaning, type KeypadAction } from './keys.js';
import type { CallOutcome, FinalOutcome } from './outcome.js';
import { CallRecorder, type CallEnd } from './record.js';
import type { TransferResult } from '../transfer/cold.js';
import {
  afterIdentityKey,
  afterKey,
  checkNotSaved,
  connecting,
  deskBriefing,
  greetingFor,
  leaveMessage,
  type DeskUnavailable,
  modelLostNotice,
  noChoiceGoodbye,
  notSaved,
  repeatMenu,
  timeLimit,
  unknownKey,
  type CallScript,
  type Utterance,
} from './script.js';
import { hasAppointment, initialOutcome, situationOf, type Situation } from './situation.js';
import { IdentityCheck, VERIFY_ATTEMPTS, type DobOrder, type IdentityMethod, type IdentityStep } from './verification.js';

/** How the agent talks: fixed sentences with a local TTS, or a voice model given the facts. */
export interface Speaker {
  /** keypad, gemini or openai (keypad once a model has fallen back). */
  readonly mode: string;
  /** Says `u.text` (keypad mode) or asks the model to say `u.facts`; resolves once it has played. */
  say(u: Utterance): Promise<void>;
  /** Stops what is being said (a key pressed during the greeting). */
  interrupt(): void;
  /**
   * Whether the caller's audio reaches the voice model (its turn detection and replies): off while an
   * outbound answer is screened, so that a model does not answer a voicemail greeting. Keypad mode
   * has nothing to mute.
   */
  hearCaller?(on: boolean): void;
  /** Ends the voice session: nothing more is said, pending speech resolves. */
  close(): Promise<void>;
}

/** What the call needs from its LiveKit room. */
export interface CallRoom {
  readonly name: string;
  /**
   * The first remote participant (the caller of an inbound call, a web visitor), or with `identity`
   * the participant of that identity (the visitor a web visit was started for), once in the room.
   */
  waitForParticipant(identity?: string): Promise<ParticipantLike>;
  /** Whether a participant with this identity is in the room now. */
  has(identity: string): boolean;
  /** Ends the call for everyone (deletes the room: BYE to a SIP caller). Safe to call more than once. */
  hangUp(): Promise<void>;
  /** Leaves the room without ending it: the caller stays, with the desk after a warm transfer. */
  leave(): Promise<void>;
}

/** What a voice model's tools work on (src/voice/tools.ts). */
export interface ToolScope {
  readonly store: AppointmentStore;
  /** The call record's id: every change is logged against it. */
  readonly callId: string;
  /** The caller's situation now: `unverified` until the caller has proved who they are, then their own. */
  readonly situation: Situation;
  /** How the caller proves who they are on this call; undefined when they need not. */
  readonly identity?: IdentityMethod;
  readonly log: Logger;
  /** A tool changed the booking: saves the call's outcome, then tells the call. */
  changed(outcome: CallOutcome): Promise<void>;
  /**
   * The caller's answer to the identity check, told to the voice model: their date of birth (ISO
   * YYYY-MM-DD) or whether they are the patient we called for. Saved (the attempt, the patient on
   * the record, `not_verified` when no attempts are left) before it resolves.
   * @throws the store's error when the attempt could not be saved (it then did not count).
   */
  verify(answer: IdentityAnswer): Promise<IdentityStep>;
  /**
   * The caller asked for a person: the request is saved, then the call puts them through to the
   * front desk in the background (what happens is told to the model as it happens).
   * @returns at once: `connecting`, or why a message is to be taken instead (`no_desk`, `closed`);
   *   `recorded` when this call takes no messages (staff call back).
   * @param summary the model's own words for the desk (who is calling, what they need), said in a warm
   *   transfer's briefing after the facts the call knows.
   * @throws the store's error when the request could not be saved.
   */
  reachDesk?(summary?: string): Promise<'connecting' | 'recorded' | DeskUnavailable>;
  /**
   * Saves a message the caller left by voice (with its notification), and the outcome `message_taken`.
   * The number to call back is the caller's own unless `callbackNumber` (as said, any format) is given.
   * @returns `bad_number` (nothing saved) when `callbackNumber` is not a valid phone number.
   * @throws the store's error: nothing was saved.
   */
  leaveMessage?(m: { readonly callerName: string; readonly callbackNumber?: string; readonly reason: string }): Promise<'saved' | 'bad_number'>;
  /**
   * A call we placed: the patient said they do not want such calls — the number dialed goes on the
   * do-not-call list with the outcome `opted_out` (one transaction). Absent on other calls.
   * @throws the store's error: nothing was saved.
   */
  optOut?(): Promise<void>;
}

/** What a caller says to the identity check through the voice model. */
export type IdentityAnswer = { readonly dateOfBirth: string } | { readonly isPatient: boolean };

/**
 * How callers prove who they are (./verification.ts): CALLER_VERIFICATION for calls in,
 * OUTBOUND_VERIFICATION for calls we place (`none`: caller ID, or the number we dialed, is enough),
 * and the order of a date of birth's keypad digits.
 */
export interface IdentityPolicy {
  readonly inbound: 'dob' | 'none';
  readonly outbound: IdentityMethod | 'none';
  readonly order: DobOrder;
}

/** What the voice is started with. */
export interface VoiceRequest {
  /** The caller's participant identity: the voice listens to and answers only them. */
  readonly identity: string;
  readonly situation: Situation;
  /** Said first; keypad mode prepares its audio while the session starts. */
  readonly greeting: Utterance;
  readonly tools: ToolScope;
  /** Where a voice model's speaker reports its link (voice modes only). */
  readonly voiceEvents: VoiceEvents;
}

/** What a voice model's speaker tells the call about its link to the model (src/voice/link.ts). */
export interface VoiceEvents {
  /** The link is lost (`why`: its cause, e.g. a close code or a stall) and keypad mode is taking over. Told once. */
  lost(why: string): void;
  /** The model went on over a new connection after `why`, `ms` after it happened. */
  resumed(why: string, ms: number): void;
  /** Keypad mode could not start after the model was lost: the call has no voice left. */
  gone(why: string): void;
}

/** The voice chosen for this worker (src/voice/choice.ts), as the call starts it. */
export interface CallVoice {
  /** keypad, gemini or openai: saved on the call record. */
  readonly mode: string;
  /** Why this voice (logged as the call starts). */
  readonly reason: string;
  /** @throws the voice's error when its session cannot start (the call then ends, its record says why). */
  start(request: VoiceRequest): Promise<Speaker>;
}

/**
 * The front desk a caller who asks for a person is put through to (src/transfer/ binds it to
 * LiveKit: OPERATOR_NUMBER, TRANSFER_MODE, CLINIC_HOURS).
 */
export interface FrontDesk {
  /** The desk's E.164 number or SIP URI, as saved on the call record. */
  readonly target: string;
  /** Warm: the agent briefs the desk in the call's own room and leaves the two there; cold: SIP REFER. */
  readonly warm: boolean;
  /** Whether the desk answers at `at` (its opening hours). */
  isOpen(at: Date): boolean;
  /**
   * Hands the caller (their participant identity) to the desk and resolves with how it went; never
   * rejects. `accepted`: the caller is with the desk and the agent's part is over. `briefing`: what
   * the desk is told first in a warm transfer (who is calling, and why).
   */
  transfer(identity: string, briefing: string): Promise<TransferResult>;
}

/** Where a keypad caller leaves a message (src/transfer/recording.ts), and whether a new one is notified. */
export interface MessageBox {
  /**
   * Records the caller's words from their audio until `stop` aborts (they pressed #, or left) or a
   * limit is reached.
   * @returns the file (relative to the database's folder), its length in ms, and whether they spoke.
   * @throws the file system's error when the recording cannot be written.
   */
  record(identity: string, stop: AbortSignal): Promise<{ readonly path: string; readonly ms: number; readonly spoke: boolean }>;
  /** A new message is notified to the clinic (NOTIFY_WEBHOOK_URL is set). */
  readonly notify: boolean;
}

/** Result of dialing the patient. */
export type DialResult = { readonly ok: true } | { readonly ok: false; readonly outcome: FinalOutcome; readonly sipStatus?: number; readonly reason: string };

/** An outbound call: the patient we dial about an appointment (src/outbound/dial.ts). */
export interface OutboundLeg {
  readonly appointmentId: string;
  /** The number from the job metadata, as written there. */
  readonly phoneNumber: string;
  /** The SIP participant identity the patient gets in the room. */
  readonly identity: string;
  /**
   * Dials the number stored for the appointment's patient (E.164; undefined when there is none) and
   * waits for the answer. Refuses (nothing dialed) when the job's number is not that number.
   */
  dial(patientPhone: string | undefined): Promise<DialResult>;
  /**
   * Starts listening to the answered patient's audio for an answering machine (src/outbound/amd.ts);
   * absent when OUTBOUND_AMD is off.
   */
  screen?(): MachineScreen;
}

/** A person or a machine: the answering-machine check's word on an answered call. */
export interface MachineVerdict {
  readonly kind: 'human' | 'machine' | 'unsure';
  /** Which rule decided, for the log and the record. */
  readonly reason: string;
}

/** The answering-machine check of one answered outbound call (bound to the patient's audio in src/outbound/screen.ts). */
export interface MachineScreen {
  /** The first verdict, within the detector's analysis time. */
  readonly verdict: Promise<MachineVerdict>;
  /** Resolves if a machine is found after a human or unsure verdict (a beep, or speech going on through the greeting); else never. */
  readonly lateMachine: Promise<MachineVerdict>;
  /** Resolves once a machine's greeting is over (its beep ended, or it fell quiet): the message may start. */
  readonly greetingOver: Promise<void>;
  /** Stops listening. */
  stop(): void;
}

/** A visit the web server started (src/web/visit.ts): whom to wait for, and whom its link named. */
export interface WebVisit {
  /** The participant identity the visitor's token was issued for: the call talks with them only. */
  readonly visitor: string;
  /**
   * The patient a visit link named, verified by the web server (src/web/link.ts); undefined: an
   * anonymous visitor. The signed link is their proof of identity: no date of birth is asked.
   */
  readonly patientId?: string;
  /** How long the visitor has to join, in ms; then the visit ends with no record (nobody came). */
  readonly joinTimeoutMs: number;
}

/** What is left on a voicemail (see `CallScript.voicemail`). */
export interface VoicemailSettings {
  /** The clinic's number to call back, E.164 (TELNYX_PHONE_NUMBER). */
  readonly callback?: string;
  /** Whether the message names the appointment's day (VOICEMAIL_INCLUDE_DATE). */
  readonly includeDate: boolean;
}

/** Longest wait for a machine's greeting to end before the message is left anyway, in ms. */
export const VOICEMAIL_GREETING_WAIT_MS = 30_000;

/** Everything a call is made with. */
export interface CallOptions {
  readonly store: AppointmentStore;
  readonly room: CallRoom;
  readonly voice: CallVoice;
  readonly script: CallScript;
  /** Numbers without + belong to this country. */
  readonly country: CountryCode;
  /** Silence after the keypad menu before it is repeated once, then goodbye, in ms. */
  readonly menuTimeoutMs: number;
  /** Longest a call may last from its start, in ms: then the agent says goodbye and hangs up (CALL_MAX_DURATION_S). */
  readonly maxDurationMs: number;
  readonly log: Logger;
  /** Set when we dial the patient. */
  readonly outbound?: OutboundLeg;
  /** Set for a visit the web server started (its dispatch named the visitor). */
  readonly web?: WebVisit;
  /** How callers prove who they are before anything about a patient is said. */
  readonly identity: IdentityPolicy;
  /**
   * Where a caller who asks for a person (key 0) is put through; unset: nobody, they leave a message.
   * Only used together with {@link CallOptions.messages}.
   */
  readonly desk?: FrontDesk;
  /** Where callers leave messages; unset: key 0 only records the request (staff call back). */
  readonly messages?: MessageBox;
  /** What an outbound call leaves on a voicemail its screen found; default: the clinic's name only. */
  readonly voicemail?: VoicemailSettings;
}

/**
 * Where a call stands: `connecting` (who is on the line, the record, the voice) → `dialing`
 * (outbound: the phone rings) → `screening` (outbound: a person or an answering machine; a machine
 * gets its message in `voicemail`) → `greeting` → `menu` (keypad mode waits for a key) or
 * `conversation` (a voice model talks) → `transfer` (put through to the front desk) or `message`
 * (the caller's message being recorded) → `closing` (closing words, the record being closed) → `closed`.
 */
export type CallPhase = 'connecting' | 'dialing' | 'screening' | 'voicemail' | 'greeting' | 'menu' | 'conversation' | 'transfer' | 'message' | 'closing' | 'closed';

/** What happens to a call from outside: room events, the voice model failing, a tool's change. */
export type CallEvent =
  | { readonly type: 'key'; readonly digit: string; readonly from?: string; readonly at?: Date }
  | { readonly type: 'participant_left'; readonly identity: string; readonly reason?: string }
  /** The room is gone for the job. `lost`: not a hang-up — the connection to LiveKit failed (said why). */
  | { readonly type: 'room_closed'; readonly lost?: string }
  /** The voice model's link is lost (`why`); keypad mode is taking over. */
  | { readonly type: 'model_lost'; readonly why: string; readonly at?: Date }
  /** The voice model went on over a new connection after `why`. */
  | { readonly type: 'model_resumed'; readonly why: string; readonly ms: number; readonly at?: Date }
  /** No voice left at all (the model lost, and keypad mode could not start). */
  | { readonly type: 'voice_gone'; readonly why: string }
  | { readonly type: 'tool_outcome'; readonly outcome: CallOutcome };

/** How a call ended: its closed record (none when it ended before anyone was identified, or the store failed) and why. */
export interface CallEnded {
  readonly record?: CallRecord;
  readonly why: string;
}

/** The error kept on the record when the voice model's link was lost (`why`) and keypad mode took over. */
export const modelLostError = (why: string): string => `the voice model was lost (${why}); the call went on in keypad mode`;

/** How long the caller has to keep (1) or key in a callback number before a message, in ms. */
const CALLBACK_WAIT_MS = 10_000;

/** How long closing waits for a key press being saved, in ms: speech that can no longer play must not hold the record open. */
const CLOSE_WAIT_MS = 3000;

/**
 * Key presses taken per second of a call; more are dropped (logged once a second). A person presses
 * at most a few keys a second (ITU-T Q.24 allows a 40 ms tone + 40 ms pause, ~12/s), so 20 only stops floods.
 */
export const KEYS_PER_SECOND = 20;

/** Key presses waiting to be answered (before the greeting, or behind one being answered) at most; more are dropped. */
export const MAX_PENDING_KEYS = 20;

/** One call's life. Events may arrive at any time; {@link Call.run} drives the rest. */
export class Call {
  private phase: CallPhase = 'connecting';
  private party?: Connection;
  private phone?: string;
  private situation?: Situation;
  /** The caller's identity check, when they must pass one (./verification.ts). */
  private check?: IdentityCheck;
  private recorder?: CallRecorder;
  private opening?: Promise<CallRecorder>;
  private speaker?: Speaker;
  /** While the phone rings, the patient's SIP participant leaving is the dial's failure, not a hang-up. */
  private ringing = false;
  /** Keys pressed before the greeting, answered once the call is up (identity keys as well, but the greeting still plays). */
  private readonly early: { digit: string; at: Date; from?: string }[] = [];
  /** Participants gone before the caller was known, with the reason. */
  private readonly left = new Map<string, string>();
  /** Key presses, menu repeats and notices, one at a time. */
  private queue: Promise<void> = Promise.resolve();
  /** Keys in the queue not yet answered. */
  private pendingKeys = 0;
  /** When the keys of the current second began, and how many came in it. */
  private keyWindow = { start: 0, count: 0, dropped: 0 };
  /** What went wrong during the call (a save that failed), kept on the record at close. */
  private readonly problems: string[] = [];
  private limitTimer?: NodeJS.Timeout;
  /** Ends the masking of this caller's name in log lines (see openRecord). */
  private unmaskName?: () => void;
  /** A key or a tool has answered: no greeting any more, no menu timer. */
  private answered = false;
  /** Keys the caller pressed so far (any): a machine presses none. */
  private keysPressed = 0;
  private timer?: NodeJS.Timeout;
  private modelLost?: string;
  /** Voice events being saved (closing waits for them). */
  private readonly notes: Promise<void>[] = [];
  private closing?: Promise<CallEnded>;
  /** Aborted to end the message being recorded (the caller pressed #). */
  private stopRecording?: AbortController;
  /** The caller was left with the desk (a warm transfer): the agent leaves the room instead of ending it. */
  private handedOver = false;
  /**
   * The callback question before a message: `choice` (1 keeps the number said, 2 gives another) or
   * `digits` (a number keyed in, ended by #, * starts again), and where the answer goes.
   */
  private callbackEntry?: { mode: 'choice' | 'digits'; digits: string; done: (answer: string) => void };
  private resolveEnded!: (e: CallEnded) => void;
  private readonly ended = new Promise<CallEnded>((resolve) => (this.resolveEnded = resolve));

  constructor(private readonly o: CallOptions) {}

  /** Where the call stands now. */
  get state(): CallPhase {
    return this.phase;
  }

  /**
   * Runs the call and resolves with how it ended, as soon as it has — even while a step still
   * waits (a dial ringing, a voice starting). Never rejects.
   */
  run(): Promise<CallEnded> {
    this.limitTimer = setTimeout(() => this.onTimeLimit(), this.o.maxDurationMs);
    void this.steps();
    return this.ended;
  }

  private async steps(): Promise<void> {
    try {
      for (const step of [this.open, this.startVoice, this.dial, this.screen, this.greet]) {
        if (this.closing) return;
        // Each step in a turn of the event loop of its own: a call's start is ~150 ms of work in small
        // pieces (record, session, model connection, greeting), which back to back would hold the
        // audio and the framework's timers for all of it (its "event loop blocked" warning).
        await new Promise<void>((resolve) => setImmediate(resolve));
        await step.call(this);
      }
    } catch (err) {
      this.o.log.error({ err }, 'call failed');
      void this.close('call failed', { error: (err as Error).message });
    }
  }

  /**
   * Who is on the line, their appointment, and the record. Once the caller is known the record is
   * opened even if the call ends meanwhile (closing waits for it): every identified call is on record.
   */
  private async open(): Promise<void> {
    const { outbound, room, country } = this.o;
    if (outbound) {
      // We call the patient: the appointment comes with the job, the number from the store (set in
      // openRecord); the SIP participant comes later.
      this.party = { kind: 'sip', identity: outbound.identity, sip: { direction: 'outbound' } };
    } else {
      const participant = await this.caller();
      if (this.closing || !participant) return; // ended before anyone was identified: there is nobody to keep a record of
      this.party = classifyParticipant(participant);
      this.phone = phoneOf(this.party, country);
    }
    this.opening = this.openRecord(this.party);
    this.recorder = await this.opening;
    const left = this.left.get(this.party.identity);
    if (left) void this.close(`participant left (reason ${left})`);
  }

  /**
   * The participant the call is with: a web visit's own visitor — who has {@link WebVisit.joinTimeoutMs}
   * to come, else the visit ends unrecorded (undefined) — or the first to join.
   */
  private async caller(): Promise<ParticipantLike | undefined> {
    const { web, room } = this.o;
    if (!web) return room.waitForParticipant();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), web.joinTimeoutMs)));
    const joined = await Promise.race([room.waitForParticipant(web.visitor), timedOut]).finally(() => clearTimeout(timer));
    if (!joined && !this.closing) void this.close(`the visitor did not join within ${Math.round(web.joinTimeoutMs / 1000)} s`);
    return joined;
  }

  private async openRecord(party: Connection): Promise<CallRecorder> {
    const { store, room, outbound, voice, log } = this.o;
    let claimants: CallerLookup[] = [];
    if (outbound) {
      const appointment = await store.getAppointment(outbound.appointmentId);
      const patient = appointment && (await store.getPatient(appointment.patient_id));
      if (patient) claimants = [{ patient, appointment }];
      // The number dialed is the one on file for the appointment's patient, never the job's own.
      this.phone = toE164(patient?.phone_e164, this.o.country);
    } else if (this.o.web?.patientId) {
      // A visit link the web server verified names the patient; their number on file is where staff call back.
      const linked = await store.lookupPatient(this.o.web.patientId);
      if (linked) claimants = [linked];
      else log.warn('the visit link names no patient on file (removed since it was sent?): the visitor is anonymous');
      this.phone = toE164(linked?.patient.phone_e164, this.o.country);
    } else if (this.phone) {
      claimants = await store.lookupCallers(this.phone);
    }
    const direction = party.kind === 'web' ? 'web' : party.sip.direction;
    // Names and dates of birth go into the voice model's instructions and tools, which the framework may log: masked in every line for the call's length.
    if (claimants.length) this.unmaskName = registerPrivateValues(claimants.flatMap((c) => privateValuesOf(c)));
    const method = direction === 'web' ? undefined : methodFor(direction, this.o.identity);
    const known = method ? undefined : firstToCome(claimants);
    if (method && claimants.length) {
      this.check = new IdentityCheck(method, claimants, this.o.identity.order);
      this.situation = this.check.possible
        ? { kind: 'unverified', direction, method, calledFor: outbound ? claimants[0]!.patient.name : undefined }
        : { kind: 'not_verified', direction };
    } else {
      this.situation = situationOf(direction, known);
    }
    log.info(
      {
        kind: party.kind,
        direction,
        phoneNumber: this.phone,
        known: claimants.length > 0,
        verification: this.check ? (this.check.possible ? method : 'impossible') : 'none',
        appointment: known?.appointment?.id ?? outbound?.appointmentId,
        mode: voice.mode,
      },
      `call started (${voice.mode} mode: ${voice.reason})`,
    );
    if (this.check && !this.check.possible) log.warn('the caller cannot be verified: no date of birth on file for the patients with this number');
    // A caller still to prove who they are is on record by number only; a call we placed is about the patient we dialed.
    const patient = outbound ? claimants[0] : known;
    const recorder = await CallRecorder.open(store, {
      room: room.name,
      direction,
      mode: voice.mode,
      sipCallId: party.kind === 'sip' ? party.sip.callId : null,
      phoneE164: this.phone ?? null,
      // A caller ID that is not a valid number is kept as received, so staff can still call back.
      phoneReceived: this.phone ? null : received(party),
      trunkNumber: party.kind === 'sip' ? party.sip.trunkPhoneNumber : null,
      patientId: patient?.patient.id ?? null,
      appointmentId: patient?.appointment?.id ?? outbound?.appointmentId ?? null,
    });
    if (this.check && !this.check.possible) this.note('identity_unavailable', 'no date of birth on file for the patients with this number', new Date());
    return recorder;
  }

  /** The keypad session or the voice model, up before the phone rings (outbound) or the greeting. */
  private async startVoice(): Promise<void> {
    try {
      const speaker = await this.o.voice.start({
        identity: this.party!.identity,
        situation: this.situation!,
        greeting: greetingFor(this.o.script, this.situation!),
        tools: this.toolScope(),
        voiceEvents: {
          lost: (why) => this.receive({ type: 'model_lost', why }),
          resumed: (why, ms) => this.receive({ type: 'model_resumed', why, ms }),
          gone: (why) => this.receive({ type: 'voice_gone', why }),
        },
      });
      if (this.closing) await speaker.close();
      else this.speaker = speaker;
    } catch (err) {
      this.o.log.error({ err }, 'voice session failed to start');
      await this.close('voice session failed', { error: (err as Error).message });
    }
  }

  /** Outbound: rings the patient and waits for the answer; a failed dial ends the call with its outcome. */
  private async dial(): Promise<void> {
    const leg = this.o.outbound;
    if (!leg) return;
    this.set('dialing');
    this.ringing = true;
    const dialed = await leg.dial(this.phone);
    this.ringing = false;
    if (this.closing) return;
    if (!dialed.ok) {
      await this.close(`dial failed: ${dialed.reason}`, { error: dialed.reason, outcome: dialed.outcome, sipStatus: dialed.sipStatus });
    } else if (!this.o.room.has(leg.identity)) {
      await this.close('patient left as the call was answered');
    }
  }

  /** Nothing has been said to the caller yet: the call is being set up, the phone rings or the answer is being screened. */
  private get beforeGreeting(): boolean {
    return this.phase === 'connecting' || this.phase === 'dialing' || this.phase === 'screening';
  }

  /**
   * Outbound: a person or an answering machine? A machine gets the voicemail message and the call
   * ends; a person (or unsure, or a key pressed meanwhile: machines press none) is greeted, and a
   * machine found later still gets the message instead of the rest of the greeting.
   */
  private async screen(): Promise<void> {
    const screen = this.o.outbound?.screen?.();
    if (!screen) return;
    this.set('screening');
    this.speaker?.hearCaller?.(false);
    const key = this.keyPressed();
    const verdict = await Promise.race([screen.verdict, key.pressed]).finally(key.stop);
    if (this.closing) return screen.stop();
    if (verdict === 'key') {
      this.o.log.info('a key pressed while screening the answer: a person');
    } else if (verdict.kind === 'machine') {
      return this.leaveVoicemail(screen, verdict);
    } else {
      this.o.log.info({ verdict: verdict.kind, reason: verdict.reason }, 'answered by a person');
    }
    this.speaker?.hearCaller?.(true);
    void screen.lateMachine.then((late) => {
      if (this.closing || this.keysPressed || (this.phase !== 'greeting' && this.phase !== 'menu' && this.phase !== 'conversation')) return screen.stop();
      this.speaker?.interrupt();
      this.enqueue(() => this.leaveVoicemail(screen, late));
    });
  }

  /** `pressed` resolves with 'key' once a key has been pressed (kept in `early` until the greeting), until `stop`. */
  private keyPressed(): { pressed: Promise<'key'>; stop: () => void } {
    let timer: NodeJS.Timeout | undefined;
    const pressed = new Promise<'key'>((resolve) => {
      const check = () => (this.keysPressed || this.closing ? resolve('key') : (timer = setTimeout(check, 50)));
      check();
    });
    return { pressed, stop: () => clearTimeout(timer) };
  }

  /** A machine answered: `voicemail` saved, its greeting waited out, the message said, the call ended. */
  private async leaveVoicemail(screen: MachineScreen, verdict: MachineVerdict): Promise<void> {
    this.set('voicemail');
    this.o.log.info({ reason: verdict.reason }, 'answering machine: leaving a message after its greeting');
    try {
      await this.recorder!.setOutcome('voicemail');
    } catch (err) {
      // Nothing is said that was not saved: without the outcome, no message either.
      screen.stop();
      void this.close('voicemail outcome not saved', { error: `answering machine (${verdict.reason}); the outcome could not be saved: ${(err as Error).message}`, failed: true });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([screen.greetingOver, new Promise((r) => (timer = setTimeout(r, VOICEMAIL_GREETING_WAIT_MS)))]).finally(() => clearTimeout(timer));
    screen.stop();
    if (this.closing) return;
    const v = this.o.voicemail;
    const appointment = v?.includeDate && this.situation?.kind === 'appointment' ? this.situation.appointment : undefined;
    const text = this.o.script.voicemail(v?.callback, appointment);
    await this.sayOrLog({ text, facts: `An answering machine took the call. Say exactly this message, then nothing else: "${text}"` }, 'voicemail message');
    // Not awaited: run from the queue (a machine found late), closing would wait for the queue, and so for itself.
    void this.close('voicemail left', { outcome: 'voicemail' });
  }

  /** Saves what is known before anything is said, then greets — unless keys were pressed already. */
  private async greet(): Promise<void> {
    const initial = initialOutcome(this.situation!);
    if (initial) await this.recorder!.setOutcome(initial);
    this.set('greeting');
    const identity = this.party!.identity;
    const early = this.early.splice(0);
    // Keys pressed before the question of the identity check answer nothing: it has not been asked yet.
    if (this.situation!.kind === 'unverified' && early.length) this.o.log.info({ keys: early.length }, 'keys pressed before the identity question ignored');
    else for (const k of early) if (k.from === undefined || k.from === identity) this.acceptKey(k.digit, k.at);
    if (this.answered || this.closing) return;
    this.o.log.info({ mode: this.speaker!.mode }, 'greeting caller');
    await this.sayOrLog(greetingFor(this.o.script, this.situation!), 'greeting');
    this.listen();
  }

  /** Something happened to the call. */
  receive(e: CallEvent): void {
    this.o.log.debug({ event: e.type, state: this.phase }, 'call event');
    switch (e.type) {
      case 'key':
        if (e.from !== undefined && this.party && e.from !== this.party.identity) return;
        return this.onKey(e.digit, e.at ?? new Date(), e.from);
      case 'participant_left':
        return this.onLeft(e.identity, e.reason);
      case 'room_closed':
        if (e.lost) void this.close(e.lost, { error: e.lost, failed: true });
        else void this.close('room closed');
        return;
      case 'model_lost':
        return this.onModelLost(e.why, e.at ?? new Date());
      case 'model_resumed':
        this.note('voice_resumed', `${e.why}; resumed after ${e.ms} ms`, e.at ?? new Date());
        return;
      case 'voice_gone':
        this.note('voice_gone', e.why, new Date());
        void this.close('no voice left', { error: e.why, failed: true });
        return;
      case 'tool_outcome':
        this.answered = true;
        clearTimeout(this.timer);
        return;
    }
  }

  /**
   * Ends the call now, once: lets a key press being saved finish, closes the record, stops the
   * voice and deletes the room. Later calls return the same result.
   */
  close(why: string, end: CallEnd = {}): Promise<CallEnded> {
    this.closing ??= this.finish(why, end);
    return this.closing;
  }

  private onKey(digit: string, at: Date, from?: string): void {
    this.keysPressed++;
    if (this.takeKey(digit)) this.acceptKey(digit, at, from);
  }

  /** A key within the limits: kept for later before the call is up, saved only while closing, else answered in turn. */
  private acceptKey(digit: string, at: Date, from?: string): void {
    if (!this.recorder || this.beforeGreeting) {
      // Answered once the call is up; a call that ends before its record exists has nowhere to save them.
      if (!this.closing) this.early.push({ digit, at, from });
      return;
    }
    if (this.isEnding) {
      // Closing words play to the end: the key is only saved.
      this.enqueue(() => this.saveKey(digit, 'ignored', at));
      return;
    }
    // Being put through: keys mean nothing. Recording a message: # ends it (the recording holds the queue).
    if (this.phase === 'transfer') return;
    if (this.phase === 'message') {
      const entry = this.callbackEntry;
      if (!entry) {
        if (digit === '#') this.stopRecording?.abort();
        return;
      }
      this.speaker?.interrupt();
      if (entry.mode === 'choice') {
        if (digit === '1') entry.done('keep');
        else if (digit === '2') entry.done('another');
      } else if (digit === '#') entry.done(entry.digits || 'keep');
      else if (digit === '*') entry.digits = '';
      else if (/^[0-9]$/.test(digit)) entry.digits += digit;
      return;
    }
    // A key pressed while the caller is proving who they are belongs to that check, even if it ends
    // before the key's turn (a second 1 at "If this is Maria, press one" must not confirm anything).
    const forCheck = this.situation?.kind === 'unverified';
    // A digit of a date being entered answers nothing yet: the prompt stops, but its silence timer goes on.
    if (!forCheck) {
      this.answered = true;
      clearTimeout(this.timer);
    }
    this.speaker?.interrupt();
    this.pendingKeys++;
    this.enqueue(
      () => {
        this.pendingKeys--;
        return forCheck ? this.identityKey(digit) : this.handleKey(digit, at);
      },
      (err) => this.o.log.error({ err, digit }, 'key press failed'),
    );
  }

  /** False when the key is over {@link KEYS_PER_SECOND} or {@link MAX_PENDING_KEYS}: it is dropped (logged once a second). */
  private takeKey(digit: string): boolean {
    const now = Date.now();
    const w = this.keyWindow;
    if (now - w.start >= 1000) {
      if (w.dropped) this.o.log.warn({ dropped: w.dropped }, 'key presses dropped: too many at once');
      this.keyWindow = { start: now, count: 0, dropped: 0 };
    }
    const pending = this.early.length + this.pendingKeys;
    if (++this.keyWindow.count > KEYS_PER_SECOND || pending >= MAX_PENDING_KEYS) {
      if (this.keyWindow.dropped++ === 0) this.o.log.warn({ digit, pending }, 'key press dropped: too many at once');
      return false;
    }
    return true;
  }

  /**
   * One key: the store first (./keys.ts says what to change), then what is said — what the store
   * answered: done, in place already, refused; or an apology and the choices again when the save failed.
   */
  private async handleKey(digit: string, at: Date): Promise<void> {
    if (this.isEnding) return this.saveKey(digit, 'ignored', at);
    const has = hasAppointment(this.situation!);
    const key = meaningOf(digit, has, !!this.o.outbound);
    if (!key) {
      await this.saveKey(digit, 'ignored', at);
      this.o.log.info({ digit, action: 'ignored' }, 'key pressed');
      // Behind other keys it is not worth a sentence: the last one gets the answer.
      if (this.pendingKeys === 0) return this.askAgain(unknownKey(this.o.script, digit));
      return;
    }
    if (key.action === 'operator' && this.o.messages) return this.reachDesk(digit, at);
    if (key.action === 'opt_out') return this.optOutByKey(key, at);
    let answer: BookingAnswer;
    try {
      answer = await this.book(key, at);
    } catch (err) {
      this.o.log.error({ err, digit }, 'key press not saved');
      this.problems.push(`key ${digit} not saved: ${(err as Error).message}`);
      // The apology does not wait for the press to be logged: the database may still be failing.
      await Promise.all([this.saveKey(digit, 'failed', at), this.askAgain(notSaved(this.o.script, digit, has))]);
      return;
    }
    const done = answer === 'done' || answer === 'already';
    await this.saveKey(digit, done ? key.action : 'refused', at);
    this.o.log.info({ digit, action: key.action, answer, state: done ? key.state : undefined }, 'key pressed');
    if (done) return this.endWith(afterKey(this.o.script, key, answer));
    return this.askAgain(afterKey(this.o.script, key, answer));
  }

  /**
   * The key's change, saved with the call's outcome in one transaction; the operator key saves the outcome only.
   * @throws the store's error: nothing was saved.
   */
  private async book(key: KeyMeaning, at: Date): Promise<BookingAnswer> {
    const situation = this.situation!;
    const recorder = this.recorder!;
    if (key.book && situation.kind === 'appointment') {
      // The same booking operations as the voice model's tools: a press after a spoken "yes" changes nothing twice.
      return key.book(this.o.store.booking, situation.appointment.id, { callId: recorder.id, source: 'keypad', at, outcome: key.outcome });
    }
    await recorder.setOutcome(key.outcome);
    return 'done';
  }

  /**
   * A key of the identity check. Its digits are never saved or logged one by one: an attempt is
   * saved as a whole (the call's events), before anything is said about it. A caller who proved who
   * they are hears their appointment and the choices; the last wrong attempt, only the operator.
   */
  private async identityKey(digit: string): Promise<void> {
    const check = this.check!;
    // The check ended before this key's turn (it passed, failed, or the call is ending): the key is dropped.
    if (this.isEnding || !this.checking) return;
    const before = this.situation!;
    const step = check.press(digit);
    if (step.kind === 'digit' || (step.kind === 'ignored' && check.method === 'dob')) {
      this.armMenu();
      return;
    }
    if (step.kind === 'ignored' || step.kind === 'restart' || step.kind === 'incomplete') {
      return this.askAgain(afterIdentityKey(this.o.script, step, this.situation!) ?? repeatMenu(this.o.script, this.situation!));
    }
    try {
      await this.settleIdentity(step, 'keypad');
    } catch (err) {
      this.o.log.error({ err, result: step.kind }, 'identity check not saved');
      this.problems.push(`identity check not saved: ${(err as Error).message}`);
      return this.askAgain(checkNotSaved(this.o.script, this.situation!));
    }
    // Someone else answered: the message names whom we called for.
    const u = afterIdentityKey(this.o.script, step, step.kind === 'declined' ? before : this.situation!)!;
    if (step.kind === 'declined') return this.endWith(u);
    return this.askAgain(u);
  }

  /**
   * Saves an attempt of the identity check (`how`: keypad or voice) and what it leads to — the
   * patient on the record and their situation, or `not_verified` — then the call goes on from it.
   * @throws the store's error: then the attempt is taken back (it did not count), nothing changed.
   */
  private async settleIdentity(step: IdentityStep, how: 'keypad' | 'voice'): Promise<void> {
    const check = this.check!;
    const recorder = this.recorder!;
    const at = new Date();
    const direction: CallDirection = this.situation!.direction;
    try {
      switch (step.kind) {
        case 'verified': {
          const { patient, appointment } = step.who;
          await recorder.event('identity_verified', `attempt ${step.attempt} of ${VERIFY_ATTEMPTS}, by ${how}`, at);
          if (!this.o.outbound) await this.o.store.identifyCall(recorder.id, patient.id, appointment?.id ?? null);
          const now = situationOf(direction, step.who);
          const initial = initialOutcome(now);
          if (initial) await recorder.setOutcome(initial);
          this.situation = now;
          break;
        }
        case 'wrong':
        case 'failed':
          await recorder.event('identity_failed', `attempt ${step.attempt} of ${VERIFY_ATTEMPTS}, by ${how}: ${FAILURE_WORDS[step.why]}`, at);
          if (step.kind === 'failed') {
            await recorder.setOutcome('not_verified');
            this.situation = { kind: 'not_verified', direction };
          }
          break;
        case 'declined':
          await recorder.event('identity_declined', `the person who answered is not the patient (${how})`, at);
          await recorder.setOutcome('not_verified');
          this.situation = { kind: 'not_verified', direction };
          break;
        default:
          return;
      }
    } catch (err) {
      check.undo(step);
      throw err;
    }
    this.o.log.info({ result: step.kind, how, attempts: check.attempts }, 'identity check');
  }

  /**
   * The patient we called pressed the opt-out key: the number we dialed goes on the do-not-call list
   * with the call's outcome (one transaction), then they hear so and the call ends. When it cannot
   * be saved: an apology and the choices again — never "we will not call" unsaved.
   */
  private async optOutByKey(key: KeyMeaning, at: Date): Promise<void> {
    const has = hasAppointment(this.situation!);
    try {
      await this.optOut('keypad');
    } catch (err) {
      this.o.log.error({ err, digit: key.digit }, 'key press not saved');
      this.problems.push(`key ${key.digit} not saved: ${(err as Error).message}`);
      await Promise.all([this.saveKey(key.digit, 'failed', at), this.askAgain(notSaved(this.o.script, key.digit, has))]);
      return;
    }
    await this.saveKey(key.digit, key.action, at);
    return this.endWith(afterKey(this.o.script, key));
  }

  /**
   * Puts the number this call dialed on the do-not-call list, with the outcome `opted_out`.
   * @throws Error when the call has no number to list, or the store's error: nothing was saved.
   */
  private async optOut(how: 'keypad' | 'voice'): Promise<void> {
    if (!this.phone) throw new Error('this call has no valid number to put on the do-not-call list');
    const added = await this.o.store.doNotCall.optOutFromCall(this.recorder!.id, this.phone, how);
    this.o.log.info({ how, added }, 'number put on the do-not-call list');
  }

  /**
   * The caller asked for a person (`digit`, the operator key): put through to the front desk when
   * there is one and it is open, else — or when it does not take the call — asked for a message.
   * The request is saved before anything is said; the transfer's result before what follows it.
   */
  private async reachDesk(digit: string, at: Date): Promise<void> {
    const recorder = this.recorder!;
    try {
      await recorder.setOutcome('operator_requested');
    } catch (err) {
      this.o.log.error({ err, digit }, 'key press not saved');
      this.problems.push(`key ${digit} not saved: ${(err as Error).message}`);
      await Promise.all([this.saveKey(digit, 'failed', at), this.askAgain(notSaved(this.o.script, digit, hasAppointment(this.situation!)))]);
      return;
    }
    await this.saveKey(digit, 'operator', at);
    this.o.log.info({ digit, action: 'operator', desk: this.deskState(at) }, 'key pressed');
    const state = this.deskState(at);
    if (state !== 'connecting') return this.takeMessage(state);
    return this.transferToDesk();
  }

  /** Whether the caller can be put through now, or why not. */
  private deskState(at: Date): 'connecting' | DeskUnavailable {
    const desk = this.o.desk;
    if (!desk) return 'no_desk';
    return desk.isOpen(at) ? 'connecting' : 'closed';
  }

  /**
   * "Please hold" (unless a voice model said it already, `announce` false), the transfer, its result
   * saved; accepted → the agent's part is over, else a message.
   */
  private async transferToDesk(announce = true, summary?: string): Promise<void> {
    const recorder = this.recorder!;
    const desk = this.o.desk!;
    this.set('transfer');
    if (announce) await this.sayOrLog(connecting(this.o.script), 'connecting words');
    const result = await desk.transfer(this.party!.identity, deskBriefing(this.o.script, this.situation!, this.phone, summary));
    const accepted = result.status === 'accepted';
    this.o.log.info({ status: result.status, detail: result.detail }, 'transfer to the front desk');
    try {
      await this.o.store.recordTransfer(recorder.id, { status: result.status, target: desk.target, detail: result.detail, outcome: accepted ? 'transferred' : 'transfer_failed' });
    } catch (err) {
      this.o.log.error({ err }, 'transfer result not saved');
      this.problems.push(`transfer ${result.status} not saved: ${(err as Error).message}`);
    }
    if (accepted) {
      // Warm: caller and desk talk in this room, which must outlive the agent.
      this.handedOver = desk.warm;
      void this.close('transferred to the front desk');
      return;
    }
    if (!this.closing) return this.takeMessage('failed');
  }

  /**
   * Nobody at the desk can take the call: keypad mode records the caller's message (# ends it) and
   * saves it with its notification, then says it is saved; a voice model is asked to take it with its
   * `take_message` tool.
   */
  private async takeMessage(why: DeskUnavailable): Promise<void> {
    const u = leaveMessage(this.o.script, why, !this.phone ? 'none' : this.o.web ? 'on_file' : 'caller_id');
    if (this.speaker?.mode !== 'keypad') {
      await this.askAgain(u);
      return;
    }
    const box = this.o.messages!;
    const recorder = this.recorder!;
    this.set('message');
    await this.sayOrLog({ text: this.o.script.deskUnavailable(why), facts: u.facts }, 'message prompt');
    const callback = await this.askCallback();
    if (this.closing) return;
    await this.sayOrLog({ text: this.o.script.recordNow(), facts: '' }, 'message prompt');
    if (this.closing) return;
    this.stopRecording = new AbortController();
    let said: Utterance;
    try {
      const rec = await box.record(this.party!.identity, this.stopRecording.signal);
      if (this.closing && !rec.spoke) return;
      if (!rec.spoke) {
        said = { text: this.o.script.noMessage(), facts: '' };
      } else {
        const patientId = this.situation && 'patient' in this.situation ? this.situation.patient.id : null;
        await this.o.store.messages.save({ callId: recorder.id, patientId, callbackE164: callback, recordingPath: rec.path, recordingMs: rec.ms, via: 'keypad' }, box.notify);
        this.o.log.info({ ms: rec.ms, notify: box.notify }, 'message saved');
        said = { text: this.o.script.messageSaved(), facts: '' };
      }
    } catch (err) {
      this.o.log.error({ err }, 'message not saved');
      this.problems.push(`message not saved: ${(err as Error).message}`);
      said = { text: this.o.script.messageNotSaved(), facts: '' };
    }
    if (this.closing) return;
    await this.endWith(said);
  }

  /**
   * Which number staff should call back, asked on the keypad before a message: the caller ID, kept
   * with 1 (or by pressing nothing for {@link CALLBACK_WAIT_MS}), or — after 2, or when there is no
   * caller ID — another number keyed in and ended with #, in E.164 (PHONE_DEFAULT_COUNTRY for a number
   * without its country code). Two tries at a number that is not one; then the caller ID, or none.
   */
  private async askCallback(): Promise<string | null> {
    const own = this.phone ?? null;
    const s = this.o.script;
    /** Says `text`, then waits for the caller's answer in `mode`; silence counts as keeping the number. */
    const ask = async (text: string, mode: 'choice' | 'digits'): Promise<string> => {
      await this.sayOrLog({ text, facts: '' }, 'callback question');
      let timer: NodeJS.Timeout | undefined;
      return new Promise<string>((resolve) => {
        const entry = { mode, digits: '', done: (a: string) => (clearTimeout(timer), (this.callbackEntry = undefined), resolve(a)) };
        this.callbackEntry = entry;
        timer = setTimeout(() => entry.done(entry.digits || 'keep'), CALLBACK_WAIT_MS);
      });
    };
    if (own && (await ask(s.callbackIs(own.slice(-4)), 'choice')) === 'keep') return own;
    for (let attempt = 0; attempt < 2 && !this.closing; attempt++) {
      const answer = await ask(s.callbackAsk(), 'digits');
      if (answer === 'keep') return own;
      const entered = toE164(answer, this.o.country);
      if (entered) {
        this.o.log.info({ changed: entered !== own }, 'callback number given');
        return entered;
      }
      await this.sayOrLog({ text: s.callbackInvalid(), facts: '' }, 'callback question');
    }
    return own;
  }

  /** Saves a key press; a failure is logged, not thrown: what the key changed is saved already, or was apologised for. */
  private async saveKey(digit: string, action: KeypadAction, at: Date): Promise<void> {
    await this.recorder!.recordKey(digit, action, at).catch((err: unknown) => this.o.log.error({ err, digit, action }, 'key press could not be logged'));
  }

  /** Says `u`, then waits for the caller's choice again (the menu timer re-armed). */
  private async askAgain(u: Utterance): Promise<void> {
    this.answered = false;
    await this.sayOrLog(u, 'answer to a key');
    this.listen();
  }

  /** Says `u`; a failure to play is logged, never thrown (the caller's next step must still come). */
  private sayOrLog(u: Utterance, what: string): Promise<void> {
    return this.speaker!.say(u).catch((err: unknown) => this.o.log.warn({ err }, `${what} did not play`));
  }

  /** The call reached its maximum length: the agent stops, says goodbye, hangs up. */
  private onTimeLimit(): void {
    if (this.closing || this.isEnding) return;
    this.o.log.warn({ maxDurationMs: this.o.maxDurationMs, state: this.phase }, 'call reached its time limit');
    if (!this.speaker || !this.recorder || this.beforeGreeting) {
      void this.close('call reached its time limit', { error: 'the call reached its time limit before it was up', failed: true });
      return;
    }
    this.speaker.interrupt();
    this.enqueue(() => (this.isEnding ? Promise.resolve() : this.endWith(timeLimit(this.o.script))));
  }

  private onLeft(identity: string, reason = 'unknown'): void {
    if (!this.party) {
      this.left.set(identity, reason);
      return;
    }
    if (identity !== this.party.identity || this.ringing) return;
    void this.close(`participant left (reason ${reason})`);
  }

  /** The voice model was lost and keypad mode takes over: saved at once, then the caller is told and offered the keypad menu. */
  private onModelLost(why: string, at: Date): void {
    this.modelLost = modelLostError(why);
    this.note('voice_lost', why, at);
    // Before the greeting there is nothing to tell: the greeting itself comes in keypad mode.
    if (this.beforeGreeting) return;
    this.enqueue(async () => {
      if (this.isEnding) return;
      await this.askAgain(modelLostNotice(this.o.script, this.situation!));
    });
  }

  /**
   * Saves what happened to the voice the moment it happened (the record's `call_events`), not at
   * the close: a call that ends meanwhile still has it. Closing waits for it (bounded).
   */
  private note(kind: CallEventKind, why: string, at: Date): void {
    const write = (async () => {
      const recorder = this.recorder ?? (await this.opening);
      await recorder?.event(kind, why, at);
    })().catch((err: unknown) => this.o.log.error({ err, kind }, 'voice event not saved'));
    this.notes.push(write);
  }

  /** What the voice model's tools work on: this call's record and situation, and the call told of each change and identity answer. */
  private toolScope(): ToolScope {
    const recorder = this.recorder!;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const call = this;
    return {
      store: this.o.store,
      callId: recorder.id,
      get situation() {
        return call.situation!;
      },
      // No identity tool when there is nothing to check (no check, or it cannot pass: no date of birth on file).
      identity: this.situation?.kind === 'unverified' ? this.check?.method : undefined,
      log: this.o.log,
      changed: async (outcome) => {
        await recorder.setOutcome(outcome);
        this.receive({ type: 'tool_outcome', outcome });
      },
      ...(this.o.outbound && {
        optOut: async () => {
          await this.optOut('voice');
          this.receive({ type: 'tool_outcome', outcome: 'opted_out' });
        },
      }),
      verify: async (answer) => {
        const check = this.check;
        if (!check || !this.checking) return { kind: 'ignored' };
        const step = 'dateOfBirth' in answer ? check.spokenDate(answer.dateOfBirth) : check.answer(answer.isPatient);
        await this.settleIdentity(step, 'voice');
        return step;
      },
      ...(this.o.messages && {
        reachDesk: async (summary) => {
          await recorder.setOutcome('operator_requested');
          const state = this.deskState(new Date());
          this.o.log.info({ tool: 'transfer_to_operator', desk: state }, 'tool ran');
          // The model's turn ends with the tool's answer; the transfer goes on after it, in turn with keys.
          if (state === 'connecting') this.enqueue(() => this.transferToDesk(false, summary));
          return state;
        },
        leaveMessage: async (m) => {
          const callback = m.callbackNumber ? toE164(m.callbackNumber, this.o.country) : (this.phone ?? null);
          if (m.callbackNumber && !callback) return 'bad_number';
          const patientId = this.situation && 'patient' in this.situation ? this.situation.patient.id : null;
          await this.o.store.messages.save({ callId: recorder.id, patientId, callerName: m.callerName, callbackE164: callback ?? null, reason: m.reason, via: 'voice' }, this.o.messages!.notify);
          this.o.log.info({ tool: 'take_message', notify: this.o.messages!.notify }, 'message saved');
          return 'saved';
        },
      }),
    };
  }

  /** Waits for the caller: the keypad menu (with its silence timer) or the conversation with the model. */
  private listen(): void {
    this.set(this.speaker?.mode === 'keypad' ? 'menu' : 'conversation');
    this.armMenu();
  }

  /** Keypad mode only: silence after the menu repeats it once, then says goodbye. */
  private armMenu(repeats = 1): void {
    clearTimeout(this.timer);
    if (this.isEnding || this.answered || this.speaker?.mode !== 'keypad') return;
    this.timer = setTimeout(() => {
      this.enqueue(async () => {
        if (this.isEnding || this.answered) return;
        if (repeats > 0) {
          // A date half entered is forgotten: the prompt asks for all of it again.
          this.check?.clearEntry();
          await this.sayOrLog(repeatMenu(this.o.script, this.situation!), 'menu repeat');
          this.armMenu(repeats - 1);
        } else {
          await this.endWith(noChoiceGoodbye(this.o.script), initialOutcome(this.situation!) ?? 'no_response');
        }
      });
    }, this.o.menuTimeoutMs);
  }

  /**
   * Closing words, then the agent hangs up once they have played (keys meanwhile are only saved).
   * `outcome` is saved first; if it cannot be, the call still ends (the record keeps the error).
   */
  private async endWith(u: Utterance, outcome?: CallOutcome): Promise<void> {
    this.set('closing');
    clearTimeout(this.timer);
    if (outcome) {
      await this.recorder!.setOutcome(outcome).catch((err: unknown) => {
        this.o.log.error({ err }, 'outcome not saved');
        this.problems.push(`outcome ${outcome} not saved: ${(err as Error).message}`);
      });
    }
    await this.sayOrLog(u, 'closing words');
    await this.o.room.hangUp();
    void this.close('the agent hung up');
  }

  private async finish(why: string, end: CallEnd): Promise<CallEnded> {
    // A message being recorded ends with the call; what was said is still saved (the queue is waited for).
    this.stopRecording?.abort();
    this.set('closing');
    clearTimeout(this.timer);
    clearTimeout(this.limitTimer);
    await waitAtMost(Promise.all([this.queue, ...this.notes]), CLOSE_WAIT_MS);
    const recorder = this.recorder ?? (await this.opening?.catch(() => undefined));
    let record: CallRecord | undefined;
    try {
      const error = [end.error, this.modelLost, ...this.problems].filter(Boolean).join('; ') || undefined;
      record = await recorder?.close({ ...end, error });
    } catch (err) {
      this.o.log.error({ err }, 'the call record could not be closed');
    }
    this.o.log.info({ outcome: record?.outcome, why }, 'call ended');
    // Stop speaking to an empty room, and release the room, so the job process can exit now.
    await this.speaker?.close().catch((err: unknown) => this.o.log.warn({ err }, 'closing the voice session failed'));
    await (this.handedOver ? this.o.room.leave() : this.o.room.hangUp());
    this.unmaskName?.();
    this.set('closed');
    const ended = { record, why };
    this.resolveEnded(ended);
    return ended;
  }

  /** Runs `work` after what is queued; its failure is logged (`onError`), never left unhandled, and the queue goes on. */
  private enqueue(work: () => Promise<void>, onError: (err: unknown) => void = (err) => this.o.log.error({ err }, 'call step failed')): void {
    this.queue = this.queue.then(work).catch((err: unknown) => {
      try {
        onError(err);
      } catch {
        // a logger that throws must not stop the queue
      }
    });
  }

  /** The caller is proving who they are: keys go to the identity check. */
  private get checking(): boolean {
    return this.situation?.kind === 'unverified' && this.check?.status === 'pending';
  }

  /** Closing words are under way, or the call is closing or closed. */
  private get isEnding(): boolean {
    return this.phase === 'closing' || this.phase === 'closed';
  }

  private set(next: CallPhase): void {
    if (next === this.phase || this.phase === 'closed' || (this.phase === 'closing' && next !== 'closed')) return;
    this.o.log.debug({ from: this.phase, to: next }, 'call state');
    this.phase = next;
  }
}

/**
 * The caller's number exactly as LiveKit gave it: SIP caller ID. A web participant has none: what
 * it claims in its own attributes identifies nobody (a patient on the web comes from what the
 * server signs, never from the browser).
 */
function received(c: Connection): string | null {
  return c.kind === 'sip' ? (c.sip.phoneNumber ?? null) : null;
}

/** The caller's phone number, when there is one: SIP caller ID (see {@link received}). */
function phoneOf(c: Connection, country: CountryCode): string | undefined {
  return toE164(received(c) ?? undefined, country);
}

/** How an attempt failed, as saved with it. */
const FAILURE_WORDS: Record<Extract<IdentityStep, { kind: 'wrong' }>['why'], string> = {
  no_match: 'no patient with this number has that date of birth',
  not_a_date: 'not a date',
  ambiguous: 'two patients with this number share that date of birth',
};

/** How a caller in `direction` proves who they are; undefined: they need not. */
function methodFor(direction: 'inbound' | 'outbound', policy: IdentityPolicy): IdentityMethod | undefined {
  const method = direction === 'outbound' ? policy.outbound : policy.inbound;
  return method === 'none' ? undefined : method;
}

/** Of the patients with one number (a family), the one whose appointment comes first: whom caller ID picks when no check is asked for. */
function firstToCome(claimants: readonly CallerLookup[]): CallerLookup | undefined {
  const when = (c: CallerLookup) => c.appointment?.starts_at ?? '\uffff';
  return [...claimants].sort((a, b) => when(a).localeCompare(when(b)))[0];
}

/** What of a patient must never reach a log line: the name and its parts, and the date of birth as a date and as the keypad's 8 digits. */
function privateValuesOf({ patient }: CallerLookup): string[] {
  const values = [patient.name, ...patient.name.split(/\s+/)];
  const dob = patient.date_of_birth;
  if (dob) {
    const [y, m, d] = dob.split('-') as [string, string, string];
    values.push(dob, `${m}${d}${y}`, `${d}${m}${y}`, `${y}${m}${d}`);
  }
  return values;
}

/** Resolves when `p` settles (or is undefined) or after `ms`, whichever is first, leaving no timer behind. */
export async function waitAtMost(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
