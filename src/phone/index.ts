/**
 * Phone numbers: owns turning whatever a trunk, a file or a person wrote into one E.164 form, so
 * "+1 (415) 777-4444", "14157774444" and "+14157774444" are the same patient — and where in the
 * world (which time zone) a number is.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { timezones } from 'libphonenumber-geo-carrier';
import { DateTime } from 'luxon';

/**
 * The E.164 form of `raw` (e.g. `+14157774444`), or undefined when it is not a valid number.
 * Digits without `+` are read as national numbers of `defaultCountry`, and, when that fails, as
 * international ones (so `14157774444` is +1 415…, and `442071838750` is +44 20…).
 */
export function toE164(raw: string | undefined | null, defaultCountry: CountryCode = 'US'): string | undefined {
  const text = raw?.trim();
  if (!text) return undefined;
  const candidates = text.startsWith('+') ? [text] : [text, `+${text.replace(/^00/, '')}`];
  for (const candidate of candidates) {
    const parsed = parsePhoneNumberFromString(candidate, defaultCountry);
    if (parsed?.isValid()) return parsed.number;
  }
  return undefined;
}

/**
 * The time zone a number's region lies in, from Google libphonenumber's prefix → time-zone data
 * (through libphonenumber-geo-carrier): `+1 212…` is America/New_York. Undefined when the number
 * is invalid, unknown to the data, or could be in zones of different UTC offsets — a
 * non-geographic or mobile prefix often maps to a whole country (`+1 555…` to 42 zones, Guam to
 * Newfoundland); then the caller's own default applies. Zones that keep the same offset all year
 * (Europe/London, Europe/Guernsey) count as one; the first is returned.
 * @param e164 the number in E.164.
 */
export async function numberTimeZone(e164: string): Promise<string | undefined> {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed?.isValid()) return undefined;
  const zones = (await timezones(parsed)) ?? [];
  if (zones.length === 0) return undefined;
  const year = DateTime.utc().year;
  const offsets = (z: string) => [1, 7].map((month) => DateTime.fromObject({ year, month, day: 15 }, { zone: z }).offset).join(',');
  const first = offsets(zones[0]!);
  return zones.every((z) => offsets(z) === first) && DateTime.local().setZone(zones[0]!).isValid ? zones[0] : undefined;
}

export type { CountryCode };
