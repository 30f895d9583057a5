// Finding messages (GET /v1/messages and GET /v1/admin/messages): the search parameters
// shared by both, and the CSV export of a search, streamed page by page from the store.
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CountryCode, Gateway, Message } from '../core/index.ts';
import { GatewayError, messageStatuses, messageView, normaliseNumber } from '../core/index.ts';
import type { MessageFilter } from '../store/index.ts';
import { csvLine } from './csv.ts';
import { maxPageSize, timeParam } from './paging.ts';

/** The columns of a CSV export, in order: fields of the message's JSON form. */
const csvColumns = [
  'id',
  'createdAt',
  'direction',
  'status',
  'from',
  'to',
  'text',
  'segments',
  'encoding',
  'clientRef',
  'connector',
  'price',
  'currency',
  'errorCode',
  'submittedAt',
  'doneAt',
] as const;

/**
 * The filter the query parameters name (without the account): `q` (a message id, a client
 * reference, or a number either way, with or without `+`: the recipient of any message,
 * the sender of an inbound one), `status`, `direction`, `to`,
 * `since` and `until` (ISO 8601 dates or times, or unix seconds; a date alone as `until`
 * takes its whole day). `country` reads a national number in `q` and `to`.
 */
export function messageSearch(
  q: Record<string, string | undefined>,
  country: CountryCode | null | undefined,
): Omit<MessageFilter, 'accountId'> {
  if (q.status !== undefined && !(messageStatuses as readonly string[]).includes(q.status))
    throw new GatewayError('invalid_status', `status must be one of ${messageStatuses.join(', ')}`, 'status');
  const since = q.since === undefined ? undefined : timeParam(q.since, 'since', false);
  const until = q.until === undefined ? undefined : timeParam(q.until, 'until', true);
  if (since !== undefined && until !== undefined && until <= since)
    throw new GatewayError('invalid_range', 'until must be after since', 'until');
  const term = q.q?.trim();
  if (term !== undefined && term.length > 256)
    throw new GatewayError('invalid_query', 'q is longer than 256 characters', 'q');
  return {
    status: q.status as Message['status'] | undefined,
    direction: q.direction === undefined ? undefined : directionOf(q.direction),
    // Looked up as it is stored: `07700 900123` in the account's country is +447700900123.
    to: q.to === undefined ? undefined : (normaliseNumber(q.to, country) ?? q.to),
    anyOf: term ? searchTerms(term, country) : undefined,
    createdSince: since,
    createdUntil: until,
  };
}

/**
 * What a search term may be stored as: itself (an id, a client reference, a sender name),
 * and, when it reads as a number, that number in E.164 (digits without `+` read as
 * international, and as national in the account's country) and without its `+`.
 */
function searchTerms(term: string, country: CountryCode | null | undefined): string[] {
  const terms = new Set([term]);
  for (const reading of ['international', country] as const) {
    const number = reading ? normaliseNumber(term, reading) : undefined;
    if (number) terms.add(number);
  }
  for (const t of [...terms]) if (/^\+\d+$/.test(t)) terms.add(t.slice(1));
  return [...terms];
}

/** A `direction` parameter: `outbound` (or `mt`), `inbound` (or `mo`). */
export function directionOf(value: string): 'mt' | 'mo' {
  if (value === 'outbound' || value === 'mt') return 'mt';
  if (value === 'inbound' || value === 'mo') return 'mo';
  throw new GatewayError('invalid_direction', 'direction must be outbound or inbound', 'direction');
}

/** Whether the request asks for CSV: `format=csv`, or `Accept: text/csv` without a format. */
export function wantsCsv(req: FastifyRequest): boolean {
  const format = (req.query as Record<string, string | undefined>).format;
  if (format !== undefined && format !== 'csv' && format !== 'json')
    throw new GatewayError('invalid_format', 'format must be json or csv', 'format');
  return (format ?? (/\btext\/csv\b/.test(req.headers.accept ?? '') ? 'csv' : 'json')) === 'csv';
}

/**
 * Every message the filter finds, newest first, as a CSV download: read from the store a
 * page at a time while the answer is written, so an export of any size holds one page in memory.
 */
export function sendMessagesCsv(reply: FastifyReply, gateway: Gateway, filter: MessageFilter): FastifyReply {
  async function* lines() {
    yield csvLine([...csvColumns]);
    let cursor: string | null = null;
    do {
      const page = await gateway.store.listMessages(filter, cursor, maxPageSize);
      for (const m of page.data) {
        const view = messageView(gateway.live(m));
        yield csvLine(
          csvColumns.map((c) =>
            c === 'errorCode' ? m.error?.code : c === 'text' ? (view.text ?? view.binaryHex) : view[c],
          ),
        );
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
  }
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', 'attachment; filename="messages.csv"')
    .send(Readable.from(lines()));
}
