/**
 * Demo data (`make seed`) and the small writers it and the tests use to add patients, providers,
 * slots and appointments. Seeding is idempotent: fixed ids, upserts.
 */
import { DateTime } from 'luxon';
import type { SqlStore } from './store.js';
import type { AppointmentStatus } from './schema.js';

/** Adds or replaces a patient. */
export async function upsertPatient(store: SqlStore, p: { id: string; name: string; phoneE164: string; language?: string }): Promise<void> {
  await store.db
    .insertInto('patients')
    .values({ id: p.id, name: p.name, phone_e164: p.phoneE164, language: p.language ?? 'en-US', created_at: new Date().toISOString() })
    .onConflict((oc) => oc.column('id').doUpdateSet({ name: p.name, phone_e164: p.phoneE164, language: p.language ?? 'en-US' }))
    .execute();
}

/** Adds or replaces a provider. */
export async function upsertProvider(store: SqlStore, p: { id: string; name: string }): Promise<void> {
  await store.db.insertInto('providers').values(p).onConflict((oc) => oc.column('id').doUpdateSet({ name: p.name })).execute();
}

/** What an appointment is made of. */
export interface AppointmentSeed {
  id: string;
  patientId: string;
  providerId: string;
  /** Local wall-clock start in `timezone`, e.g. 2026-11-23T10:30. */
  start: DateTime;
  service: string;
  location: string;
  durationMin?: number;
  status?: AppointmentStatus;
}

/** Adds or replaces an appointment and the slot it holds. */
export async function upsertAppointment(store: SqlStore, a: AppointmentSeed): Promise<void> {
  const startsAt = a.start.toUTC().toISO()!;
  const timezone = a.start.zoneName!;
  const slotId = `slot-${a.id}`;
  const now = new Date().toISOString();
  await store.db
    .insertInto('appointments')
    .values({
      id: a.id,
      patient_id: a.patientId,
      provider_id: a.providerId,
      slot_id: slotId,
      starts_at: startsAt,
      timezone,
      duration_min: a.durationMin ?? 30,
      service: a.service,
      location: a.location,
      status: a.status ?? 'scheduled',
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ starts_at: startsAt, timezone, status: a.status ?? 'scheduled', service: a.service, location: a.location, updated_at: now }),
    )
    .execute();
  await store.db
    .insertInto('slots')
    .values({ id: slotId, provider_id: a.providerId, starts_at: startsAt, timezone, duration_min: a.durationMin ?? 30, location: a.location, appointment_id: a.id })
    .onConflict((oc) => oc.column('id').doUpdateSet({ starts_at: startsAt, appointment_id: a.id }))
    .execute();
}

/** Adds free slots for a provider: `count` slots of 30 min from `from`, every `everyMin` minutes. */
export async function addFreeSlots(store: SqlStore, providerId: string, from: DateTime, count: number, location: string, everyMin = 60): Promise<void> {
  for (let i = 0; i < count; i++) {
    const start = from.plus({ minutes: i * everyMin });
    await store.db
      .insertInto('slots')
      .values({
        id: `slot-${providerId}-${start.toUTC().toFormat("yyyyLLdd'T'HHmm")}`,
        provider_id: providerId,
        starts_at: start.toUTC().toISO()!,
        timezone: start.zoneName!,
        duration_min: 30,
        location,
        appointment_id: null,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

/** The demo patients, their numbers in E.164, and when their appointment is (days from today, local time). */
export const DEMO_PATIENTS = [
  { id: 'demo-maria', name: 'Maria Garcia', phoneE164: '+14155550101', days: 1, time: '10:30', service: 'dental cleaning', provider: 'demo-chen' },
  { id: 'demo-james', name: 'James Wilson', phoneE164: '+14155550102', days: 2, time: '14:15', service: 'annual check-up', provider: 'demo-patel' },
  { id: 'demo-aisha', name: 'Aisha Rahman', phoneE164: '+14155550103', days: 1, time: '16:00', service: 'follow-up visit', provider: 'demo-chen' },
] as const;

/**
 * Loads the demo data: two providers, three patients with upcoming appointments in `timezone`,
 * and free slots for each provider on the next three days.
 */
export async function seedDemoData(store: SqlStore, timezone: string, now = DateTime.now()): Promise<void> {
  const today = now.setZone(timezone).startOf('day');
  await upsertProvider(store, { id: 'demo-chen', name: 'Doctor Chen' });
  await upsertProvider(store, { id: 'demo-patel', name: 'Doctor Patel' });
  for (const p of DEMO_PATIENTS) {
    await upsertPatient(store, { id: p.id, name: p.name, phoneE164: p.phoneE164 });
    const [hour, minute] = p.time.split(':').map(Number) as [number, number];
    await upsertAppointment(store, {
      id: `appt-${p.id}`,
      patientId: p.id,
      providerId: p.provider,
      start: today.plus({ days: p.days }).set({ hour, minute }),
      service: p.service,
      location: 'the Main Street clinic',
    });
  }
  for (const provider of ['demo-chen', 'demo-patel']) {
    for (let d = 1; d <= 3; d++) await addFreeSlots(store, provider, today.plus({ days: d }).set({ hour: 9 }), 8, 'the Main Street clinic');
  }
}
