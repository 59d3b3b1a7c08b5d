/**
 * make visit-link PATIENT=<id> — prints a visit link for one patient: the web page's address with a
 * token signed with VISIT_LINK_SECRET (src/web/link.ts), valid VISIT_LINK_DAYS days (or --days).
 * Whoever opens it talks to the agent about that patient's appointments, as the patient: send it to
 * the patient only, as you would their appointment details.
 *   visit-link <patient id> [--days N] [--cwd DIR]
 */
import { resolve } from 'node:path';
import { flags, runCli, UserError } from '../src/cli/index.js';
import { loadConfig } from '../src/config/index.js';
import { openStore } from '../src/store/index.js';
import { publicUrl, signVisit, visitUrl } from '../src/web/index.js';

const USAGE = 'usage: make visit-link PATIENT=<patient id> [ARGS="--days N"]   (visit-link <patient id> [--days N] [--cwd DIR])';

// The link is the report asked for: standard output is not redacted (its token would be).
await runCli(
  async () => {
    const { values, positionals } = flags({ days: { type: 'string' }, cwd: { type: 'string' } }, USAGE);
    const patientId = positionals[0]?.trim();
    if (!patientId) throw new UserError(`PATIENT: missing; ${USAGE}. \`make seed\` lists the demo patients' ids`);
    const config = loadConfig({ cwd: resolve(values.cwd ?? process.cwd()), need: ['visit-links'] });
    const days = values.days === undefined ? config.VISIT_LINK_DAYS : Number(values.days);
    if (!Number.isInteger(days) || days < 1 || days > 90) throw new UserError(`--days: "${values.days}" is not valid; expected a whole number of days from 1 to 90`);
    const store = await openStore(config);
    try {
      if (!(await store.getPatient(patientId))) {
        throw new UserError(`PATIENT: no patient with id "${patientId}" in ${config.DATABASE_PATH}; check the id (\`make seed\` lists the demo patients')`);
      }
    } finally {
      await store.close();
    }
    const { token, expiresAt } = await signVisit(config.VISIT_LINK_SECRET!, patientId, days);
    process.stderr.write(`visit link for patient ${patientId}, valid until ${expiresAt.toISOString()} (${days} day${days === 1 ? '' : 's'}):\n`);
    process.stdout.write(`${visitUrl(publicUrl(config), token)}\n`);
  },
  { report: true },
);
