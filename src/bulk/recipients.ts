// A recipient's number as the gateway keeps it, read with the batch's default country
// (`07700 900123` with GB is +447700900123), and the country a number belongs to.

import metadata from 'libphonenumber-js/metadata.min.json';
import type { CountryCode } from 'libphonenumber-js/min';
import { getCountries, parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { normaliseNumber } from '../core/index.ts';

const countries = new Set<string>(getCountries());

export function isCountryCode(value: string): value is CountryCode {
  return countries.has(value);
}

/**
 * E.164 (or a short code), or undefined when it is not a number. A national number is read
 * in `country` first; an international one (`+`, `00`, or digits that already hold the
 * country code) as the gateway reads every number.
 */
export function normaliseRecipient(raw: string, country: CountryCode | null): string | undefined {
  const trimmed = raw.trim();
  if (country && !trimmed.startsWith('+') && !trimmed.startsWith('00')) {
    const parsed = parsePhoneNumberFromString(trimmed, country);
    if (parsed?.isPossible()) return parsed.number;
  }
  return normaliseNumber(trimmed);
}

/** The main country of each calling code (`44` → GB, `1` → US), as libphonenumber lists them. */
const mainCountry = new Map<string, CountryCode>(
  Object.entries(metadata.country_calling_codes as Record<string, string[]>).map(([code, list]) => [
    code,
    list[0] as CountryCode,
  ]),
);

/**
 * The country of an E.164 number: the one its number range belongs to when that is known,
 * else the main country of its calling code (+44 7700 900xxx, a range for drama, is GB).
 */
export function countryOf(e164: string): CountryCode | undefined {
  if (!e164.startsWith('+')) return undefined;
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return undefined;
  return parsed.country ?? mainCountry.get(parsed.countryCallingCode);
}
