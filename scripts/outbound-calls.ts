/**
 * make outbound-calls — calls patients to confirm their appointments.
 *   outbound-calls [FILE.csv|FILE.json] [--delay-s 30] [--concurrency 1] [--recall-hours 12] [--json] [--cwd DIR]
 * Without FILE: tomorrow's appointments (CLINIC_TIMEZONE) not yet confirmed or cancelled and not
 * called in the last --recall-hours. The worker (make gemini-sip) must be running against the
 * same DATABASE_PATH: it dials each patient and records the outcome.
 */
import { resolve } from 'node:path';
import { flags, runCli, UserError } from '../src/cli/index.js';
import { table } from '../src/cli/table.js';
import { loadConfig } from '../src/config/index.js';
import { describeLiveKitError, liveKitApi } from '../src/livekit/index.js';
import { appointmentsToConfirm, runCampaign, summarize, targetsFromFile } from '../src/outbound/index.js';
import { openStore } from '../src/store/index.js';

const USAGE = 'usage: outbound-calls [FILE.csv|FILE.json] [--delay-s 30] [--concurrency 1] [--recall-hours 12] [--json] [--cwd DIR]';

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
      json: { type: 'boolean' },
      cwd: { type: 'string' },
    },
    USAGE,
  );
  const cwd = resolve(values.cwd ?? process.cwd());
  const config = loadConfig({ cwd, need: ['outbound'] });
  const delayMs = count('delay-s', values['delay-s'], 30, 0) * 1000;
  const concurrency = Math.floor(count('concurrency', values.concurrency, 1, 1));
  const recallHours = count('recall-hours', values['recall-hours'], 12, 0);
  const country = config.PHONE_DEFAULT_COUNTRY;
  const store = await openStore({ ...config, DATABASE_PATH: resolve(cwd, config.DATABASE_PATH) });
  const out = (line: string) => {
    if (!values.json) process.stdout.write(`${line}\n`);
  };
  try {
    const file = positionals[0];
    const { targets, rejected } = file
      ? await targetsFromFile(resolve(cwd, file), store, country).catch((err: Error) => {
          throw new UserError(err.message);
        })
      : await appointmentsToConfirm(store, config.CLINIC_TIMEZONE, recallHours);
    for (const r of rejected) process.stderr.write(`skipped ${r.source}: ${r.reason}\n`);
    out(`${targets.length} call(s) to place${rejected.length ? `, ${rejected.length} row(s) skipped` : ''}; ${delayMs / 1000} s between starts, at most ${concurrency} at once`);

    const api = liveKitApi(config);
    const calls = await runCampaign(api, store, targets, {
      agentName: config.AGENT_NAME,
      delayMs,
      concurrency,
      timeoutMs: (config.OUTBOUND_RINGING_TIMEOUT_S + config.OUTBOUND_MAX_CALL_S + 60) * 1000,
      onResult: (c, done, total) =>
        out(`[${done}/${total}] ${c.target.phoneNumber} appointment ${c.target.appointmentId}: ${c.record.outcome}${c.record.sip_status ? ` (SIP ${c.record.sip_status})` : ''}${c.record.error && c.record.outcome === 'failed' ? ` — ${c.record.error}` : ''}`),
    }).catch((err: unknown) => {
      throw new UserError(describeLiveKitError(err, config.LIVEKIT_URL, 'placing a call'));
    });

    const summary = summarize(calls, rejected.length);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify(
          {
            summary,
            calls: calls.map((c) => ({
              appointmentId: c.target.appointmentId,
              phoneNumber: c.target.phoneNumber,
              room: c.room,
              outcome: c.record.outcome,
              sipStatus: c.record.sip_status,
              error: c.record.error,
              startedAt: new Date(c.startedAt).toISOString(),
              endedAt: new Date(c.endedAt).toISOString(),
            })),
            skipped: rejected,
          },
          null,
          2,
        )}\n`,
      );
    } else {
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
