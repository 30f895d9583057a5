// Paged lists share their query parameters: `limit` (1..500, default 50) and `cursor`
// (opaque, from the previous page's nextCursor).
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
