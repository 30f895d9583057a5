// A recipient's number as the gateway keeps it, read with the batch's default country
// (`07700 900123` with GB is +447700900123).

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
