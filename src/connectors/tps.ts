// A connector's sends-per-second budget: a token bucket at the configured rate, or at a
// cluster's share of it.
import { TokenBucket } from '../core/index.ts';

export class TpsBudget {
  /** The configured rate; 0: unlimited. */
  readonly #configured: number;
  #bucket: TokenBucket | null;

  constructor(tps: number) {
    this.#configured = tps;
    this.#bucket = tps > 0 ? new TokenBucket(tps) : null;
  }

  /** A cluster's share of the configured rate: at most that, at least 0.1 a second. */
  share(tps: number): void {
    const rate = this.#configured > 0 ? Math.max(0.1, Math.min(this.#configured, tps)) : 0;
    if (rate !== (this.#bucket?.perSecond ?? 0)) this.#bucket = rate > 0 ? new TokenBucket(rate) : null;
  }

  /** `free`, limited to the tokens there now; when there are none, `wakeIn` gets the wait for the next. */
  limit(free: number, now: number, wakeIn: (ms: number) => void): number {
    if (this.#bucket === null) return free;
    const tokens = this.#bucket.available(now);
    if (tokens === 0) wakeIn(this.#bucket.msUntilAvailable(now));
    return Math.min(free, tokens);
  }

  /**
   * Takes a token: a promise of the wait when it is owed, else undefined (no promise for
   * each part sent without a limit or within it).
   */
  take(): Promise<void> | undefined {
    const wait = this.#bucket?.take() ?? 0;
    return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : undefined;
  }
}
