// Each account's `mps`: one token bucket per account, shared by every front door (REST,
// SMPP, compat APIs), so an account cannot go round its limit by switching protocols.
import type { Account } from './accounts.ts';
import { TokenBucket } from './rate.ts';

export class AccountLimits {
  readonly #buckets = new Map<string, TokenBucket>();

  /** Takes `count` messages' worth; 0 when allowed, else the ms until it would be. */
  take(account: Account, count = 1): number {
    if (account.mps <= 0) return 0;
    let bucket = this.#buckets.get(account.id);
    if (!bucket || bucket.perSecond !== account.mps) {
      // A second's worth of burst: an account may send its mps at once, then keeps to it.
      bucket = new TokenBucket(account.mps, account.mps);
      this.#buckets.set(account.id, bucket);
    }
    if (bucket.available() < count) return Math.max(1, bucket.msUntilAvailable());
    for (let i = 0; i < count; i++) bucket.take();
    return 0;
  }
}
