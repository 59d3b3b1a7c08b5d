/**
 * Whom the dialer calls from a file or the store, and whether it starts (issue 11 item 8): byte-order
 * marks and CRLF, bad JSON items, cancelled / past / duplicate / someone else's numbers, the exit
 * decision, and that no message shows a full phone number. A real SQLite store throughout; the
 * CLI itself is run for the paths that end before LiveKit is contacted.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  appointmentsToConfirm,
  DEFAULT_MAX_CALLS,
  planCampaign,
  TargetFileError,
  targetsFromFile,
  type CallTarget,
  type RejectedRow,
} from '../../src/outbound/index.js';
import { openSqliteStore } from '../../src/store/index.js';

const ZONE = 'America/Los_Angeles';
const now = DateTime.fromISO('2026-11-22T15:00:00', { zone: ZONE }) as DateTime<true>;
const tomorrow = (hour: number, today: DateTime = now) => today.plus({ days: 1 }).set({ hour, minute: 0 });

/**
 * A fixture number (415 555 01xx) written in full, in any of the ways the files write them — not
 * +14155550123, the example the messages give.
 */
const FULL_NUMBER = /415\D{0,2}555\D?01(?!23)\d\d/;

/**
 * Ana (+14157770142) has three appointments tomorrow; Ben (+14157770101) one tomorrow, one
 * cancelled, one yesterday.
 */
async function clinic(path = ':memory:', today: DateTime = now) {
  const s = await openSqliteStore(path);
  await s.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
  await s.upsertPatient({ id: 'ana', name: 'Ana', phoneE164: '+14157770142' });
  await s.upsertPatient({ id: 'ben', name: 'Ben', phoneE164: '+14157770101' });
  const add = (id: string, patientId: string, start: DateTime, status?: 'cancelled') =>
    s.upsertAppointment({ id, patientId, providerId: 'dr', start, service: 'check-up', location: 'the clinic', status });
  await add('a1', 'ana', tomorrow(9, today));
  await add('a2', 'ana', tomorrow(10, today));
  await add('a3', 'ana', tomorrow(11, today));
  await add('b1', 'ben', tomorrow(12, today));
  await add('b-cancelled', 'ben', tomorrow(13, today), 'cancelled');
  await add('b-past', 'ben', today.minus({ days: 1 }).set({ hour: 9, minute: 0 }));
  return s;
}

function file(name: string, content: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'targets-')), name);
  writeFileSync(path, content);
  return path;
}

const brief = (targets: readonly CallTarget[]) => targets.map((t) => `${t.source.split(' ').slice(1).join(' ')} ${t.appointmentId} ${t.phoneNumber}`);
const reasons = (rejected: readonly RejectedRow[]) => Object.fromEntries(rejected.map((r) => [r.source.split(' ').slice(1).join(' '), r.reason]));

describe('targetsFromFile: encodings', () => {
  it('reads a CSV that starts with a UTF-8 byte-order mark and has CRLF line ends (Excel "CSV UTF-8")', async () => {
    const s = await clinic();
    const csv = file('calls.csv', '\uFEFFphone_number,appointment_id\r\n+14157770142,a1\r\n\r\n(415) 777-0101,b1\r\n');
    const { targets, rejected } = await targetsFromFile(csv, s, 'US', now);
    expect(rejected).toEqual([]);
    expect(brief(targets)).toEqual(['line 2 a1 +14157770142', 'line 4 b1 +14157770101']);
    await s.close();
  });

  it('reads a JSON file that starts with a byte-order mark', async () => {
    const s = await clinic();
    const json = file('calls.json', `\uFEFF${JSON.stringify([{ phoneNumber: '+14157770101', appointmentId: 'b1' }])}`);
    expect(brief((await targetsFromFile(json, s, 'US', now)).targets)).toEqual(['item 1 b1 +14157770101']);
    await s.close();
  });
});

describe('targetsFromFile: rows that are not calls', () => {
  it('rejects JSON items that are not objects, or whose fields are missing or not text, each by its item number', async () => {
    const s = await clinic();
    const json = file(
      'calls.json',
      JSON.stringify([
        null,
        7,
        '+14157770142',
        [],
        { phoneNumber: '+14157770142', appointmentId: 'a1' },
        { phoneNumber: 14157770101, appointmentId: 'b1' },
        { appointmentId: 'b1' },
        { phoneNumber: '+14157770101' },
        { phoneNumber: '+14157770101', appointmentId: 12 },
      ]),
    );
    const { targets, rejected } = await targetsFromFile(json, s, 'US', now);
    expect(brief(targets)).toEqual(['item 5 a1 +14157770142']);
    expect(rejected.every((r) => r.source.startsWith(`${json} item `))).toBe(true);
    const expected = 'each item must be an object like {"phoneNumber": "+14155550123", "appointmentId": "a-1"}';
    expect(reasons(rejected)).toEqual({
      'item 1': `null is not a call; ${expected}`,
      'item 2': `a number (7) is not a call; ${expected}`,
      'item 3': `a string ("+*******0142") is not a call; ${expected}`,
      'item 4': `an array is not a call; ${expected}`,
      'item 6': 'phoneNumber is a number (*******0101), not text; write it as a string in E.164, e.g. "+14155550123"',
      'item 7': "phoneNumber is missing; give the patient's number in E.164, e.g. +14155550123",
      'item 8': 'appointmentId is missing; give the id of the appointment the call is about',
      'item 9': "appointmentId is a number (12), not text; write the appointment's id as a string",
    });
    await s.close();
  });

  it('invalid JSON: one line naming the file, where, and what was expected, numbers masked', async () => {
    const s = await clinic();
    const json = file('calls.json', '[\n  {"phoneNumber": "+14157770142", "appointmentId": "a1",}\n]');
    const err = await targetsFromFile(json, s, 'US', now).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TargetFileError);
    const message = (err as Error).message;
    expect(message).toMatch(new RegExp(`^${json.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON at line 2, column 57: `));
    expect(message).toContain('expected an array like [{"phoneNumber"');
    expect(message).not.toContain('\n');
    // V8 quotes the text around the error in some messages; it must not leak a number.
    const quoted = file('quoted.json', '[{"phoneNumber": +14157770142}]');
    const second = (await targetsFromFile(quoted, s, 'US', now).catch((e: Error) => e)) as Error;
    expect(second.message).toContain('not valid JSON');
    expect(second.message).not.toMatch(FULL_NUMBER);
    await s.close();
  });

  it('a file that cannot be read, a CSV with a broken quote or without the phone column: an error naming the file and the fix', async () => {
    const s = await clinic();
    const missing = join(tmpdir(), 'no-such-dir-outbound', 'calls.csv');
    await expect(targetsFromFile(missing, s, 'US', now)).rejects.toThrow(new TargetFileError(`${missing}: cannot read the file (ENOENT); check the path`));
    const broken = file('broken.csv', 'phone_number,appointment_id\n+14157770142,a1\n"+14157770101,b1\n');
    await expect(targetsFromFile(broken, s, 'US', now)).rejects.toThrow(/^.*broken\.csv: not a valid CSV file: Quote Not Closed: .* at line 3; the first line must be phone_number,appointment_id$/);
    const headless = file('headless.csv', 'tel,appointment_id\n+14157770142,a1\n');
    await expect(targetsFromFile(headless, s, 'US', now)).rejects.toThrow(
      `${headless}: the header has no phone_number column (it has "tel", "appointment_id"); the first line must be phone_number,appointment_id`,
    );
    const noAppointment = file('no-appointment.csv', 'phone_number,appt\n+14157770142,a1\n');
    await expect(targetsFromFile(noAppointment, s, 'US', now)).rejects.toThrow('the header has no appointment_id column');
    expect(await targetsFromFile(file('empty.csv', 'phone_number,appointment_id\n'), s, 'US', now)).toEqual({ targets: [], rejected: [] });
    await s.close();
  });
});

describe('targetsFromFile: which rows are dialed', () => {
  it('skips cancelled and past appointments and numbers that are not the patient’s, with the reason', async () => {
    const s = await clinic();
    const csv = file('calls.csv', 'phone_number,appointment_id\n+14157770101,b-cancelled\n+14157770101,b-past\n+14157770142,b1\n+14157770101,b1\n');
    const { targets, rejected } = await targetsFromFile(csv, s, 'US', now);
    expect(brief(targets)).toEqual(['line 5 b1 +14157770101']);
    expect(reasons(rejected)).toEqual({
      'line 2': 'appointment "b-cancelled" is cancelled; remove the row (a cancelled appointment is not confirmed)',
      'line 3': 'appointment "b-past" started 2026-11-21 09:00 America/Los_Angeles, in the past; remove the row',
      'line 4':
        'phone_number "+*******0142" is not the number stored for the patient of appointment "b1" (+*******0101), and the call dials the stored number; correct the row or the patient\'s record',
    });
    await s.close();
  });

  it('one number written three ways, and one appointment twice: the first row wins, the others name it', async () => {
    const s = await clinic();
    const csv = file('calls.csv', 'phone_number,appointment_id\n+14157770142,a1\n(415) 777-0142,a2\n415.777.0142,a3\n+14157770101,b1\n14157770101,b1\n');
    const { targets, rejected } = await targetsFromFile(csv, s, 'US', now);
    expect(brief(targets)).toEqual(['line 2 a1 +14157770142', 'line 5 b1 +14157770101']);
    const samePhone =
      'number "+*******0142" is already called about appointment "a1"; one call per number per run, so call this appointment in a later run';
    expect(reasons(rejected)).toEqual({
      'line 3': `duplicate of line 2: ${samePhone}`,
      'line 4': `duplicate of line 2: ${samePhone}`,
      'line 6': 'duplicate of line 5: appointment "b1" is called once; remove the repeated row',
    });
    // The same in JSON, by item.
    const json = file('calls.json', JSON.stringify([{ phoneNumber: '+14157770142', appointmentId: 'a1' }, { phoneNumber: '415.777.0142', appointmentId: 'a1' }]));
    expect(reasons((await targetsFromFile(json, s, 'US', now)).rejected)).toEqual({
      'item 2': 'duplicate of item 1: appointment "a1" is called once; remove the repeated row',
    });
    await s.close();
  });

  it('a rejected row does not count as the first occurrence: the next valid row for it is dialed', async () => {
    const s = await clinic();
    const csv = file('calls.csv', 'phone_number,appointment_id\n+14157770199,a1\n415 777 0142,a1\n');
    const { targets, rejected } = await targetsFromFile(csv, s, 'US', now);
    expect(brief(targets)).toEqual(['line 3 a1 +14157770142']);
    expect(Object.keys(reasons(rejected))).toEqual(['line 2']);
    await s.close();
  });

  it('no reason shows a full phone number', async () => {
    const s = await clinic();
    const csv = file('calls.csv', 'phone_number,appointment_id\n+1415555012,a1\n+14157770101,a1\n+14157770142,a1\n(415) 777-0142,a2\n+14157770101,nope\n');
    const { rejected } = await targetsFromFile(csv, s, 'US', now);
    expect(rejected).toHaveLength(4);
    expect(rejected[0]!.reason).toBe('phone_number "+******5012" is not a valid phone number; write it in E.164, e.g. +14155550123');
    for (const r of rejected) expect(r.reason).not.toMatch(FULL_NUMBER);
    await s.close();
  });
});

describe('appointmentsToConfirm: one call per number', () => {
  it("a patient with three appointments tomorrow is called once, about the earliest; the others say which they repeat", async () => {
    const s = await clinic();
    const { targets, rejected } = await appointmentsToConfirm(s, ZONE, 12, now);
    expect(targets.map((t) => t.appointmentId)).toEqual(['a1', 'b1']);
    expect(rejected.map((r) => r.source)).toEqual(['appointment a2', 'appointment a3']);
    expect(rejected[0]!.reason).toMatch(/^duplicate of appointment a1: number "\+\*{7}0142" is already called about appointment "a1"/);
    await s.close();
  });
});

describe('planCampaign: whether the dialer starts, and its exit code', () => {
  const target = (i: number): CallTarget => ({ appointmentId: `a${i}`, phoneNumber: '+14157770142', source: `calls.csv line ${i + 2}` });
  const many = (n: number) => Array.from({ length: n }, (_, i) => target(i));
  const skipped: RejectedRow[] = [{ source: 'calls.csv line 2', reason: 'x' }];

  it('a file with no valid row: exit 1, saying so', () => {
    expect(planCampaign({ targets: [], rejected: skipped }, { file: 'calls.csv', maxCalls: 500, yes: false })).toEqual({
      go: false,
      exitCode: 1,
      message: 'no call to place: calls.csv: all 1 row(s) were skipped (reasons above); fix the rows and run again',
    });
    expect(planCampaign({ targets: [], rejected: [] }, { file: 'calls.csv', maxCalls: 500, yes: false })).toMatchObject({ go: false, exitCode: 1 });
  });

  it('the store: nothing to confirm is exit 0; everything skipped is exit 1', () => {
    expect(planCampaign({ targets: [], rejected: [] }, { maxCalls: 500, yes: false })).toMatchObject({ go: false, exitCode: 0 });
    expect(planCampaign({ targets: [], rejected: skipped }, { maxCalls: 500, yes: false })).toMatchObject({ go: false, exitCode: 1 });
  });

  it('more than --max-calls: refused with the count and how to go ahead, unless --yes', () => {
    expect(DEFAULT_MAX_CALLS).toBe(500);
    expect(planCampaign({ targets: many(501), rejected: [] }, { file: 'big.csv', maxCalls: 500, yes: false })).toEqual({
      go: false,
      exitCode: 1,
      message: '501 calls to place from big.csv, more than --max-calls 500; none placed. Check the list, then run again with --yes to place all 501 (or raise --max-calls)',
    });
    expect(planCampaign({ targets: many(501), rejected: skipped }, { file: 'big.csv', maxCalls: 500, yes: true })).toEqual({
      go: true,
      message: '501 call(s) to place from big.csv, 1 row(s) skipped',
    });
    expect(planCampaign({ targets: many(500), rejected: [] }, { maxCalls: 500, yes: false })).toEqual({ go: true, message: '500 call(s) to place from the store' });
  });
});

describe('the outbound-calls CLI, up to the first call', () => {
  // Each run starts Node with tsx and loads the script's whole import graph (LiveKit's SDKs): a few
  // seconds here, over 30 s for the four runs of one test on a CI host whose CPU others took.
  const CLI_TEST_MS = 180_000;
  const run = promisify(execFile);
  const script = resolve(import.meta.dirname, '../../scripts/outbound-calls.ts');

  /** Runs the script against a seeded SQLite file and a LiveKit URL nothing listens on. */
  async function cli(args: string[], seed = true) {
    const dir = mkdtempSync(join(tmpdir(), 'outbound-cli-'));
    const db = join(dir, 'appointments.db');
    // The script reads the real clock: its appointments are tomorrow from today, not from the fixed `now`.
    await (seed ? await clinic(db, DateTime.now().setZone(ZONE)) : await openSqliteStore(db)).close();
    const env = {
      PATH: process.env.PATH,
      LIVEKIT_URL: 'ws://127.0.0.1:9',
      LIVEKIT_API_KEY: 'devkey',
      LIVEKIT_API_SECRET: 'secret-secret-secret-secret-secret',
      OUTBOUND_TRUNK_ID: 'ST_test',
      DATABASE_PATH: db,
    };
    return run(process.execPath, ['--import', 'tsx', script, ...args, '--cwd', dir], { env }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  }

  it('every row skipped: exit 1, each row and the verdict on stderr, no full number, no stack trace', async () => {
    const csv = file('calls.csv', '\uFEFFphone_number,appointment_id\r\n+14157770101,b-cancelled\r\n(415) 777-0142,b1\r\n');
    const r = await cli([csv]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `skipped ${csv} line 2: appointment "b-cancelled" is cancelled; remove the row (a cancelled appointment is not confirmed)`,
      `skipped ${csv} line 3: phone_number "+*******0142" is not the number stored for the patient of appointment "b1" (+*******0101), and the call dials the stored number; correct the row or the patient's record`,
      `no call to place: ${csv}: all 2 row(s) were skipped (reasons above); fix the rows and run again`,
    ]);
    expect(r.stdout).toBe('');
  }, CLI_TEST_MS);

  it('invalid JSON: exit 1 with one line; more than --max-calls: exit 1 unless --yes', async () => {
    const json = file('calls.json', '[null,');
    const bad = await cli([json]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`${json}: not valid JSON: Unexpected end of JSON input; expected an array like [{"phoneNumber": "+14155550123", "appointmentId": "a-1"}]\n`);

    const csv = file('calls.csv', 'phone_number,appointment_id\n+14157770142,a1\n+14157770101,b1\n');
    const many = await cli([csv, '--max-calls', '1']);
    expect(many.code).toBe(1);
    expect(many.stderr).toBe(`2 calls to place from ${csv}, more than --max-calls 1; none placed. Check the list, then run again with --yes to place all 2 (or raise --max-calls)\n`);

    // --yes lets it through: it goes on to LiveKit (nothing listens there, so that fails) — at any
    // hour of the test's day (calling hours), saying so in one line; stdout is not a terminal, so
    // its events are JSON lines.
    const yes = await cli([csv, '--max-calls', '1', '--yes', '--calling-hours', 'Mon-Sun 00:00-24:00', '--delay-s', '0']);
    expect(yes.stderr).not.toContain('--max-calls');
    expect(yes.stderr).toContain('2 call(s) to place from');
    const events = yes.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    expect(events[0]).toMatchObject({ event: 'campaign', resumed: false, targets: 2, pending: 2 });
    expect(yes.stderr.trim().split('\n').at(-1)).toMatch(/^LIVEKIT_URL: cannot reach ws:\/\/127.0.0.1:9/);
    expect(yes.code).toBe(1);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--max-calls N');
    expect(help.stdout).toContain('--yes');
  }, CLI_TEST_MS);

  it('the store with nothing to confirm: exit 0, saying so (an empty JSON report with --json)', async () => {
    const r = await cli(['--json'], false);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('no call to place: no appointment in the store needs confirming\n');
    expect(JSON.parse(r.stdout)).toEqual({
      event: 'summary',
      campaign: null,
      finished: true,
      summary: { targets: 0, placed: 0, answered: 0, confirmed: 0, rescheduled: 0, voicemail: 0, optedOut: 0, failed: {}, skipped: 0, pending: 0 },
      targets: [],
      rejected: [],
    });
  }, CLI_TEST_MS);
});
