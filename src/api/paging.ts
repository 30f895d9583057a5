// Paged lists share their query parameters: `limit` (1..500, default 50) and `cursor`
// (opaque, from the previous page's nextCursor); and how a time is written in a query.
import { GatewayError } from '../core/index.ts';

export const maxPageSize = 500;

export function pageLimit(query: Record<string, string | undefined>): number {
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize)
    throw new GatewayError('invalid_limit', `limit must be an integer 1..${maxPageSize}`, 'limit');
  return limit;
}

/** For `.catch` on a store's list: a cursor it could not read is the client's error. */
export function cursorRefused(err: unknown): never {
  throw err instanceof RangeError ? new GatewayError('invalid_cursor', err.message, 'cursor') : err;
}

const dayMs = 86_400_000;

/**
 * A time in a query: an ISO 8601 date or time, or unix seconds (as the stats series take);
 * a date alone as the `end` of a range takes its whole day.
 */
export function timeParam(value: string, field: string, end: boolean): number {
  if (/^\d{1,11}$/.test(value)) return Number(value) * 1000;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const t = Date.parse(dateOnly ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(t))
    throw new GatewayError(
      'invalid_time',
      `${field} must be an ISO 8601 date or time, or unix seconds`,
      field,
    );
  return dateOnly && end ? t + dayMs : t;
}
