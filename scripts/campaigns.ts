/**
 * make campaigns — the dialer's campaigns, newest first, with their targets counted by state; or
 * one campaign's targets (`show ID`). Numbers are shown with their last 4 digits only.
 *   campaigns [show ID] [--json] [--cwd DIR]
 */
import { resolve } from 'node:path';
import { flags, runCli, UserError } from '../src/cli/index.js';
import { table } from '../src/cli/table.js';
import { loadConfig } from '../src/config/index.js';
import { summarize, targetRow } from '../src/outbound/index.js';
import { openStore } from '../src/store/index.js';

const USAGE = 'usage: campaigns [show ID] [--json] [--cwd DIR]';

await runCli(async () => {
  const { values, positionals } = flags({ json: { type: 'boolean' }, cwd: { type: 'string' } }, USAGE);
  const [command, id, ...extra] = positionals;
  if ((command !== undefined && command !== 'show') || (command === 'show' && !id) || extra.length) throw new UserError(USAGE);
  const cwd = resolve(values.cwd ?? process.cwd());
  const config = loadConfig({ cwd });
  const store = await openStore({ ...config, DATABASE_PATH: resolve(cwd, config.DATABASE_PATH) });
  try {
    if (command === 'show') {
      const campaign = await store.campaigns.get(id!);
      if (!campaign) throw new UserError(`no campaign ${id} in ${config.DATABASE_PATH}; make campaigns lists them`);
      const targets = await store.campaigns.targets(campaign.id);
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ ...campaign, settings: JSON.parse(campaign.settings), summary: summarize(targets), targets: targets.map(targetRow) }, null, 2)}\n`);
        return;
      }
      const rows = targets.map(targetRow).map((t) => [t.appointmentId, t.phoneNumber, t.state, String(t.attempts), t.lastOutcome ?? '', t.sipStatus ? String(t.sipStatus) : '', t.lastAttemptAt?.slice(0, 19).replace('T', ' ') ?? '', t.nextAt?.slice(0, 19).replace('T', ' ') ?? '', t.detail ?? '']);
      process.stdout.write(`campaign ${campaign.id} (${campaign.source}), started ${campaign.created_at}${campaign.finished_at ? `, finished ${campaign.finished_at}` : ', not finished'}\n`);
      process.stdout.write(`${table(['APPOINTMENT', 'NUMBER', 'STATE', 'ATTEMPTS', 'LAST OUTCOME', 'SIP', 'LAST CALL (UTC)', 'NEXT (UTC)', 'DETAIL'], rows)}\n`);
      return;
    }
    const list = await store.campaigns.list();
    if (values.json) process.stdout.write(`${JSON.stringify(list.map((c) => ({ ...c, settings: JSON.parse(c.settings) })), null, 2)}\n`);
    else if (list.length === 0) process.stdout.write('no campaign yet: make outbound-calls starts one\n');
    else {
      process.stdout.write(
        `${table(
          ['ID', 'STARTED (UTC)', 'SOURCE', 'TARGETS', 'DONE', 'SKIPPED', 'PENDING', 'FINISHED'],
          list.map((c) => [c.id, c.created_at.slice(0, 19).replace('T', ' '), c.source, String(c.total), String(c.done), String(c.skipped), String(c.pending + c.dialing), c.finished_at ? 'yes' : 'no']),
        )}\n`,
      );
    }
  } finally {
    await store.close();
  }
});
