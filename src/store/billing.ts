// Billing's SQL, shared by both stores (it reads the same in either dialect). The refund
// rule (docs/billing.md): a message's price comes back when it ends without a carrier
// having taken it; src/billing applies it to each message as it ends, and usage's `cost`
// applies it here.
import type { UsageGrouping } from './types.ts';

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

const usageGroups: Record<UsageGrouping, string> = {
  day: '(created_at / 86400000) * 86400000',
  connector: 'connector_id',
  to: 'to_addr',
};

/**
 * The usage query of both stores (the same SQL in either dialect), given its three
 * placeholders: account, from, to.
 */
export function usageSql(by: UsageGrouping, [account, from, to]: readonly string[]): string {
  return `SELECT ${usageGroups[by]} AS grouped, currency, count(*) AS messages, sum(segments) AS parts,
      coalesce(sum(price), 0) AS price, coalesce(sum(CASE WHEN ${refundedSql} THEN 0 ELSE price END), 0) AS cost
    FROM messages WHERE account_id = ${account} AND direction = 'mt' AND created_at >= ${from} AND created_at < ${to}
    GROUP BY grouped, currency`;
}
