// Phone numbers as the gateway keeps them: E.164 with a leading `+` where the number is
// international, digits for short codes, and alphanumeric sender ids as given.
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

/**
 * `+44 7700 900-123` → `+447700900123`; `447700900123` → `+447700900123` (SMPP and Kannel
 * send international numbers without the plus); short codes (3–8 digits) stay as they
 * are. Undefined for anything that is not a number.
 */
export function normaliseNumber(input: string): string | undefined {
  const compact = input.trim().replace(/[\s().-]/g, '');
  if (compact.startsWith('00')) return normaliseNumber(`+${compact.slice(2)}`);
  if (/^\d{3,8}$/.test(compact)) return compact;
  if (!/^\+?\d{7,15}$/.test(compact)) return undefined;
  const e164 = compact.startsWith('+') ? compact : `+${compact}`;
  // libphonenumber knows every plan's lengths; a number it finds impossible is still passed
  // through when it is plausible E.164, since carriers' test ranges often are "impossible".
  const parsed = parsePhoneNumberFromString(e164);
  return parsed?.isPossible() ? parsed.number : e164;
}

/** A sender: a number (normalised) or an alphanumeric id of at most 11 GSM characters. */
export function normaliseSender(input: string): string | undefined {
  const trimmed = input.trim();
  if (/^[A-Za-z0-9 _.&'-]{1,11}$/.test(trimmed) && /[A-Za-z]/.test(trimmed)) return trimmed;
  return normaliseNumber(trimmed);
}
