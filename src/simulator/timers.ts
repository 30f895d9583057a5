// The timers a simulator has pending (receipts, redeliveries), all cleared when it closes.

export class SimulatorTimers {
  readonly #pending = new Set<NodeJS.Timeout>();

  /** Runs `fn` after `ms`, unless cleared first. */
  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      fn();
    }, ms);
    this.#pending.add(timer);
  }

  clear(): void {
    for (const t of this.#pending) clearTimeout(t);
    this.#pending.clear();
  }
}
