/**
 * After the e2e run (`make test`): no test phone number in full, no test patient's date of birth and
 * no secret in any log the run kept (./logs.ts). The numbers are every patient, caller and trunk
 * number the tests' databases hold; the dates every date of birth on file there, in the forms a log
 * could carry one (`dateOfBirthPattern`); the secrets are the local stack's API secret, the
 * stand-in model key and the web tests' visit-link secret.
 * Usage: node --import tsx devtools/check-logs.ts   (exit 1 with the offending lines, masked)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectDatabase } from './database.js';
import { dateOfBirthPattern, findLeaks, runLogFiles, TEST_MODEL_KEY, TEST_VISIT_LINK_SECRET, WORKERS_DIR } from './logs.js';
import { ensureStack } from './stack.js';

/** Every number the run's databases hold (patients, callers, trunks), and every patient's date of birth on file. */
async function testData(): Promise<{ numbers: string[]; datesOfBirth: string[] }> {
  const numbers = new Set<string>();
  const datesOfBirth = new Set<string>();
  if (!existsSync(WORKERS_DIR)) return { numbers: [], datesOfBirth: [] };
  for (const w of readdirSync(WORKERS_DIR)) {
    const path = join(WORKERS_DIR, w, 'appointments.db');
    if (!existsSync(path)) continue;
    const db = inspectDatabase(path);
    try {
      for (const p of await db.selectFrom('patients').select(['phone_e164', 'date_of_birth']).execute()) {
        numbers.add(p.phone_e164);
        if (p.date_of_birth) datesOfBirth.add(p.date_of_birth);
      }
      for (const c of await db.selectFrom('call_records').select(['phone_e164', 'trunk_number']).execute()) {
        if (c.phone_e164) numbers.add(c.phone_e164);
        if (c.trunk_number) numbers.add(c.trunk_number);
      }
    } finally {
      await db.destroy();
    }
  }
  return {
    numbers: [...numbers].filter((n) => n.replace(/\D/g, '').length >= 8),
    datesOfBirth: [...datesOfBirth].filter((d) => dateOfBirthPattern(d) !== undefined),
  };
}

const stack = ensureStack();
const { numbers, datesOfBirth } = await testData();
const secrets = [stack.apiSecret, TEST_MODEL_KEY, TEST_VISIT_LINK_SECRET];
let leaked = 0;
let lines = 0;
const files = runLogFiles();
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  lines += text.split('\n').length;
  for (const leak of findLeaks(text, numbers, secrets, datesOfBirth)) {
    leaked++;
    if (leaked <= 50) process.stdout.write(`${file}:${leak.line}: ${leak.kind}: ${leak.excerpt}\n`);
  }
}
process.stdout.write(`log check: ${files.length} files, ${lines} lines, ${numbers.length} test numbers, ${datesOfBirth.length} dates of birth, ${leaked} leaks\n`);
process.exit(leaked ? 1 : 0);
