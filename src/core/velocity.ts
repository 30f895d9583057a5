// Velocity limits: at most `max` events per window for a key (a destination prefix, an
// account), kept in memory (a restart forgives). SMS-pumping defences use them: Verify's
// codes, and every outbound message of an account with `policy.pumping`.
import { TokenBucket } from './rate.ts';

/** Keys tracked at once; past this, keys whose budget is whole again are forgotten. */
const maxTrackedKeys = 10_000;

export interface VelocityBudget {
  key: string;
  max: number;
  windowSeconds: number;
}

export class VelocityLimits {
  readonly #buckets = new Map<string, TokenBucket>();

  /**
   * Takes one event from every budget; when one is spent, takes nothing and returns it
   * with the ms until it has room again. Null when all took it.
   */
  take(budgets: readonly VelocityBudget[]): { budget: VelocityBudget; waitMs: number } | null {
    const buckets = budgets.map((b) => this.#bucket(b));
    for (const [i, bucket] of buckets.entries()) {
      const waitMs = bucket.msUntilAvailable();
      if (waitMs > 0) return { budget: budgets[i]!, waitMs };
    }
    for (const bucket of buckets) bucket.take();
    return null;
  }

  #bucket(b: VelocityBudget): TokenBucket {
    let bucket = this.#buckets.get(b.key);
    if (!bucket || bucket.burst !== b.max || bucket.perSecond !== b.max / b.windowSeconds) {
      if (this.#buckets.size >= maxTrackedKeys) {
        // Full buckets say nothing a new one would not: drop them.
        for (const [k, old] of this.#buckets) if (old.available() >= old.burst) this.#buckets.delete(k);
      }
      bucket = new TokenBucket(b.max / b.windowSeconds, b.max);
      this.#buckets.set(b.key, bucket);
    }
    return bucket;
  }
}
