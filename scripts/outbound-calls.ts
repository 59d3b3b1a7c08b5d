/**
 * make outbound-calls — calls patients to confirm their appointments (see {@link HELP}).
 * Without FILE: tomorrow's appointments (CLINIC_TIMEZONE) not yet confirmed or cancelled and not
 * called in the last --recall-hours. The worker (make gemini-sip) must be running against the
 * same DATABASE_PATH: it dials each patient and records the outcome. Exit codes: 0 when the calls
 * were placed (whatever their outcomes) or there was nothing to confirm; 1 when nothing could be
 * placed (see planCampaign) or on a configuration or file error.
 */
import { resolve } from 'node:path';
import { flags, runCli, UserError } from '../src/cli/index.js';
import { table } from '../src/cli/table.js';
import { loadConfig } from '../src/config/index.js';
import { describeLiveKitError, liveKitApi } from '../src/livekit/index.js';
import {
  appointmentsToConfirm,
  callLine,
  campaignReport,
  DEFAULT_MAX_CALLS,
  planCampaign,
  runCampaign,
  summarize,
  TargetFileError,
  targetsFromFile,
} from '../src/outbound/index.js';
import { openStore } from '../src/store/index.js';

const USAGE = `usage: outbound-calls [FILE.csv|FILE.json] [--delay-s 30] [--concurrency 1] [--recall-hours 12] [--max-calls ${DEFAULT_MAX_CALLS}] [--yes] [--json] [--cwd DIR]`;

const HELP = `${USAGE}

Calls patients to confirm their appointments: the rows of FILE, or without FILE tomorrow's
appointments (CLINIC_TIMEZONE) that are neither confirmed nor cancelled.

  FILE               CSV with the header phone_number,appointment_id, or a JSON array of
                     {"phoneNumber", "appointmentId"}. Rows whose number is invalid or not the
                     patient's, whose appointment is unknown, cancelled or past, or that repeat an
                     appointment or a number are skipped with the reason.
  --delay-s N        seconds between the starts of two calls (default 30, 0 allowed)
  --concurrency N    most calls at once (default 1)
  --recall-hours N   without FILE: skip appointments called in the last N hours (default 12)
  --max-calls N      refuse to place more than N calls unless --yes is given (default ${DEFAULT_MAX_CALLS})
  --yes              place the calls even when there are more than --max-calls
  --json             print a JSON report instead of lines and a table
  --cwd DIR          directory with .env and the database (default: the current one)
  -h, --help         this help

Exits 1 when no call can be placed (every row skipped, more than --max-calls without --yes, a
file or configuration error), else 0. Phone numbers are shown with only their last 4 digits.`;

function count(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UserError(`--${name} ${JSON.stringify(value)}: expected a number ≥ ${min}`);
  return n;
}

await runCli(async () => {
  const { values, positionals } = flags(
    {
      'delay-s': { type: 'string' },
      concurrency: { type: 'string' },
      'recall-hours': { type: 'string' },
      'max-calls': { type: 'string' },
      yes: { type: 'boolean' },
      json: { type: 'boolean' },
      cwd: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (positionals.length > 1) throw new UserError(`one FILE at most, got ${positionals.length}: ${positionals.join(' ')}\n${USAGE}`);
  const cwd = resolve(values.cwd ?? process.cwd());
  const config = loadConfig({ cwd, need: ['outbound'] });
  const delayMs = count('delay-s', values['delay-s'], 30, 0) * 1000;
  const concurrency = Math.floor(count('concurrency', values.concurrency, 1, 1));
  const recallHours = count('recall-hours', values['recall-hours'], 12, 0);
  const maxCalls = Math.floor(count('max-calls', values['max-calls'], DEFAULT_MAX_CALLS, 1));
  const country = config.PHONE_DEFAULT_COUNTRY;
  const store = await openStore({ ...config, DATABASE_PATH: resolve(cwd, config.DATABASE_PATH) });
  const out = (line: string) => {
    if (!values.json) process.stdout.write(`${line}\n`);
  };
  try {
    const file = positionals[0] === undefined ? undefined : resolve(cwd, positionals[0]);
    const chosen = file
      ? await targetsFromFile(file, store, country).catch((err: unknown) => {
          throw err instanceof TargetFileError ? new UserError(err.message) : err;
        })
      : await appointmentsToConfirm(store, config.CLINIC_TIMEZONE, recallHours);
    const { targets, rejected } = chosen;
    for (const r of rejected) process.stderr.write(`skipped ${r.source}: ${r.reason}\n`);
    const plan = planCampaign(chosen, { file, maxCalls, yes: values.yes ?? false });
    if (!plan.go) {
      if (plan.exitCode === 1) throw new UserError(plan.message);
      if (values.json) process.stdout.write(`${JSON.stringify(campaignReport([], rejected), null, 2)}\n`);
      else out(plan.message);
      return;
    }
    out(`${plan.message}; ${delayMs / 1000} s between starts, at most ${concurrency} at once`);

    const api = liveKitApi(config);
    const calls = await runCampaign(api, store, targets, {
      agentName: config.AGENT_NAME,
      delayMs,
      concurrency,
      timeoutMs: (config.OUTBOUND_RINGING_TIMEOUT_S + config.OUTBOUND_MAX_CALL_S + 60) * 1000,
      onResult: (c, done, total) => out(callLine(c, done, total)),
    }).catch((err: unknown) => {
      throw new UserError(describeLiveKitError(err, config.LIVEKIT_URL, 'placing a call'));
    });

    if (values.json) {
      process.stdout.write(`${JSON.stringify(campaignReport(calls, rejected), null, 2)}\n`);
    } else {
      const summary = summarize(calls, rejected.length);
      const failed = Object.entries(summary.failed).map(([k, v]) => `${k} ${v}`).join(', ') || '0';
      out(
        table(
          ['PLACED', 'ANSWERED', 'CONFIRMED', 'RESCHEDULED', 'FAILED', 'SKIPPED'],
          [[String(summary.placed), String(summary.answered), String(summary.confirmed), String(summary.rescheduled), failed, String(summary.skipped)]],
        ),
      );
    }
  } finally {
    await store.close();
  }
});
