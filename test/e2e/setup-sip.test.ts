/**
 * `setup-sip`, `list-sip-trunks` and `list-sip-dispatch` as an operator runs them, against the
 * local stack: idempotent, updating in place, refusing bad files before touching LiveKit, and
 * producing a trunk and rule a real call goes through.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepLog } from '../../devtools/logs.js';
import { speechUlaw } from '../../devtools/audio.js';
import { clients, uniqueNumber, waitForRoom, type Clients } from '../../devtools/livekit.js';
import { SipCaller } from '../../devtools/sipp.js';
import { REPO_ROOT } from '../../devtools/stack.js';

const run = promisify(execFile);

/** What of a script's standard output is a log: all of it, except list-sip's, which is the report asked for (trunk numbers in full). */
const kept = (name: string, stdout: string) => (name === 'list-sip.ts' ? '' : stdout);

/** Runs one of the project's scripts the way `make` does; never throws, returns code and output. */
async function script(name: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', name), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    keepLog(name, kept(name, stdout) + stderr);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    keepLog(name, kept(name, e.stdout) + e.stderr);
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('setup-sip on the local stack', () => {
  let c: Clients;
  let dir: string;
  const tag = `t${Date.now().toString(36)}`;
  const names = { inbound: `${tag}-in`, outbound: `${tag}-out`, rule: `${tag}-rule` };
  const number = uniqueNumber();
  const agentName = `${tag}-agent`;
  const roomPrefix = `${tag}-call-`;

  /**
   * A project folder with the repository's sip_config/ files, renamed for this test run; the inbound
   * trunk's allowedAddresses hold the test phone's address instead of Telnyx's, as an operator
   * writes their carrier's.
   */
  beforeAll(() => {
    c = clients();
    dir = mkdtempSync(join(tmpdir(), 'setup-sip-'));
    cpSync(join(REPO_ROOT, 'sip_config'), join(dir, 'sip_config'), { recursive: true });
    for (const [file, from, to] of [
      ['inbound_trunk.json', 'telnyx-inbound', names.inbound],
      ['outbound_trunk.json', 'telnyx-outbound', names.outbound],
      ['dispatch_rule.json', 'telnyx-inbound-individual', names.rule],
    ] as const) {
      const path = join(dir, 'sip_config', file);
      writeFileSync(path, readFileSync(path, 'utf8').replace(`"${from}"`, `"${to}"`).replace('"call-"', `"${roomPrefix}"`));
    }
    const inboundPath = join(dir, 'sip_config', 'inbound_trunk.json');
    const inboundFile = JSON.parse(readFileSync(inboundPath, 'utf8')) as { trunk: { allowedAddresses?: string[] } };
    expect(inboundFile.trunk.allowedAddresses, "the repository's inbound trunk lists Telnyx's addresses").toContain('192.76.120.10');
    inboundFile.trunk.allowedAddresses = ['127.0.0.1/32'];
    writeFileSync(inboundPath, JSON.stringify(inboundFile, null, 2));
    writeFileSync(
      join(dir, '.env'),
      `LIVEKIT_URL=${c.stack.url}\nLIVEKIT_API_KEY=${c.stack.apiKey}\nLIVEKIT_API_SECRET=${c.stack.apiSecret}\nAGENT_NAME=${agentName}\n`,
    );
    writeFileSync(
      join(dir, '.env.sip'),
      `# clinic trunk settings\nTELNYX_PHONE_NUMBER=${number}\nTELNYX_SIP_SERVER=127.0.0.1:5099\nTELNYX_SIP_USER=clinic\nTELNYX_SIP_PASSWORD=s3cret-pass\n\nUNRELATED=keep me\n`,
    );
  });

  afterAll(async () => {
    for (const r of await c.sip.listSipDispatchRule()) if (r.name.startsWith(tag)) await c.sip.deleteSipDispatchRule(r.sipDispatchRuleId);
    for (const t of [...(await c.sip.listSipInboundTrunk()), ...(await c.sip.listSipOutboundTrunk())]) {
      if (t.name.startsWith(tag)) await c.sip.deleteSipTrunk(t.sipTrunkId);
    }
  });

  const ours = async () => ({
    inbound: (await c.sip.listSipInboundTrunk()).filter((t) => t.name === names.inbound),
    outbound: (await c.sip.listSipOutboundTrunk()).filter((t) => t.name === names.outbound),
    rules: (await c.sip.listSipDispatchRule()).filter((r) => r.name === names.rule),
  });
  const envSip = () => readFileSync(join(dir, '.env.sip'), 'utf8');

  it('refuses an invalid file with the field named, exit 1, and creates nothing', async () => {
    const path = join(dir, 'sip_config', 'outbound_trunk.json');
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, good.replace('"UDP"', '"SCTP"'));
    const r = await script('setup-sip.ts', ['--cwd', dir]);
    writeFileSync(path, good);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'sip_config/outbound_trunk.json: trunk.transport "SCTP" is not a transport LiveKit dials; use one of UDP, TCP, TLS',
    );
    expect(await ours()).toEqual({ inbound: [], outbound: [], rules: [] });
  });

  it('refuses an inbound trunk open to any address unless --allow-any-source, creating nothing', async () => {
    const path = join(dir, 'sip_config', 'inbound_trunk.json');
    const good = readFileSync(path, 'utf8');
    const open = JSON.parse(good) as { trunk: Record<string, unknown> };
    delete open.trunk.allowedAddresses;
    writeFileSync(path, JSON.stringify(open, null, 2));
    try {
      const refused = await script('setup-sip.ts', ['--cwd', dir, '--dry-run']);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^sip_config\/inbound_trunk\.json: trunk\.allowedAddresses is empty .*; list your carrier's signalling addresses .* or pass --allow-any-source/),
      ]);
      expect(refused.stdout).toBe('');

      const allowed = await script('setup-sip.ts', ['--cwd', dir, '--dry-run', '--allow-any-source']);
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(allowed.stdout).toContain(`inbound trunk   "${names.inbound}" would create`);
      expect(allowed.stdout).toContain('dry run: nothing was changed');
    } finally {
      writeFileSync(path, good);
    }
    expect(await ours()).toEqual({ inbound: [], outbound: [], rules: [] });
    expect(envSip()).not.toContain('INBOUND_TRUNK_ID');
  });

  it('dry run prints the plan and changes nothing', async () => {
    const r = await script('setup-sip.ts', ['--cwd', dir, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`inbound trunk   "${names.inbound}" would create`);
    expect(r.stdout).toContain('dry run: nothing was changed');
    expect(await ours()).toEqual({ inbound: [], outbound: [], rules: [] });
    expect(envSip()).not.toContain('INBOUND_TRUNK_ID');
  });

  it('creates once, then a second run changes nothing and keeps the ids', async () => {
    const first = await script('setup-sip.ts', ['--cwd', dir]);
    expect(first.code, first.stderr).toBe(0);
    const after1 = await ours();
    expect([after1.inbound.length, after1.outbound.length, after1.rules.length]).toEqual([1, 1, 1]);
    const ids = [after1.inbound[0]!.sipTrunkId, after1.outbound[0]!.sipTrunkId, after1.rules[0]!.sipDispatchRuleId];

    const second = await script('setup-sip.ts', ['--cwd', dir]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.match(/ unchanged /g)).toHaveLength(3);
    const after2 = await ours();
    expect([after2.inbound.length, after2.outbound.length, after2.rules.length]).toEqual([1, 1, 1]);
    expect([after2.inbound[0]!.sipTrunkId, after2.outbound[0]!.sipTrunkId, after2.rules[0]!.sipDispatchRuleId]).toEqual(ids);

    // The rule is bound to the inbound trunk and dispatches the named agent.
    expect(after2.rules[0]!.trunkIds).toEqual([ids[0]]);
    expect(after2.rules[0]!.roomConfig?.agents.map((a) => a.agentName)).toEqual([agentName]);

    // .env.sip has the ids and kept every other line.
    expect(envSip()).toBe(
      `# clinic trunk settings\nTELNYX_PHONE_NUMBER=${number}\nTELNYX_SIP_SERVER=127.0.0.1:5099\nTELNYX_SIP_USER=clinic\nTELNYX_SIP_PASSWORD=s3cret-pass\n\nUNRELATED=keep me\n` +
        `INBOUND_TRUNK_ID=${ids[0]}\nOUTBOUND_TRUNK_ID=${ids[1]}\nDISPATCH_RULE_ID=${ids[2]}\n`,
    );
  });

  it('updates the same trunk in place when a number changes', async () => {
    const before = await ours();
    const newNumber = uniqueNumber();
    writeFileSync(join(dir, '.env.sip'), envSip().replace(`TELNYX_PHONE_NUMBER=${number}`, `TELNYX_PHONE_NUMBER=${newNumber}`));
    const r = await script('setup-sip.ts', ['--cwd', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`inbound trunk   "${names.inbound}" updated ${before.inbound[0]!.sipTrunkId} (numbers)`);
    const after = await ours();
    expect(after.inbound.map((t) => [t.sipTrunkId, [...t.numbers]])).toEqual([[before.inbound[0]!.sipTrunkId, [newNumber]]]);
    expect(after.outbound.map((t) => t.sipTrunkId)).toEqual([before.outbound[0]!.sipTrunkId]);
    // put the original number back for the tests below
    writeFileSync(join(dir, '.env.sip'), envSip().replace(`TELNYX_PHONE_NUMBER=${newNumber}`, `TELNYX_PHONE_NUMBER=${number}`));
    expect((await script('setup-sip.ts', ['--cwd', dir])).code).toBe(0);
  });

  it('lists what was created, as a table and as JSON, without the password', async () => {
    const { inbound, outbound, rules } = await ours();
    const trunks = await script('list-sip.ts', ['trunks', '--cwd', dir]);
    expect(trunks.code, trunks.stderr).toBe(0);
    const inLine = trunks.stdout.split('\n').find((l) => l.startsWith(inbound[0]!.sipTrunkId));
    expect(inLine).toMatch(new RegExp(`^${inbound[0]!.sipTrunkId}\\s+inbound\\s+${names.inbound}\\s+\\${number}`));
    const outLine = trunks.stdout.split('\n').find((l) => l.startsWith(outbound[0]!.sipTrunkId));
    expect(outLine).toMatch(/outbound\s+\S+\s+\+\d+\s+127\.0\.0\.1:5099\s+UDP\s+clinic \(password set\)$/);
    expect(trunks.stdout).not.toContain('s3cret-pass');

    const json = await script('list-sip.ts', ['trunks', '--json', '--cwd', dir]);
    expect(json.stdout).not.toContain('s3cret-pass');
    const rows = JSON.parse(json.stdout) as { id: string; hasPassword: boolean }[];
    expect(rows.find((r) => r.id === outbound[0]!.sipTrunkId)?.hasPassword).toBe(true);

    const dispatch = await script('list-sip.ts', ['dispatch', '--cwd', dir]);
    expect(dispatch.code, dispatch.stderr).toBe(0);
    expect(dispatch.stdout.split('\n').find((l) => l.startsWith(rules[0]!.sipDispatchRuleId))).toMatch(
      new RegExp(`${names.rule}\\s+individual\\s+${roomPrefix}\\s+${inbound[0]!.sipTrunkId}\\s+${agentName}$`),
    );
  });

  it('names LIVEKIT_URL or the key in one line when LiveKit cannot be used', async () => {
    const refused = await script('list-sip.ts', ['trunks', '--cwd', dir], { LIVEKIT_API_SECRET: 'not-the-secret' });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^LIVEKIT_API_KEY \/ LIVEKIT_API_SECRET: .* refused them \(401/);
    const unreachable = await script('setup-sip.ts', ['--cwd', dir], { LIVEKIT_URL: 'ws://127.0.0.1:7999' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim()).toMatch(/^LIVEKIT_URL: cannot reach ws:\/\/127\.0\.0\.1:7999 \(ECONNREFUSED\)/);
  });

  it('a call to the provisioned number gets its own room, dispatched to the named agent', async () => {
    const call = await SipCaller.dial({
      to: number,
      from: uniqueNumber(),
      audioFile: speechUlaw('Calling the clinic.'),
      hangupAfterMs: 20_000,
    });
    try {
      const room = await waitForRoom(c, roomPrefix, 10_000);
      const dispatches = await c.dispatch.listDispatch(room);
      expect(dispatches.map((d) => d.agentName)).toContain(agentName);
      const participants = await c.rooms.listParticipants(room);
      expect(participants.some((p) => p.attributes['sip.trunkPhoneNumber'] === number)).toBe(true);
    } finally {
      await call.kill();
    }
  });
});
