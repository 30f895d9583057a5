// Phone numbers as the gateway keeps them: E.164 with a leading `+` where the number is
// international, digits for short codes, and alphanumeric sender ids as given.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { CountryCode } from 'libphonenumber-js/min';
import { getCountries, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { BoundedMap, stringBytes } from './bounded-map.ts';
import { GatewayError } from './errors.ts';

export type { CountryCode };

type ParseWithTypes = typeof import('libphonenumber-js/max').parsePhoneNumberFromString;
let withTypes: ParseWithTypes | undefined;

/**
 * Parses with the full metadata, for what the minimal one cannot tell: strict validity and
 * line type. It is loaded at the first such question, not with the gateway (about 1.5 MB of
 * heap and 9 MB resident that a gateway routing on neither never needs). Required as the ES
 * module it is (by path: the package's `require` condition would load a second copy of
 * libphonenumber's code, in CommonJS).
 */
function parseWithTypes(number: string): ReturnType<ParseWithTypes> {
  withTypes ??= (
    createRequire(import.meta.url)(
      fileURLToPath(import.meta.resolve('libphonenumber-js/max')),
    ) as typeof import('libphonenumber-js/max')
  ).parsePhoneNumberFromString;
  return withTypes(number);
}

const countryCodes = new Set<string>(getCountries());

/** Whether `value` is an ISO 3166 alpha-2 code libphonenumber knows (`GB`). */
export function isCountryCode(value: string): value is CountryCode {
  return countryCodes.has(value);
}

/**
 * How digits written with neither `+` nor an international prefix are read: in a country
 * (an account's `defaultCountry`, a batch's `country`), as international (what carriers
 * hand in, and senders without a country), or — none given — not at all: a national
 * number is refused rather than guessed at.
 */
export type NumberReading = CountryCode | 'international' | null | undefined;

/**
 * `+447700900123` → itself; `07700 900123` read in GB → `+447700900123`; `0044 7700 900123`
 * (the ITU international prefix) and `+44 (0) 7700 900-123` → `+447700900123`, parsed by
 * libphonenumber, which knows the trunk prefixes a naive compaction gets wrong; a short code
 * (3–8 digits, not starting with 0, and not a number of the country) stays as written.
 * Undefined for a non-number, and for a national number with no country to read it in.
 */
export function normaliseNumber(input: string, reading?: NumberReading): string | undefined {
  const raw = input.trim();
  // The common case, already machine-written, needs no parsing (no calling code starts with 0).
  if (/^\+[1-9]\d{6,14}$/.test(raw)) return raw;
  if (!/^[+\d(][\d\s().-]*$/.test(raw)) return undefined;
  if (raw.startsWith('+')) return international(raw);
  if (raw.startsWith('00')) return international(`+${raw.slice(2)}`);
  if (reading === 'international') return /^\d{3,6}$/.test(raw) ? raw : international(`+${raw}`);
  if (reading) {
    const parsed = parsePhoneNumberFromString(raw, reading);
    if (parsed?.isPossible()) return parsed.number;
  }
  return /^[1-9]\d{2,7}$/.test(raw) ? raw : undefined;
}

function international(written: string): string | undefined {
  const parsed = parsePhoneNumberFromString(written);
  if (parsed?.isPossible()) return parsed.number;
  const digits = written.replace(/[\s().-]/g, '');
  return /^\+[1-9]\d{6,14}$/.test(digits) ? digits : undefined;
}

/**
 * A number as SMPP (TON unknown), Kannel and Jasmin clients write it: those interfaces carry
 * international numbers as bare digits, so 7–15 digits get their `+` — unless they start
 * with 0, a trunk prefix no calling code has: a national number, left as written for the
 * account's country to read (refused without one). Anything else is returned as written.
 */
export function internationalDigits(input: string): string {
  const raw = input.trim();
  return /^[1-9]\d{6,14}$/.test(raw) ? `+${raw}` : input;
}

/**
 * A destination a client gave, read as normaliseNumber does with the account's country;
 * refused `invalid_number` naming `field` (`to`), saying why when it is a national number.
 */
export function destinationOf(input: string, country: CountryCode | null | undefined, field = 'to'): string {
  const to = normaliseNumber(input, country);
  if (to) return to;
  if (!country && /^[\d\s().-]+$/.test(input.trim()) && /\d{3}/.test(input))
    throw new GatewayError(
      'invalid_number',
      `'${input}' has no country code: write it as +<country code><number>, or set the account's defaultCountry`,
      field,
    );
  throw new GatewayError('invalid_number', `'${input}' is not a phone number`, field);
}

/**
 * A sender: an alphanumeric id of at most 11 GSM characters, or a number — read in
 * `country` when one is given; otherwise digits are international (as SMPP ESMEs and
 * Kannel clients write them) except a national number (leading 0), kept as written for
 * the SMSC to read in its own country rather than given a `+` it does not have.
 */
export function normaliseSender(input: string, country?: CountryCode | null): string | undefined {
  const trimmed = input.trim();
  if (/^[A-Za-z0-9 _.&'-]{1,11}$/.test(trimmed) && /[A-Za-z]/.test(trimmed)) return trimmed;
  const national = country ? normaliseNumber(trimmed, country) : undefined;
  if (national) return national;
  if (/^0\d{6,14}$/.test(trimmed)) return trimmed;
  return normaliseNumber(trimmed, 'international');
}

/**
 * The sender a message goes from: the one asked for, else the account's default, refused
 * (naming `from`) when there is none or it is neither a number nor an alphanumeric id.
 */
export function senderOf(
  asked: string | null | undefined,
  accountDefault: string | null | undefined,
  country?: CountryCode | null,
): string {
  const input = asked ?? accountDefault ?? undefined;
  if (!input)
    throw new GatewayError('missing_field', 'from is required (the account has no default sender)', 'from');
  const from = normaliseSender(input, country);
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
  // Routing asks per message, and parsing costs 5–50 µs: a calling code of one country
  // needs none, and the numbers of shared ones (+1, +44, +7...) are remembered a while.
  const sole = soleCountryOf(number);
  if (sole !== undefined) return sole;
  const known = sharedCodeCountries.get(number);
  if (known !== undefined) return known ?? undefined;
  const parsed = parsePhoneNumberFromString(number);
  const country = parsed?.country ?? parsed?.getPossibleCountries()[0];
  sharedCodeCountries.set(number, country ?? null);
  return country;
}

/** Calling code → its country, for codes only one country uses (`33` → FR; not `44`, `1`). */
const soleCountries = (() => {
  const byCode = new Map<string, CountryCode[]>();
  for (const country of getCountries()) {
    const code = getCountryCallingCode(country);
    byCode.set(code, [...(byCode.get(code) ?? []), country]);
  }
  return {
    codes: new Set(byCode.keys()),
    sole: new Map(
      [...byCode].filter(([, countries]) => countries.length === 1).map(([c, [only]]) => [c, only!]),
    ),
  };
})();

/** The country of a number whose calling code (1–3 digits, none the prefix of another) is one country's. */
function soleCountryOf(number: string): CountryCode | undefined {
  for (let length = 1; length <= 3; length++) {
    const code = number.slice(1, 1 + length);
    if (soleCountries.codes.has(code)) return soleCountries.sole.get(code);
  }
  return undefined;
}

/** Countries of numbers of shared calling codes, as parsed (null: none). */
const sharedCodeCountries = new BoundedMap<string, string | null>(
  2 ** 20,
  (number, country) => 48 + stringBytes(number) + stringBytes(country),
);

/** What the offline number lookup (libphonenumber's metadata) knows of a number. */
export interface NumberLookup {
  /** E.164 (or a short code as written). */
  number: string;
  /** The number is in a range its country allocates. */
  valid: boolean;
  /** As routing's `match.country` reads it (countryOfNumber); null for a short code. */
  country: string | null;
  countryCallingCode: string | null;
  /** `mobile`, `fixed_line`, `fixed_line_or_mobile`, `toll_free`, `premium_rate`, `voip`...; null when unknown. */
  lineType: string | null;
}

/** Looks a normalised number (normaliseNumber's output) up, offline. */
export function lookupNumber(number: string): NumberLookup {
  // Routing's lineType test asks when a message is accepted and again when it is sent.
  let found = lookups.get(number);
  if (!found) {
    found = Object.freeze(lookUp(number));
    lookups.set(number, found);
  }
  return found;
}

const lookups = new BoundedMap<string, NumberLookup>(
  4 * 2 ** 20,
  (number, found) => 120 + 2 * stringBytes(number) + stringBytes(found.lineType),
);

/** An international number as its country writes it (`07700 900123`); null for a short code or non-number. */
export function nationalFormat(number: string): string | null {
  return number.startsWith('+') ? (parseWithTypes(number)?.formatNational() ?? null) : null;
}

function lookUp(number: string): NumberLookup {
  const parsed = number.startsWith('+') ? parseWithTypes(number) : undefined;
  return {
    number,
    valid: parsed?.isValid() ?? false,
    country: countryOfNumber(number) ?? null,
    countryCallingCode: parsed ? String(parsed.countryCallingCode) : null,
    lineType: parsed?.getType()?.toLowerCase() ?? null,
  };
}
