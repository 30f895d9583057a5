// What routing needs of the online number lookup (HLR / number portability): a number's
// mobile network now, which may differ from its range's when it was ported. The lookup
// itself (HTTP, configured as data, cached) is src/connectors/http/number-lookup.ts.

/** What the online lookup says of a number; a field it did not give is null. */
export interface NetworkInfo {
  mcc: string | null;
  mnc: string | null;
  /** MCC and MNC as one string of digits (`23415`), as `match.network` compares it. */
  network: string | null;
  ported: boolean | null;
  carrier: string | null;
}

/** Lookups so far, for /metrics. */
export interface NetworkLookupCounts {
  /** Answered from memory. */
  hits: number;
  /** Asked of the provider and answered. */
  misses: number;
  /** Asked and failed. */
  failures: number;
}

export interface NetworkLookup {
  readonly counts: NetworkLookupCounts;
  /** When the lookup fails: routing goes on without a network, or the message is refused. */
  readonly onError: 'skip' | 'refuse';
  /**
   * The number's network; null when the lookup failed (counted and logged by the lookup).
   * `cached` says whether the answer came from the cache.
   */
  lookup(number: string): Promise<{ info: NetworkInfo; cached: boolean } | null>;
}
