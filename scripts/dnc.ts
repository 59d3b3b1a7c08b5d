/**
 * make dnc — the do-not-call list: numbers the dialer never calls (see {@link HELP}). Patients join
 * it themselves in a call (key 9, or telling the voice model); staff add, remove and import here.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { flags, runCli, UserError } from '../src/cli/index.js';
import { table } from '../src/cli/table.js';
import { loadConfig } from '../src/config/index.js';
import { maskPhoneNumber } from '../src/logging/index.js';
import { toE164 } from '../src/phone/index.js';
import { openStore } from '../src/store/index.js';

const USAGE = 'usage: dnc add NUMBER [--reason TEXT] | dnc remove NUMBER | dnc import FILE [--reason TEXT] | dnc list [--json] [--full] [--cwd DIR]';

const HELP = `${USAGE}

  add NUMBER       put a number on the list (any form: +14155550123, (415) 555-0123)
  remove NUMBER    take it off
  import FILE      add every number in FILE: one per line, or a CSV whose header has a
                   phone_number (or phone, number) column; bad lines are named and skipped
  list             the list, oldest first: number, when, source (manual, import, keypad, voice), reason
  --reason TEXT    why (kept with the entry)
  --json           list as JSON
  --full           list the numbers in full (default: the last 4 digits only)
  --cwd DIR        directory with .env and the database (default: the current one)

The dialer (make outbound-calls) skips listed numbers and reports them as skipped.`;

/** The numbers of an import file, each with its line, or why a line is not a number. */
function numbersIn(path: string, text: string): { line: number; raw: string }[] {
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  if (/[a-z]/i.test(first) && first.includes(',')) {
    const records = parse(text, { bom: true, columns: true, info: true, skip_empty_lines: true, trim: true, relax_column_count: true }) as { record: Record<string, string>; info: { lines: number } }[];
    const column = ['phone_number', 'phoneNumber', 'phone', 'number'].find((c) => c in (records[0]?.record ?? {}));
    if (!column) throw new UserError(`${path}: the header has no phone_number column; write one number per line, or a CSV with a phone_number column`);
    return records.map((r) => ({ line: r.info.lines, raw: r.record[column] ?? '' }));
  }
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((raw, i) => ({ line: i + 1, raw: raw.trim() }))
    .filter((l) => l.raw !== '' && !l.raw.startsWith('#'));
}

const full = process.argv.includes('--full');

await runCli(
  async () => {
    const { values, positionals } = flags(
      { reason: { type: 'string' }, json: { type: 'boolean' }, full: { type: 'boolean' }, cwd: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      USAGE,
    );
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return;
    }
    const [command, arg, ...extra] = positionals;
    if (!command || !['add', 'remove', 'import', 'list'].includes(command) || extra.length > 0 || (command !== 'list' && !arg)) throw new UserError(USAGE);
    const cwd = resolve(values.cwd ?? process.cwd());
    const config = loadConfig({ cwd });
    const store = await openStore({ ...config, DATABASE_PATH: resolve(cwd, config.DATABASE_PATH) });
    const number = (raw: string, where: string) => {
      const e164 = toE164(raw, config.PHONE_DEFAULT_COUNTRY);
      if (!e164) throw new UserError(`${where}${JSON.stringify(maskPhoneNumber(raw))} is not a valid phone number; write it in E.164, e.g. +14155550123`);
      return e164;
    };
    try {
      if (command === 'add') {
        const e164 = number(arg!, '');
        const added = await store.doNotCall.add({ phoneE164: e164, source: 'manual', reason: values.reason ?? null });
        process.stdout.write(`${maskPhoneNumber(e164)} ${added ? 'added to' : 'was already on'} the do-not-call list\n`);
      } else if (command === 'remove') {
        const e164 = number(arg!, '');
        const removed = await store.doNotCall.remove(e164);
        process.stdout.write(`${maskPhoneNumber(e164)} ${removed ? 'removed from' : 'was not on'} the do-not-call list\n`);
      } else if (command === 'import') {
        const path = resolve(cwd, arg!);
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch (err) {
          throw new UserError(`${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path`);
        }
        let added = 0;
        let already = 0;
        let bad = 0;
        for (const { line, raw } of numbersIn(path, text)) {
          const e164 = toE164(raw, config.PHONE_DEFAULT_COUNTRY);
          if (!e164) {
            bad++;
            process.stderr.write(`skipped ${path} line ${line}: ${JSON.stringify(maskPhoneNumber(raw))} is not a valid phone number\n`);
            continue;
          }
          if (await store.doNotCall.add({ phoneE164: e164, source: 'import', reason: values.reason ?? null })) added++;
          else already++;
        }
        process.stdout.write(`${added} added, ${already} already on the list, ${bad} skipped\n`);
      } else {
        const entries = await store.doNotCall.list();
        const shown = entries.map((e) => ({ number: full ? e.phone_e164 : maskPhoneNumber(e.phone_e164), addedAt: e.added_at, source: e.source, reason: e.reason, callId: e.call_id }));
        if (values.json) process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
        else if (shown.length === 0) process.stdout.write('the do-not-call list is empty\n');
        else process.stdout.write(`${table(['NUMBER', 'ADDED', 'SOURCE', 'REASON'], shown.map((e) => [e.number, e.addedAt.slice(0, 19).replace('T', ' '), e.source, e.reason ?? '']))}\n`);
      }
    } finally {
      await store.close();
    }
  },
  // --full: the list in full is the report the operator asked for.
  { report: full },
);
