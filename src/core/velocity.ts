// Velocity limits: at most `max` events per window for a key (a destination prefix, an
// account), kept in memory (a restart forgives). SMS-pumping defences use them: Verify's
// codes, and every outbound message of an account with `policy.pumping`. In a cluster each
// gateway keeps to its share of `max` (the live gateways' shares add up to it), so a limit
// holds for the cluster, not per gateway.
import { BoundedMap, stringBytes } from './bounded-map.ts';
import { TokenBucket } from './rate.ts';

/**
 * What the buckets may keep alive by default: 16 MiB, some 80,000 keys. A key is a prefix a
 * client sent to, so their number grows with its traffic; the keys used least recently are
 * forgotten first (a key in use, as a busy account's, stays).
 */
const defaultMaxBytes = 16 * 2 ** 20;

export interface VelocityBudget {
  key: string;
  max: number;
  windowSeconds: number;
  /** Events to take at once (default 1). */
  count?: number;
}

export class VelocityLimits {
  readonly #buckets: BoundedMap<string, TokenBucket>;
  /** This gateway's part of every limit (1 alone; 1/3 of three live gateways). */
  readonly #share: () => number;

  constructor(share: () => number = () => 1, maxBytes = defaultMaxBytes) {
    this.#share = share;
    this.#buckets = new BoundedMap(maxBytes, (key) => 160 + stringBytes(key));
  }

  /**
   * Takes its events (one, or `count`) from every budget; when one has not room for them,
   * takes nothing and returns it with the ms until it has. Null when all took them.
   */
  take(budgets: readonly VelocityBudget[]): { budget: VelocityBudget; waitMs: number } | null {
    const buckets = budgets.map((b) => this.#bucket(b));
    for (const [i, bucket] of buckets.entries()) {
      const count = budgets[i]!.count ?? 1;
      const missing = count - bucket.available();
      const waitMs =
        count === 1
          ? bucket.msUntilAvailable()
          : missing > 0
            ? Math.ceil((missing * 1000) / bucket.perSecond)
            : 0;
      if (waitMs > 0) return { budget: budgets[i]!, waitMs };
    }
    for (const [i, bucket] of buckets.entries())
      for (let n = budgets[i]!.count ?? 1; n > 0; n--) bucket.take();
    return null;
  }

  /** Puts back events taken for what did not happen after all. */
  giveBack(budgets: readonly VelocityBudget[]): void {
    for (const b of budgets) this.#buckets.get(b.key)?.giveBack(b.count ?? 1);
  }

  #bucket(b: VelocityBudget): TokenBucket {
    const max = b.max * this.#share();
    let bucket = this.#buckets.get(b.key);
    if (!bucket || bucket.burst !== max || bucket.perSecond !== max / b.windowSeconds)
      bucket = new TokenBucket(max / b.windowSeconds, max);
    // Set again on each use, so the keys in use are the last forgotten. (Sweeping the whole
    // map for full buckets, as before, cost each new key a pass over the others: 4 ms at
    // 60,000 keys, and the keys not yet full were never let go.)
    this.#buckets.set(b.key, bucket);
    return bucket;
  }
}
