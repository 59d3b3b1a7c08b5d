/**
 * Phone numbers: owns turning whatever a trunk, a file or a person wrote into one E.164 form, so
 * "+1 (415) 777-4444", "14157774444" and "+14157774444" are the same patient.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

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

export type { CountryCode };
