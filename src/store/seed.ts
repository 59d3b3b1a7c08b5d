/**
 * Demo data (`make seed`, `make demo`): two providers, four patients with an appointment each and
 * free slots, written through the store's interface. Two of the patients, Maria Garcia and her son
 * Lucas, share one number: a caller from it says their date of birth to pick which of them they are.
 * Idempotent: fixed ids, upserts.
 */
import { DateTime } from 'luxon';
import type { AppointmentStore } from './store.js';

/**
 * The demo patients: their numbers in E.164 (Maria's and Lucas's are one family number), their dates
 * of birth (what a caller proves who they are with), and when their appointment is (days from
 * today, local time). The first is Maria Garcia: `make demo` calls from her number.
 */
export const DEMO_PATIENTS = [
  { id: 'demo-maria', name: 'Maria Garcia', phoneE164: '+14155550101', dateOfBirth: '1985-03-14', days: 1, time: '10:30', service: 'dental cleaning', provider: 'demo-chen' },
  { id: 'demo-james', name: 'James Wilson', phoneE164: '+14155550102', dateOfBirth: '1972-07-09', days: 2, time: '14:15', service: 'annual check-up', provider: 'demo-patel' },
  { id: 'demo-aisha', name: 'Aisha Rahman', phoneE164: '+14155550103', dateOfBirth: '1990-11-02', days: 1, time: '16:00', service: 'follow-up visit', provider: 'demo-chen' },
  { id: 'demo-lucas', name: 'Lucas Garcia', phoneE164: '+14155550101', dateOfBirth: '2016-09-05', days: 3, time: '15:30', service: 'child check-up', provider: 'demo-patel' },
] as const;

/**
 * Loads the demo data: two providers, the {@link DEMO_PATIENTS} with their dates of birth and
 * upcoming appointments in `timezone`, and free slots for each provider on the next three days.
 */
export async function seedDemoData(store: AppointmentStore, timezone: string, now = DateTime.now()): Promise<void> {
  const today = now.setZone(timezone).startOf('day');
  await store.upsertProvider({ id: 'demo-chen', name: 'Doctor Chen' });
  await store.upsertProvider({ id: 'demo-patel', name: 'Doctor Patel' });
  for (const p of DEMO_PATIENTS) {
    await store.upsertPatient({ id: p.id, name: p.name, phoneE164: p.phoneE164, dateOfBirth: p.dateOfBirth });
    const [hour, minute] = p.time.split(':').map(Number) as [number, number];
    await store.upsertAppointment({
      id: `appt-${p.id}`,
      patientId: p.id,
      providerId: p.provider,
      start: today.plus({ days: p.days }).set({ hour, minute }),
      service: p.service,
      location: 'the Main Street clinic',
    });
  }
  for (const provider of ['demo-chen', 'demo-patel']) {
    for (let d = 1; d <= 3; d++) await store.addFreeSlots(provider, today.plus({ days: d }).set({ hour: 9 }), 8, 'the Main Street clinic');
  }
}
