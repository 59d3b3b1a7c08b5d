import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const logging = new URL('../../src/logging/index.ts', import.meta.url).href;
// The child runs from a temporary folder: it imports by absolute URL.
const pinoUrl = pathToFileURL(createRequire(import.meta.url).resolve('pino')).href;

const number = '+14157770123';
const nanp = '415-777-0199';
const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZ2VudCJ9.5mhBHqs5_DTLdINd9p5m7ZJ6XD0Xc55kIaCRY5r6HRA';
const secret = 'registered-secret-4f9a';

/**
 * The child: guards its output (twice, to show it is idempotent), then writes each leak the way the
 * product's processes do — process.stdout.write with a string, a Buffer and a callback, console.log
 * and console.error, and a pino logger built like the LiveKit agents framework's (multistream over
 * process.stdout) — plus a hex-encoded chunk and a line with nothing to redact.
 */
const script = `
import { multistream, pino } from ${JSON.stringify(pinoUrl)};
import { guardProcessOutput, registerSecrets } from ${JSON.stringify(logging)};
registerSecrets([${JSON.stringify(secret)}]);
guardProcessOutput();
const wrapped = process.stdout.write;
guardProcessOutput();
console.log('same wrapper: ' + (process.stdout.write === wrapped));
process.stdout.write('string ${number}\\n');
process.stdout.write(Buffer.from('buffer ${jwt}\\n'));
process.stdout.write('with callback ${secret}\\n', () => process.stderr.write('callback ran\\n'));
process.stdout.write(Buffer.from('hex chunk\\n').toString('hex'), 'hex');
console.log('console.log %s', ${JSON.stringify(nanp)});
console.error('console.error ${secret} ${number}');
pino(multistream([{ stream: process.stdout }])).info({ token: 'x', peer: ${JSON.stringify(jwt)} }, 'framework line ${number}');
process.stdout.write('plain line: port 5060, 2026-11-22T10:30:00.000Z\\n');
`;

let dir: string;
let stdout = '';
let stderr = '';
let status: number | null = null;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'logging-guard-'));
  const file = join(dir, 'child.mts');
  writeFileSync(file, script);
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  ({ stdout, stderr, status } = result);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('guardProcessOutput (in a child process)', () => {
  it('runs the child to the end', () => {
    expect(stderr).toContain('callback ran');
    expect(status).toBe(0);
  });

  it('lets nothing through in full, on either stream', () => {
    for (const leak of ['4157770123', '7770199', jwt, secret]) {
      expect(stdout).not.toContain(leak);
      expect(stderr).not.toContain(leak);
    }
  });

  it('masks numbers and replaces secrets in every kind of write', () => {
    expect(stdout).toContain('string +*******0123\n');
    expect(stdout).toContain('buffer [REDACTED]\n');
    expect(stdout).toContain('with callback [REDACTED]\n');
    expect(stdout).toContain('console.log ***-***-0199\n');
    expect(stderr).toContain('console.error [REDACTED] +*******0123\n');
  });

  it('keeps a framework-style pino line valid JSON, redacted', () => {
    const line = stdout.split('\n').find((l) => l.includes('framework line'));
    expect(JSON.parse(line!)).toMatchObject({ msg: 'framework line +*******0123', token: '[REDACTED]', peer: '[REDACTED]' });
  });

  it('passes other chunks through unchanged, encoding included, and wraps only once', () => {
    expect(stdout).toContain('same wrapper: true\n');
    expect(stdout).toContain('hex chunk\n');
    expect(stdout).toContain('plain line: port 5060, 2026-11-22T10:30:00.000Z\n');
  });
});
