// The HTTP front door: REST API (CONTRACT §3), health, metrics, OpenAPI, admin (§7).
// Every refusal is `{"error": {code, message, field?}}` with a 4xx; nothing is half-stored.
import { createHash, randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Connector } from '../connectors/index.ts';
import type {
  Account,
  AccountLimits,
  AccountRegistry,
  Gateway,
  Message,
  SubmitRequest,
} from '../core/index.ts';
import { GatewayError, messageStatuses, messageView, priorities, secretEquals } from '../core/index.ts';
import { calculateSegments } from '../sms/index.ts';
import type { Metrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { cursorRefused, pageLimit } from './paging.ts';
import { suppressionRoutes } from './suppressions.ts';

export interface HttpApiOptions {
  gateway: Gateway;
  accounts: AccountRegistry;
  adminKeyHashes: string[];
  metrics: Metrics;
  /** Each account's messages-per-second limit, shared with the other front doors. */
  limits: AccountLimits;
  /** The routes in force, shown to admins as configured. */
  routes: unknown;
  /** Inject an inbound message at a connector that can play a carrier (simulator). */
  injectInbound?: (connectorId: string, sms: { from: string; to: string; text: string }) => Promise<boolean>;
  /**
   * Feature routes (batches, verify, compat APIs...), each a fastify plugin registered in
   * its scope: `account` behind API-key auth (`req.account` set), `admin` behind the admin
   * key, `public` with no auth of ours (compat APIs that authenticate their own way).
   * Errors thrown as GatewayError get the REST error body, as on every route.
   */
  plugins?: { account?: HttpPlugin[]; admin?: HttpPlugin[]; public?: HttpPlugin[] };
  bodyLimit?: number;
  logger?: boolean | object;
  /** Where 5xx answers are logged, with the request id also sent as `x-request-id`. */
  log?: { error(obj: object, msg?: string): void };
  /** True once the gateway shuts down: new requests get 503 and `Connection: close`. */
  draining?: () => boolean;
}

export type HttpPlugin = (app: FastifyInstance) => Promise<void>;

declare module 'fastify' {
  interface FastifyRequest {
    account: Account;
    /** The unexpected error behind a 500, for its log line. */
    failure: Error | null;
  }
}

export async function buildHttpApi(o: HttpApiOptions): Promise<FastifyInstance> {
  // Request ids: unique across restarts (a random prefix), cheap per request (a counter).
  const idPrefix = randomBytes(4).toString('hex');
  let requests = 0;
  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: o.bodyLimit ?? 1_048_576,
    genReqId: () => `${idPrefix}-${(++requests).toString(36)}`,
    // While draining, our own hook answers (with the REST error body and /ready's own).
    return503OnClosing: o.draining === undefined,
  });
  /** Idempotency keys whose first request is still being stored: a second one waits for it. */
  const pendingKeys = new Map<string, Promise<unknown>>();

  app.decorateRequest('account', null as unknown as Account);
  app.decorateRequest('failure', null);
  const draining = o.draining;
  if (draining) {
    // Callback hooks, not async ones: no promise per request on the hot path.
    app.addHook('onRequest', (req, reply, done) => {
      // /ready answers for itself (503 while draining), so a balancer sees why.
      if (!draining() || req.url === '/ready') return done();
      sendError(reply, 503, 'shutting_down', 'the gateway is shutting down');
    });
  }
  const log = o.log;
  if (log || draining) {
    // A 503 (store out of reach, draining) answers every request alike: one line a second
    // says so, with how many were left out, rather than a line per request.
    let quietUntil = 0;
    let quieted = 0;
    app.addHook('onSend', (req, reply, payload, done) => {
      // While draining, every answer (those of requests that came before too) closes its
      // connection: a kept-alive client that goes quiet does not hold the shutdown.
      if (draining?.()) reply.header('connection', 'close');
      const status = reply.statusCode;
      if (log && status >= 500) {
        reply.header('x-request-id', req.id);
        const now = status === 503 ? Date.now() : 0;
        if (now !== 0 && now < quietUntil) quieted++;
        else {
          const url = req.url.split('?')[0];
          const also = now === 0 ? {} : { alsoFailedSinceLastLine: quieted };
          log.error(
            { reqId: req.id, method: req.method, url, status, err: req.failure, ...also },
            'HTTP request failed',
          );
          if (now !== 0) {
            quietUntil = now + 1000;
            quieted = 0;
          }
        }
      }
      done(null, payload);
    });
  }
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof GatewayError)
      return sendError(reply, err.httpStatus, err.code, err.message, err.field);
    if (err.statusCode === 413)
      return sendError(reply, 413, 'payload_too_large', 'request body is too large');
    if (err.statusCode === 415) return sendError(reply, 415, 'unsupported_media_type', err.message);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      return sendError(reply, err.statusCode, 'invalid_request', err.message);
    req.failure = err;
    return sendError(reply, 500, 'internal_error', 'internal error');
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = req.headers.authorization ?? '';
    let account: Account | undefined;
    if (auth.startsWith('Bearer ')) {
      const key = auth.slice(7).trim();
      account = o.accounts.byApiKey(key) ?? (await o.accounts.byStoredApiKey(key));
    } else if (auth.startsWith('Basic ')) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const candidate = colon > 0 ? o.accounts.byApiKey(decoded.slice(colon + 1)) : undefined;
      if (candidate && candidate.id === decoded.slice(0, colon)) account = candidate;
    }
    if (!account) return sendError(reply, 401, 'unauthorized', 'missing or invalid API key');
    req.account = account;
  };

  const authenticateAdmin = async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = req.headers.authorization ?? '';
    const key = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    const hash = createHash('sha256').update(key).digest('hex');
    if (!key || !o.adminKeyHashes.some((h) => secretEquals(h, hash)))
      return sendError(reply, 401, 'unauthorized', 'missing or invalid admin key');
  };

  app.get('/health', async (_req, reply) => {
    try {
      await o.gateway.store.ping();
      return { status: 'ok' };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', error: (err as Error).message });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', o.metrics.contentType);
    return o.metrics.render();
  });
  app.get('/openapi.json', async () => openApiDocument);

  app.register(async (v1) => {
    v1.addHook('onRequest', authenticate);

    v1.post('/v1/messages', async (req, reply) => {
      const account = req.account;
      const body = objectBody(req.body);
      const idempotencyKey = header(req, 'idempotency-key');
      if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
        throw new GatewayError(
          'invalid_idempotency_key',
          'Idempotency-Key must be 1..255 characters',
          'Idempotency-Key',
        );
      }
      // Only a request with a key is hashed and looked up: the rest skip that work.
      const slot = idempotencyKey === undefined ? undefined : `${account.id}\u0000${idempotencyKey}`;
      const requestHash =
        slot === undefined ? '' : createHash('sha256').update(JSON.stringify(body)).digest('hex');
      if (slot !== undefined && idempotencyKey !== undefined) {
        while (pendingKeys.has(slot)) await pendingKeys.get(slot)!.catch(() => {});
        const previous = await o.gateway.store.getIdempotency(account.id, idempotencyKey, Date.now());
        if (previous) {
          if (previous.requestHash !== requestHash) {
            throw new GatewayError(
              'idempotency_conflict',
              'this Idempotency-Key was used with a different request',
              'Idempotency-Key',
              409,
            );
          }
          reply.header('idempotent-replayed', 'true');
          return reply.code(previous.statusCode).send(previous.response);
        }
      }
      rateLimit(account, reply);
      const request = submitRequestOf(body);
      const submit = o.gateway.submit(account.id, request, {
        defaultFrom: account.defaultFrom ?? undefined,
        idempotency:
          idempotencyKey === undefined
            ? undefined
            : {
                accountId: account.id,
                key: idempotencyKey,
                requestHash,
                expiresAt: Date.now() + 24 * 3600_000,
                render: acceptedView,
              },
      });
      if (slot !== undefined) {
        pendingKeys.set(slot, submit);
        submit.finally(() => pendingKeys.delete(slot)).catch(() => {});
      }
      const message = await submit;
      return reply.code(202).send(acceptedView(message));
    });

    const segments = async (text: unknown, encoding: unknown) => {
      if (typeof text !== 'string' || text.length === 0)
        throw new GatewayError('missing_field', 'text is required', 'text');
      if (
        encoding !== undefined &&
        !['auto', 'gsm7', 'ucs2', 'latin1', 'binary'].includes(encoding as string)
      ) {
        throw new GatewayError(
          'invalid_encoding',
          'encoding must be auto, gsm7, ucs2, latin1 or binary',
          'encoding',
        );
      }
      return calculateSegments(text, { encoding: (encoding as 'auto') ?? 'auto' });
    };
    v1.get('/v1/messages/segments', async (req) => {
      const q = req.query as Record<string, unknown>;
      return segments(q.text, q.encoding);
    });
    v1.post('/v1/messages/segments', async (req) => {
      const body = objectBody(req.body);
      return segments(body.text, body.encoding);
    });

    v1.get('/v1/messages/:id', async (req) => {
      const { id } = req.params as { id: string };
      const message = await o.gateway.store.getMessage(id);
      if (!message || message.accountId !== req.account.id)
        throw new GatewayError('not_found', `no message ${id}`, 'id', 404);
      return messageView(o.gateway.live(message), await o.gateway.store.listEvents(id));
    });

    v1.get('/v1/messages', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      const limit = pageLimit(q);
      if (q.status !== undefined && !(messageStatuses as readonly string[]).includes(q.status)) {
        throw new GatewayError(
          'invalid_status',
          `status must be one of ${messageStatuses.join(', ')}`,
          'status',
        );
      }
      const direction = q.direction === undefined ? undefined : directionOf(q.direction);
      const page = await o.gateway.store
        .listMessages(
          {
            accountId: req.account.id,
            status: q.status as Message['status'] | undefined,
            to: q.to,
            direction,
          },
          q.cursor ?? null,
          limit,
        )
        .catch(cursorRefused);
      return { data: page.data.map((m) => messageView(o.gateway.live(m))), nextCursor: page.nextCursor };
    });

    v1.delete('/v1/messages/:id', async (req) => {
      const { id } = req.params as { id: string };
      const message = await o.gateway.cancel(req.account.id, id);
      if (!message) throw new GatewayError('not_found', `no message ${id}`, 'id', 404);
      return messageView(message);
    });
    await v1.register(suppressionRoutes(o.gateway.suppressions));
    for (const plugin of o.plugins?.account ?? []) await v1.register(plugin);
  });
  for (const plugin of o.plugins?.public ?? []) app.register(plugin);

  app.register(async (admin) => {
    admin.addHook('onRequest', authenticateAdmin);
    admin.get('/v1/admin/connectors', async () => ({
      data: [...o.gateway.connectors.values()].map((c) => c.state()),
    }));
    const connector = (req: FastifyRequest): Connector => {
      const { id } = req.params as { id: string };
      const c = o.gateway.connectors.get(id);
      if (!c) throw new GatewayError('not_found', `no connector ${id}`, 'id', 404);
      return c;
    };
    admin.get('/v1/admin/connectors/:id', async (req) => connector(req).state());
    admin.post('/v1/admin/connectors/:id/start', async (req) => {
      const c = connector(req);
      await c.start();
      return c.state();
    });
    admin.post('/v1/admin/connectors/:id/stop', async (req) => {
      const c = connector(req);
      await c.stop();
      return c.state();
    });
    admin.post('/v1/admin/connectors/:id/inbound', async (req, reply) => {
      const c = connector(req);
      const body = objectBody(req.body);
      for (const field of ['from', 'to', 'text'] as const) {
        if (typeof body[field] !== 'string' || (body[field] as string).length === 0)
          throw new GatewayError('missing_field', `${field} is required`, field);
      }
      const injected = await o.injectInbound?.(c.id, {
        from: body.from as string,
        to: body.to as string,
        text: body.text as string,
      });
      if (!injected)
        throw new GatewayError(
          'not_supported',
          `connector ${c.id} cannot inject inbound messages`,
          'id',
          409,
        );
      return reply.code(202).send({ status: 'injected' });
    });
    admin.get('/v1/admin/routes', async () => o.routes);
    admin.get('/v1/admin/accounts', async () => ({
      data: o.accounts.list().map((a) => ({
        id: a.id,
        smpp: a.smpp ? { systemId: a.smpp.systemId, maxBinds: a.smpp.maxBinds } : null,
        webhook: a.webhook?.url ?? null,
        mps: a.mps,
      })),
    }));
    admin.get('/v1/admin/receipts/unmatched', async () => ({
      data: await o.gateway.store.listUnmatchedReceipts(500),
    }));
    for (const plugin of o.plugins?.admin ?? []) await admin.register(plugin);
  });

  function rateLimit(account: Account, reply: FastifyReply): void {
    const waitMs = o.limits.take(account);
    if (waitMs > 0) {
      reply.header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))));
      throw new GatewayError('rate_limited', `account limit is ${account.mps} messages/s`, undefined, 429);
    }
  }

  return app;
}

function acceptedView(m: Message) {
  return {
    id: m.id,
    status: m.status,
    to: m.to,
    from: m.from,
    segments: m.segments,
    encoding: m.encoding,
    createdAt: new Date(m.createdAt).toISOString(),
  };
}

function sendError(reply: FastifyReply, status: number, code: string, message: string, field?: string) {
  return reply.code(status).send({ error: { code, message, ...(field ? { field } : {}) } });
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function objectBody(body: unknown, expected = 'expected a JSON object'): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new GatewayError('invalid_body', expected);
  return body as Record<string, unknown>;
}

function directionOf(value: string): 'mt' | 'mo' {
  if (value === 'outbound' || value === 'mt') return 'mt';
  if (value === 'inbound' || value === 'mo') return 'mo';
  throw new GatewayError('invalid_direction', 'direction must be outbound or inbound', 'direction');
}

const encodings = ['auto', 'gsm7', 'ucs2', 'latin1', 'binary'];

/** The JSON body of POST /v1/messages as a core request, refusing wrong types by field. */
function submitRequestOf(b: Record<string, unknown>): SubmitRequest {
  const str = (field: string, max = 2048): string | undefined => {
    const v = b[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new GatewayError('invalid_field', `${field} must be a string`, field);
    if (v.length > max)
      throw new GatewayError('invalid_field', `${field} is longer than ${max} characters`, field);
    return v;
  };
  const to = str('to', 32);
  if (to === undefined) throw new GatewayError('missing_field', 'to is required', 'to');
  const text = str('text', 10_000);
  const binaryHex = str('binaryHex', 20_000);
  if (text !== undefined && binaryHex !== undefined)
    throw new GatewayError('invalid_field', 'give text or binaryHex, not both', 'binaryHex');
  if (binaryHex !== undefined && !/^([0-9a-fA-F]{2})+$/.test(binaryHex))
    throw new GatewayError('invalid_field', 'binaryHex must be pairs of hex digits', 'binaryHex');
  const encoding = str('encoding', 16);
  if (encoding !== undefined && !encodings.includes(encoding))
    throw new GatewayError('invalid_encoding', `encoding must be one of ${encodings.join(', ')}`, 'encoding');
  const priority = str('priority', 16);
  if (priority !== undefined && !(priorities as readonly string[]).includes(priority)) {
    throw new GatewayError(
      'invalid_priority',
      `priority must be one of ${priorities.join(', ')}`,
      'priority',
    );
  }
  const callbackUrl = str('callbackUrl');
  if (callbackUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(callbackUrl))
    throw new GatewayError('invalid_field', 'callbackUrl must be an http(s) URL', 'callbackUrl');
  const sendAtText = str('sendAt', 64);
  const sendAt = sendAtText === undefined ? undefined : Date.parse(sendAtText);
  if (sendAtText !== undefined && !Number.isFinite(sendAt))
    throw new GatewayError('invalid_send_at', 'sendAt must be an ISO 8601 time', 'sendAt');
  const validity = b.validitySeconds;
  if (validity !== undefined && typeof validity !== 'number')
    throw new GatewayError('invalid_validity', 'validitySeconds must be a number', 'validitySeconds');
  if (b.flash !== undefined && typeof b.flash !== 'boolean')
    throw new GatewayError('invalid_field', 'flash must be true or false', 'flash');
  return {
    to,
    from: str('from', 32),
    text,
    binary: binaryHex === undefined ? undefined : Buffer.from(binaryHex, 'hex'),
    encoding: binaryHex !== undefined ? 'binary' : (encoding as SubmitRequest['encoding']),
    callbackUrl,
    validitySeconds: validity as number | undefined,
    sendAt,
    priority: priority as SubmitRequest['priority'],
    clientRef: str('clientRef', 256),
    flash: b.flash as boolean | undefined,
    origin: 'http',
  };
}
