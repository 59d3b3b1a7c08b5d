/**
 * make outbound-calls — calls patients to confirm their appointments, as a campaign kept in the
 * database (see {@link HELP}). Without FILE: tomorrow's appointments (CLINIC_TIMEZONE) not yet
 * confirmed or cancelled and not called in the last --recall-hours. The worker (make gemini-sip)
 * must be running against the same DATABASE_PATH: it dials each patient and records the outcome.
 * Exit codes: 0 when the campaign ran (whatever its calls' outcomes) or there was nothing to
 * confirm; 1 when nothing could be placed (see planCampaign) or on a configuration or file error.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { DateTime } from 'luxon';
import { flags, runCli, UserError } from '../src/cli/index.js';
import { table } from '../src/cli/table.js';
import { loadConfig, OpeningHoursError, parseOpeningHours } from '../src/config/index.js';
import { describeLiveKitError, liveKitApi } from '../src/livekit/index.js';
import {
  appointmentsToConfirm,
  calleeZone,
  campaignReport,
  DEFAULT_MAX_CALLS,
  eventJson,
  eventLine,
  liveKitCalls,
  planCampaign,
  reportCsv,
  runCampaign,
  summarize,
  TargetFileError,
  targetsFromFile,
  type CampaignEvent,
  type CampaignSettings,
  type ChosenTargets,
} from '../src/outbound/index.js';
import { openStore, type AppointmentStore, type Campaign, type NewCampaignTarget } from '../src/store/index.js';

const USAGE = `usage: outbound-calls [FILE.csv|FILE.json | --resume ID] [--max-attempts 3] [--retry-after 2h] [--calling-hours "Mon-Sun 08:00-21:00"] [--no-wait] [--delay-s 30] [--concurrency 1] [--recall-hours 12] [--max-calls ${DEFAULT_MAX_CALLS}] [--yes] [--json] [--report FILE.csv] [--cwd DIR]`;

const HELP = `${USAGE}

Calls patients to confirm their appointments: the rows of FILE, or without FILE tomorrow's
appointments (CLINIC_TIMEZONE) that are neither confirmed nor cancelled. The calls are a campaign
kept in the database: run the same command again (same FILE, or none on the same day) or give
--resume ID, and it goes on where it was — after a crash too — dialing nobody twice.

  FILE                 CSV with the header phone_number,appointment_id, or a JSON array of
                       {"phoneNumber", "appointmentId"}. Rows whose number is invalid or not the
                       patient's, whose appointment is unknown, cancelled or past, or that repeat an
                       appointment or a number are skipped with the reason.
  --resume ID          continue campaign ID (make campaigns lists them)
  --max-attempts N     calls to one patient in all when busy, unanswered or voicemail (default 3)
  --retry-after T      wait before calling again: 90s, 30m, 2h (default 2h)
  --calling-hours H    when patients may be called, in their own time zone (default CALLING_HOURS,
                       "Mon-Sun 08:00-21:00"); a patient outside them is called when they open
  --no-wait            stop when nothing is due now (retries, closed hours) instead of waiting;
                       run again later to go on
  --delay-s N          seconds between the starts of two calls (default 30, 0 allowed)
  --concurrency N      most calls at once (default 1)
  --recall-hours N     without FILE: skip appointments called in the last N hours (default 12)
  --max-calls N        refuse to start a campaign of more than N calls unless --yes (default ${DEFAULT_MAX_CALLS})
  --yes                start it even when it has more than --max-calls
  --json               one JSON line per event, the last a summary (also when stdout is not a terminal)
  --report FILE.csv    write one row per patient: attempts, last outcome, SIP status, times (mode 0600)
  --cwd DIR            directory with .env and the database (default: the current one)
  -h, --help           this help

Numbers on the do-not-call list (make dnc) are never dialed. Exits 1 when no call can be placed
(every row skipped, more than --max-calls without --yes, a file or configuration error), else 0.
Phone numbers are shown with only their last 4 digits.`;

function count(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UserError(`--${name} ${JSON.stringify(value)}: expected a number ≥ ${min}`);
  return n;
}

/** `90s`, `30m`, `2h` or a number of seconds → seconds. */
function duration(name: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(value.trim());
  if (!m) throw new UserError(`--${name} ${JSON.stringify(value)}: expected a time like 90s, 30m or 2h`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

/** What makes two runs the same campaign: the file's path and content, or the day whose appointments the store gives. */
function sourceKey(file: string | undefined, clinicZone: string): string | undefined {
  if (!file) return `store:${DateTime.now().setZone(clinicZone).plus({ days: 1 }).toISODate()}`;
  try {
    return `file:${file}:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
  } catch {
    return undefined; // targetsFromFile says why
  }
}

/** The new campaign's targets: each with its callee's zone, the numbers on the do-not-call list skipped. */
async function campaignTargets(store: AppointmentStore, chosen: ChosenTargets, clinicZone: string): Promise<NewCampaignTarget[]> {
  const out: NewCampaignTarget[] = [];
  for (const t of chosen.targets) {
    const appointment = await store.getAppointment(t.appointmentId);
    const patient = appointment && (await store.getPatient(appointment.patient_id));
    const zone = await calleeZone(patient?.timezone, t.phoneNumber, clinicZone);
    const listed = await store.doNotCall.get(t.phoneNumber);
    out.push({
      appointmentId: t.appointmentId,
      phoneE164: t.phoneNumber,
      timezone: zone.zone,
      timezoneSource: zone.source,
      skipped: listed ? `on the do-not-call list since ${listed.added_at.slice(0, 10)} (${listed.source})` : undefined,
    });
  }
  return out;
}

await runCli(async () => {
  const { values, positionals } = flags(
    {
      resume: { type: 'string' },
      'max-attempts': { type: 'string' },
      'retry-after': { type: 'string' },
      'calling-hours': { type: 'string' },
      'no-wait': { type: 'boolean' },
      'delay-s': { type: 'string' },
      concurrency: { type: 'string' },
      'recall-hours': { type: 'string' },
      'max-calls': { type: 'string' },
      yes: { type: 'boolean' },
      json: { type: 'boolean' },
      report: { type: 'string' },
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
  if (positionals.length && values.resume) throw new UserError(`give FILE or --resume ID, not both\n${USAGE}`);
  const cwd = resolve(values.cwd ?? process.cwd());
  const config = loadConfig({ cwd, need: ['outbound'] });
  const given: Partial<CampaignSettings> = {
    ...(values['delay-s'] === undefined ? {} : { delayMs: count('delay-s', values['delay-s'], 30, 0) * 1000 }),
    ...(values.concurrency === undefined ? {} : { concurrency: Math.floor(count('concurrency', values.concurrency, 1, 1)) }),
    ...(values['max-attempts'] === undefined ? {} : { maxAttempts: Math.floor(count('max-attempts', values['max-attempts'], 3, 1)) }),
    ...(values['retry-after'] === undefined ? {} : { retryAfterS: duration('retry-after', values['retry-after']) }),
    ...(values['calling-hours'] === undefined ? {} : { callingHours: values['calling-hours'] }),
  };
  const defaults: CampaignSettings = { delayMs: 30_000, concurrency: 1, maxAttempts: 3, retryAfterS: 7200, callingHours: config.CALLING_HOURS };
  const recallHours = count('recall-hours', values['recall-hours'], 12, 0);
  const maxCalls = Math.floor(count('max-calls', values['max-calls'], DEFAULT_MAX_CALLS, 1));
  const json = values.json || !process.stdout.isTTY;
  const store = await openStore({ ...config, DATABASE_PATH: resolve(cwd, config.DATABASE_PATH) });
  // Lines for people: on stdout, or on stderr when stdout carries JSON lines.
  const say = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  const emit = (o: Record<string, unknown>) => {
    if (json) process.stdout.write(`${JSON.stringify(o)}\n`);
  };
  try {
    const file = positionals[0] === undefined ? undefined : resolve(cwd, positionals[0]);
    let campaign: Campaign | undefined;
    let rejected: ChosenTargets['rejected'] = [];
    let resumed = true;
    if (values.resume) {
      campaign = await store.campaigns.get(values.resume);
      if (!campaign) throw new UserError(`--resume ${values.resume}: no such campaign in ${config.DATABASE_PATH}; make campaigns lists them`);
    } else {
      const key = sourceKey(file, config.CLINIC_TIMEZONE);
      campaign = key ? await store.campaigns.unfinished(key) : undefined;
      if (!campaign) {
        const chosen = file
          ? await targetsFromFile(file, store, config.PHONE_DEFAULT_COUNTRY).catch((err: unknown) => {
              throw err instanceof TargetFileError ? new UserError(err.message) : err;
            })
          : await appointmentsToConfirm(store, config.CLINIC_TIMEZONE, recallHours);
        rejected = chosen.rejected;
        for (const r of rejected) process.stderr.write(`skipped ${r.source}: ${r.reason}\n`);
        const plan = planCampaign(chosen, { file, maxCalls, yes: values.yes ?? false });
        if (!plan.go) {
          if (plan.exitCode === 1) throw new UserError(plan.message);
          emit({ event: 'summary', campaign: null, finished: true, summary: summarize([], rejected.length), targets: [], rejected });
          say(plan.message);
          return;
        }
        say(plan.message);
        resumed = false;
        campaign = await store.campaigns.create({
          source: file ?? 'store',
          sourceKey: key ?? `file:${file}`,
          settings: { ...defaults, ...given },
          targets: await campaignTargets(store, chosen, config.CLINIC_TIMEZONE),
        });
      }
    }
    const settings: CampaignSettings = { ...defaults, ...(JSON.parse(campaign.settings) as Partial<CampaignSettings>), ...given };
    let hours;
    try {
      hours = parseOpeningHours(settings.callingHours);
    } catch (err) {
      if (err instanceof OpeningHoursError) throw new UserError(`--calling-hours: ${err.message}`);
      throw err;
    }
    const counts = await store.campaigns.counts(campaign.id);
    emit({ event: 'campaign', campaign: campaign.id, resumed, source: campaign.source, targets: counts.total, pending: counts.pending + counts.dialing, settings });
    say(
      `${resumed ? 'continuing' : 'started'} campaign ${campaign.id} (${campaign.source}): ${counts.pending + counts.dialing} of ${counts.total} to call; ` +
        `${settings.delayMs / 1000} s between starts, at most ${settings.concurrency} at once, ${settings.maxAttempts} attempt(s) each, ${settings.retryAfterS} s apart, calling hours "${settings.callingHours}"`,
    );
    for (const t of (await store.campaigns.targets(campaign.id)).filter((x) => x.state === 'skipped' && !resumed)) {
      const event: CampaignEvent = { type: 'skipped', target: t, reason: t.detail ?? '' };
      if (json) emit(eventJson(event));
      else say(eventLine(event));
    }

    // A bar on a terminal; its lines above it.
    const bar = json ? undefined : new cliProgress.MultiBar({ format: '{bar} {value}/{total} done | {status}', hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
    const progress = bar?.create(counts.total, counts.done + counts.skipped, { status: 'starting' });
    const onEvent = (e: CampaignEvent) => {
      emit(eventJson(e));
      if (!bar) return;
      bar.log(`${eventLine(e)}\n`);
      if ((e.type === 'ended' && !e.retryAt) || e.type === 'skipped') progress?.increment();
      progress?.update({ status: e.type === 'waiting' ? `waiting until ${e.until.toISOString()}` : e.type });
    };

    const api = liveKitApi(config);
    const end = await runCampaign(store, campaign.id, {
      settings,
      hours,
      wait: !values['no-wait'],
      onEvent,
      calls: liveKitCalls(api, store, {
        agentName: config.AGENT_NAME,
        timeoutMs: (config.OUTBOUND_RINGING_TIMEOUT_S + config.OUTBOUND_MAX_CALL_S + 60) * 1000,
      }),
    })
      .catch((err: unknown) => {
        throw new UserError(describeLiveKitError(err, config.LIVEKIT_URL, 'placing a call'));
      })
      .finally(() => bar?.stop());

    const targets = await store.campaigns.targets(campaign.id);
    if (values.report) {
      const path = resolve(cwd, values.report);
      writeFileSync(path, reportCsv(targets), { mode: 0o600 });
      say(`report: ${path}`);
    }
    emit(campaignReport(campaign.id, end.finished, targets, rejected));
    if (!json) {
      const s = summarize(targets, rejected.length);
      const failed = Object.entries(s.failed).map(([k, v]) => `${k} ${v}`).join(', ') || '0';
      say(
        table(
          ['TARGETS', 'CALLS', 'ANSWERED', 'CONFIRMED', 'RESCHEDULED', 'VOICEMAIL', 'OPTED OUT', 'NOT ANSWERED', 'SKIPPED', 'PENDING'],
          [[s.targets, s.placed, s.answered, s.confirmed, s.rescheduled, s.voicemail, s.optedOut, failed, s.skipped, s.pending].map(String)],
        ),
      );
      if (!end.finished) say(`${s.pending} target(s) still to call, the next at ${end.nextAt.toISOString()}: run the same command again then (or --resume ${campaign.id})`);
    }
  } finally {
    await store.close();
  }
});
