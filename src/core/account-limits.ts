// Each account's `mps`: one token bucket per account, shared by every front door (REST,
// SMPP, compat APIs), so an account cannot go round its limit by switching protocols.
// Only accepted messages use it up: a request takes its share before it is checked (so
// requests running at once cannot all pass one look at the budget before any takes), and
// a front door gives back the share of what it refused (`giveBack`).
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

  /** Returns the share `take` took for `count` messages that were then refused. */
  giveBack(account: Account, count = 1): void {
    if (account.mps > 0 && count > 0) this.#buckets.get(account.id)?.giveBack(count);
  }
}
