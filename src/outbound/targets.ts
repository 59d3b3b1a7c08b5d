/**
 * Whom the dialer calls: the appointments that need confirming, chosen from the store, or the rows
 * of a CSV or JSON file. Every number is checked with libphonenumber-js; a bad row is reported
 * with its line and skipped, never dialed.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { DateTime } from 'luxon';
import { toE164, type CountryCode } from '../phone/index.js';
import type { AppointmentStore } from '../store/index.js';

/** One call to place. */
export interface CallTarget {
  readonly appointmentId: string;
  /** E.164. */
  readonly phoneNumber: string;
  /** Where it came from, for messages: "store" or "file.csv line 3". */
  readonly source: string;
}

/** A row that will not be dialed, and why. */
export interface RejectedRow {
  readonly source: string;
  readonly reason: string;
}

/**
 * Tomorrow's appointments in the clinic's `timezone` that are neither confirmed nor cancelled and
 * whose patient we have not called in the last `recallHours` hours.
 */
export async function appointmentsToConfirm(
  store: AppointmentStore,
  timezone: string,
  recallHours: number,
  now = DateTime.now(),
): Promise<{ targets: CallTarget[]; rejected: RejectedRow[] }> {
  const tomorrow = now.setZone(timezone).plus({ days: 1 }).startOf('day');
  const rows = await store.appointmentsToConfirm({
    from: tomorrow.toJSDate(),
    to: tomorrow.plus({ days: 1 }).toJSDate(),
    notCalledSince: now.minus({ hours: recallHours }).toJSDate(),
  });
  const targets: CallTarget[] = [];
  const rejected: RejectedRow[] = [];
  for (const r of rows) {
    const e164 = toE164(r.phoneE164);
    if (e164) targets.push({ appointmentId: r.appointmentId, phoneNumber: e164, source: 'store' });
    else rejected.push({ source: `appointment ${r.appointmentId}`, reason: `patient number ${JSON.stringify(r.phoneE164)} is not a valid phone number` });
  }
  return { targets, rejected };
}

const PHONE_KEYS = ['phone_number', 'phoneNumber', 'phone', 'number'];
const APPOINTMENT_KEYS = ['appointment_id', 'appointmentId', 'appointment'];
const pick = (row: Record<string, unknown>, keys: string[]) => keys.map((k) => row[k]).find((v) => v !== undefined && v !== '');

/**
 * Reads a CSV (header row: phone_number,appointment_id) or JSON file (array of
 * {phoneNumber, appointmentId}). Rows with an invalid number or an appointment the store does
 * not have are rejected with their line (CSV) or index (JSON).
 * @throws Error when the file cannot be read or parsed at all.
 */
export async function targetsFromFile(
  path: string,
  store: AppointmentStore,
  country: CountryCode,
): Promise<{ targets: CallTarget[]; rejected: RejectedRow[] }> {
  const text = readFileSync(path, 'utf8');
  let rows: { row: Record<string, unknown>; where: string }[];
  if (path.toLowerCase().endsWith('.json')) {
    const data = JSON.parse(text) as unknown;
    if (!Array.isArray(data)) throw new Error(`${path}: expected a JSON array of {"phoneNumber", "appointmentId"}`);
    rows = data.map((row, i) => ({ row: row as Record<string, unknown>, where: `${path} item ${i + 1}` }));
  } else {
    const records = parse(text, { columns: true, skip_empty_lines: true, trim: true, info: true, relax_column_count: true }) as {
      record: Record<string, unknown>;
      info: { lines: number };
    }[];
    rows = records.map((r) => ({ row: r.record, where: `${path} line ${r.info.lines}` }));
  }
  const targets: CallTarget[] = [];
  const rejected: RejectedRow[] = [];
  for (const { row, where } of rows) {
    const rawPhone = pick(row, PHONE_KEYS);
    const appointmentId = pick(row, APPOINTMENT_KEYS);
    const phone = typeof rawPhone === 'string' ? toE164(rawPhone, country) : undefined;
    if (!phone) {
      rejected.push({ source: where, reason: `phone_number ${JSON.stringify(rawPhone ?? '')} is not a valid phone number; write it in E.164, e.g. +14155550123` });
    } else if (typeof appointmentId !== 'string' || !(await store.getAppointment(appointmentId))) {
      rejected.push({ source: where, reason: `appointment_id ${JSON.stringify(appointmentId ?? '')} is not in the appointment store` });
    } else {
      targets.push({ appointmentId, phoneNumber: phone, source: where });
    }
  }
  return { targets, rejected };
}
