/**
 * make list-sip-trunks / make list-sip-dispatch — what LiveKit holds, as an aligned table, or
 * JSON with --json. Passwords are never printed.
 *   list-sip trunks|dispatch [--json] [--cwd DIR]
 */
import { resolve } from 'node:path';
import { flags, runCli, UserError } from '../src/cli/index.js';
import { loadConfig } from '../src/config/index.js';
import { describeLiveKitError, liveKitApi } from '../src/livekit/index.js';
import { dispatchRows, formatDispatchRules, formatTrunks, trunkRows } from '../src/sip/index.js';

const USAGE = 'usage: list-sip trunks|dispatch [--json] [--cwd DIR]';

await runCli(async () => {
  const { values, positionals } = flags({ json: { type: 'boolean' }, cwd: { type: 'string' } }, USAGE);
  const what = positionals[0];
  if (what !== 'trunks' && what !== 'dispatch') throw new UserError(USAGE);
  const config = loadConfig({ cwd: resolve(values.cwd ?? process.cwd()) });
  const { sip } = liveKitApi(config);
  const fail = (err: unknown): never => {
    throw new UserError(describeLiveKitError(err, config.LIVEKIT_URL, `listing SIP ${what}`));
  };
  if (what === 'trunks') {
    const [inbound, outbound] = await Promise.all([sip.listSipInboundTrunk(), sip.listSipOutboundTrunk()]).catch(fail);
    const rows = trunkRows(inbound, outbound);
    process.stdout.write(`${values.json ? JSON.stringify(rows, null, 2) : formatTrunks(rows)}\n`);
  } else {
    const rows = dispatchRows(await sip.listSipDispatchRule().catch(fail));
    process.stdout.write(`${values.json ? JSON.stringify(rows, null, 2) : formatDispatchRules(rows)}\n`);
  }
  // The table is the clinic's own configuration, asked for: its trunk numbers are shown in full.
}, { report: true });
