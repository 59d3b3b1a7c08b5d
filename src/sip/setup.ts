/**
 * `setup-sip`: reads and validates sip_config/, then creates or updates the inbound trunk, the
 * outbound trunk and the dispatch rule through the server SDK, and records their ids in `.env.sip`.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIPDispatchRuleInfo, type SIPInboundTrunkInfo, type SIPOutboundTrunkInfo } from '@livekit/protocol';
import type { SipClient } from 'livekit-server-sdk';
import { upsertEnvText } from './env-file.js';
import { readConfigFile, SipConfigError } from './files.js';
import { changedFields, planItem, type PlanItem } from './plan.js';
import { validateDispatchRule, validateInboundTrunk, validateOutboundTrunk, type DispatchRuleChecks, type InboundTrunkChecks } from './validate.js';

/** The three files, relative to the project folder. */
export const SIP_CONFIG_FILES = {
  inbound: join('sip_config', 'inbound_trunk.json'),
  outbound: join('sip_config', 'outbound_trunk.json'),
  rule: join('sip_config', 'dispatch_rule.json'),
} as const;

/** What the files ask for, validated. */
export interface DesiredSipConfig {
  readonly inbound: SIPInboundTrunkInfo;
  readonly outbound: SIPOutboundTrunkInfo;
  readonly rule: SIPDispatchRuleInfo;
}

/**
 * Reads and validates the three files of `cwd/sip_config`; `checks` are those of
 * {@link validateInboundTrunk} and {@link validateDispatchRule}.
 * @throws {SipConfigError} listing every problem of every file (each names the file and field).
 */
export function loadSipConfig(
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  checks: DispatchRuleChecks & InboundTrunkChecks,
): DesiredSipConfig {
  const problems: string[] = [];
  const read = (file: string) => {
    try {
      return readConfigFile(join(cwd, file), file, env);
    } catch (err) {
      if (!(err instanceof SipConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };
  const files = { inbound: read(SIP_CONFIG_FILES.inbound), outbound: read(SIP_CONFIG_FILES.outbound), rule: read(SIP_CONFIG_FILES.rule) };
  const inbound = files.inbound === undefined ? [] : validateInboundTrunk(files.inbound, SIP_CONFIG_FILES.inbound, checks);
  const outbound = files.outbound === undefined ? [] : validateOutboundTrunk(files.outbound, SIP_CONFIG_FILES.outbound);
  const rule = files.rule === undefined ? [] : validateDispatchRule(files.rule, SIP_CONFIG_FILES.rule, checks);
  for (const r of [inbound, outbound, rule]) if (Array.isArray(r)) problems.push(...r);
  if (problems.length || Array.isArray(inbound) || Array.isArray(outbound) || Array.isArray(rule)) {
    throw new SipConfigError(problems);
  }
  return { inbound, outbound, rule };
}

/** Ids written into `.env.sip`. */
export interface SipIds {
  INBOUND_TRUNK_ID: string;
  OUTBOUND_TRUNK_ID: string;
  DISPATCH_RULE_ID: string;
}

/** What a run did (or, with dry-run, would do). */
export interface SetupResult {
  readonly plan: readonly PlanItem[];
  /** Ids after the run; with dry-run, `(new)` stands for what would be created. */
  readonly ids: SipIds;
  readonly dryRun: boolean;
}

const NEW = '(new)';

/**
 * Applies the desired trunks and rule. A rule with no `trunkIds` is bound to the inbound trunk.
 * Nothing is written with `dryRun`. Server API failures propagate (see describeLiveKitError).
 */
export async function applySipConfig(sip: SipClient, desired: DesiredSipConfig, dryRun: boolean): Promise<SetupResult> {
  const [inboundList, outboundList, ruleList] = await Promise.all([
    sip.listSipInboundTrunk(),
    sip.listSipOutboundTrunk(),
    sip.listSipDispatchRule(),
  ]);
  const plan: PlanItem[] = [];

  // Inbound trunk.
  const inPlan = planItem('inbound trunk', desired.inbound, inboundList);
  plan.push(inPlan);
  let inboundId = inPlan.id ?? NEW;
  if (!dryRun) inboundId = await applyInbound(sip, desired.inbound, inPlan);

  // Outbound trunk.
  const outPlan = planItem('outbound trunk', desired.outbound, outboundList);
  plan.push(outPlan);
  let outboundId = outPlan.id ?? NEW;
  if (!dryRun) outboundId = await applyOutbound(sip, desired.outbound, outPlan);

  // Dispatch rule, bound to the inbound trunk when the file names no trunk.
  const rule = desired.rule.clone();
  if (rule.trunkIds.length === 0 && inboundId !== NEW) rule.trunkIds = [inboundId];
  const rulePlan = planItem('dispatch rule', rule, ruleList);
  if (inboundId === NEW && rulePlan.action === 'unchanged') {
    plan.push({ ...rulePlan, action: 'update', changed: ['trunkIds'] });
  } else {
    plan.push(rulePlan);
  }
  let ruleId = rulePlan.id ?? NEW;
  if (!dryRun) ruleId = await applyRule(sip, rule, rulePlan);

  return { plan, ids: { INBOUND_TRUNK_ID: inboundId, OUTBOUND_TRUNK_ID: outboundId, DISPATCH_RULE_ID: ruleId }, dryRun };
}

/** The create options inbound and outbound trunks share. */
const trunkOptions = (t: SIPInboundTrunkInfo | SIPOutboundTrunkInfo) => ({
  metadata: t.metadata,
  authUsername: t.authUsername,
  authPassword: t.authPassword,
  headers: t.headers,
  headersToAttributes: t.headersToAttributes,
  mediaEncryption: t.mediaEncryption,
});

/** Leaves a trunk as it is, updates it in place, or creates it, as `plan` says; returns its id. */
async function applyTrunk<T extends SIPInboundTrunkInfo | SIPOutboundTrunkInfo>(
  t: T,
  plan: PlanItem,
  api: { update: (id: string, t: T) => Promise<T>; create: () => Promise<T> },
): Promise<string> {
  if (plan.action === 'unchanged') return plan.id!;
  if (plan.action === 'update') return (await api.update(plan.id!, t)).sipTrunkId;
  const created = await api.create();
  // Fields the SDK's create call does not carry are set by a full update.
  if (changedFields(t, created).length) await api.update(created.sipTrunkId, t);
  return created.sipTrunkId;
}

const applyInbound = (sip: SipClient, t: SIPInboundTrunkInfo, plan: PlanItem) =>
  applyTrunk(t, plan, {
    update: (id, trunk) => sip.updateSipInboundTrunk(id, trunk),
    create: () =>
      sip.createSipInboundTrunk(t.name, t.numbers, { ...trunkOptions(t), allowedAddresses: t.allowedAddresses, allowedNumbers: t.allowedNumbers, krispEnabled: t.krispEnabled }),
  });

const applyOutbound = (sip: SipClient, t: SIPOutboundTrunkInfo, plan: PlanItem) =>
  applyTrunk(t, plan, {
    update: (id, trunk) => sip.updateSipOutboundTrunk(id, trunk),
    create: () => sip.createSipOutboundTrunk(t.name, t.address, t.numbers, { ...trunkOptions(t), transport: t.transport, destinationCountry: t.destinationCountry }),
  });

async function applyRule(sip: SipClient, r: SIPDispatchRuleInfo, plan: PlanItem): Promise<string> {
  if (plan.action === 'unchanged') return plan.id!;
  if (plan.action === 'update') return (await sip.updateSipDispatchRule(plan.id!, r)).sipDispatchRuleId;
  const kind = r.rule!.rule;
  const ruleArg =
    kind.case === 'dispatchRuleDirect'
      ? { type: 'direct' as const, roomName: kind.value.roomName, pin: kind.value.pin || undefined }
      : { type: 'individual' as const, roomPrefix: (kind.value as { roomPrefix: string }).roomPrefix, pin: (kind.value as { pin: string }).pin || undefined };
  const created = await sip.createSipDispatchRule(ruleArg, {
    name: r.name,
    metadata: r.metadata,
    trunkIds: r.trunkIds,
    hidePhoneNumber: r.hidePhoneNumber,
    attributes: r.attributes,
    roomPreset: r.roomPreset || undefined,
    roomConfig: r.roomConfig,
  });
  if (changedFields(r, created).length) {
    const full = new SIPDispatchRuleInfo({ ...r, sipDispatchRuleId: created.sipDispatchRuleId });
    await sip.updateSipDispatchRule(created.sipDispatchRuleId, full);
  }
  return created.sipDispatchRuleId;
}

/**
 * Writes the ids into `path` (created if missing), keeping every other line. The file holds the SIP
 * password too: it is left readable by its owner only (0600), an existing file included.
 */
export function writeIds(path: string, ids: SipIds): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  writeFileSync(path, upsertEnvText(text, { ...ids }), { mode: 0o600 });
  chmodSync(path, 0o600); // `mode` applies only when the file is created
}
