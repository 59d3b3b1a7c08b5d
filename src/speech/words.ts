/**
 * Dates and times as a person says them on the phone ("Monday, November twenty-third at ten
 * thirty a.m."), in the appointment's own time zone. English (en-US) wording.
 */
import { DateTime } from 'luxon';
import { toCardinal, toOrdinal } from 'n2words/en-US';

/** "ten thirty a.m.", "nine oh five p.m.", "two p.m.", "twelve noon", "twelve midnight". */
export function timeInWords(t: DateTime): string {
  const { hour, minute } = t;
  if (minute === 0 && hour === 12) return 'twelve noon';
  if (minute === 0 && hour === 0) return 'twelve midnight';
  const h12 = hour % 12 === 0 ? 12 : hour % 12;
  const suffix = hour < 12 ? 'a.m.' : 'p.m.';
  const minutes = minute === 0 ? '' : minute < 10 ? ` oh ${toCardinal(minute)}` : ` ${toCardinal(minute)}`;
  return `${toCardinal(h12)}${minutes} ${suffix}`;
}

/** "Monday, November twenty-third". */
export function dateInWords(t: DateTime): string {
  return `${t.toFormat('cccc, LLLL', { locale: 'en-US' })} ${toOrdinal(t.day)}`;
}

/**
 * The start of an appointment in words, read in its IANA `timezone`.
 * @param startsAtIso ISO-8601 instant, e.g. 2026-11-23T18:30:00.000Z
 * @throws Error when the instant or the zone is invalid.
 */
export function appointmentInWords(startsAtIso: string, timezone: string): string {
  const t = DateTime.fromISO(startsAtIso, { zone: 'utc' }).setZone(timezone);
  if (!t.isValid) throw new Error(`cannot read ${startsAtIso} in ${timezone}: ${t.invalidExplanation}`);
  return `${dateInWords(t)} at ${timeInWords(t)}`;
}
