// A batch's current send rate: messages that left the gateway, counted per second over the
// last ten seconds.

const windowSeconds = 10;

export class RateMeter {
  readonly #counts = new Array<number>(windowSeconds).fill(0);
  /** The newest second the counts cover. */
  #second = -1;
  /** The first second counted, so a young batch is not averaged over seconds it did not run. */
  #first = -1;
  #lastAt = -1;

  add(now: number): void {
    const second = Math.floor(now / 1000);
    if (this.#first < 0) this.#first = this.#second = second;
    this.#advance(second);
    this.#counts[second % windowSeconds]!++;
    this.#lastAt = now;
  }

  /** Messages a second over the window's complete seconds (this second's alone at first). */
  rate(now: number): number {
    if (this.#first < 0) return 0;
    const second = Math.floor(now / 1000);
    this.#advance(second);
    const span = Math.min(windowSeconds - 1, second - this.#first);
    if (span <= 0) return this.#counts[second % windowSeconds]!;
    let sum = 0;
    for (let s = second - span; s < second; s++) sum += this.#counts[s % windowSeconds]!;
    return sum / span;
  }

  /** Milliseconds since the last message counted (Infinity when none was). */
  idleSince(now: number): number {
    return this.#lastAt < 0 ? Number.POSITIVE_INFINITY : now - this.#lastAt;
  }

  /** Moves the window to `second`, clearing the seconds it passes. */
  #advance(second: number): void {
    if (second <= this.#second) return;
    for (let s = this.#second + 1; s <= Math.min(second, this.#second + windowSeconds); s++)
      this.#counts[s % windowSeconds] = 0;
    this.#second = second;
  }
}
