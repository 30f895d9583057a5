// Phone numbers as the gateway keeps them: E.164 with a leading `+` where the number is
// international, digits for short codes, and alphanumeric sender ids as given.
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { GatewayError } from './errors.ts';

/**
 * `+447700900123` and `447700900123` (SMPP and Kannel send international numbers without
 * the plus) → `+447700900123`; short codes (3–8 digits) stay as they are; written forms
 * such as `+44 (0) 7700 900-123` or `0044 7700 900123` are parsed by libphonenumber, which
 * knows the trunk prefixes a naive compaction gets wrong. Undefined for a non-number.
 */
export function normaliseNumber(input: string): string | undefined {
  const raw = input.trim();
  // The common case, already machine-written, needs no parsing.
  if (/^\+?\d{7,15}$/.test(raw) && !raw.startsWith('00')) return raw.startsWith('+') ? raw : `+${raw}`;
  if (/^\d{3,8}$/.test(raw)) return raw;
  if (!/^[+\d][\d\s().-]*$/.test(raw)) return undefined;
  const international = raw.startsWith('00') ? `+${raw.slice(2)}` : raw.startsWith('+') ? raw : `+${raw}`;
  const parsed = parsePhoneNumberFromString(international);
  if (parsed?.isPossible()) return parsed.number;
  const digits = international.replace(/[\s().-]/g, '');
  return /^\+\d{7,15}$/.test(digits) ? digits : undefined;
}

/** A sender: a number (normalised) or an alphanumeric id of at most 11 GSM characters. */
export function normaliseSender(input: string): string | undefined {
  const trimmed = input.trim();
  if (/^[A-Za-z0-9 _.&'-]{1,11}$/.test(trimmed) && /[A-Za-z]/.test(trimmed)) return trimmed;
  return normaliseNumber(trimmed);
}

/**
 * The sender a message goes from: the one asked for, else the account's default, refused
 * (naming `from`) when there is none or it is neither a number nor an alphanumeric id.
 */
export function senderOf(
  asked: string | null | undefined,
  accountDefault: string | null | undefined,
): string {
  const input = asked ?? accountDefault ?? undefined;
  if (!input)
    throw new GatewayError('missing_field', 'from is required (the account has no default sender)', 'from');
  const from = normaliseSender(input);
  if (!from)
    throw new GatewayError(
      'invalid_sender',
      `'${input}' is not a number or an alphanumeric sender of at most 11 characters`,
      'from',
    );
  return from;
}

/**
 * The ISO 3166 country of an international number (`GB` for `+447700900123`): where the
 * number alone does not tell (fictional or unassigned ranges), the main country of its
 * calling code. Undefined for short codes and non-numbers.
 */
export function countryOfNumber(number: string): string | undefined {
  if (!number.startsWith('+')) return undefined;
  const parsed = parsePhoneNumberFromString(number);
  return parsed?.country ?? parsed?.getPossibleCountries()[0];
}
