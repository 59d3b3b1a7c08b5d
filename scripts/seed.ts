/**
 * make seed — loads the demo patients, providers, appointments and free slots into the store at
 * DATABASE_PATH (idempotent), and prints who can call.
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
    for (const p of DEMO_PATIENTS) {
      const found = await store.lookupCaller(p.phoneE164);
      const a = found?.appointment;
      process.stdout.write(`  ${p.name.padEnd(13)} ${p.phoneE164}  ${a ? `${a.service}, ${appointmentInWords(a.starts_at, a.timezone)} (${a.status})` : '-'}\n`);
    }
  } finally {
    await store.close();
  }
});
