// HTTP for two-way messaging: conversations for accounts (list, messages, reply), and for
// admins the MO rules in force (read, replace, reset to the config's), the inbound
// messages no rule took, and the system owner's (rules without an account, their replies).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cursorRefused, directionOf, pageLimit } from '../api/index.ts';
import type { MoRouteConfig } from '../config/index.ts';
import { ConfigError, validateMoRoutes } from '../config/index.ts';
import type { Gateway } from '../core/index.ts';
import { GatewayError, messageView, systemAccountId } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import type { Conversation } from './conversations.ts';
import type { TwoWay } from './service.ts';

const routesRecord = { kind: 'setting', id: 'routes.mo' } as const;

export function conversationRoutes(twoWay: TwoWay, gateway: Gateway) {
  return async (app: FastifyInstance) => {
    const find = async (accountId: string, id: string): Promise<Conversation> => {
      const c = await twoWay.conversations.get(accountId, id);
      if (!c) throw new GatewayError('not_found', `no conversation ${id}`, 'id', 404);
      return c;
    };

    app.get('/v1/conversations', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      const page = await twoWay.conversations
        .list(req.account.id, q.cursor ?? null, pageLimit(q))
        .catch(cursorRefused);
      return { data: page.data.map(conversationView), nextCursor: page.nextCursor };
    });

    app.get('/v1/conversations/:id', async (req) => {
      const { id } = req.params as { id: string };
      return conversationView(await find(req.account.id, id));
    });

    app.get('/v1/conversations/:id/messages', async (req) => {
      const { id } = req.params as { id: string };
      const q = req.query as Record<string, string | undefined>;
      const c = await find(req.account.id, id);
      const page = await gateway.store
        .listMessages(
          { accountId: req.account.id, between: [c.ourNumber, c.theirNumber] },
          q.cursor ?? null,
          pageLimit(q),
        )
        .catch(cursorRefused);
      return { data: page.data.map((m) => messageView(gateway.live(m))), nextCursor: page.nextCursor };
    });

    app.post('/v1/conversations/:id/messages', async (req, reply) => {
      const { id } = req.params as { id: string };
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body.text !== 'string' || body.text.length === 0)
        throw new GatewayError('missing_field', 'text is required', 'text');
      if (body.text.length > 10_000)
        throw new GatewayError('invalid_field', 'text is longer than 10000 characters', 'text');
      const c = await find(req.account.id, id);
      const message = await twoWay.reply(
        { accountId: req.account.id, from: c.theirNumber, to: c.ourNumber, connectorId: c.connectorId },
        body.text,
      );
      await twoWay.conversations.touch(req.account.id, c.ourNumber, c.theirNumber, message.createdAt, null);
      return reply.code(202).send(messageView(message));
    });
  };
}

export function moAdminRoutes(o: {
  gateway: Gateway;
  store: Store;
  /** The config file's rules (as last read: a reload changes them). */
  configured: () => readonly MoRouteConfig[];
  accountIds: () => ReadonlySet<string>;
  /** Told when the rules in force are replaced: by an admin's set, or reset to the config. */
  onReplaced?: (source: 'admin' | 'config', rules: number) => void;
  /** Writes the change to the audit log (src/manage): who asked, the rules before and after. */
  audit?: (
    req: FastifyRequest,
    action: 'update' | 'reset',
    before: readonly MoRouteConfig[],
    after: readonly MoRouteConfig[],
  ) => Promise<void>;
}) {
  return async (app: FastifyInstance) => {
    app.get('/v1/admin/routes/mo', async () => {
      const saved = await o.store.getRecord<{ routes: MoRouteConfig[] }>(routesRecord.kind, routesRecord.id);
      return saved
        ? { source: 'admin', updatedAt: new Date(saved.updatedAt).toISOString(), routes: saved.data.routes }
        : { source: 'config', updatedAt: null, routes: o.configured() };
    });

    app.put('/v1/admin/routes/mo', async (req) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      let routes: MoRouteConfig[];
      try {
        routes = validateMoRoutes(body.routes, o.accountIds());
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        throw new GatewayError('invalid_routes', err.problems.join('; '), 'routes');
      }
      const now = Date.now();
      const before = o.gateway.moRoutes;
      // Kept in the store, so a restart keeps what an admin set (until reset).
      await o.store.putRecord({
        ...routesRecord,
        accountId: '',
        ref: null,
        status: null,
        dueAt: null,
        createdAt: now,
        updatedAt: now,
        data: { routes },
      });
      o.gateway.setMoRoutes(routes);
      o.onReplaced?.('admin', routes.length);
      await o.audit?.(req, 'update', before, routes);
      await o.store.announce({ kind: 'moRoutes' });
      return { source: 'admin', updatedAt: new Date(now).toISOString(), routes };
    });

    app.delete('/v1/admin/routes/mo', async (req) => {
      const before = o.gateway.moRoutes;
      const configured = o.configured();
      await o.store.deleteRecord(routesRecord.kind, routesRecord.id);
      o.gateway.setMoRoutes(configured);
      o.onReplaced?.('config', configured.length);
      await o.audit?.(req, 'reset', before, configured);
      await o.store.announce({ kind: 'moRoutes' });
      return { source: 'config', updatedAt: null, routes: configured };
    });

    app.get('/v1/admin/inbound/unrouted', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      const page = await o.store
        .listMessages({ accountId: '', direction: 'mo' }, q.cursor ?? null, pageLimit(q))
        .catch(cursorRefused);
      return { data: page.data.map((m) => messageView(m)), nextCursor: page.nextCursor };
    });

    // What rules without an account took and the replies sent for them (the system owner).
    app.get('/v1/admin/system/messages', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      const limit = pageLimit(q);
      const direction = q.direction === undefined ? undefined : directionOf(q.direction);
      const page = await o.store
        .listMessages({ accountId: systemAccountId, direction }, q.cursor ?? null, limit)
        .catch(cursorRefused);
      return { data: page.data.map((m) => messageView(o.gateway.live(m))), nextCursor: page.nextCursor };
    });

    // Any message with its events, whoever owns it (an inbound's `replied` / `rule_failed`).
    app.get('/v1/admin/messages/:id', async (req) => {
      const { id } = req.params as { id: string };
      const message = await o.store.getMessage(id);
      if (!message) throw new GatewayError('not_found', `no message ${id}`, 'id', 404);
      const live = o.gateway.live(message);
      return {
        ...messageView(live, await o.store.listEvents(id)),
        account: message.accountId,
        // What its connector charges for it (connectors[].costs); the operator's, not the account's.
        cost: typeof live.meta?.cost === 'number' ? live.meta.cost : null,
      };
    });
  };
}

/** The MO rules another gateway on the store set or reset are read again and put in force here. */
export function followMoRoutes(store: Store, gateway: Gateway, configured: () => readonly MoRouteConfig[]) {
  return store.onNotice((notice) => {
    if (notice.kind !== 'moRoutes') return;
    moRoutesInForce(store, configured())
      .then((routes) => gateway.setMoRoutes(routes))
      .catch(() => {}); // the store is out of reach: the next change is heard again
  });
}

/** Whether an admin set the MO rules in force (they then win over the config file's). */
export async function moRoutesSetByAdmin(store: Store): Promise<boolean> {
  return (await store.getRecord(routesRecord.kind, routesRecord.id)) !== null;
}

/** The MO rules to start with: an admin's saved ones, else the config's. */
export async function moRoutesInForce(store: Store, configured: readonly MoRouteConfig[]) {
  const saved = await store.getRecord<{ routes: MoRouteConfig[] }>(routesRecord.kind, routesRecord.id);
  return saved?.data.routes ?? configured;
}

function conversationView(c: Conversation) {
  return {
    id: c.id,
    ourNumber: c.ourNumber,
    theirNumber: c.theirNumber,
    connector: c.connectorId,
    createdAt: new Date(c.createdAt).toISOString(),
    lastMessageAt: new Date(c.lastMessageAt).toISOString(),
  };
}
