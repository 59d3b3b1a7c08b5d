/**
 * make setup-sip — validate sip_config/*.json, then create or update the inbound trunk, outbound
 * trunk and dispatch rule in LiveKit and record their ids in .env.sip.
 *   --dry-run            print the plan, change nothing
 *   --allow-shared-room  accept a `direct` dispatch rule (every caller in one room)
 *   --allow-any-source   accept an inbound trunk with neither allowedAddresses nor authUsername/
 *                        authPassword (calls from any address, with any caller ID: a lab only)
 *   --cwd DIR            project folder holding .env, .env.sip and sip_config/ (default: here)
 */
import { join, resolve } from 'node:path';
import { flags, runCli, UserError } from '../src/cli/index.js';
import { configAsEnv, loadConfig, readEnvFiles } from '../src/config/index.js';
import { describeLiveKitError, liveKitApi } from '../src/livekit/index.js';
import { applySipConfig, loadSipConfig, writeIds } from '../src/sip/index.js';

const USAGE = 'usage: setup-sip [--dry-run] [--allow-shared-room] [--allow-any-source] [--cwd DIR]';

await runCli(async () => {
  const { values } = flags(
    { 'dry-run': { type: 'boolean' }, 'allow-shared-room': { type: 'boolean' }, 'allow-any-source': { type: 'boolean' }, cwd: { type: 'string' } },
    USAGE,
  );
  const cwd = resolve(values.cwd ?? process.cwd());
  const config = loadConfig({ cwd });
  const envFiles = [join(cwd, '.env'), join(cwd, '.env.sip')];
  // Placeholders see every variable of the env files and the environment, plus defaults (AGENT_NAME).
  const env = { ...readEnvFiles(envFiles), ...process.env, ...configAsEnv(config) };
  const desired = loadSipConfig(cwd, env, {
    agentName: config.AGENT_NAME,
    allowSharedRoom: values['allow-shared-room'],
    allowAnySource: values['allow-any-source'],
  });

  const api = liveKitApi(config);
  const dryRun = values['dry-run'] ?? false;
  const result = await applySipConfig(api.sip, desired, dryRun).catch((err: unknown) => {
    throw new UserError(describeLiveKitError(err, config.LIVEKIT_URL, 'SIP setup'));
  });

  for (const item of result.plan) {
    const verb = dryRun ? { create: 'would create', update: 'would update', unchanged: 'unchanged' }[item.action] : { create: 'created', update: 'updated', unchanged: 'unchanged' }[item.action];
    const fields = item.changed.length ? ` (${item.changed.join(', ')})` : '';
    process.stdout.write(`${item.kind.padEnd(15)} ${JSON.stringify(item.name)} ${verb}${item.id ? ` ${item.id}` : ''}${fields}\n`);
  }
  if (dryRun) {
    process.stdout.write('dry run: nothing was changed in LiveKit or .env.sip\n');
    return;
  }
  writeIds(join(cwd, '.env.sip'), result.ids);
  process.stdout.write(
    `.env.sip: INBOUND_TRUNK_ID=${result.ids.INBOUND_TRUNK_ID} OUTBOUND_TRUNK_ID=${result.ids.OUTBOUND_TRUNK_ID} DISPATCH_RULE_ID=${result.ids.DISPATCH_RULE_ID}\n`,
  );
});
