// The wait between reconnect attempts of a protocol client (SMPP, UCP, CIMD2, a modem's
// port): doubling from `minMs` up to `maxMs` while failures follow one another, with
// jitter in [base/2, base) so that many clients that lost one peer together do not come
// back in lock step.

export interface BackoffLimits {
  minMs: number;
  maxMs: number;
}

/** The protocol clients' reconnect limits unless configured otherwise. */
export const defaultReconnect: BackoffLimits = { minMs: 1_000, maxMs: 30_000 };

export class Backoff {
  readonly #limits: BackoffLimits;
  #failuresInARow = 0;

  constructor(limits: BackoffLimits) {
    this.#limits = limits;
  }

  /** Counts one more failure in a row and answers how long to wait before the next attempt. */
  next(): number {
    this.#failuresInARow++;
    const { minMs, maxMs } = this.#limits;
    const base = Math.min(maxMs, minMs * 2 ** Math.min(this.#failuresInARow - 1, 16));
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  /** A success: the next failure waits the shortest time again. */
  reset(): void {
    this.#failuresInARow = 0;
  }
}
