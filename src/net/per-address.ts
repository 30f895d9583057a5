// Connections open at once per remote address, for a listener that caps them (the SMPP
// server, the HTTP API): a connection is counted as it is admitted and let go when it
// closes.
import type { Socket } from 'node:net';

export class ConnectionsPerAddress {
  readonly #max: number;
  readonly #open = new Map<string, number>();

  constructor(max: number) {
    this.#max = max;
  }

  /** Counts the socket unless its address already has `max` open (then false: refuse it). */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? '';
    const n = (this.#open.get(address) ?? 0) + 1;
    if (n > this.#max) return false;
    this.#open.set(address, n);
    socket.once('close', () => {
      const left = (this.#open.get(address) ?? 1) - 1;
      if (left > 0) this.#open.set(address, left);
      else this.#open.delete(address);
    });
    return true;
  }
}
