/**
 * Outbound confirmation calls end to end: `make outbound-calls` (the real script) creates a room
 * per call and dispatches the real worker with the appointment; the worker dials through an
 * outbound trunk that points at a SIPp callee on 127.0.0.1, and saves every outcome.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DateTime } from 'luxon';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dialerEnv as envForDialer, runDialer, startDialer } from '../../devtools/dialer.js';
import { callScript } from '../../src/call/index.js';
import { writeOutboundMetadata } from '../../src/worker/metadata.js';
import { addPatient } from '../../devtools/patients.js';
import { personAnswering, voicemailGreeting } from '../../devtools/audio.js';
import { clients, provisionOutbound, type Clients, type OutboundRoute } from '../../devtools/livekit.js';
import { rmsDbfs, SILENCE_DBFS } from '../../devtools/rtp.js';
import { audioBetween, firstHeardAfter, firstSpeech, recognizeAmong, recognizeBeginning, speechWords } from '../../devtools/speech-check.js';
import { freePorts, SipCallee } from '../../devtools/sipp.js';
import { REPO_ROOT } from '../../devtools/stack.js';
import { CALLER_ID_ONLY, callProcessPid, heardOut, loggedAt, nextLogged, startWorker, type TestWorker } from '../../devtools/worker.js';
import { processAlive, waitFor } from '../../devtools/wait.js';

const run = promisify(execFile);
const prompts = callScript('Main Street Clinic');
/** The clinic's number, said in the voicemail message. */
const CLINIC_NUMBER = '+14155550100';

describe('outbound confirmation calls', () => {
  let c: Clients;
  let worker: TestWorker;
  let trunk: OutboundRoute;
  let calleePort: number;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    c = clients();
    calleePort = (await freePorts()) + 3;
    trunk = await provisionOutbound(c, calleePort);
    worker = await startWorker('outbound', { ...CALLER_ID_ONLY, OUTBOUND_TRUNK_ID: trunk.trunkId, OUTBOUND_RINGING_TIMEOUT_S: '6', TELNYX_PHONE_NUMBER: CLINIC_NUMBER });
  });
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
  });
  afterAll(async () => {
    await worker?.stop();
    await trunk?.remove();
  });

  const appointment = (name?: string) => addPatient(worker.store, { name });

  async function callee(opts: Omit<Parameters<typeof SipCallee.listen>[0], 'port'>) {
    const cal = await SipCallee.listen({ ...opts, port: calleePort });
    cleanup.push(() => cal.kill());
    return cal;
  }

  /** What the dialer needs (devtools/dialer.ts), with the test trunk's short ringing timeout. */
  const dialerEnv = (extra: Record<string, string> = {}) => envForDialer(c.stack, worker, trunk.trunkId, { OUTBOUND_RINGING_TIMEOUT_S: '6', ...extra });

  /** A CSV of `rows` (after the header) in a new folder. */
  function csvOf(rows: string[]) {
    const csv = join(mkdtempSync(join(tmpdir(), 'outbound-')), 'calls.csv');
    writeFileSync(csv, ['phone_number,appointment_id', ...rows].join('\n') + '\n');
    return csv;
  }

  /**
   * Runs `make outbound-calls` with a CSV of `rows`, --json, no delay and one attempt per patient
   * (later `args` override these); its exit code, events, calls and summary.
   */
  async function outboundCalls(rows: string[], args: string[] = [], env: Record<string, string> = {}) {
    const csv = csvOf(rows);
    return { ...(await runDialer([csv, '--json', '--delay-s', '0', '--max-attempts', '1', ...args], dialerEnv(env))), csv };
  }

  it('the patient answers and presses 1: confirmed and saved; they heard the greeting; the agent was there first', async () => {
    const a = await appointment();
    const other = await appointment('James Wilson');
    const phone = await callee({ answer: { kind: 'answer', afterMs: 1500 }, audioFile: personAnswering(), cued: ['1'], hangupAfterMs: 120_000, timeoutS: 240 });
    // 1 once the whole greeting has been heard.
    const greetings = loggedAt(worker, 'greeting caller').length;
    const dialing = outboundCalls([`${a.phone},${a.appointmentId}`]);
    await heardOut(await nextLogged(worker, 'greeting caller', greetings), prompts.greeting(a.name, a.appointment, 'outbound'));
    await phone.press();
    const r = await dialing;
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.map((x) => x.outcome)).toEqual(['confirmed']);
    expect(r.report!.summary).toMatchObject({ targets: 1, placed: 1, answered: 1, confirmed: 1, skipped: 0, pending: 0 });
    expect((await worker.store.getAppointment(a.appointmentId))?.status).toBe('confirmed');

    const result = await phone.result();
    expect(result.exitCode, result.log).toBe(0);
    const record = (await worker.store.callsInRoom(r.calls[0]!.room))[0]!;
    expect(record).toMatchObject({ direction: 'outbound', outcome: 'confirmed', appointment_id: a.appointmentId, phone_e164: a.phone });
    // The agent's job started (and opened the record) before the phone even rang.
    const invite = result.sip.find((m) => m.firstLine.startsWith('INVITE'))!;
    expect(invite.firstLine).toContain(a.phone);
    expect(Date.parse(record.started_at)).toBeLessThan(invite.timeMs);
    // The callee heard the agent speak first, and it was the outbound greeting.
    expect(rmsDbfs(result.audio)).toBeGreaterThan(SILENCE_DBFS);
    const speech = firstSpeech(result.audio, 8000)!;
    expect(
      await recognizeAmong(result.audio.subarray(speech.start, speech.end), 8000, [
        prompts.greeting(a.name, a.appointment, 'outbound'),
        prompts.greeting(other.name, other.appointment, 'outbound'),
        prompts.greeting(a.name, a.appointment, 'inbound'),
      ]),
    ).toBe(speechWords(prompts.greeting(a.name, a.appointment, 'outbound')));
    // The room is gone.
    expect((await c.rooms.listRooms([r.calls[0]!.room])).length).toBe(0);
  });

  it('an answering machine (greeting, then a beep): voicemail saved; the message starts after the beep, then the agent hangs up', async () => {
    const a = await appointment();
    const greeting = voicemailGreeting();
    const machine = await callee({ answer: { kind: 'answer', afterMs: 500 }, audioFile: greeting.file, hangupAfterMs: 60_000, timeoutS: 120 });
    const r = await outboundCalls([`${a.phone},${a.appointmentId}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.map((x) => x.outcome)).toEqual(['voicemail']);
    expect(r.report!.summary).toMatchObject({ placed: 1, answered: 0, voicemail: 1, failed: {} });
    expect((await worker.store.getAppointment(a.appointmentId))?.status).toBe('scheduled');

    const result = await machine.result();
    // The agent hung up (BYE from livekit-sip), well before the machine's own 60 s.
    expect(result.sip.some((m) => m.firstLine.startsWith('BYE'))).toBe(true);
    // The machine's stream starts with its 200 OK: the beep ends greeting.beepEndMs later.
    const ok = result.sip.find((m) => m.firstLine.startsWith('SIP/2.0 200') && /INVITE/.test(m.text ?? m.firstLine))?.timeMs ?? result.sip.find((m) => m.firstLine.startsWith('SIP/2.0 200'))!.timeMs;
    const beepEnd = ok + greeting.beepEndMs;
    // Nothing was said over the greeting; the message came after the beep, from its first words.
    const before = audioBetween(result, ok, beepEnd - 100);
    expect(firstSpeech(before, 8000), 'the agent spoke over the greeting').toBeUndefined();
    const after = audioBetween(result, beepEnd - 100);
    const speech = firstSpeech(after, 8000);
    expect(speech, 'no message after the beep').toBeDefined();
    const message = prompts.voicemail(CLINIC_NUMBER);
    const heard = await recognizeBeginning(after.subarray(speech!.start, speech!.end), 8000, [message, prompts.greeting(a.name, a.appointment, 'outbound')]);
    // Its beginning at least ("hello this is main street…"), which the greeting's second word already leaves.
    expect(heard.split(' ').length, heard).toBeGreaterThanOrEqual(5);
    expect(speechWords(message).startsWith(heard), heard).toBe(true);
    // The saved record, and the worker's reason, without the number.
    const record = (await worker.store.callsInRoom(r.calls[0]!.room))[0]!;
    expect(record).toMatchObject({ direction: 'outbound', outcome: 'voicemail' });
    expect(worker.output()).toMatch(/answering machine/);
  });

  /** A room as the dialer makes one, and a dispatch of this worker into it with `metadata`. */
  async function dispatchWith(metadata: string) {
    const room = `confirm-test-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
    await c.rooms.createRoom({ name: room, emptyTimeout: 60 });
    cleanup.push(() => c.rooms.deleteRoom(room));
    await c.dispatch.createDispatch(room, worker.agentName, { metadata });
    return room;
  }

  it.each([
    ['{bad json', /job refused, nothing dialed: job metadata is not JSON/],
    ['{"direction":"outbound","appointmentId":5,"phoneNumber":"+14155550101"}', /job refused, nothing dialed: job metadata: appointmentId /],
  ])('a job with metadata %s ends at once: one line naming what is wrong, the room deleted, no call', async (metadata, line) => {
    const room = await dispatchWith(metadata);
    const refused = await waitFor('the refusal', () => worker.output().split('\n').find((l) => line.test(l) && l.includes(room.slice(-6))), 20_000, worker.output);
    expect(JSON.parse(refused)).toMatchObject({ level: 50 });
    // The room is gone at once (nobody waits in it) and no call record was opened.
    await waitFor('the room deleted', async () => (await c.rooms.listRooms([room])).length === 0, 5000);
    expect(await worker.store.callsInRoom(room)).toEqual([]);
    // Its job process is not held: it has exited.
    const pid = (JSON.parse(refused) as { pid: number }).pid;
    expect(await waitFor(`job process ${pid} to exit`, () => !processAlive(pid), 10_000)).toBe(true);
  });

  it('an outbound job naming a number that is not the patient\'s: nothing dialed, the record says why', async () => {
    const a = await appointment();
    const phone = await callee({ answer: { kind: 'answer', afterMs: 500 }, hangupAfterMs: 5000, timeoutS: 10 });
    const room = await dispatchWith(writeOutboundMetadata({ appointmentId: a.appointmentId, phoneNumber: '+14155550999' }));
    const record = await waitFor('the record closed', async () => (await worker.store.callsInRoom(room)).find((r) => r.ended_at), 20_000, worker.output);
    expect(record).toMatchObject({ outcome: 'failed', phone_e164: a.phone, appointment_id: a.appointmentId });
    expect(record.error).toMatch(/not the number on file for the appointment's patient; nothing dialed/);
    const result = await phone.result();
    expect(result.sip.filter((m) => m.firstLine.startsWith('INVITE'))).toEqual([]);
  });

  it.each([
    [{ kind: 'reject', status: 486 } as const, 'busy', 486],
    [{ kind: 'reject', status: 480 } as const, 'no_answer', 480],
    [{ kind: 'never' } as const, 'no_answer', null],
  ])('%j → %s, saved with its SIP status; job and room gone', async (answer, outcome, status) => {
    const a = await appointment();
    await callee({ answer });
    const r = await outboundCalls([`${a.phone},${a.appointmentId}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls[0]).toMatchObject({ outcome, sipStatus: status });
    expect(r.report!.summary.failed).toEqual({ [outcome]: 1 });
    expect((await worker.store.getAppointment(a.appointmentId))?.status).toBe('scheduled');
    expect((await c.rooms.listRooms([r.calls[0]!.room])).length).toBe(0);
    const ended = worker.output().split('\n').filter((l) => l.includes('"msg":"call ended"') && l.includes('dial failed'));
    expect(ended.length).toBeGreaterThan(0);
    // The job's process is released at once: its session does not wait for a subscriber that never came (it held ~75 s before).
    const pid = callProcessPid(worker, r.calls[0]!.room);
    await waitFor(`the job process ${pid} to exit`, () => !processAlive(pid), 10_000, worker.output);
  });

  it('a CSV with one invalid and two valid rows: two calls, the bad line named, the summary right', async () => {
    const [a, b] = [await appointment(), await appointment()];
    await callee({ answer: { kind: 'reject', status: 486, afterMs: 200 }, calls: 2 });
    const r = await outboundCalls([`${a.phone},${a.appointmentId}`, `555-not-a-number,${b.appointmentId}`, `${b.phone},${b.appointmentId}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`skipped ${r.csv} line 3: phone_number "555-not-a-number" is not a valid phone number`);
    expect(r.calls.map((x) => x.appointmentId).sort()).toEqual([a.appointmentId, b.appointmentId].sort());
    expect(r.report!.summary).toMatchObject({ placed: 2, answered: 0, confirmed: 0, failed: { busy: 2 }, skipped: 1 });
  });

  it('pacing: starts at least the delay apart; never more calls at once than the cap', async () => {
    const three = [await appointment(), await appointment(), await appointment()];
    await callee({ answer: { kind: 'reject', status: 486, afterMs: 200 }, calls: 3 });
    const paced = await outboundCalls(three.map((x) => `${x.phone},${x.appointmentId}`), ['--delay-s', '2']);
    expect(paced.code, paced.stderr).toBe(0);
    // When each call was claimed (the dialer paces its claims; the worker's record starts later).
    const starts = paced.events.filter((e) => e.event === 'dialing').map((e) => Date.parse(e.at as string)).sort((p, q) => p - q);
    expect(starts).toHaveLength(3);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(2000);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(2000);

    const four = [await appointment(), await appointment(), await appointment(), await appointment()];
    await callee({ answer: { kind: 'answer', afterMs: 500 }, audioFile: personAnswering(), hangupAfterMs: 2500, calls: 4 });
    const capped = await outboundCalls(four.map((x) => `${x.phone},${x.appointmentId}`), ['--concurrency', '2']);
    expect(capped.code, capped.stderr).toBe(0);
    // The dialer's own spans: each call from its claim to the dialer reading its outcome (the worker's
    // records start later, once a job process is free, and may not overlap when the cap is met).
    const claimed = new Map(capped.events.filter((e) => e.event === 'dialing').map((e) => [e.room as string, Date.parse(e.at as string)]));
    const spans = capped.calls.map((x) => [claimed.get(x.room)!, Date.parse(x.at as string)] as const);
    expect(spans).toHaveLength(4);
    const overlapAt = (t: number) => spans.filter(([s, e]) => s <= t && t < e).length;
    const most = Math.max(...spans.map(([s]) => overlapAt(s)));
    expect(most).toBe(2);
  });

  /** The numbers the callee was dialed at, in order (the Request-URI's user of each INVITE). */
  const dialedNumbers = (result: { sip: readonly { firstLine: string }[] }) =>
    result.sip.filter((m) => m.firstLine.startsWith('INVITE')).map((m) => /^INVITE sip:([^@;]+)/.exec(m.firstLine)?.[1]);

  describe('campaigns', () => {
    it("calling hours: a patient whose hours have not begun in their own zone is deferred and dialed once they open, not before; a number on the do-not-call list is never dialed", async () => {
      // A zone where the day is under way (not near midnight), stored as the patient's own.
      const zone = ['America/Los_Angeles', 'Europe/London', 'Asia/Tokyo', 'America/New_York'].find((z) => {
        const h = DateTime.now().setZone(z).hour;
        return h >= 1 && h <= 21;
      })!;
      const a = await appointment();
      await worker.store.upsertPatient({ id: a.patientId, name: a.name, phoneE164: a.phone, timezone: zone });
      const listed = await appointment();
      // Listed with the real `make dnc`.
      const dnc = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'dnc.ts'), 'add', listed.phone, '--reason', 'asked by letter'], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, ...dialerEnv() } });
      expect(dnc.stdout).toMatch(/added to the do-not-call list/);
      // The patient's calling hours open at the next whole minute there, at least 15 s from now.
      const opens = DateTime.now().setZone(zone).plus({ seconds: 15 }).startOf('minute').plus({ minutes: 1 });
      const phone = await callee({ answer: { kind: 'answer', afterMs: 300 }, audioFile: personAnswering(), hangupAfterMs: 3000, timeoutS: 240 });
      const r = await outboundCalls([`${a.phone},${a.appointmentId}`, `${listed.phone},${listed.appointmentId}`], ['--calling-hours', `Mon-Sun ${opens.toFormat('HH:mm')}-24:00`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.events.find((e) => e.event === 'skipped')).toMatchObject({ appointmentId: listed.appointmentId, reason: expect.stringContaining('do-not-call list') });
      expect(r.events.find((e) => e.event === 'deferred')).toMatchObject({ appointmentId: a.appointmentId, until: opens.toUTC().toISO(), reason: expect.stringContaining(`${zone} (patient)`) });
      const dialing = r.events.find((e) => e.event === 'dialing')!;
      expect(Date.parse(dialing.at as string)).toBeGreaterThanOrEqual(opens.toMillis());
      const result = await phone.result();
      expect(dialedNumbers(result)).toEqual([a.phone]);
      expect(result.sip.find((m) => m.firstLine.startsWith('INVITE'))!.timeMs).toBeGreaterThanOrEqual(opens.toMillis());
      expect(r.report!.targets.map((t) => [t.appointmentId, t.state, t.attempts])).toEqual([
        [a.appointmentId, 'done', 1],
        [listed.appointmentId, 'skipped', 0],
      ]);
      expect(await worker.store.campaigns.list()).not.toHaveLength(0);
    });

    it('key 9: the number goes on the do-not-call list, saved before the patient hears so; the next campaign does not dial it', async () => {
      const a = await appointment();
      const phone = await callee({ answer: { kind: 'answer', afterMs: 1500 }, audioFile: personAnswering(), cued: ['9'], hangupAfterMs: 120_000, timeoutS: 240 });
      const greetings = loggedAt(worker, 'greeting caller').length;
      const dialing = outboundCalls([`${a.phone},${a.appointmentId}`]);
      await heardOut(await nextLogged(worker, 'greeting caller', greetings), prompts.greeting(a.name, a.appointment, 'outbound'));
      const pressed = Date.now();
      await phone.press();
      const r = await dialing;
      expect(r.code, r.stderr).toBe(0);
      expect(r.calls.map((x) => x.outcome)).toEqual(['opted_out']);
      expect(r.report!.summary).toMatchObject({ optedOut: 1, answered: 1 });
      const record = (await worker.store.callsInRoom(r.calls[0]!.room))[0]!;
      expect(await worker.store.doNotCall.get(a.phone)).toMatchObject({ source: 'keypad', call_id: record.id });
      // Saved before it was said: the "number put on the do-not-call list" line comes before the closing words.
      const lines = worker.output().split('\n');
      const saved = lines.findIndex((l) => l.includes('"msg":"number put on the do-not-call list"') && l.includes(r.calls[0]!.room.slice(-12)));
      expect(saved).toBeGreaterThan(-1);
      const result = await phone.result();
      const heard = await firstHeardAfter(result, pressed, [prompts.optedOut(), prompts.greeting(a.name, a.appointment, 'outbound'), prompts.confirmed()]);
      expect(heard).toBe(speechWords(prompts.optedOut()));
      expect(result.sip.some((m) => m.firstLine.startsWith('BYE'))).toBe(true);

      // Another campaign for the same patient: skipped, never rung.
      const idle = await callee({ answer: { kind: 'answer', afterMs: 300 }, hangupAfterMs: 2000, timeoutS: 15 });
      const again = await outboundCalls([`${a.phone},${a.appointmentId}`]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.report!.targets).toMatchObject([{ state: 'skipped', attempts: 0, detail: expect.stringContaining('do-not-call list') }]);
      expect(again.calls).toEqual([]);
      expect(dialedNumbers(await idle.result())).toEqual([]);
    });

    it('busy, then busy, then answered: three attempts, the outcome from the third; an invalid number: one attempt', async () => {
      const a = await appointment();
      const csv = csvOf([`${a.phone},${a.appointmentId}`]);
      const greetings = loggedAt(worker, 'greeting caller').length;
      const dialer = startDialer([csv, '--json', '--delay-s', '0', '--max-attempts', '3', '--retry-after', '8s'], dialerEnv());
      for (let i = 0; i < 2; i++) {
        const busy = await callee({ answer: { kind: 'reject', status: 486 }, timeoutS: 60 });
        expect(dialedNumbers(await busy.result())).toEqual([a.phone]);
      }
      const phone = await callee({ answer: { kind: 'answer', afterMs: 500 }, audioFile: personAnswering(), cued: ['1'], hangupAfterMs: 120_000, timeoutS: 240 });
      await heardOut(await nextLogged(worker, 'greeting caller', greetings), prompts.greeting(a.name, a.appointment, 'outbound'));
      await phone.press();
      const r = await dialer.done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.calls.map((x) => [x.attempt, x.outcome, x.sipStatus, x.retryAt !== null])).toEqual([
        [1, 'busy', 486, true],
        [2, 'busy', 486, true],
        [3, 'confirmed', null, false],
      ]);
      // Each retry waited --retry-after from the end of the call before.
      const dials = r.events.filter((e) => e.event === 'dialing').map((e) => Date.parse(e.at as string));
      expect(dials[1]! - Date.parse(r.calls[0]!.endedAt)).toBeGreaterThanOrEqual(7900);
      expect(dials[2]! - Date.parse(r.calls[1]!.endedAt)).toBeGreaterThanOrEqual(7900);
      expect(r.report).toMatchObject({ finished: true, targets: [{ state: 'done', attempts: 3, lastOutcome: 'confirmed' }] });
      expect((await worker.store.getAppointment(a.appointmentId))?.status).toBe('confirmed');

      const b = await appointment();
      const invalid = await callee({ answer: { kind: 'reject', status: 404 }, timeoutS: 60 });
      const once = await outboundCalls([`${b.phone},${b.appointmentId}`], ['--max-attempts', '3', '--retry-after', '2s']);
      expect(once.calls.map((x) => [x.outcome, x.sipStatus, x.retryAt])).toEqual([['invalid_number', 404, null]]);
      expect(once.report).toMatchObject({ finished: true, targets: [{ state: 'done', attempts: 1, lastOutcome: 'invalid_number' }] });
      expect(dialedNumbers(await invalid.result())).toEqual([b.phone]);
    });

    it('a 20-patient campaign whose dialer is killed (kill -9) mid-way, then run again: everyone dialed exactly once, every outcome saved, the report written', async () => {
      const people = [];
      for (let i = 0; i < 20; i++) people.push(await appointment());
      const csv = csvOf(people.map((p) => `${p.phone},${p.appointmentId}`));
      const phone = await callee({ answer: { kind: 'answer', afterMs: 300 }, audioFile: personAnswering(), hangupAfterMs: 2500, calls: 20, timeoutS: 600 });
      const args = [csv, '--json', '--delay-s', '0', '--concurrency', '2', '--max-attempts', '1'];
      const first = startDialer(args, dialerEnv());
      await waitFor('6 calls ended', () => first.events().filter((e) => e.event === 'ended').length >= 6, 300_000, () => first.events().map((e) => JSON.stringify(e)).join('\n'));
      first.process.kill('SIGKILL');
      const killed = await first.done;
      expect(killed.signal).toBe('SIGKILL');
      expect(killed.report).toBeUndefined();
      const campaign = killed.events[0]!.campaign as string;

      const report = join(mkdtempSync(join(tmpdir(), 'report-')), 'report.csv');
      const second = await runDialer([...args, '--report', report], dialerEnv());
      expect(second.code, second.stderr).toBe(0);
      expect(second.events[0]).toMatchObject({ event: 'campaign', campaign, resumed: true });
      expect(second.report).toMatchObject({ campaign, finished: true, summary: { targets: 20, placed: 20, pending: 0 } });
      expect(second.report!.targets.every((t) => t.state === 'done' && t.attempts === 1 && t.lastOutcome !== null)).toBe(true);

      // The callee was rung once per patient.
      const dialed = dialedNumbers(await phone.result());
      expect(dialed).toHaveLength(20);
      expect(new Set(dialed)).toEqual(new Set(people.map((p) => p.phone)));
      // One call record per appointment, each closed with its outcome.
      const records = await worker.db.selectFrom('call_records').select(['appointment_id', 'outcome', 'ended_at']).where('appointment_id', 'in', people.map((p) => p.appointmentId)).execute();
      expect(records).toHaveLength(20);
      expect(records.every((x) => x.ended_at !== null && x.outcome !== 'in_progress')).toBe(true);

      // The report: a header and a row per patient, readable by its owner only.
      const lines = readFileSync(report, 'utf8').trim().split('\r\n');
      expect(lines[0]).toBe('appointment_id,phone_number,state,attempts,last_outcome,sip_status,last_attempt_at,next_attempt_at,timezone,detail');
      expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(people.map((p) => p.appointmentId));
      expect(statSync(report).mode & 0o777).toBe(0o600);
      // make campaigns lists it, finished, with its counts.
      const listed = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'campaigns.ts'), '--json'], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, ...dialerEnv() } });
      expect((JSON.parse(listed.stdout) as { id: string; total: number; done: number; finished_at: string | null }[]).find((x) => x.id === campaign)).toMatchObject({ total: 20, done: 20, finished_at: expect.any(String) });
    });
  });

  it('exits 1 with one line when the outbound trunk id is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbound-'));
    const r = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'outbound-calls.ts'), '--cwd', dir], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, LIVEKIT_URL: c.stack.url, LIVEKIT_API_KEY: c.stack.apiKey, LIVEKIT_API_SECRET: c.stack.apiSecret },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('OUTBOUND_TRUNK_ID: missing; expected a LiveKit outbound trunk id (ST_…), written by `make setup-sip` (set it in .env.sip)');
  });
});
