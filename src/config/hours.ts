/**
 * Hours of the week, as two settings write them: the front desk's opening hours (`CLINIC_HOURS`,
 * read in `CLINIC_TIMEZONE`: when a caller who asks for a person may be put through) and the
 * dialer's calling hours (`CALLING_HOURS`, read in each callee's own zone).
 *
 * Written as `Mon-Fri 08:00-12:00 13:00-17:00; Sat 09:00-12:00`: entries separated by `;`, each a day
 * or a range of days (Mon Tue Wed Thu Fri Sat Sun, English three-letter names, a range wraps past
 * Sunday: `Sat-Mon`) and one or more `HH:MM-HH:MM` ranges on a 24-hour clock, `24:00` for midnight at
 * the end of a day. A day not named is closed. A range may not cross midnight: write it as two days'
 * ranges (`Fri 22:00-24:00; Sat 00:00-02:00`).
 */
import { DateTime } from 'luxon';

/** A day's opening ranges, in minutes after local midnight: `[start, end)`, sorted, not overlapping. */
export type DayHours = readonly (readonly [number, number])[];

/** Opening hours per ISO weekday: index 1 = Monday … 7 = Sunday (luxon's `weekday`); index 0 unused. */
export interface OpeningHours {
  readonly days: readonly DayHours[];
  /** The text it was read from, for messages. */
  readonly text: string;
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** Thrown by {@link parseOpeningHours}: `message` names the entry and what to write instead. */
export class OpeningHoursError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpeningHoursError';
  }
}

/** A weekday name (any case) → 1…7, or undefined. */
function weekday(name: string): number | undefined {
  const i = DAY_NAMES.indexOf(name.toLowerCase() as (typeof DAY_NAMES)[number]);
  return i < 0 ? undefined : i + 1;
}

/** `HH:MM` → minutes after midnight (0…1440), or undefined. */
function minutes(text: string): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return undefined;
  return h * 60 + min;
}

/**
 * Reads opening hours (format in this file's header).
 * @throws {OpeningHoursError} naming the entry that is wrong and how to write it.
 */
export function parseOpeningHours(text: string): OpeningHours {
  const days: [number, number][][] = Array.from({ length: 8 }, () => []);
  const entries = text
    .split(';')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (entries.length === 0) throw new OpeningHoursError('no opening hours given; write e.g. "Mon-Fri 08:00-17:00; Sat 09:00-12:00"');
  for (const entry of entries) {
    const [dayPart, ...ranges] = entry.split(/[\s,]+/);
    const [from, to, extra] = dayPart!.split('-');
    const first = weekday(from!);
    const last = to === undefined ? first : weekday(to);
    if (first === undefined || last === undefined || extra !== undefined) {
      throw new OpeningHoursError(`"${entry}": "${dayPart}" is not a day or a range of days; write Mon, Tue, Wed, Thu, Fri, Sat, Sun or e.g. Mon-Fri`);
    }
    if (ranges.length === 0) throw new OpeningHoursError(`"${entry}": no hours after the days; write e.g. "${dayPart} 08:00-17:00"`);
    const open: [number, number][] = [];
    for (const range of ranges) {
      const [a, b, more] = range.split('-');
      const start = minutes(a ?? '');
      const end = b === undefined ? undefined : minutes(b);
      if (start === undefined || end === undefined || more !== undefined) {
        throw new OpeningHoursError(`"${entry}": "${range}" is not a time range; write HH:MM-HH:MM on a 24-hour clock, e.g. 08:00-17:00`);
      }
      if (end <= start) {
        throw new OpeningHoursError(`"${entry}": "${range}" ends before it starts; a range may not cross midnight — split it, e.g. "Fri 22:00-24:00; Sat 00:00-02:00"`);
      }
      open.push([start, end]);
    }
    for (let d = first; ; d = (d % 7) + 1) {
      days[d]!.push(...open);
      if (d === last) break;
    }
  }
  for (let d = 1; d <= 7; d++) {
    const sorted = days[d]!.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]![0] < sorted[i - 1]![1]) {
        const name = DAY_NAMES[d - 1]!;
        throw new OpeningHoursError(`${name[0]!.toUpperCase()}${name.slice(1)} has overlapping hours; name each time of a day once`);
      }
    }
  }
  return { days, text };
}

/** Whether the desk is open at `at` (any zone: it is read in `zone`, an IANA name). */
export function isOpen(hours: OpeningHours, at: DateTime, zone: string): boolean {
  const local = at.setZone(zone);
  const minute = local.hour * 60 + local.minute;
  return hours.days[local.weekday]!.some(([start, end]) => minute >= start && minute < end);
}

/**
 * The first moment at or after `at` when `hours` are open in every one of `zones` (IANA names) —
 * for a callee whose zone is one of several, only the times allowed in all of them — looking at
 * most 8 days ahead.
 * @returns `at` itself when already open there; undefined when the hours never overlap within 8
 *   days (e.g. no day named, or zones too far apart for their windows to meet).
 */
export function nextOpening(hours: OpeningHours, at: DateTime, zones: readonly string[]): DateTime | undefined {
  const openAll = (t: DateTime) => zones.every((z) => isOpen(hours, t, z));
  if (openAll(at)) return at;
  // The set of allowed times is an intersection of unions of ranges: its earliest point after `at`
  // is the start of one zone's range. Try every range start in the coming 8 days, earliest first.
  const starts: DateTime[] = [];
  for (const zone of zones) {
    const day0 = at.setZone(zone).startOf('day');
    for (let d = 0; d <= 8; d++) {
      const day = day0.plus({ days: d });
      for (const [start] of hours.days[day.weekday]!) {
        const t = day.plus({ minutes: start });
        if (t > at) starts.push(t);
      }
    }
  }
  starts.sort((a, b) => a.toMillis() - b.toMillis());
  return starts.find(openAll);
}
