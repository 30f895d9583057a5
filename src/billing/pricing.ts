// Price lists as data (`pricing` in the config): per part, by destination pattern or
// country, per account or plan; the first entry that matches wins. A message's price is
// fixed when it is accepted and kept with it.
import type { PriceConfig } from '../config/index.ts';
import { compilePatterns, countryOfNumber, type Matcher, toMicros } from '../core/index.ts';

export interface Price {
  /** Per part, micro-units. */
  perPart: number;
  currency: string;
}

interface PriceEntry extends Price {
  to: DestinationMatcher;
  account: Matcher;
  plan: string | undefined;
}

/** A destination test; `country` gives the number's country, looked up once per message. */
export type DestinationMatcher = (to: string, country: () => string | undefined) => boolean;

/** A pattern of two capitals is an ISO 3166 country; anything else an address pattern. */
export function destinationMatcher(patterns: readonly string[] | undefined): DestinationMatcher {
  const countries = new Set((patterns ?? []).filter(isCountryPattern));
  const numbers = (patterns ?? []).filter((p) => !isCountryPattern(p));
  const matchNumber = compilePatterns(numbers);
  if (countries.size === 0) return (to) => matchNumber(to);
  return (to, country) => {
    if (numbers.length > 0 && matchNumber(to)) return true;
    const found = country();
    return found !== undefined && countries.has(found);
  };
}

/** The number's country, looked up the first time it is asked for. */
export function lazyCountry(to: string): () => string | undefined {
  let country: string | undefined | null = null;
  return () => {
    if (country === null) country = countryOfNumber(to);
    return country;
  };
}

function isCountryPattern(pattern: string): boolean {
  return /^[A-Z]{2}$/.test(pattern);
}

export class PriceList {
  readonly #entries: PriceEntry[];

  constructor(entries: readonly PriceConfig[]) {
    this.#entries = entries.map((e) => {
      const accounts = e.match?.account;
      return {
        perPart: toMicros(e.price),
        currency: e.currency,
        to: destinationMatcher(e.match?.to),
        account: compilePatterns(typeof accounts === 'string' ? [accounts] : accounts),
        plan: e.match?.plan,
      };
    });
  }

  /**
   * The first entry for this message; with `currency` (a billed account's), only entries
   * in that currency are looked at. Null when none matches.
   */
  priceOf(
    accountId: string,
    plan: string | undefined,
    to: string,
    currency?: string,
    country = lazyCountry(to),
  ): Price | null {
    for (const e of this.#entries) {
      if (currency !== undefined && e.currency !== currency) continue;
      if (e.plan !== undefined && e.plan !== plan) continue;
      if (e.account(accountId) && e.to(to, country)) return { perPart: e.perPart, currency: e.currency };
    }
    return null;
  }
}
