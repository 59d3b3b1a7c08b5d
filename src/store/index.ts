/**
 * The appointment store: owns the schema, its migrations, and every read and write of patients,
 * providers, slots, appointments, call records, key presses, preferences and callbacks, the
 * booking changes a call may make (./booking.ts), the messages callers leave with the outbox of
 * their notifications (./messages.ts), the do-not-call list (./do-not-call.ts) and outbound
 * campaigns (./campaigns.ts). Nothing outside this folder touches the
 * database: everything goes through {@link AppointmentStore}, opened with {@link openStore}.
 */
import type { CountryCode } from '../phone/index.js';
import { openSqliteStore, type OpenOptions } from './sqlite.js';
import type { AppointmentStore } from './store.js';

export { openSqliteStore, type OpenOptions } from './sqlite.js';
export {
  SqlStore,
  checkDateOfBirth,
  type AppointmentStore,
  type AppointmentDetails,
  type AppointmentSeed,
  type CallClose,
  type CallEventKind,
  type CallerLookup,
  type CallStart,
  type PatientSeed,
  type TransferRecord,
} from './store.js';
export { Messages, Outbox, MESSAGE_CREATED, messagePayload, type NewMessage } from './messages.js';
export { MIGRATIONS } from './migrations.js';
export { DoNotCall, type NewDoNotCall } from './do-not-call.js';
export { Campaigns, type AttemptEnd, type CampaignCounts, type NewCampaign, type NewCampaignTarget } from './campaigns.js';
export { Booking, type ChangeContext, type ChangeSource, type OpenSlot, type WalkInPreference } from './booking.js';
export { seedDemoData, DEMO_PATIENTS } from './seed.js';
export type * from './schema.js';

/**
 * Opens the store the configuration names, migrated to the latest schema: today the SQLite file
 * at `DATABASE_PATH` (created with its folder if missing; see ./sqlite.ts). A second database —
 * PostgreSQL, chosen by a `DATABASE_URL` — is one new dialect file next to ./sqlite.ts that
 * builds a {@link SqlStore} on its Kysely dialect, chosen here.
 * @param config `DATABASE_PATH`: the SQLite file; `PHONE_DEFAULT_COUNTRY`: ISO 3166 code (e.g. US)
 *   that numbers without a `+` belong to, as the configuration has validated it.
 * @throws Error when the database cannot be opened or a migration fails.
 */
export function openStore(config: { readonly DATABASE_PATH: string; readonly PHONE_DEFAULT_COUNTRY: CountryCode }, opts: OpenOptions = {}): Promise<AppointmentStore> {
  return openSqliteStore(config.DATABASE_PATH, config.PHONE_DEFAULT_COUNTRY, opts);
}
