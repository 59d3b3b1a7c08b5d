/**
 * make seed — loads the demo patients, providers, appointments and free slots into the store at
 * DATABASE_PATH (idempotent), and prints who can call: each patient once, with their id (for
 * `make visit-link PATIENT=…`), their number, the date of birth a caller proves who they are with,
 * and their next appointment. Patients sharing a number (a family) are listed together.
 */
import { runCli } from '../src/cli/index.js';
import { loadConfig } from '../src/config/index.js';
import { appointmentInWords } from '../src/speech/words.js';
import { DEMO_PATIENTS, openStore, seedDemoData } from '../src/store/index.js';

await runCli(async () => {
  const config = loadConfig();
  const store = await openStore(config);
  try {
    await seedDemoData(store, config.CLINIC_TIMEZONE);
    process.stdout.write(`seeded ${config.DATABASE_PATH}:\n`);
    for (const phone of new Set(DEMO_PATIENTS.map((p) => p.phoneE164))) {
      for (const { patient, appointment: a } of await store.lookupCallers(phone)) {
        const appointment = a ? `${a.service}, ${appointmentInWords(a.starts_at, a.timezone)} (${a.status})` : '-';
        process.stdout.write(`  ${patient.id.padEnd(11)} ${patient.name.padEnd(13)} ${patient.phone_e164}  born ${patient.date_of_birth ?? '(not on file)'}  ${appointment}\n`);
      }
    }
  } finally {
    await store.close();
  }
});
