// A token bucket for a carrier's messages-per-second limit. Tokens may be taken ahead of
// time (the count goes negative): the taker is told how long to wait before using its
// token, so the parts of one long message keep their order and the rate still holds.

export class TokenBucket {
  readonly perSecond: number;
  readonly burst: number;
  #tokens: number;
  #at: number;

  /** `burst` defaults to a tenth of a second's worth: an SMSC counting per second sees at most tps + burst. */
  constructor(perSecond: number, burst = Math.max(1, Math.ceil(perSecond / 10)), now = Date.now()) {
    if (!(perSecond > 0)) throw new RangeError(`rate must be positive, got ${perSecond}`);
    this.perSecond = perSecond;
    this.burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Whole tokens there now (0 while earlier takers are still owed theirs). */
  available(now = Date.now()): number {
    this.#refill(now);
    return Math.max(0, Math.floor(this.#tokens));
  }

  /** Takes one token; returns how many ms to wait before using it (0: use it now). */
  take(now = Date.now()): number {
    this.#refill(now);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.perSecond);
  }

  /** Puts back tokens taken for something that did not happen (never above the burst). */
  giveBack(count: number, now = Date.now()): void {
    this.#refill(now);
    this.#tokens = Math.min(this.burst, this.#tokens + count);
  }

  /** Milliseconds until a whole token is there (0 when one is). */
  msUntilAvailable(now = Date.now()): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / this.perSecond);
  }

  #refill(now: number): void {
    if (now <= this.#at) return;
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) * this.perSecond) / 1000);
    this.#at = now;
  }
}
