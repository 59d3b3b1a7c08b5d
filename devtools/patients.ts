/**
 * Test patients: a patient with a date of birth, a unique phone number (or one shared with another
 * test patient: a family) and an appointment tomorrow (Los Angeles time), written straight into a
 * worker's store.
 */
import { DateTime } from 'luxon';
import type { AppointmentDetails, AppointmentStore } from '../src/store/index.js';
import { uniqueNumber } from './livekit.js';

let count = 0;
/** Appointment starts (ISO) given so far: a test run again on its retry asks for the same time again. */
const taken = new Set<string>();

/** A patient of Doctor Chen with one appointment. */
export interface TestPatient {
  readonly patientId: string;
  readonly name: string;
  /** E.164: unique in this test process, unless the patient was added sharing another's. */
  readonly phone: string;
  /** ISO `YYYY-MM-DD`: what the caller proves who they are with. */
  readonly dateOfBirth: string;
  readonly appointmentId: string;
  readonly appointment: AppointmentDetails;
}

/**
 * Adds a patient and an appointment tomorrow at `time` (default: a different time for each
 * patient, so slots never collide). A `time` already given to an earlier patient of this process
 * (a test on its retry) moves a day later, as Doctor Chen has one slot at a time.
 * @param opts.dateOfBirth ISO `YYYY-MM-DD`; default 1985-03-14.
 * @param opts.phone E.164 of another test patient, to share their number (a family); default a new unique one.
 */
export async function addPatient(
  store: AppointmentStore,
  opts: { name?: string; time?: { hour: number; minute: number }; service?: string; dateOfBirth?: string; phone?: string } = {},
): Promise<TestPatient> {
  const n = ++count;
  const id = `${process.pid}-${n}`;
  await store.upsertProvider({ id: 'dr-chen', name: 'Doctor Chen' });
  const name = opts.name ?? 'Maria Garcia';
  const phone = opts.phone ?? uniqueNumber();
  const dateOfBirth = opts.dateOfBirth ?? '1985-03-14';
  await store.upsertPatient({ id: `p-${id}`, name, phoneE164: phone, dateOfBirth });
  const tomorrow = DateTime.now().setZone('America/Los_Angeles').plus({ days: 1 }).startOf('day');
  // Each patient 11 minutes after the previous one from 07:00, unless told: slots never collide.
  let start = opts.time ? tomorrow.set(opts.time) : tomorrow.plus({ minutes: 7 * 60 + 11 * n });
  while (taken.has(start.toISO()!)) start = start.plus({ days: 1 });
  taken.add(start.toISO()!);
  await store.upsertAppointment({
    id: `a-${id}`,
    patientId: `p-${id}`,
    providerId: 'dr-chen',
    start,
    service: opts.service ?? 'dental cleaning',
    location: 'the Main Street clinic',
  });
  return { patientId: `p-${id}`, name, phone, dateOfBirth, appointmentId: `a-${id}`, appointment: (await store.getAppointment(`a-${id}`))! };
}
