/**
 * Whom the dialer calls: the appointments that need confirming, chosen from the store, or the rows
 * of a CSV or JSON file. Every row is checked against the store before anything is dialed — a
 * valid number (libphonenumber-js), an appointment that exists, is not cancelled and has not
 * started, the number being the one stored for the appointment's patient, and no second call to
 * the same appointment or number — and a row that fails is reported with its line (CSV) or item
 * (JSON) and the fix, never dialed. Messages show phone numbers masked to their last 4 digits.
 */
import { readFileSync } from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import { DateTime } from 'luxon';
import { maskPhoneNumber, redactText } from '../logging/index.js';
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

/** A row that will not be dialed, and why (phone numbers in `reason` are masked). */
export interface RejectedRow {
  /** The row: "file.csv line 3", "file.json item 2" or "appointment a-7". */
  readonly source: string;
  readonly reason: string;
}

/** The targets to dial, in input order, and the rows that will not be dialed. */
export interface ChosenTargets {
  readonly targets: CallTarget[];
  readonly rejected: RejectedRow[];
}

/** Thrown when a target file cannot be used at all (unreadable, not JSON, no phone column…); the message names the file and the fix. */
export class TargetFileError extends Error {
  override name = 'TargetFileError';
}

/** `"+*******0123"`: a number as the dialer's messages may show it. */
const masked = (value: string) => JSON.stringify(maskPhoneNumber(value));

/**
 * Remembers the first target for each appointment and each number, and says why a later one is a
 * duplicate. Numbers are compared in E.164, so `+14155550123`, `(415) 555-0123` and
 * `415.555.0123` are one number.
 */
class FirstOccurrence {
  private readonly byAppointment = new Map<string, string>();
  private readonly byPhone = new Map<string, { label: string; appointmentId: string }>();

  /** Why `t` repeats an earlier target, or undefined (then `t`, under `label`, is the first). */
  check(t: CallTarget, label: string): string | undefined {
    const sameAppointment = this.byAppointment.get(t.appointmentId);
    if (sameAppointment) return `duplicate of ${sameAppointment}: appointment ${JSON.stringify(t.appointmentId)} is called once; remove the repeated row`;
    const samePhone = this.byPhone.get(t.phoneNumber);
    if (samePhone) {
      return `duplicate of ${samePhone.label}: number ${masked(t.phoneNumber)} is already called about appointment ${JSON.stringify(samePhone.appointmentId)}; one call per number per run, so call this appointment in a later run`;
    }
    this.byAppointment.set(t.appointmentId, label);
    this.byPhone.set(t.phoneNumber, { label, appointmentId: t.appointmentId });
    return undefined;
  }
}

/**
 * Tomorrow's appointments in the clinic's `timezone` that are neither confirmed nor cancelled and
 * whose patient we have not called in the last `recallHours` hours, earliest first. A patient with
 * two of them is called once, about the earlier one (the other is rejected as a duplicate and comes
 * up again in the next run); a stored number that is not valid is rejected.
 */
export async function appointmentsToConfirm(store: AppointmentStore, timezone: string, recallHours: number, now = DateTime.now()): Promise<ChosenTargets> {
  const tomorrow = now.setZone(timezone).plus({ days: 1 }).startOf('day');
  const rows = await store.appointmentsToConfirm({
    from: tomorrow.toJSDate(),
    to: tomorrow.plus({ days: 1 }).toJSDate(),
    notCalledSince: now.minus({ hours: recallHours }).toJSDate(),
  });
  const targets: CallTarget[] = [];
  const rejected: RejectedRow[] = [];
  const seen = new FirstOccurrence();
  for (const r of rows) {
    const e164 = toE164(r.phoneE164);
    const source = `appointment ${r.appointmentId}`;
    const target = e164 && { appointmentId: r.appointmentId, phoneNumber: e164, source };
    const duplicate = target && seen.check(target, source);
    if (!target) rejected.push({ source, reason: `the patient's stored number ${masked(r.phoneE164)} is not a valid phone number; correct it in the patient's record` });
    else if (duplicate) rejected.push({ source, reason: duplicate });
    else targets.push(target);
  }
  return { targets, rejected };
}

/** The names a column (CSV) or key (JSON) may have; the first is the one messages use. */
const FIELDS = {
  phone: { csv: ['phone_number', 'phoneNumber', 'phone', 'number'], json: ['phoneNumber', 'phone_number', 'phone', 'number'] },
  appointment: { csv: ['appointment_id', 'appointmentId', 'appointment'], json: ['appointmentId', 'appointment_id', 'appointment'] },
} as const;

type Format = 'csv' | 'json';

/** One row of the file before it is checked: what it holds (a CSV record, any JSON value), and its label ("line 3", "item 2"). */
interface RawRow {
  readonly value: unknown;
  readonly label: string;
}

const EXAMPLE = { csv: 'phone_number,appointment_id', json: '[{"phoneNumber": "+14155550123", "appointmentId": "a-1"}]' } as const;

/** The value of the first of `keys` present (not undefined or ""), and the key it was under. */
function field(row: Record<string, unknown>, keys: readonly string[]): { key: string; value: unknown } {
  for (const key of keys) {
    const value = row[key];
    if (value !== undefined && value !== '') return { key, value };
  }
  return { key: keys[0]!, value: undefined };
}

/** What a JSON value is, for messages: `null`, `an array`, `a number (5)`… (phone numbers masked). */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string (${JSON.stringify(redactText(value.length > 40 ? `${value.slice(0, 40)}…` : value))})`;
  if (typeof value === 'number') return `a number (${maskPhoneNumber(String(value))})`;
  return `${typeof value === 'object' ? 'an' : 'a'} ${typeof value}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function readCsv(path: string, bytes: Buffer): RawRow[] {
  let records: { record: Record<string, unknown>; info: { lines: number } }[];
  try {
    records = parse(bytes, {
      bom: true,
      columns: true,
      info: true,
      trim: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      relax_column_count: true,
    }) as typeof records;
  } catch (err) {
    if (err instanceof CsvError) throw new TargetFileError(`${path}: not a valid CSV file: ${redactText(err.message)}; the first line must be ${EXAMPLE.csv}`);
    throw err;
  }
  // The header is checked once here, rather than as a missing field in every row.
  const header = Object.keys(records[0]?.record ?? {});
  for (const [name, keys] of [['phone_number', FIELDS.phone.csv], ['appointment_id', FIELDS.appointment.csv]] as const) {
    if (records.length > 0 && !keys.some((k) => header.includes(k))) {
      throw new TargetFileError(`${path}: the header has no ${name} column (it has ${header.map((h) => JSON.stringify(h)).join(', ')}); the first line must be ${EXAMPLE.csv}`);
    }
  }
  return records.map((r) => ({ value: r.record, label: `line ${r.info.lines}` }));
}

function readJson(path: string, bytes: Buffer): RawRow[] {
  let text: string;
  try {
    // Drops a leading byte-order mark; refuses bytes that are not UTF-8.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TargetFileError(`${path}: not UTF-8 text; save it as UTF-8 JSON`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message.replace(/\s+/g, ' ');
    const at = /at position (\d+)/.exec(message);
    const lines = at ? text.slice(0, Number(at[1])).split('\n') : undefined;
    const where = lines ? ` at line ${lines.length}, column ${lines.at(-1)!.length + 1}` : '';
    throw new TargetFileError(`${path}: not valid JSON${where}: ${redactText(message)}; expected an array like ${EXAMPLE.json}`);
  }
  if (!Array.isArray(data)) throw new TargetFileError(`${path}: expected a JSON array like ${EXAMPLE.json}, found ${kindOf(data)}`);
  return data.map((value: unknown, i) => ({ value, label: `item ${i + 1}` }));
}

/**
 * The row's target, or why it cannot be dialed. Checked in this order: the row's shape, the
 * number, the appointment (exists, not cancelled, not started), the number being the patient's.
 */
async function checkRow(row: RawRow, format: Format, source: string, store: AppointmentStore, country: CountryCode, now: DateTime): Promise<CallTarget | string> {
  if (!isObject(row.value)) return `${kindOf(row.value)} is not a call; each item must be an object like ${EXAMPLE.json.slice(1, -1)}`;
  const phone = field(row.value, FIELDS.phone[format]);
  const appointment = field(row.value, FIELDS.appointment[format]);
  if (phone.value === undefined) return `${phone.key} is missing; give the patient's number in E.164, e.g. +14155550123`;
  if (typeof phone.value !== 'string') return `${phone.key} is ${kindOf(phone.value)}, not text; write it as a string in E.164, e.g. "+14155550123"`;
  const e164 = toE164(phone.value, country);
  if (!e164) return `${phone.key} ${masked(phone.value)} is not a valid phone number; write it in E.164, e.g. +14155550123`;
  if (appointment.value === undefined) return `${appointment.key} is missing; give the id of the appointment the call is about`;
  if (typeof appointment.value !== 'string') return `${appointment.key} is ${kindOf(appointment.value)}, not text; write the appointment's id as a string`;
  const id = appointment.value;
  const details = await store.getAppointment(id);
  if (!details) return `${appointment.key} ${JSON.stringify(id)} is not in the appointment store; check the id`;
  if (details.status === 'cancelled') return `appointment ${JSON.stringify(id)} is cancelled; remove the row (a cancelled appointment is not confirmed)`;
  const startsAt = DateTime.fromISO(details.starts_at, { zone: details.timezone });
  if (startsAt < now) return `appointment ${JSON.stringify(id)} started ${startsAt.toFormat('yyyy-LL-dd HH:mm')} ${details.timezone}, in the past; remove the row`;
  const patient = await store.getPatient(details.patient_id);
  const stored = patient && toE164(patient.phone_e164, country);
  if (!stored) return `appointment ${JSON.stringify(id)}: its patient has no valid number in the store; correct the patient's record`;
  if (stored !== e164) {
    return `${phone.key} ${masked(e164)} is not the number stored for the patient of appointment ${JSON.stringify(id)} (${maskPhoneNumber(stored)}), and the call dials the stored number; correct the row or the patient's record`;
  }
  return { appointmentId: id, phoneNumber: e164, source };
}

/**
 * Reads whom to call from a CSV file (header row `phone_number,appointment_id`; a UTF-8
 * byte-order mark and CRLF line ends are fine) or a JSON file (name ending `.json`: an array of
 * `{"phoneNumber", "appointmentId"}`). Each row is checked against the store (see the module
 * comment); a row that fails is rejected with its line (CSV, counting the header as line 1) or item
 * (JSON, counting from 1), the field and the fix. Of rows for the same appointment or number, the
 * first valid one is kept and the others are rejected naming it.
 * @param now rows whose appointment starts before this are rejected.
 * @throws TargetFileError naming the file when it cannot be read, is not valid CSV or JSON, is
 *   not a JSON array, or its CSV header has no phone_number or appointment_id column.
 */
export async function targetsFromFile(path: string, store: AppointmentStore, country: CountryCode, now = DateTime.now()): Promise<ChosenTargets> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new TargetFileError(`${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path`);
  }
  const format: Format = path.toLowerCase().endsWith('.json') ? 'json' : 'csv';
  const rows = format === 'json' ? readJson(path, bytes) : readCsv(path, bytes);
  const targets: CallTarget[] = [];
  const rejected: RejectedRow[] = [];
  const seen = new FirstOccurrence();
  for (const row of rows) {
    const source = `${path} ${row.label}`;
    const checked = await checkRow(row, format, source, store, country, now);
    const duplicate = typeof checked === 'string' ? undefined : seen.check(checked, row.label);
    if (typeof checked === 'string') rejected.push({ source, reason: checked });
    else if (duplicate) rejected.push({ source, reason: duplicate });
    else targets.push(checked);
  }
  return { targets, rejected };
}
