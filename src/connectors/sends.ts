// What every connector keeps about its sends: counts for its state, and the sends still
// open, which stop() waits for.
import type { SubmitResult } from './types.ts';

export class SendTracker {
  sent = 0;
  failed = 0;
  readonly #open = new Set<Promise<SubmitResult>>();

  /** Counts the send when it settles, then calls `settled` (to announce freed capacity). */
  track(sending: Promise<SubmitResult>, settled: () => void): Promise<SubmitResult> {
    this.#open.add(sending);
    void sending.then((result) => {
      this.#open.delete(sending);
      if (result.ok) this.sent++;
      else this.failed++;
      settled();
    });
    return sending;
  }

  /** Resolves once every send open now has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#open]);
  }
}
