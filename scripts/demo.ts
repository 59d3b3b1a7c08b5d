/**
 * make demo — a real phone call on this machine, no cloud keys: brings the local stack up,
 * provisions the inbound trunk and dispatch rule with setup-sip, seeds the demo patients, starts the
 * worker in keypad mode, and places a SIPp call from Maria Garcia's number: she enters her date of
 * birth on the keypad when asked (CALLER_VERIFICATION=dob, the default), hears her appointment, and
 * presses 1. Prints what was said and pressed, and the appointment's status read back from the
 * database; then stops what it started.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PATIENTS, openStore, seedDemoData } from '../src/store/index.js';
import { speechUlaw } from '../devtools/audio.js';
import { SipCaller } from '../devtools/sipp.js';
import { ensureStack, REPO_ROOT, STACK_DIR } from '../devtools/stack.js';
import { freeTcpPort } from '../devtools/worker.js';

const DIR = join(STACK_DIR, 'demo');
const CLINIC_NUMBER = '+14155550100';
const AGENT = 'demo-agent';
const say = (line: string) => process.stdout.write(`demo: ${line}\n`);

const stackWasUp = (() => {
  try {
    execFileSync(join(REPO_ROOT, 'scripts', 'stack', 'stack.sh'), ['status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
say(stackWasUp ? 'local stack already running' : 'starting the local stack (the first run installs and builds it)');
const stack = ensureStack();

mkdirSync(DIR, { recursive: true });
const dbPath = join(DIR, 'appointments.db');
const env = {
  LIVEKIT_URL: stack.url,
  LIVEKIT_API_KEY: stack.apiKey,
  LIVEKIT_API_SECRET: stack.apiSecret,
  AGENT_NAME: AGENT,
  DATABASE_PATH: dbPath,
  CLINIC_NAME: 'Main Street Clinic',
  CLINIC_TIMEZONE: 'America/Los_Angeles',
  WORKER_PORT: String(await freeTcpPort()),
};
writeFileSync(join(DIR, '.env'), Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
writeFileSync(
  join(DIR, '.env.sip'),
  `# demo trunk on the local stack\nTELNYX_PHONE_NUMBER=${CLINIC_NUMBER}\nTELNYX_SIP_SERVER=127.0.0.1:5099\nTELNYX_SIP_USER=demo\nTELNYX_SIP_PASSWORD=demo-only\n`,
  { mode: 0o600 },
);
mkdirSync(join(DIR, 'sip_config'), { recursive: true });
for (const f of ['inbound_trunk.json', 'outbound_trunk.json', 'dispatch_rule.json']) {
  execFileSync('cp', [join(REPO_ROOT, 'sip_config', f), join(DIR, 'sip_config', f)]);
}
// The demo's carrier is SIPp on this machine: the inbound trunk takes calls from 127.0.0.1 only, as a clinic's takes them from Telnyx only.
const inboundFile = join(DIR, 'sip_config', 'inbound_trunk.json');
const inbound = JSON.parse(readFileSync(inboundFile, 'utf8')) as { trunk: { allowedAddresses?: string[] } };
inbound.trunk.allowedAddresses = ['127.0.0.1/32'];
writeFileSync(inboundFile, `${JSON.stringify(inbound, null, 2)}\n`);
say(`provisioning ${CLINIC_NUMBER} with setup-sip:`);
const tsx = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
process.stdout.write(
  execFileSync(process.execPath, ['--import', tsx, join(REPO_ROOT, 'scripts', 'setup-sip.ts'), '--cwd', DIR], { env: { ...process.env, ...env } })
    .toString()
    .trimEnd()
    .replace(/^/gm, '  ') + '\n',
);

const store = await openStore({ DATABASE_PATH: dbPath, PHONE_DEFAULT_COUNTRY: 'US' });
await seedDemoData(store, env.CLINIC_TIMEZONE);
const maria = DEMO_PATIENTS[0];
say(`seeded ${DEMO_PATIENTS.length} patients into ${dbPath}`);

say('starting the worker (keypad mode: no GOOGLE_API_KEY)');
let workerOut = '';
// The build of src/ (make demo runs make build first), as make gemini-sip runs it.
const worker = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'worker', 'main.js'), 'start'], {
  cwd: DIR,
  env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, LOG_LEVEL: 'debug' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
worker.stdout.on('data', (d: Buffer) => (workerOut += d.toString()));
worker.stderr.on('data', (d: Buffer) => (workerOut += d.toString()));
const stopWorker = async () => {
  if (worker.exitCode !== null) return;
  const exited = new Promise((r) => worker.once('exit', r));
  worker.kill('SIGTERM');
  await exited;
};

try {
  const deadline = Date.now() + 60_000;
  while (!workerOut.includes('registered worker')) {
    if (worker.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${workerOut}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Her date of birth as the keypad takes it (DOB_ORDER=MDY, the default): MMDDYYYY.
  const [year, month, day] = maria.dateOfBirth.split('-');
  const dobKeys = `${month}${day}${year}`;
  say(`calling ${CLINIC_NUMBER} from ${maria.name} (${maria.phoneE164}); asked who she is, she enters her date of birth (${dobKeys}), then presses 1`);
  const call = await SipCaller.dial({
    to: CLINIC_NUMBER,
    from: maria.phoneE164,
    audioFile: speechUlaw('Hello, I am calling about my appointment.'),
    dtmf: [
      { digits: dobKeys, atMs: 11_000 },
      { digits: '1', atMs: 27_000 },
    ],
    hangupAfterMs: 45_000,
  });
  const result = await call.result();
  await new Promise((r) => setTimeout(r, 500));

  for (const line of workerOut.split('\n')) {
    if (!line.includes('"name":"agent"')) continue;
    const entry = JSON.parse(line) as { msg: string; text?: string; digit?: string; action?: string; outcome?: string; result?: string };
    if (entry.msg === 'agent says') say(`  agent said: "${entry.text}"`);
    else if (entry.msg === 'identity check') say(`  caller entered a date of birth → ${entry.result}`);
    else if (entry.msg === 'key pressed') say(`  caller pressed ${entry.digit} → ${entry.action}`);
    else if (entry.msg === 'call ended') say(`  call ended: outcome ${entry.outcome}`);
  }
  const answered = result.sip.find((m) => m.firstLine.startsWith('SIP/2.0 200'));
  say(`  the caller received ${(result.audio.length / 8000).toFixed(1)} s of audio (${result.wavPath})${answered ? '' : ' — the call was never answered'}`);
  const appointment = await store.getAppointment(`appt-${maria.id}`);
  say(`appointment of ${maria.name} in the database: ${appointment?.status}`);
  if (appointment?.status !== 'confirmed') {
    process.exitCode = 1;
    say('the appointment was not confirmed; worker output follows');
    process.stdout.write(workerOut.slice(-5000));
  }
} finally {
  await stopWorker();
  await store.close();
  say('worker stopped');
  if (!stackWasUp) {
    execFileSync(join(REPO_ROOT, 'scripts', 'stack', 'stack.sh'), ['down'], { stdio: 'inherit' });
  } else {
    say('the local stack keeps running (make stack-down stops it)');
  }
}
