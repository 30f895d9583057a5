// How the simulated SMS centres try a delivery (receipt or inbound message) again that the
// gateway refused or did not answer: as real SMSCs do, with a growing pause, for minutes, so
// a gateway whose store is down for a while still gets its receipts once it is back.

/** Tries before a delivery is dropped (about six minutes in all). */
const maxDeliveryAttempts = 16;

/** The pause before try `attempts + 1`: 1 s, doubling, at most 30 s. */
export function redeliveryDelayMs(attempts: number): number {
  return Math.min(30_000, 1_000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Counts a failed try of `delivery`: true when another is due, else false with the delivery
 * counted as dropped.
 */
export function anotherTry(delivery: { attempts: number }, stats: { deliveriesDropped: number }): boolean {
  if (++delivery.attempts < maxDeliveryAttempts) return true;
  stats.deliveriesDropped++;
  return false;
}
