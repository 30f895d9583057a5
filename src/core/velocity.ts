// Velocity limits: at most `max` events per window for a key (a destination prefix, an
// account), kept in memory (a restart forgives). SMS-pumping defences use them: Verify's
// codes, and every outbound message of an account with `policy.pumping`. In a cluster each
// gateway keeps to its share of `max` (the live gateways' shares add up to it), so a limit
// holds for the cluster, not per gateway.
import { TokenBucket } from './rate.ts';

/** Keys tracked at once; past this, keys whose budget is whole again are forgotten. */
const maxTrackedKeys = 10_000;

export interface VelocityBudget {
  key: string;
  max: number;
  windowSeconds: number;
  /** Events to take at once (default 1). */
  count?: number;
}

export class VelocityLimits {
  readonly #buckets = new Map<string, TokenBucket>();
  /** This gateway's part of every limit (1 alone; 1/3 of three live gateways). */
  readonly #share: () => number;

  constructor(share: () => number = () => 1) {
    this.#share = share;
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
    if (!bucket || bucket.burst !== max || bucket.perSecond !== max / b.windowSeconds) {
      if (this.#buckets.size >= maxTrackedKeys) {
        // Full buckets say nothing a new one would not: drop them.
        for (const [k, old] of this.#buckets)
          if (old.available() >= Math.floor(old.burst)) this.#buckets.delete(k);
      }
      bucket = new TokenBucket(max / b.windowSeconds, max);
      this.#buckets.set(b.key, bucket);
    }
    return bucket;
  }
}
