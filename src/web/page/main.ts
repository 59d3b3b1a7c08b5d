/**
 * The visit page in the browser: asks for the microphone, asks the server for a visit (with the
 * visit link's token from the URL fragment, when there is one), joins the room with livekit-client,
 * plays and measures the assistant's voice, shows its state (`lk.agent.state`) and what is said (the
 * `lk.transcription` text streams), sends the on-screen keys as DTMF — which the call takes exactly
 * as a phone's keypad — and hangs up. Every failure is shown in words (./strings.ts).
 *
 * `window.visit` mirrors what the page shows (status, agent state, error, the assistant's level and
 * how long it was heard, the transcript), and `body[data-status]` the status, for tests and support.
 */
import {
  ConnectionState,
  createLocalAudioTrack,
  DisconnectReason,
  Room,
  RoomEvent,
  Track,
  type LocalAudioTrack,
  type Participant,
  type RemoteTrack,
  type TextStreamReader,
} from 'livekit-client';
import { stringsFor, type PageError, type PageState } from './strings.js';

/** What the server answers `POST /api/session` with (src/web/server.ts). */
interface Session {
  readonly url: string;
  readonly token: string;
  readonly room: string;
  readonly identity: string;
}

/** One line of the conversation. */
interface Line {
  readonly who: 'agent' | 'you';
  text: string;
  final: boolean;
}

/** What the page shows, for tests and support (see the header). */
interface VisitState {
  status: 'idle' | 'starting' | 'joined' | 'ended' | 'error';
  state: PageState;
  agentState?: string;
  error?: PageError;
  /** The loudest the assistant was, in dBFS (-Infinity before it spoke). */
  peakDbfs: number;
  /** How long the assistant's audio was above {@link HEARD_DBFS}, in ms. */
  heardMs: number;
  readonly transcript: Line[];
  /** Keys sent as DTMF, in order. */
  readonly keys: string[];
  room?: string;
  /** When each step was done, in ms after the visitor pressed Start: the visit answered, the room joined, the assistant first heard. */
  timings: { sessionMs?: number; joinedMs?: number; firstAudioMs?: number };
}

declare global {
  interface Window {
    visit: VisitState;
  }
}

/** The assistant counts as heard above this level, in dBFS: well above a silent track's noise floor. */
const HEARD_DBFS = -50;
/** How often the assistant's level is measured, in ms. */
const METER_EVERY_MS = 50;
/** How long the assistant has to join once the visitor is in the room before the page says it did not answer, in ms. */
const AGENT_JOIN_TIMEOUT_MS = 30_000;
/** RFC 4733 event codes of the keypad's * and # (digits are their own codes). */
const DTMF_CODES: Readonly<Record<string, number>> = { '*': 10, '#': 11 };

const language = document.body.dataset.language ?? 'en';
const t = stringsFor(language);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  state: $('state'),
  meter: $('meter').firstElementChild as HTMLElement,
  error: $('error'),
  start: $<HTMLButtonElement>('start'),
  call: $('call'),
  keys: $('keys'),
  hangup: $<HTMLButtonElement>('hangup'),
  conversation: $('conversation'),
  transcript: $('transcript'),
};

const visit: VisitState = (window.visit = { status: 'idle', state: 'idle', peakDbfs: -Infinity, heardMs: 0, transcript: [], keys: [], timings: {} });
/** When the visitor pressed Start (performance.now(), ms). */
let startedAt = 0;
const sinceStart = () => Math.round(performance.now() - startedAt);

/** The visit link's token: `#v=…` in the address (a fragment never reaches the server's logs). */
const linkToken = new URLSearchParams(location.hash.slice(1)).get('v') ?? undefined;

let room: Room | undefined;
let microphone: LocalAudioTrack | undefined;
let audio: AudioContext | undefined;
let meterTimer: number | undefined;
let agentTimer: number | undefined;
let hungUp = false;

function show(state: PageState): void {
  visit.state = state;
  ui.state.textContent = t.states[state];
  ui.state.dataset.state = state;
}

function setStatus(status: VisitState['status']): void {
  visit.status = status;
  document.body.dataset.status = status;
}

/** Ends the visit with `error` shown in words; the visitor may start again. */
function fail(error: PageError): void {
  visit.error = error;
  ui.error.textContent = t.errors[error];
  ui.error.hidden = false;
  setStatus('error');
  void leave();
  ui.state.textContent = '';
  ui.start.textContent = t.again;
  ui.start.hidden = false;
  ui.start.disabled = false;
}

/** Releases the microphone, the room and the meter. */
async function leave(): Promise<void> {
  clearInterval(meterTimer);
  clearTimeout(agentTimer);
  const r = room;
  room = undefined;
  await r?.disconnect().catch(() => undefined);
  microphone?.stop();
  microphone = undefined;
  ui.call.hidden = true;
  ui.meter.style.inlineSize = '0';
}

/** The microphone, with the browser's echo cancellation (the assistant's voice plays from the same device). */
async function openMicrophone(): Promise<LocalAudioTrack | PageError> {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) return 'insecure';
  try {
    return await createLocalAudioTrack({ echoCancellation: true, noiseSuppression: true, autoGainControl: true });
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'microphone_denied';
    return 'no_microphone';
  }
}

/** Asks the server for a visit: a room, the agent dispatched, a token. */
async function requestSession(): Promise<Session | PageError> {
  let response: Response;
  try {
    response = await fetch('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(linkToken ? { link: linkToken } : {}),
    });
  } catch {
    return 'server_unreachable';
  }
  const body = (await response.json().catch(() => undefined)) as (Session & { error?: string }) | undefined;
  if (response.ok && body?.token) return body;
  if (response.status === 403) return body?.error === 'expired' ? 'link_expired' : 'link_invalid';
  if (response.status === 503 || response.status === 429) return 'unavailable';
  return 'server_unreachable';
}

async function start(): Promise<void> {
  startedAt = performance.now();
  // Talking again starts a new conversation: the last one's lines and figures go.
  visit.timings = {};
  visit.transcript.splice(0);
  visit.keys.splice(0);
  visit.peakDbfs = -Infinity;
  visit.heardMs = 0;
  lines.clear();
  ui.transcript.replaceChildren();
  ui.conversation.hidden = true;
  ui.start.disabled = true;
  ui.error.hidden = true;
  visit.error = undefined;
  hungUp = false;
  setStatus('starting');
  // Made in the click, so the browser lets it play and measure the assistant's voice.
  audio ??= new AudioContext();
  void audio.resume();
  show('microphone');
  const mic = await openMicrophone();
  if (typeof mic === 'string') return fail(mic);
  microphone = mic;
  show('connecting');
  const session = await requestSession();
  if (typeof session === 'string') return fail(session);
  visit.timings.sessionMs = sinceStart();
  visit.room = session.room;
  const r = new Room({ adaptiveStream: false, dynacast: false });
  room = r;
  r.on(RoomEvent.TrackSubscribed, (track, _publication, participant) => onTrack(track, participant));
  r.on(RoomEvent.ParticipantConnected, (p) => onParticipant(p));
  r.on(RoomEvent.ParticipantAttributesChanged, (_changed, p) => onParticipant(p));
  r.on(RoomEvent.Disconnected, (reason) => onDisconnected(r, reason));
  r.registerTextStreamHandler('lk.transcription', (reader, from) => void onTranscript(reader, from.identity));
  try {
    await r.connect(session.url, session.token, { autoSubscribe: true });
    await r.localParticipant.publishTrack(mic, { source: Track.Source.Microphone });
  } catch {
    if (room === r) return fail('connection_failed');
    return;
  }
  visit.timings.joinedMs = sinceStart();
  setStatus('joined');
  ui.start.hidden = true;
  ui.call.hidden = false;
  show('waiting');
  for (const p of r.remoteParticipants.values()) onParticipant(p);
  agentTimer = window.setTimeout(() => {
    if (room === r && !agentOf(r)) fail('no_agent');
  }, AGENT_JOIN_TIMEOUT_MS);
}

const agentOf = (r: Room): Participant | undefined => [...r.remoteParticipants.values()].find((p) => p.isAgent);

/** The assistant's state, from the attribute the agents framework keeps on its participant. */
function onParticipant(p: Participant): void {
  if (!p.isAgent) return;
  clearTimeout(agentTimer);
  const state = p.attributes['lk.agent.state'];
  visit.agentState = state;
  if (state === 'listening' || state === 'thinking' || state === 'speaking') show(state);
}

/** The assistant's audio: played, and measured on its way to the speaker. */
function onTrack(track: RemoteTrack, participant: Participant): void {
  if (track.kind !== Track.Kind.Audio || !participant.isAgent) return;
  const element = track.attach();
  element.hidden = true;
  document.body.append(element);
  if (!audio) return;
  const analyser = audio.createAnalyser();
  analyser.fftSize = 1024;
  audio.createMediaStreamSource(new MediaStream([track.mediaStreamTrack])).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  clearInterval(meterTimer);
  meterTimer = window.setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    const dbfs = 10 * Math.log10(sum / samples.length || 1e-12);
    visit.peakDbfs = Math.max(visit.peakDbfs, dbfs);
    if (dbfs > HEARD_DBFS) {
      visit.timings.firstAudioMs ??= sinceStart();
      visit.heardMs += METER_EVERY_MS;
    }
    ui.meter.style.inlineSize = `${Math.max(0, Math.min(100, (dbfs + 60) * (100 / 60)))}%`;
  }, METER_EVERY_MS);
}

/** A transcription stream: the assistant's words as they are spoken (deltas), the visitor's once transcribed. */
async function onTranscript(reader: TextStreamReader, identity: string): Promise<void> {
  const who = identity === room?.localParticipant.identity ? 'you' : 'agent';
  const segment = reader.info.attributes?.['lk.segment_id'] ?? reader.info.id;
  const final = reader.info.attributes?.['lk.transcription_final'] === 'true';
  const line = lineFor(segment, who);
  // A final transcript of the visitor replaces what was shown; the assistant's text arrives in pieces.
  if (who === 'you') line.text = '';
  for await (const chunk of reader) {
    line.text += chunk;
    render(segment, line);
  }
  line.final = final || line.final;
  render(segment, line);
}

const lines = new Map<string, { line: Line; item: HTMLLIElement }>();

function lineFor(segment: string, who: Line['who']): Line {
  const known = lines.get(segment);
  if (known) return known.line;
  const line: Line = { who, text: '', final: false };
  const item = document.createElement('li');
  item.className = who;
  const label = document.createElement('span');
  label.className = 'who';
  label.textContent = who === 'you' ? t.you : t.assistant;
  const text = document.createElement('span');
  // Each line in its own direction: English words in an Arabic page (or the reverse) keep their punctuation where it belongs.
  text.dir = 'auto';
  text.className = 'text';
  item.append(label, text);
  ui.transcript.append(item);
  ui.conversation.hidden = false;
  lines.set(segment, { line, item });
  visit.transcript.push(line);
  return line;
}

function render(segment: string, line: Line): void {
  const item = lines.get(segment)?.item;
  if (!item) return;
  (item.lastElementChild as HTMLElement).textContent = line.text;
  item.scrollIntoView({ block: 'nearest' });
}

function onDisconnected(r: Room, reason?: DisconnectReason): void {
  if (room !== r) return;
  void leave();
  if (hungUp || reason === DisconnectReason.CLIENT_INITIATED) {
    show('hungUp');
  } else if (reason === DisconnectReason.ROOM_DELETED || reason === DisconnectReason.PARTICIPANT_REMOVED || reason === DisconnectReason.ROOM_CLOSED) {
    show('ended');
  } else {
    return fail('connection_lost');
  }
  setStatus('ended');
  ui.start.textContent = t.again;
  ui.start.hidden = false;
  ui.start.disabled = false;
}

/** An on-screen key: sent as DTMF, which the call takes as a key pressed on a phone. */
async function press(digit: string): Promise<void> {
  const r = room;
  if (!r || r.state !== ConnectionState.Connected) return;
  visit.keys.push(digit);
  await r.localParticipant.publishDtmf(DTMF_CODES[digit] ?? Number(digit), digit);
}

ui.start.addEventListener('click', () => void start().catch(() => fail('connection_failed')));
ui.hangup.addEventListener('click', () => {
  hungUp = true;
  void room?.disconnect();
});
ui.keys.addEventListener('click', (ev) => {
  const key = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-digit]');
  if (key?.dataset.digit) void press(key.dataset.digit);
});
window.addEventListener('pagehide', () => void leave());
