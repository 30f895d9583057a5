// The HTTP front door: REST API (CONTRACT §3), health, metrics, OpenAPI, admin (§7).
// Every refusal is `{"error": {code, message, field?}}` with a 4xx; nothing is half-stored.
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import type { Connector } from '../connectors/index.ts';
import type {
  Account,
  AccountLimits,
  AccountRegistry,
  CountryCode,
  Gateway,
  Message,
  SubmitRequest,
} from '../core/index.ts';
import {
  AuthGuard,
  destinationOf,
  GatewayError,
  hashApiKey,
  isCountryCode,
  messagePrice,
  messageView,
  normaliseSender,
  priorities,
  qualityWindow,
  RateLimitedError,
  StoreUnavailableError,
  secretEquals,
} from '../core/index.ts';
import { calculateSegments } from '../sms/index.ts';
import { isStoreUnreachable, StoreConflictError } from '../store/index.ts';
import { OutboundPolicy } from '../webhooks/index.ts';
import { limitBodies } from './body-bytes.ts';
import { refuseUnknownFields } from './fields.ts';
import { type HttpConnectionLimits, httpLimitDefaults, limitConnections } from './http-limits.ts';
import { lookupRoutes } from './lookup.ts';
import { messageSearch, sendMessagesCsv, wantsCsv } from './message-search.ts';
import type { Metrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { cursorRefused, pageLimit } from './paging.ts';
import { suppressionRoutes } from './suppressions.ts';
import { isUpload, limitUploads } from './uploads.ts';

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
  /** Connections, pipelined requests and stalled writes (httpLimitDefaults otherwise). */
  connectionLimits?: HttpConnectionLimits;
  logger?: boolean | object;
  /** Serve HTTPS with this PEM certificate and key. */
  https?: { cert: Buffer; key: Buffer };
  /** Told of every route as it is registered (the OpenAPI coverage test lists them). */
  onRoute?: (route: RouteOptions) => void;
  /** What client-supplied callback URLs may reach (default: no internal address). */
  callbacks?: OutboundPolicy;
  /**
   * `keyHashes`: /metrics answers only a Bearer key among these (none: open to all);
   * `elsewhere`: /metrics is served on a listener of its own (metricsRoute), not here.
   */
  metricsAccess?: { keyHashes: string[]; elsewhere: boolean };
  /** Failed API keys, counted per address and account (shared with the other front doors). */
  authGuard?: AuthGuard;
  /** Where 5xx answers are logged, with the request id also sent as `x-request-id`, uploads that wait and bodies refused. */
  log?: {
    error(obj: object, msg?: string): void;
    warn(obj: object, msg?: string): void;
    info(obj: object, msg?: string): void;
  };
  /** Whether the account's API key may be used from this address (`policy.allowIps`, per key). */
  allowsAddress?: (accountId: string, address: string, key: string) => boolean;
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
  const options = {
    logger: o.logger ?? false,
    bodyLimit: o.bodyLimit ?? 1_048_576,
    genReqId: () => `${idPrefix}-${(++requests).toString(36)}`,
    // While draining, our own hook answers (with the REST error body and /ready's own).
    return503OnClosing: o.draining === undefined,
  };
  // Fastify types an HTTPS instance apart; the routes are the same either way.
  const app = o.https
    ? (Fastify({ ...options, https: o.https }) as unknown as FastifyInstance)
    : Fastify(options);
  if (o.onRoute) app.addHook('onRoute', o.onRoute);
  limitConnections(app, o.connectionLimits);
  limitUploads(app, {
    max: o.connectionLimits?.maxUploads ?? httpLimitDefaults.maxUploads,
    maxBytes: o.connectionLimits?.maxUploadBytes ?? httpLimitDefaults.maxUploadBytes,
    log: o.log,
  });
  limitBodies(app, o.connectionLimits?.maxBodyBytes ?? httpLimitDefaults.maxBodyBytes, isUpload, o.log);
  /** Idempotency keys whose first request is still being stored: a second one waits for it. */
  const pendingKeys = new Map<string, Promise<unknown>>();
  const callbacks = o.callbacks ?? new OutboundPolicy();
  const authGuard = o.authGuard ?? new AuthGuard();

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
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    // An error no route expects is most likely the store's (disk full, database gone): then
    // the client may try again; only with a store that writes is it the gateway's own.
    // The error itself may say so: a read that failed while the database was down, looked at
    // once it is back up, is still the outage's.
    // Either way the store's health is brought up to date before the answer, so that
    // /ready and the requests that follow agree with it.
    if (!(err instanceof GatewayError) && !err.statusCode) {
      const unreachable = isStoreUnreachable(err);
      const writes = unreachable && !o.gateway.storeHealth().ok ? false : await o.gateway.checkStore();
      if (unreachable || !writes) err = new StoreUnavailableError();
    }
    if (err instanceof StoreUnavailableError || err instanceof RateLimitedError)
      reply.header('retry-after', String(err.retryAfterSeconds));
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
  // A parsed body nested deeper than any request of ours needs is refused before a handler
  // walks it recursively (hashing an Idempotency-Key's body, storing it) and overflows the stack.
  app.addHook('preValidation', async (req) => {
    if (nestedDeeperThan(req.body, maxBodyDepth)) throw bodyNestedTooDeep();
  });
  // One check for every /v1 operation, before its handler reads the body.
  app.addHook('preHandler', async (req) =>
    refuseUnknownFields(req.method, req.routeOptions.url ?? '', req.body),
  );
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = req.headers.authorization ?? '';
    let account: Account | undefined;
    /** The account a Basic header names: its failures count against that account too. */
    let named: string | undefined;
    const bearer = bearerOf(req);
    if (bearer === undefined && !/^basic[ \t]/i.test(auth))
      return sendError(reply, 401, 'unauthorized', 'missing or invalid API key');
    let key = bearer ?? '';
    if (bearer === undefined) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      named = colon > 0 ? `account:${decoded.slice(0, colon)}` : undefined;
      key = colon > 0 ? decoded.slice(colon + 1) : '';
    }
    const locked = authGuard.lockedFor(req.ip, named);
    if (locked > 0) return lockedOut(reply, locked);
    // A key made with `smsgw keys create` while the gateway runs is in the store only.
    const candidate = key ? (o.accounts.byApiKey(key) ?? (await o.accounts.byStoredApiKey(key))) : undefined;
    if (candidate && (named === undefined || named === `account:${candidate.id}`)) account = candidate;
    if (!account) {
      // An admin key here is no guess (the console tries a key as an account's first).
      if (named !== undefined || !keyMatches(key, o.adminKeyHashes))
        await sleep(authGuard.failed(req.ip, named));
      return sendError(reply, 401, 'unauthorized', 'missing or invalid API key');
    }
    authGuard.succeeded(req.ip, `account:${account.id}`);
    if (o.allowsAddress && !o.allowsAddress(account.id, req.ip, key))
      return sendError(
        reply,
        403,
        'address_not_allowed',
        `account ${account.id} may not be used from ${req.ip}`,
      );
    req.account = account;
  };

  const authenticateAdmin = async (req: FastifyRequest, reply: FastifyReply) => {
    const key = bearerOf(req);
    if (key === undefined) return sendError(reply, 401, 'unauthorized', 'missing or invalid admin key');
    const locked = authGuard.lockedFor(req.ip, 'admin');
    if (locked > 0) return lockedOut(reply, locked);
    if (!keyMatches(key, o.adminKeyHashes)) {
      await sleep(authGuard.failed(req.ip, 'admin'));
      return sendError(reply, 401, 'unauthorized', 'missing or invalid admin key');
    }
    authGuard.succeeded(req.ip, 'admin');
  };

  app.get('/health', async (_req, reply) => {
    try {
      await o.gateway.store.ping();
      return { status: 'ok' };
    } catch (err) {
      // The reason (a database address, say) goes to the log, not to whoever asks.
      app.log.warn({ err }, 'health: the store does not answer');
      return reply.code(503).send({ status: 'unavailable' });
    }
  });
  if (!o.metricsAccess?.elsewhere)
    app.register(metricsRoute(o.metrics, o.metricsAccess?.keyHashes ?? [], authGuard));
  // Serialized once, at the first request: a client asking for it again and again costs no
  // new copy each time, and a gateway nobody asks holds none.
  let openApiJson: Buffer | undefined;
  app.get('/openapi.json', async (_req, reply) => {
    openApiJson ??= Buffer.from(JSON.stringify(openApiDocument));
    return reply.type('application/json; charset=utf-8').send(openApiJson);
  });

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
      /** The answer first given to this key, again; or a 409 when it came with another body. */
      const replay = async (key: string) => {
        const previous = await o.gateway.store.getIdempotency(account.id, key, Date.now());
        if (!previous) return undefined;
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
      };
      if (slot !== undefined && idempotencyKey !== undefined) {
        while (pendingKeys.has(slot)) await pendingKeys.get(slot)!.catch(() => {});
        const replayed = await replay(idempotencyKey);
        if (replayed) return replayed;
      }
      const request = submitRequestOf(body);
      if (request.callbackUrl !== undefined) await callbacks.check(request.callbackUrl, 'callbackUrl');
      rateLimit(account, reply);
      const submit = o.gateway.submit(account.id, request, {
        defaultFrom: account.defaultFrom ?? undefined,
        country: countryOf(body) ?? account.defaultCountry,
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
      let message: Message;
      try {
        message = await submit;
      } catch (err) {
        // Only accepted messages use the account's rate: a refused one gives its share back.
        o.limits.giveBack(account);
        // The same key at once on another gateway of the cluster: its request won the key.
        if (!(err instanceof StoreConflictError) || idempotencyKey === undefined) throw err;
        const replayed = await replay(idempotencyKey);
        if (replayed) return replayed;
        throw new GatewayError(
          'request_in_progress',
          'a request with this Idempotency-Key is still being processed; try again',
          'Idempotency-Key',
          409,
        );
      }
      return reply.code(202).send(acceptedView(message));
    });

    const segments = async (text: unknown, encoding: unknown) => {
      if (typeof text !== 'string' || text.length === 0)
        throw new GatewayError('missing_field', 'text is required', 'text');
      if (text.length > maxTextChars)
        throw new GatewayError('invalid_field', `text is longer than ${maxTextChars} characters`, 'text');
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

    v1.get('/v1/messages', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const filter = { accountId: req.account.id, ...messageSearch(q, req.account.defaultCountry) };
      if (wantsCsv(req)) return sendMessagesCsv(reply, o.gateway, filter);
      const page = await o.gateway.store
        .listMessages(filter, q.cursor ?? null, pageLimit(q))
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
    await v1.register(lookupRoutes(o.gateway.networkLookup));
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
      await o.gateway.controlConnector(c, 'start');
      return c.state();
    });
    admin.post('/v1/admin/connectors/:id/stop', async (req) => {
      const c = connector(req);
      await o.gateway.controlConnector(c, 'stop');
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
    admin.get('/v1/admin/nodes', async () => ({
      data: (await o.gateway.store.nodes()).map((n) => ({
        id: n.id,
        self: n.id === o.gateway.store.instanceId,
        host: n.host,
        pid: n.pid,
        startedAt: new Date(n.startedAt).toISOString(),
        leaseUntil: n.leaseUntil === null ? null : new Date(n.leaseUntil).toISOString(),
        alive: n.alive,
        backlog: n.backlog,
        ...n.info,
      })),
    }));
    admin.get('/v1/admin/routes', async () => o.routes);
    admin.get('/v1/admin/routes/quality', async () => ({
      window: qualityWindow,
      data: o.gateway.routeQuality.list(),
    }));
    admin.get('/v1/admin/routes/mt/explain', async (req) => {
      const q = req.query as Record<string, string | string[] | undefined>;
      const one = (field: string): string | undefined => {
        const v = q[field];
        if (Array.isArray(v)) throw new GatewayError('invalid_field', `give ${field} once`, field);
        return v;
      };
      // `?to=+4477…` unescaped reaches us as ` 4477…`: the space can only have been a `+`.
      const number = (field: string) => one(field)?.replace(/^ (?=\d)/, '+');
      const written = number('to');
      if (!written) throw new GatewayError('missing_field', 'to is required', 'to');
      const accountId = one('account') ?? '';
      const account = o.accounts.get(accountId);
      // Read as a message of that account would be: in its defaultCountry.
      const to = destinationOf(written, account?.defaultCountry);
      const from = number('from') ?? account?.defaultFrom ?? '';
      const atText = one('at');
      const at = atText === undefined ? undefined : Date.parse(atText);
      if (at !== undefined && !Number.isFinite(at))
        throw new GatewayError('invalid_field', 'at must be an ISO 8601 time', 'at');
      const tags = one('tags')
        ?.split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0);
      return o.gateway.explainRoute({
        to,
        from: normaliseSender(from, account?.defaultCountry) ?? from,
        accountId,
        text: one('text') ?? null,
        meta: tags ? { tags } : null,
        at,
      });
    });
    // Every account's messages, or one's (`account`), searched as GET /v1/messages searches.
    admin.get('/v1/admin/messages', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const account = q.account === undefined ? undefined : o.accounts.get(q.account);
      if (q.account !== undefined && !account)
        throw new GatewayError('not_found', `no account ${q.account}`, 'account', 404);
      const filter = { accountId: account?.id, ...messageSearch(q, account?.defaultCountry) };
      // Every account's messages in order would be a walk of the whole store on each request.
      if (!account && !filter.anyOf)
        throw new GatewayError(
          'missing_field',
          'give q (a number, a message id or a client reference) or an account',
          'q',
        );
      if (wantsCsv(req)) return sendMessagesCsv(reply, o.gateway, filter);
      const page = await o.gateway.store
        .listMessages(filter, q.cursor ?? null, pageLimit(q))
        .catch(cursorRefused);
      return {
        data: page.data.map((m) => ({ ...messageView(o.gateway.live(m)), account: m.accountId })),
        nextCursor: page.nextCursor,
      };
    });
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
    // Fixed now, at accept (billing).
    price: messagePrice(m),
    currency: m.currency ?? null,
  };
}

/**
 * GET /metrics (Prometheus text), behind one of `keyHashes` when there are any; wrong keys
 * count with the other failed logins (an admin key opens it too).
 */
export function metricsRoute(
  metrics: Metrics,
  keyHashes: readonly string[],
  authGuard: AuthGuard,
): HttpPlugin {
  return async (app) => {
    app.get('/metrics', async (req, reply) => {
      if (keyHashes.length > 0) {
        const key = bearerOf(req);
        if (key === undefined) return sendError(reply, 401, 'unauthorized', 'missing or invalid metrics key');
        const locked = authGuard.lockedFor(req.ip, 'metrics');
        if (locked > 0) return lockedOut(reply, locked);
        if (!keyMatches(key, keyHashes)) {
          await sleep(authGuard.failed(req.ip, 'metrics'));
          return sendError(reply, 401, 'unauthorized', 'missing or invalid metrics key');
        }
      }
      reply.header('content-type', metrics.contentType);
      return metrics.render();
    });
  };
}

/** The token of an `Authorization: Bearer` header (the scheme in any case, RFC 9110 §11.1). */
function bearerOf(req: FastifyRequest): string | undefined {
  const match = /^bearer[ \t]+(.*)$/is.exec(req.headers.authorization ?? '');
  const token = match?.[1]?.trim();
  return token ? token : undefined;
}

/** Whether a key hashes to one of `hashes` (compared in constant time). */
function keyMatches(key: string | undefined, hashes: readonly string[]): boolean {
  if (!key) return false;
  const hash = hashApiKey(key);
  return hashes.some((h) => secretEquals(h, hash));
}

/** The deepest nesting of arrays and objects a request body may have. */
export const maxBodyDepth = 32;

/** The refusal of a body nested deeper than `maxBodyDepth`, parsed whole or read apart. */
export function bodyNestedTooDeep(): GatewayError {
  return new GatewayError('invalid_body', `the JSON body is nested deeper than ${maxBodyDepth} levels`);
}

/** Whether parsed JSON (plain objects and arrays) nests deeper than `limit`; walked without recursion. */
function nestedDeeperThan(body: unknown, limit: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value: body, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth } = next;
    if (!isJsonContainer(value)) continue;
    if (depth > limit) return true;
    for (const child of Object.values(value))
      if (isJsonContainer(child)) pending.push({ value: child, depth: depth + 1 });
  }
  return false;
}

/** An array or plain object (what JSON.parse makes), not a stream or a buffer. */
function isJsonContainer(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The answer to an attempt from a locked-out address or at a locked-out account. */
function lockedOut(reply: FastifyReply, waitMs: number) {
  reply.header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))));
  return sendError(reply, 429, 'too_many_failed_attempts', 'too many failed attempts; try again later');
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

const encodings = ['auto', 'gsm7', 'ucs2', 'latin1', 'binary'];

/** The longest text a message (or a segment count) takes, in UTF-16 units. */
const maxTextChars = 10_000;

/** The request's own `country` for a `to` written without `+` (it overrides the account's). */
function countryOf(b: Record<string, unknown>): CountryCode | undefined {
  const country = b.country;
  if (country === undefined || country === null) return undefined;
  if (typeof country !== 'string' || !isCountryCode(country))
    throw new GatewayError(
      'invalid_country',
      'country must be an ISO 3166 alpha-2 code such as GB',
      'country',
    );
  return country;
}

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
  const text = str('text', maxTextChars);
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
  const from = str('from', 32);
  const service = str('service', 64);
  if (from !== undefined && service !== undefined)
    throw new GatewayError('invalid_field', 'give from or service, not both', 'service');
  return {
    to,
    from,
    service,
    text,
    binary: binaryHex === undefined ? undefined : Buffer.from(binaryHex, 'hex'),
    encoding: binaryHex !== undefined ? 'binary' : (encoding as SubmitRequest['encoding']),
    callbackUrl,
    validitySeconds: validity as number | undefined,
    sendAt,
    priority: priority as SubmitRequest['priority'],
    clientRef: str('clientRef', 256),
    flash: b.flash as boolean | undefined,
    // Checked by the gateway, as from every front door.
    tags: b.tags === null ? undefined : (b.tags as string[] | undefined),
    origin: 'http',
  };
}
