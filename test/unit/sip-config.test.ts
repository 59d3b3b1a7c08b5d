import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIPInboundTrunkInfo, SIPTransport } from '@livekit/protocol';
import { describe, expect, it } from 'vitest';
import {
  changedFields,
  dispatchRows,
  dispatchRuleType,
  fillPlaceholders,
  formatTrunks,
  loadSipConfig,
  planItem,
  SipConfigError,
  trunkRows,
  upsertEnvText,
  validateDispatchRule,
  validateInboundTrunk,
  validateOutboundTrunk,
  writeIds,
} from '../../src/sip/index.js';

const IN = 'sip_config/inbound_trunk.json';
const OUT = 'sip_config/outbound_trunk.json';
const RULE = 'sip_config/dispatch_rule.json';

/** An inbound trunk locked to Telnyx's US signalling addresses, with `trunk` merged in. */
const inbound = (trunk: Record<string, unknown>) => ({
  trunk: { name: 'in', numbers: ['+14155550123'], allowedAddresses: ['192.76.120.10', '64.16.250.10'], ...trunk },
});
const outbound = (trunk: Record<string, unknown>) => ({
  trunk: { name: 'out', address: 'sip.telnyx.com:5060', transport: 'UDP', numbers: ['+14155550123'], ...trunk },
});
const rule = (r: Record<string, unknown>) => ({
  dispatch_rule: {
    name: 'rule',
    rule: { dispatchRuleIndividual: { roomPrefix: 'call-' } },
    roomConfig: { agents: [{ agentName: 'gemini-sip-agent' }] },
    ...r,
  },
});
const checks = { agentName: 'gemini-sip-agent' };

describe('trunk validation', () => {
  it('accepts a valid inbound trunk, snake_case keys included', () => {
    const t = validateInboundTrunk(
      { trunk: { name: 'in', numbers: ['+14155550123'], allowed_addresses: ['192.76.120.10', '10.0.0.0/24'] } },
      IN,
    );
    expect(t).toBeInstanceOf(SIPInboundTrunkInfo);
    expect((t as SIPInboundTrunkInfo).allowedAddresses).toEqual(['192.76.120.10', '10.0.0.0/24']);
  });

  it('takes a maximum call length as protobuf seconds, and names the field when it is not', () => {
    const t = validateInboundTrunk(inbound({ maxCallDuration: '900s' }), IN);
    expect((t as SIPInboundTrunkInfo).maxCallDuration?.seconds).toBe(900n);
    expect(validateInboundTrunk(inbound({ maxCallDuration: 900 }), IN)).toEqual([
      expect.stringMatching(/^sip_config\/inbound_trunk.json: trunk.maxCallDuration .*"900s"/),
    ]);
  });

  it('requires numbers in E.164', () => {
    expect(validateInboundTrunk(inbound({ numbers: ['415-555-0123'] }), IN)).toEqual([
      `${IN}: trunk.numbers[0] "415-555-0123" is not an E.164 number; write it as + country code and digits, e.g. +14155550123`,
    ]);
    expect(validateInboundTrunk(inbound({ numbers: [] }), IN)).toEqual([
      `${IN}: trunk.numbers is empty; list the number(s) this trunk serves, e.g. ["+14155550123"]`,
    ]);
  });

  it('requires a name', () => {
    expect(validateInboundTrunk(inbound({ name: undefined }), IN)).toEqual([
      `${IN}: trunk.name is required: setup-sip finds existing trunks and rules by name`,
    ]);
  });

  it('requires the outbound address to carry its port', () => {
    expect(validateOutboundTrunk(outbound({ address: 'sip.telnyx.com' }), OUT)).toEqual([
      `${OUT}: trunk.address "sip.telnyx.com" has no port; add it, e.g. sip.telnyx.com:5060 (LiveKit dials the wrong port without it)`,
    ]);
    expect(validateOutboundTrunk(outbound({ address: 'sip.telnyx.com:70000' }), OUT)).toEqual([
      `${OUT}: trunk.address "sip.telnyx.com:70000" has port 70000, outside 1–65535`,
    ]);
  });

  it('accepts UDP, TCP or TLS in any case, and nothing else', () => {
    for (const [given, wanted] of [
      ['udp', SIPTransport.SIP_TRANSPORT_UDP],
      ['TCP', SIPTransport.SIP_TRANSPORT_TCP],
      ['SIP_TRANSPORT_TLS', SIPTransport.SIP_TRANSPORT_TLS],
    ] as const) {
      const t = validateOutboundTrunk(outbound({ transport: given }), OUT);
      expect(Array.isArray(t) ? t : t.transport).toBe(wanted);
    }
    expect(validateOutboundTrunk(outbound({ transport: 'SCTP' }), OUT)).toEqual([
      `${OUT}: trunk.transport "SCTP" is not a transport LiveKit dials; use one of UDP, TCP, TLS`,
    ]);
  });

  it('refuses auth usernames with underscores (Telnyx)', () => {
    expect(validateOutboundTrunk(outbound({ authUsername: 'clinic_main', authPassword: 'x' }), OUT)).toEqual([
      `${OUT}: trunk.authUsername "clinic_main" contains an underscore, which Telnyx does not allow in SIP usernames; rename the credential in the Telnyx portal`,
    ]);
  });

  it('names fields LiveKit does not know', () => {
    const r = validateInboundTrunk(inbound({ numbrs: [] }), IN);
    expect(r).toHaveLength(1);
    expect((r as string[])[0]).toMatch(/^sip_config\/inbound_trunk.json: .*numbrs/);
  });

  it('wants the lk file shape', () => {
    expect(validateInboundTrunk({ name: 'in' }, IN)).toEqual([`${IN}: expected an object {"trunk": {…}} as \`lk sip\` files have it`]);
  });
});

describe('inbound trunk locked to its carrier', () => {
  const open = { trunk: { name: 'in', numbers: ['+14155550123'] } };
  const OPEN = `${IN}: trunk.allowedAddresses is empty and the trunk has no authUsername/authPassword, so LiveKit accepts calls to these numbers from any address and anyone can present any caller ID; list your carrier's signalling addresses (Telnyx: see https://sip.telnyx.com, e.g. ["192.76.120.10", "64.16.250.10"]) or set authUsername and authPassword, or pass --allow-any-source if that is really wanted`;

  it('refuses a trunk with neither allowedAddresses nor credentials, naming the field and the fix', () => {
    expect(validateInboundTrunk(open, IN)).toEqual([OPEN]);
    expect(validateInboundTrunk(inbound({ allowedAddresses: [] }), IN)).toEqual([OPEN]);
  });

  it('reports it beside the other problems of the file', () => {
    expect(validateInboundTrunk({ trunk: { name: 'in', numbers: ['415-555-0123'] } }, IN)).toEqual([
      `${IN}: trunk.numbers[0] "415-555-0123" is not an E.164 number; write it as + country code and digits, e.g. +14155550123`,
      OPEN,
    ]);
  });

  it('accepts one with allowedAddresses', () => {
    expect(validateInboundTrunk(inbound({}), IN)).toBeInstanceOf(SIPInboundTrunkInfo);
  });

  it('accepts one with authUsername and authPassword, snake_case keys included', () => {
    const t = validateInboundTrunk({ trunk: { ...open.trunk, auth_username: 'clinic', auth_password: 's3cret' } }, IN);
    expect(t).toBeInstanceOf(SIPInboundTrunkInfo);
    expect([(t as SIPInboundTrunkInfo).authUsername, (t as SIPInboundTrunkInfo).authPassword]).toEqual(['clinic', 's3cret']);
  });

  it('refuses half a credential pair, naming the missing half, addresses or not', () => {
    const noPassword = `${IN}: trunk.authUsername is set but trunk.authPassword is not; set authPassword too (LiveKit challenges the caller for both), or remove authUsername`;
    expect(validateInboundTrunk({ trunk: { ...open.trunk, authUsername: 'clinic' } }, IN)).toEqual([noPassword]);
    expect(validateInboundTrunk(inbound({ authUsername: 'clinic', authPassword: '' }), IN)).toEqual([noPassword]);
    expect(validateInboundTrunk({ trunk: { ...open.trunk, authPassword: 's3cret' } }, IN, { allowAnySource: true })).toEqual([
      `${IN}: trunk.authPassword is set but trunk.authUsername is not; set authUsername too (LiveKit challenges the caller for both), or remove authPassword`,
    ]);
  });

  it('accepts an open trunk with allowAnySource', () => {
    const t = validateInboundTrunk(open, IN, { allowAnySource: true });
    expect(t).toBeInstanceOf(SIPInboundTrunkInfo);
    expect((t as SIPInboundTrunkInfo).allowedAddresses).toEqual([]);
  });
});

describe('dispatch rule validation', () => {
  it('accepts an individual rule that names the agent', () => {
    const r = validateDispatchRule(rule({}), RULE, checks);
    expect(Array.isArray(r)).toBe(false);
    expect(dispatchRuleType(r as never)).toBe('individual');
  });

  it('refuses a direct rule unless shared rooms are allowed, saying why', () => {
    const direct = rule({ rule: { dispatchRuleDirect: { roomName: 'lobby' } } });
    expect(validateDispatchRule(direct, RULE, checks)).toEqual([
      `${RULE}: dispatch_rule.rule is "direct", which puts every caller into one shared room where they hear each other; use dispatchRuleIndividual (one room per call), or pass --allow-shared-room if that is really wanted`,
    ]);
    const allowed = validateDispatchRule(direct, RULE, { ...checks, allowSharedRoom: true });
    expect(dispatchRuleType(allowed as never)).toBe('direct');
  });

  it('requires roomConfig.agents to name the worker', () => {
    expect(validateDispatchRule(rule({ roomConfig: undefined }), RULE, checks)).toEqual([
      `${RULE}: dispatch_rule.roomConfig.agents does not name the agent "gemini-sip-agent" (AGENT_NAME); add {"agentName": "gemini-sip-agent"} or the worker is never dispatched to calls`,
    ]);
  });

  it('requires exactly one rule kind and a room prefix', () => {
    expect(validateDispatchRule(rule({ rule: {} }), RULE, checks)).toEqual([
      `${RULE}: dispatch_rule.rule must hold exactly one of dispatchRuleIndividual, dispatchRuleDirect, dispatchRuleCallee; use {"dispatchRuleIndividual": {"roomPrefix": "call-"}}`,
    ]);
    expect(validateDispatchRule(rule({ rule: { dispatchRuleIndividual: {} } }), RULE, checks)).toEqual([
      `${RULE}: dispatch_rule.rule.dispatchRuleIndividual.roomPrefix is required, e.g. "call-" (room names start with it)`,
    ]);
  });
});

describe('placeholders and files', () => {
  it('fills ${VAR} at any depth and names each one without a value', () => {
    const problems: string[] = [];
    const out = fillPlaceholders({ a: ['${X}', 'x-${Y}-y'], b: { c: '${MISSING}' } }, { X: '1', Y: '2' }, IN, problems);
    expect(out).toEqual({ a: ['1', 'x-2-y'], b: { c: '${MISSING}' } });
    expect(problems).toEqual([`${IN}: placeholder \${MISSING} has no value; set MISSING in .env.sip (or .env)`]);
  });

  it("validates the repository's own sip_config/ files, the inbound trunk locked to Telnyx's signalling addresses", () => {
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    const env = {
      TELNYX_PHONE_NUMBER: '+14155550123',
      TELNYX_SIP_SERVER: 'sip.telnyx.com:5060',
      TELNYX_SIP_USER: 'clinic',
      TELNYX_SIP_PASSWORD: 's3cret-pass',
      AGENT_NAME: checks.agentName,
    };
    const desired = loadSipConfig(repo, env, checks);
    expect(desired.inbound.allowedAddresses).toEqual(expect.arrayContaining(['192.76.120.10', '64.16.250.10']));
    expect(desired.inbound.authUsername).toBe('');
  });

  it('passes allowAnySource through to the inbound trunk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipcfg-'));
    mkdirSync(join(dir, 'sip_config'));
    writeFileSync(join(dir, IN), JSON.stringify({ trunk: { name: 'in', numbers: ['+14155550123'] } }));
    writeFileSync(join(dir, OUT), JSON.stringify(outbound({})));
    writeFileSync(join(dir, RULE), JSON.stringify(rule({})));
    expect(() => loadSipConfig(dir, {}, checks)).toThrow(/trunk\.allowedAddresses is empty/);
    expect(loadSipConfig(dir, {}, { ...checks, allowAnySource: true }).inbound.numbers).toEqual(['+14155550123']);
  });

  it('reports every problem of every file at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipcfg-'));
    mkdirSync(join(dir, 'sip_config'));
    writeFileSync(join(dir, IN), '{"trunk": {"name": "in", "numbers": ["${NUMBER}"]}}');
    writeFileSync(join(dir, OUT), '{ not json');
    let error: unknown;
    try {
      loadSipConfig(dir, {}, checks);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SipConfigError);
    const problems = (error as SipConfigError).problems;
    expect(problems[0]).toBe(`${IN}: placeholder \${NUMBER} has no value; set NUMBER in .env.sip (or .env)`);
    expect(problems[1]).toMatch(/^sip_config\/outbound_trunk.json: not valid JSON/);
    expect(problems[2]).toBe(`${RULE}: file not found; create it (see sip_config/ in the repository for the shape)`);
  });
});

describe('plan', () => {
  const desired = new SIPInboundTrunkInfo({ name: 'in', numbers: ['+14155550123'] });
  it('creates what is missing, leaves what matches, updates what differs', () => {
    expect(planItem('inbound trunk', desired, []).action).toBe('create');
    const same = new SIPInboundTrunkInfo({ sipTrunkId: 'ST_1', name: 'in', numbers: ['+14155550123'] });
    expect(planItem('inbound trunk', desired, [same])).toEqual({ kind: 'inbound trunk', name: 'in', action: 'unchanged', id: 'ST_1', changed: [] });
    const other = new SIPInboundTrunkInfo({ sipTrunkId: 'ST_1', name: 'in', numbers: ['+14155550999'], authPassword: 'old' });
    expect(planItem('inbound trunk', desired, [other])).toMatchObject({ action: 'update', id: 'ST_1', changed: ['authPassword', 'numbers'] });
    expect(changedFields(desired, same)).toEqual([]);
  });
  it('refuses to guess between two items of one name', () => {
    const a = new SIPInboundTrunkInfo({ sipTrunkId: 'ST_a', name: 'in' });
    const b = new SIPInboundTrunkInfo({ sipTrunkId: 'ST_b', name: 'in' });
    expect(() => planItem('inbound trunk', desired, [a, b])).toThrow('LiveKit has 2 inbound trunks named "in" (ST_a, ST_b)');
  });
});

describe('upsertEnvText', () => {
  it('replaces in place, fills commented placeholders, appends the rest, keeps everything else', () => {
    const before = '# trunks\nTELNYX_SIP_USER=clinic\n\nINBOUND_TRUNK_ID=ST_old\n# OUTBOUND_TRUNK_ID=\nOTHER=1\n';
    expect(upsertEnvText(before, { INBOUND_TRUNK_ID: 'ST_in', OUTBOUND_TRUNK_ID: 'ST_out', DISPATCH_RULE_ID: 'SDR_r' })).toBe(
      '# trunks\nTELNYX_SIP_USER=clinic\n\nINBOUND_TRUNK_ID=ST_in\nOUTBOUND_TRUNK_ID=ST_out\nOTHER=1\nDISPATCH_RULE_ID=SDR_r\n',
    );
    expect(upsertEnvText('', { A: '1' })).toBe('A=1\n');
  });
});

describe('listing', () => {
  it('shows a password only as set, never its value', () => {
    const table = formatTrunks(
      trunkRows([new SIPInboundTrunkInfo({ sipTrunkId: 'ST_1', name: 'in', numbers: ['+14155550123'], authUsername: 'u', authPassword: 'hunter2' })], []),
    );
    expect(table).toContain('u (password set)');
    expect(table).not.toContain('hunter2');
    expect(table.split('\n')[0]).toMatch(/^ID\s+DIRECTION\s+NAME\s+NUMBERS\s+ADDRESS\s+TRANSPORT\s+AUTH$/);
    expect(dispatchRows([])).toEqual([]);
  });
});

describe('.env.sip', () => {
  it('is left readable by its owner only, an existing world-readable file included, other lines kept', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'envsip-')), '.env.sip');
    writeFileSync(path, 'TELNYX_SIP_PASSWORD=secret-pass\n', { mode: 0o644 });
    writeIds(path, { INBOUND_TRUNK_ID: 'ST_in', OUTBOUND_TRUNK_ID: 'ST_out', DISPATCH_RULE_ID: 'SDR_1' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toMatch(/TELNYX_SIP_PASSWORD=secret-pass[\s\S]*INBOUND_TRUNK_ID=ST_in/);
  });
});
