// /v1/batches (CONTRACT §3) as an `account` plugin of the HTTP API: create from JSON
// (recipients or a CSV string) or from a streamed `text/csv` body with the settings as query
// parameters; read with counts, rate and ETA; list; pause, resume, cancel; the messages.
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  cursorRefused,
  objectBody,
  pageLimit,
  refuseUnknownItemFields,
  uploadSlots,
  uploadStream,
  wholeJsonParser,
} from '../api/index.ts';
import type { Gateway, Message, Priority } from '../core/index.ts';
import {
  checkedTags,
  GatewayError,
  isCountryCode,
  messageStatuses,
  messageView,
  priorities,
  refuseFarFuture,
} from '../core/index.ts';
import { StoreConflictError } from '../store/index.ts';
import type { OutboundPolicy } from '../webhooks/index.ts';
import { type Batches, type BatchSpec, templateVariables } from './batches.ts';
import { csvRecipients, type RecipientRow } from './csv.ts';
import { readJsonBody, StreamedList } from './json.ts';
import { parseQuietHours } from './quiet-hours.ts';

/** A JSON batch over 1 MiB has its recipients built one at a time (json.ts). */
const maxJsonBytes = 64 * 1024 * 1024;
/** Uploads one account may run at once, counted before the body is read. */
const maxConcurrentUploads = 4;
const maxValiditySeconds = 7 * 24 * 3600;

const idempotencyKind = 'batch-idempotency';
/** How long a key is kept; and how long an upload holding a key may go without finishing. */
const idempotencyKeptMs = 24 * 3600_000;
const uploadAbandonedMs = 3600_000;

function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  const key = Array.isArray(header) ? header[0] : header;
  if (key !== undefined && (key.length === 0 || key.length > 255))
    throw new GatewayError(
      'invalid_idempotency_key',
      'Idempotency-Key must be 1..255 characters',
      'Idempotency-Key',
    );
  return key;
}

/**
 * Takes an Idempotency-Key for a batch upload: the first answer is given again for 24 h, a
 * second upload with the key while the first runs is a 409. (A batch body may be a stream,
 * so unlike POST /v1/messages the body is not compared: the key alone names the batch.)
 */
async function claimKey(gateway: Gateway, accountId: string, key: string) {
  const id = `${accountId}\u0000${key}`;
  const now = Date.now();
  const held = await gateway.store.getRecord<{ response?: unknown }>(idempotencyKind, id);
  if (held && held.status === 'done' && now - held.createdAt < idempotencyKeptMs)
    return { replay: held.data.response, record: held };
  if (held && held.status === 'uploading' && now - held.updatedAt < uploadAbandonedMs)
    throw new GatewayError(
      'idempotency_conflict',
      'a batch with this Idempotency-Key is still uploading',
      'Idempotency-Key',
      409,
    );
  try {
    const record = await gateway.store.putRecord<{ response?: unknown }>(
      {
        kind: idempotencyKind,
        id,
        accountId,
        ref: null,
        status: 'uploading',
        dueAt: null,
        createdAt: now,
        updatedAt: now,
        data: {},
      },
      held?.version ?? 0,
    );
    return { replay: undefined, record };
  } catch (err) {
    if (err instanceof StoreConflictError)
      throw new GatewayError(
        'idempotency_conflict',
        'a batch with this Idempotency-Key is still uploading',
        'Idempotency-Key',
        409,
      );
    throw err;
  }
}

/** `callbacks`: what a batch's callbackUrl may reach. */
export function batchRoutes(batches: Batches, gateway: Gateway, callbacks: OutboundPolicy) {
  return async (app: FastifyInstance) => {
    // The CSV body reaches the route as the request stream, read while it arrives.
    app.addContentTypeParser(['text/csv', 'application/csv'], (_req, payload, done) => done(null, payload));
    // A large JSON body's recipients are built one at a time; a body of up to 1 MiB (every
    // other route's here) is parsed whole by Fastify's own parser, as everywhere else.
    const parseWhole = wholeJsonParser(app);
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', async (req: FastifyRequest, payload: Readable) =>
      readJsonBody(uploadStream(payload, req.routeOptions.bodyLimit ?? maxJsonBytes, req), {
        list: 'recipients',
        parseWhole: (text) => parseWhole(req, text),
        checkItem: (item, index) => refuseUnknownItemFields('POST', '/v1/batches', 'recipients', index, item),
      }),
    );
    const uploads = uploadSlots(app, maxConcurrentUploads, 'batches');

    app.post(
      '/v1/batches',
      { bodyLimit: maxJsonBytes, onRequest: uploads.take },
      uploads.holding(async (req, reply) => {
        const streamed = isStream(req.body);
        const fields = streamed
          ? (req.query as Record<string, unknown>)
          : objectBody(req.body ?? {}, 'expected a JSON object, or a text/csv body');
        const spec = specOf(fields, streamed);
        if (spec.callbackUrl !== null) await callbacks.check(spec.callbackUrl, 'callbackUrl');
        // A sender the account may not use refuses the batch, not each of its rows.
        if (spec.from !== null) gateway.checkSender(req.account.id, spec.from);
        const variables = templateVariables(spec.text);
        let recipients: AsyncIterable<RecipientRow> | Iterable<RecipientRow>;
        if (streamed)
          recipients = csvRecipients(
            uploadStream(req.body as Readable, Number.POSITIVE_INFINITY, req),
            variables,
          );
        else if (fields.recipients !== undefined && fields.csv !== undefined)
          throw new GatewayError('invalid_field', 'give recipients or csv, not both', 'csv');
        else if (typeof fields.csv === 'string') recipients = csvRecipients(fields.csv, variables);
        else if (fields.csv !== undefined)
          throw new GatewayError('invalid_field', 'csv must be the CSV text, header row first', 'csv');
        else if (Array.isArray(fields.recipients) || fields.recipients instanceof StreamedList)
          recipients = jsonRecipients(fields.recipients);
        else
          throw new GatewayError(
            'missing_field',
            'recipients (an array of {to, vars}) or csv is required',
            'recipients',
          );

        const account = req.account;
        const key = idempotencyKeyOf(req.headers['idempotency-key']);
        const claim = key === undefined ? undefined : await claimKey(gateway, account.id, key);
        if (claim?.replay) {
          reply.header('idempotent-replayed', 'true');
          return reply.code(202).send(claim.replay);
        }
        const created = await batches
          .create(account, spec, recipients, streamed || fields.csv ? 'csv' : 'json')
          .catch(async (err) => {
            // Nothing was accepted: the key is free for the retry.
            if (claim) await gateway.store.deleteRecord(idempotencyKind, claim.record.id).catch(() => {});
            throw err;
          });
        if (claim && !spec.dryRun) {
          await gateway.store.putRecord(
            { ...claim.record, updatedAt: Date.now(), status: 'done', data: { response: created } },
            claim.record.version,
          );
        } else if (claim) await gateway.store.deleteRecord(idempotencyKind, claim.record.id);
        return reply.code(202).send(created);
      }),
    );

    app.get('/v1/batches', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      const page = await batches
        .list(req.account.id, { status: q.status }, q.cursor ?? null, pageLimit(q))
        .catch(cursorRefused);
      return page;
    });

    app.get('/v1/batches/:id', async (req) => {
      const { id } = req.params as { id: string };
      const batch = await batches.get(req.account.id, id);
      if (!batch) throw new GatewayError('not_found', `no batch ${id}`, 'id', 404);
      return batch;
    });

    app.get('/v1/batches/:id/messages', async (req) => {
      const { id } = req.params as { id: string };
      const q = req.query as Record<string, string | undefined>;
      if (!(await batches.get(req.account.id, id)))
        throw new GatewayError('not_found', `no batch ${id}`, 'id', 404);
      if (q.status !== undefined && !(messageStatuses as readonly string[]).includes(q.status))
        throw new GatewayError(
          'invalid_status',
          `status must be one of ${messageStatuses.join(', ')}`,
          'status',
        );
      const page = await gateway.store
        .listMessages(
          { accountId: req.account.id, groupId: id, status: q.status as Message['status'] | undefined },
          q.cursor ?? null,
          pageLimit(q),
        )
        .catch(cursorRefused);
      return { data: page.data.map((m) => messageView(gateway.live(m))), nextCursor: page.nextCursor };
    });

    for (const action of ['pause', 'resume', 'cancel'] as const) {
      app.post(`/v1/batches/:id/${action}`, async (req) => {
        const { id } = req.params as { id: string };
        return batches[action](req.account.id, id);
      });
    }
  };
}

function isStream(body: unknown): boolean {
  return typeof (body as Readable | null)?.pipe === 'function';
}

/** Each entry `{to, vars}` (or a bare number); a malformed one is counted as invalid. */
async function* jsonRecipients(
  list: Iterable<unknown> | AsyncIterable<unknown>,
): AsyncGenerator<RecipientRow> {
  for await (const item of list) {
    if (typeof item === 'string' || typeof item === 'number') {
      yield { to: String(item), vars: {} };
      continue;
    }
    const entry = (item ?? {}) as Record<string, unknown>;
    const to = typeof entry.to === 'string' || typeof entry.to === 'number' ? String(entry.to) : '';
    const vars: Record<string, string> = {};
    if (entry.vars !== null && typeof entry.vars === 'object' && !Array.isArray(entry.vars)) {
      for (const [name, value] of Object.entries(entry.vars))
        if (value !== null && value !== undefined && typeof value !== 'object') vars[name] = String(value);
    }
    yield { to, vars };
  }
}

/**
 * The batch settings, from a JSON body or (for a streamed CSV) the query string, where
 * every value is a string. Wrong types are refused naming the field.
 */
export function specOf(f: Record<string, unknown>, fromQuery: boolean): BatchSpec {
  const str = (field: string, max: number): string | null => {
    const v = f[field];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v !== 'string') throw new GatewayError('invalid_field', `${field} must be a string`, field);
    if (v.length > max)
      throw new GatewayError('invalid_field', `${field} is longer than ${max} characters`, field);
    return v;
  };
  const num = (field: string): number | null => {
    const v = f[field];
    if (v === undefined || v === null || v === '') return null;
    const n = fromQuery && typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n))
      throw new GatewayError('invalid_field', `${field} must be a number`, field);
    return n;
  };
  const bool = (field: string): boolean => {
    const v = f[field];
    if (v === undefined || v === null || v === '') return false;
    if (typeof v === 'boolean') return v;
    if (fromQuery && ['true', '1', 'false', '0'].includes(String(v)))
      return ['true', '1'].includes(String(v));
    throw new GatewayError('invalid_field', `${field} must be true or false`, field);
  };

  const text = str('text', 10_000);
  if (text === null) throw new GatewayError('missing_field', 'text is required', 'text');
  const priority = (str('priority', 16) ?? 'bulk') as Priority;
  if (!priorities.includes(priority))
    throw new GatewayError(
      'invalid_priority',
      `priority must be one of ${priorities.join(', ')}`,
      'priority',
    );
  const sendAtText = f.sendAt === undefined || f.sendAt === null ? null : String(f.sendAt);
  const sendAt = sendAtText === null || sendAtText === '' ? null : Date.parse(sendAtText);
  if (sendAt !== null && !Number.isFinite(sendAt))
    throw new GatewayError('invalid_send_at', 'sendAt must be an ISO 8601 time', 'sendAt');
  if (sendAt !== null) refuseFarFuture(sendAt, Date.now());
  const country = str('country', 2)?.toUpperCase() ?? null;
  if (country !== null && !isCountryCode(country))
    throw new GatewayError(
      'invalid_country',
      'country must be an ISO 3166 alpha-2 code such as GB',
      'country',
    );
  const mps = num('mps') ?? 0;
  if (mps < 0 || mps > 100_000) throw new GatewayError('invalid_mps', 'mps must be 0..100000', 'mps');
  const validitySeconds = num('validitySeconds');
  if (
    validitySeconds !== null &&
    !(Number.isInteger(validitySeconds) && validitySeconds > 0 && validitySeconds <= maxValiditySeconds)
  )
    throw new GatewayError(
      'invalid_validity',
      `validitySeconds must be an integer 1..${maxValiditySeconds}`,
      'validitySeconds',
    );
  // A JSON list, or (query parameters of a CSV upload) comma-separated.
  const tagsGiven = f.tags === undefined || f.tags === null || f.tags === '' ? null : f.tags;
  const tags =
    tagsGiven === null
      ? null
      : checkedTags(typeof tagsGiven === 'string' && fromQuery ? tagsGiven.split(',') : tagsGiven);
  const callbackUrl = str('callbackUrl', 2048);
  if (callbackUrl !== null && !/^https?:\/\/[^\s]+$/.test(callbackUrl))
    throw new GatewayError('invalid_field', 'callbackUrl must be an http(s) URL', 'callbackUrl');
  return {
    name: str('name', 200),
    from: str('from', 32),
    text,
    priority,
    sendAt,
    validitySeconds,
    country: country as BatchSpec['country'],
    mps,
    quietHours: parseQuietHours(f.quietHours),
    callbackUrl,
    statusWebhooks: bool('statusWebhooks'),
    tags,
    dryRun: bool('dryRun'),
  };
}
