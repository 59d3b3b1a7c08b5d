/**
 * Faults caused for real on the local stack, and what the caller hears and what is saved: a job
 * process killed mid-call, the database locked by another process during a press, two keys pressed
 * at once before the goodbye, livekit-server killed mid-call and gone for 120 s. The outage test
 * stops the shared livekit-server, so it runs last in this file, and restarts it before it ends.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callScript } from '../../src/call/index.js';
import { speechUlaw } from '../../devtools/audio.js';
import { clients, provisionInbound, type InboundRoute } from '../../devtools/livekit.js';
import { addPatient } from '../../devtools/patients.js';
import { decodePcmu, type RtpPacket } from '../../devtools/rtp.js';
import { SipCaller, type CallResult } from '../../devtools/sipp.js';
import { firstSpeech, recognizeAmong, recognizeBeginning, speechWords } from '../../devtools/speech-check.js';
import { REPO_ROOT, STACK_DIR } from '../../devtools/stack.js';
import { waitFor } from '../../devtools/wait.js';
import { CALLER_ID_ONLY, callProcessPid, heardOut, loggedAt, startWorker, type TestWorker } from '../../devtools/worker.js';

const prompts = callScript('Main Street Clinic');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The audio the phone received after `fromMs` (and before `toMs`), 8 kHz PCM16. */
function audioBetween(result: CallResult, fromMs: number, toMs = Infinity): Int16Array {
  return decodePcmu(result.rtp.filter((p: RtpPacket) => p.timeMs > fromMs && p.timeMs < toMs));
}

describe('faults during a call', () => {
  let worker: TestWorker;
  let route: InboundRoute;
  const c = clients();
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    worker = await startWorker('faults', CALLER_ID_ONLY);
    route = await provisionInbound(c, { agentName: worker.agentName });
  });
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
  });
  afterAll(async () => {
    await route?.remove();
    await worker?.stop();
  });

  async function call(from: string, dtmf: { digits: string; atMs: number }[], hangupAfterMs: number, cued?: string[]) {
    const caller = await SipCaller.dial({ to: route.number, from, audioFile: speechUlaw('Hello.'), dtmf, cued, hangupAfterMs });
    cleanup.push(() => caller.kill());
    return caller;
  }

  const recordOf = (phone: string) => worker.db.selectFrom('call_records').selectAll().where('phone_e164', '=', phone).executeTakeFirst();
  const closedRecordOf = (phone: string, timeoutMs = 20_000) =>
    waitFor(`the record of ${phone} closed`, async () => ((await recordOf(phone))?.ended_at ? recordOf(phone) : undefined), timeoutMs, worker.output);

  /** True once the agent greets the caller in `room`. */
  const greeted = (room: string) => worker.output().split('\n').some((l) => l.includes('"msg":"greeting caller"') && l.includes(room.slice(-12)));

  /** Waits until the call of `phone` has a record and the agent greets them; returns the record. */
  async function greeting(phone: string) {
    const record = await waitFor(`the call record of ${phone}`, () => recordOf(phone), 30_000, worker.output);
    await waitFor('the greeting', () => greeted(record.room) || undefined, 20_000, worker.output);
    return record;
  }

  it('a job process killed mid-call: the caller gets a BYE within 5 s, the record says failed and why', async () => {
    const p = await addPatient(worker.store);
    const caller = await call(p.phone, [], 60_000);
    const record = await greeting(p.phone);
    await sleep(2000);
    const killedAt = Date.now();
    process.kill(callProcessPid(worker, record.room), 'SIGKILL');
    const result = await caller.result();
    const bye = result.sip.find((m) => m.firstLine.startsWith('BYE') && m.timeMs > killedAt);
    expect(bye, `a BYE after the kill:\n${result.sip.map((m) => m.firstLine).join('\n')}`).toBeDefined();
    // The bound: the caller is not left in a silent room.
    expect(bye!.timeMs - killedAt).toBeLessThan(5000);
    const closed = await closedRecordOf(p.phone);
    expect(closed).toMatchObject({ outcome: 'failed' });
    expect(closed!.error).toMatch(/call process exited before the call ended/);
    expect(worker.output()).toContain('call process gone mid-call');
  });

  it('the database locked by another process during a press: no "confirmed" said; the later press confirms once', async () => {
    const p = await addPatient(worker.store);
    // 1 during the greeting while the database is locked; 1 again once the apology was heard, after the lock is released.
    const caller = await call(p.phone, [], 180_000, ['1', '1']);
    await greeting(p.phone);
    const lock = new BetterSqlite3(worker.dbPath);
    cleanup.push(async () => void (lock.open && lock.close()));
    lock.exec('BEGIN EXCLUSIVE');
    // This press's failure, not one of an earlier try's (the worker is shared): the lock must hold until then.
    const failedBefore = loggedAt(worker, 'key press not saved').length;
    await caller.press();
    await waitFor('the failed save', () => loggedAt(worker, 'key press not saved').length > failedBefore || undefined, 40_000, worker.output);
    lock.exec('COMMIT');
    lock.close();
    await heardOut(Date.now(), prompts.notSaved(true));
    await caller.press();
    const result = await caller.result();
    const [first, second] = result.dtmfSent;
    expect(first && second, 'both presses sent').toBeTruthy();

    // The press cuts the greeting short; what follows is silence while the save is retried, then the apology.
    // Each sentence is told by its first words (the two differ from the first): on a loaded host bits of a
    // sentence get lost, and the recogniser then finds no whole sentence in it.
    const begins = async (audio: Int16Array, expected: string) => {
      const stretch = firstSpeech(audio, 8000);
      expect(stretch, `something said: ${expected}`).toBeDefined();
      const words = await recognizeBeginning(audio.subarray(stretch!.start, Math.min(stretch!.end, stretch!.start + 2.5 * 8000)), 8000, [prompts.notSaved(true), prompts.confirmed()]);
      expect(words.split(' ').length, words).toBeGreaterThanOrEqual(3);
      expect(`${speechWords(expected)} `.startsWith(`${words} `), words).toBe(true);
    };
    await begins(audioBetween(result, first!.timeMs + 2000, second!.timeMs), prompts.notSaved(true));
    await begins(audioBetween(result, second!.timeMs), prompts.confirmed());

    const closed = await closedRecordOf(p.phone);
    expect(closed).toMatchObject({ outcome: 'confirmed' });
    expect(closed!.error).toMatch(/key 1 not saved/);
    expect((await worker.store.booking.changes(p.appointmentId)).map((ch) => ch.change)).toEqual(['confirmed']);
    expect((await worker.store.digits(closed!.id)).at(-1)).toMatchObject({ digit: '1', action: 'confirm' });
  });

  it('"12" pressed quickly: the whole confirmation is heard, then the hang-up', async () => {
    const p = await addPatient(worker.store);
    // One action, during the greeting: SIPp sends 1 and then 2 right after it (2 × 160 ms apart).
    const caller = await call(p.phone, [], 120_000, ['12']);
    await greeting(p.phone);
    await caller.press();
    const result = await caller.result();
    const pressed = result.dtmfSent[0]!.timeMs;
    const after = audioBetween(result, pressed);
    const said = firstSpeech(after, 8000);
    expect(said).toBeDefined();
    const full = prompts.confirmed();
    // A confirmation cut short sounds like its first words: the recogniser must pick the whole sentence.
    const cut = 'Thank you. Your appointment';
    expect(await recognizeAmong(after.subarray(said!.start, said!.end), 8000, [full, cut, prompts.rescheduleRequested()])).toBe(speechWords(full));
    const bye = result.sip.find((m) => m.firstLine.startsWith('BYE') && m.timeMs > pressed);
    expect(bye, 'the agent hung up').toBeDefined();
    const closed = await closedRecordOf(p.phone);
    expect(closed).toMatchObject({ outcome: 'confirmed' });
    expect((await worker.store.digits(closed!.id)).map((d) => [d.digit, d.action])).toEqual([
      ['1', 'confirm'],
      ['2', 'ignored'],
    ]);
  });

  it('livekit-server killed mid-call and gone 120 s: the record says LiveKit was lost; once it is back the next call is answered, no restart', async () => {
    const health = async () => (await fetch(`http://127.0.0.1:${worker.port}/`).catch(() => undefined))?.status;
    expect(await health()).toBe(200);
    const p = await addPatient(worker.store);
    const caller = await call(p.phone, [], 30_000);
    await greeting(p.phone);
    const pid = Number(readFileSync(join(STACK_DIR, 'run', 'livekit-server.pid'), 'utf8'));
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await caller.result().catch(() => undefined);

    const lost = await closedRecordOf(p.phone, 110_000);
    expect(lost).toMatchObject({ outcome: 'failed' });
    expect(lost!.error).toMatch(/lost the connection to LiveKit/);
    expect(await health()).toBe(503);
    expect(worker.output()).toMatch(/failed to connect to LiveKit server .*retrying in/);

    await sleep(Math.max(0, stoppedAt + 120_000 - Date.now()));
    expect(worker.process.exitCode, 'the worker is still running after 120 s without LiveKit').toBeNull();
    execFileSync(join(REPO_ROOT, 'scripts', 'stack', 'stack.sh'), ['up'], { stdio: 'ignore' });
    const backAt = Date.now();
    await waitFor('the worker to register again', async () => ((await health()) === 200) || undefined, 30_000, worker.output);
    const registeredAfterMs = Date.now() - backAt;
    // The framework waits at most 10 s between attempts; report the figure (README, issue note).
    console.log(`worker registered again ${registeredAfterMs} ms after livekit-server was healthy`);
    expect(registeredAfterMs).toBeLessThan(15_000);

    const q = await addPatient(worker.store, { name: 'Aisha Rahman' });
    const next = await call(q.phone, [{ digits: '1', atMs: 4000 }], 30_000);
    expect((await next.result()).exitCode).toBe(0);
    expect(await closedRecordOf(q.phone)).toMatchObject({ outcome: 'confirmed' });
  }, 300_000);
});
