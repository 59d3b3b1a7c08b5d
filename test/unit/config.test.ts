import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, VARIABLES } from '../../src/config/index.js';

const livekit = {
  LIVEKIT_URL: 'wss://clinic.livekit.cloud',
  LIVEKIT_API_KEY: 'APIabc123',
  LIVEKIT_API_SECRET: 'secret-value-123',
};
const telnyx = {
  TELNYX_PHONE_NUMBER: '+14155550123',
  TELNYX_SIP_SERVER: 'sip.telnyx.com:5060',
  TELNYX_SIP_USER: 'clinicuser',
  TELNYX_SIP_PASSWORD: 'pw',
};

/** Runs loadConfig with no env files and returns the problems it reports. */
function problems(env: Record<string, string>, need: NonNullable<Parameters<typeof loadConfig>[0]>['need'] = []) {
  try {
    loadConfig({ env, files: [], need });
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
}

describe('loadConfig', () => {
  it('accepts a complete configuration and fills defaults', () => {
    const config = loadConfig({ env: { ...livekit, ...telnyx }, files: [], need: ['telnyx'] });
    expect(config.LIVEKIT_URL).toBe('wss://clinic.livekit.cloud');
    expect(config.TELNYX_PHONE_NUMBER).toBe('+14155550123');
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.LOG_FORMAT).toBe('json');
    expect(config.GOOGLE_API_KEY).toBeUndefined();
  });

  it('names every missing variable on its own line, with what is expected and where', () => {
    expect(problems({})).toEqual([
      'LIVEKIT_URL: missing; expected the LiveKit server URL, e.g. wss://<project>.livekit.cloud or ws://127.0.0.1:7880 (set it in .env)',
      'LIVEKIT_API_KEY: missing; expected the API key of your LiveKit project (Settings → Keys), e.g. APIxxxxxxxx (set it in .env)',
      'LIVEKIT_API_SECRET: missing; expected the API secret that belongs to LIVEKIT_API_KEY (set it in .env)',
    ]);
  });

  it('requires a group only when asked for it', () => {
    expect(problems(livekit)).toEqual([]);
    const missing = problems(livekit, ['telnyx', 'outbound']);
    expect(missing.map((p) => p.split(':')[0])).toEqual([
      'TELNYX_PHONE_NUMBER',
      'TELNYX_SIP_SERVER',
      'TELNYX_SIP_USER',
      'TELNYX_SIP_PASSWORD',
      'OUTBOUND_TRUNK_ID',
    ]);
    expect(missing[4]).toContain('(set it in .env.sip)');
  });

  it('rejects malformed values even when their group is not needed, echoing only non-secret values', () => {
    const found = problems({
      ...livekit,
      LIVEKIT_URL: 'htp//nowhere',
      TELNYX_PHONE_NUMBER: '415-555-0123',
      TELNYX_SIP_SERVER: 'sip.telnyx.com:99999',
      TELNYX_SIP_USER: 'clinic_user',
      LOG_LEVEL: 'loud',
      OUTBOUND_TRUNK_ID: 'trunk-1',
    });
    expect(found).toEqual([
      'LIVEKIT_URL: "htp//nowhere" is not valid; expected the LiveKit server URL, e.g. wss://<project>.livekit.cloud or ws://127.0.0.1:7880',
      'LOG_LEVEL: "loud" is not valid; expected one of trace, debug, info, warn, error, fatal',
      'TELNYX_PHONE_NUMBER: "415-555-0123" is not valid; expected the business phone number in E.164, e.g. +14155550123',
      'TELNYX_SIP_SERVER: "sip.telnyx.com:99999" is not valid; expected the Telnyx SIP server as host or host:port, e.g. sip.telnyx.com:5060',
      'TELNYX_SIP_USER: "clinic_user" is not valid; expected the SIP connection username from the Telnyx portal (letters and digits, no underscores)',
      'OUTBOUND_TRUNK_ID: "trunk-1" is not valid; expected a LiveKit outbound trunk id (ST_…), written by `make setup-sip`',
    ]);
  });

  it('asks callers who they are by default, and names the choices of the identity settings', () => {
    const config = loadConfig({ env: livekit, files: [], need: [] });
    expect([config.CALLER_VERIFICATION, config.OUTBOUND_VERIFICATION, config.DOB_ORDER]).toEqual(['dob', 'confirm-name', 'MDY']);
    expect(problems({ ...livekit, CALLER_VERIFICATION: 'pin', OUTBOUND_VERIFICATION: 'name', DOB_ORDER: 'mmddyyyy' })).toEqual([
      expect.stringMatching(/^CALLER_VERIFICATION: "pin" is not valid; expected how a caller .* dob \(their date of birth.* or none/),
      expect.stringMatching(/^OUTBOUND_VERIFICATION: "name" is not valid; expected .* confirm-name .*, dob .* or none$/),
      expect.stringMatching(/^DOB_ORDER: "mmddyyyy" is not valid; expected .* MDY \(MMDDYYYY, US\), DMY \(DDMMYYYY\) or YMD \(YYYYMMDD\)$/),
    ]);
  });

  it('never echoes a secret value', () => {
    const found = problems({ ...livekit, LIVEKIT_API_SECRET: 'has space secret' });
    expect(found).toEqual([
      'LIVEKIT_API_SECRET: the value is not valid; expected the API secret that belongs to LIVEKIT_API_KEY',
    ]);
  });

  it('reads .env then .env.sip, and the process environment wins over both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    writeFileSync(join(dir, '.env'), 'LIVEKIT_URL=ws://127.0.0.1:7880\nLIVEKIT_API_KEY=fromfile\nLIVEKIT_API_SECRET=s1\n');
    writeFileSync(join(dir, '.env.sip'), '# trunks\nOUTBOUND_TRUNK_ID=ST_abc123\nLIVEKIT_API_KEY=ignored\n');
    const config = loadConfig({ cwd: dir, env: { LIVEKIT_API_SECRET: 'from-env' }, need: ['outbound'] });
    expect(config.LIVEKIT_URL).toBe('ws://127.0.0.1:7880');
    expect(config.LIVEKIT_API_KEY).toBe('fromfile');
    expect(config.LIVEKIT_API_SECRET).toBe('from-env');
    expect(config.OUTBOUND_TRUNK_ID).toBe('ST_abc123');
  });
});

describe('the example env files and the README', () => {
  const root = join(import.meta.dirname, '..', '..');
  it('list every variable, each in its own file', () => {
    const env = readFileSync(join(root, '.env.example'), 'utf8');
    const sip = readFileSync(join(root, '.env.sip.example'), 'utf8');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const spec of VARIABLES) {
      const file = spec.file === '.env' ? env : sip;
      expect(file, `${spec.name} in ${spec.file}.example`).toMatch(new RegExp(`^#?\\s*${spec.name}=`, 'm'));
      expect(readme, `${spec.name} in README.md`).toContain(`\`${spec.name}\``);
    }
  });
});
