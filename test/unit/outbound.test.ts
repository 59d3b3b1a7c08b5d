import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { appointmentsToConfirm, dialFailureOutcome, roomNameFor, targetsFromFile } from '../../src/outbound/index.js';
import { parseJobMetadata } from '../../src/worker/metadata.js';
import { openSqliteStore, type CallOutcome } from '../../src/store/index.js';

const ZONE = 'America/Los_Angeles';
const now = DateTime.fromISO('2026-11-22T15:00:00', { zone: ZONE }) as DateTime<true>;

async function store() {
  const s = await openSqliteStore(':memory:');
  await s.upsertProvider({ id: 'dr', name: 'Doctor Chen' });
  const add = async (id: string, phone: string, start: DateTime, status?: 'confirmed' | 'cancelled') => {
    await s.upsertPatient({ id: `p-${id}`, name: id, phoneE164: phone });
    await s.upsertAppointment({ id, patientId: `p-${id}`, providerId: 'dr', start, service: 'x', location: 'y', status });
  };
  await add('tomorrow-9', '+14155550101', now.plus({ days: 1 }).set({ hour: 9 }));
  await add('tomorrow-late', '+14155550102', now.plus({ days: 1 }).set({ hour: 23, minute: 30 }));
  await add('tomorrow-confirmed', '+14155550103', now.plus({ days: 1 }).set({ hour: 10 }), 'confirmed');
  await add('tomorrow-cancelled', '+14155550104', now.plus({ days: 1 }).set({ hour: 11 }), 'cancelled');
  await add('today', '+14155550105', now.set({ hour: 17 }));
  await add('in-two-days', '+14155550106', now.plus({ days: 2 }).set({ hour: 9 }));
  await add('tomorrow-called', '+14155550107', now.plus({ days: 1 }).set({ hour: 12 }));
  return s;
}

describe('appointmentsToConfirm', () => {
  it("picks tomorrow's (clinic time) unconfirmed, uncancelled appointments not called recently", async () => {
    const s = await store();
    const rec = await s.startCall({ room: 'r', direction: 'outbound', mode: 'keypad', appointmentId: 'tomorrow-called', startedAt: now.minus({ hours: 2 }).toJSDate() });
    await s.endCall(rec.id, { outcome: 'no_answer' });
    const { targets } = await appointmentsToConfirm(s, ZONE, 12, now);
    expect(targets.map((t) => t.appointmentId)).toEqual(['tomorrow-9', 'tomorrow-late']);
    expect(targets[0]!.phoneNumber).toBe('+14155550101');
    // Called 2 h ago: with a 1 h recall window it is due again.
    expect((await appointmentsToConfirm(s, ZONE, 1, now)).targets.map((t) => t.appointmentId)).toContain('tomorrow-called');
    await s.close();
  });
});

describe('targetsFromFile', () => {
  it('reads CSV rows, rejecting bad numbers and unknown appointments with their line', async () => {
    const s = await store();
    const dir = mkdtempSync(join(tmpdir(), 'targets-'));
    const csv = join(dir, 'calls.csv');
    writeFileSync(csv, 'phone_number,appointment_id\n+14155550101,tomorrow-9\n12345,tomorrow-late\n(415) 555-0102,tomorrow-late\n+14155550109,nope\n');
    const { targets, rejected } = await targetsFromFile(csv, s, 'US', now);
    expect(targets.map((t) => [t.phoneNumber, t.appointmentId, t.source])).toEqual([
      ['+14155550101', 'tomorrow-9', `${csv} line 2`],
      ['+14155550102', 'tomorrow-late', `${csv} line 4`],
    ]);
    expect(rejected).toEqual([
      { source: `${csv} line 3`, reason: 'phone_number "*2345" is not a valid phone number; write it in E.164, e.g. +14155550123' },
      { source: `${csv} line 5`, reason: 'appointment_id "nope" is not in the appointment store; check the id' },
    ]);
    const json = join(dir, 'calls.json');
    writeFileSync(json, JSON.stringify([{ phoneNumber: '+14155550101', appointmentId: 'tomorrow-9' }, { phoneNumber: 'x', appointmentId: 'tomorrow-9' }]));
    const fromJson = await targetsFromFile(json, s, 'US', now);
    expect(fromJson.targets).toHaveLength(1);
    expect(fromJson.rejected[0]!.source).toBe(`${json} item 2`);
    writeFileSync(json, '{"not": "an array"}');
    await expect(targetsFromFile(json, s, 'US', now)).rejects.toThrow('expected a JSON array');
    await s.close();
  });
});

describe('dial outcomes and job metadata', () => {
  it('maps SIP status codes (RFC 3261) to outcomes', () => {
    expect(dialFailureOutcome(486)).toBe('busy');
    expect(dialFailureOutcome(480)).toBe('no_answer');
    expect(dialFailureOutcome(408)).toBe('no_answer');
    expect(dialFailureOutcome(undefined)).toBe('no_answer');
    expect(dialFailureOutcome(603)).toBe('rejected');
    expect(dialFailureOutcome(404)).toBe('invalid_number');
    expect(dialFailureOutcome(484)).toBe('invalid_number');
    expect(dialFailureOutcome(503)).toBe('trunk_failure');
    expect(dialFailureOutcome(500)).toBe('trunk_failure');
    expect(dialFailureOutcome(415)).toBe('failed');
  });
  it('reads only well-formed outbound metadata as JSON', () => {
    expect(parseJobMetadata('{"direction":"outbound","appointmentId":"a1","phoneNumber":"+14155550101"}')).toEqual({
      direction: 'outbound',
      appointmentId: 'a1',
      phoneNumber: '+14155550101',
    });
    expect(parseJobMetadata('')).toBeUndefined();
    expect(parseJobMetadata(undefined)).toBeUndefined();
  });
  it('names rooms from the appointment and the time', () => {
    expect(roomNameFor('appt 7/1', 1795315225521)).toBe('confirm-appt_7_1-1795315225521');
  });
});

