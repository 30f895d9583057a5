// Billing in the store. The refund rule (README, "Running smsgw for customers"): a message's price comes back
// when it ends without a carrier having taken it. As SQL over the messages table (both
// stores), for usage's `cost`; the gateway applies the same rule to each message as it ends.

/** The final statuses a message may reach before any carrier took it. */
export const refundableStatuses = ['rejected', 'failed', 'expired', 'canceled'] as const;

export const refundedSql = `(submitted_at IS NULL AND status IN (${refundableStatuses.map((s) => `'${s}'`).join(', ')}))`;

/** A message's price fields as stored: left out for a message that has none (most). */
export function priceOf(
  priceMicros: number | null,
  currency: string | null,
): { priceMicros?: number | null; currency?: string | null } {
  return priceMicros === null && currency === null ? {} : { priceMicros, currency };
}
