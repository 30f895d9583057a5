// Each account's `mps`: one token bucket per account, shared by every front door (REST,
// SMPP, compat APIs), so an account cannot go round its limit by switching protocols. In a
// cluster each gateway keeps to its share (mps divided by the live gateways).
// Only accepted messages use it up: a request takes its share before it is checked (so
// requests running at once cannot all pass one look at the budget before any takes), and
// a front door gives back the share of what it refused (`giveBack`).
import type { Account } from './accounts.ts';
import { TokenBucket } from './rate.ts';

export class AccountLimits {
  readonly #buckets = new Map<string, TokenBucket>();
  /** The part of an account's mps this gateway keeps to (in a cluster, its share). */
  readonly #share: () => number;

  constructor(share: () => number = () => 1) {
    this.#share = share;
  }

  /** Takes `count` messages' worth; 0 when allowed, else the ms until it would be. */
  take(account: Account, count = 1): number {
    if (account.mps <= 0) return 0;
    const mps = account.mps * this.#share();
    let bucket = this.#buckets.get(account.id);
    if (!bucket || bucket.perSecond !== mps) {
      // A second's worth of burst: an account may send its mps at once, then keeps to it.
      bucket = new TokenBucket(mps, Math.max(1, mps));
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
