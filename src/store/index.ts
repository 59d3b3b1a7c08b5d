/**
 * The appointment store: owns the schema, its migrations, and every read and write of patients,
 * providers, slots, appointments, call records, key presses, preferences and callbacks, and the
 * booking changes a call may make (./booking.ts).
 */
export { openSqliteStore } from './sqlite.js';
export { SqlStore, type AppointmentStore, type AppointmentDetails, type CallerLookup, type CallStart } from './store.js';
export { MIGRATIONS } from './migrations.js';
export { Booking, type ChangeContext, type ChangeSource, type OpenSlot, type WalkInPreference } from './booking.js';
export { seedDemoData, DEMO_PATIENTS } from './seed.js';
export type * from './schema.js';
