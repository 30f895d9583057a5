// The admin API of live management (see management.ts): accounts, their API keys and SMPP
// credentials, connectors, the MT routes, reloading the config file, and the audit log.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cursorRefused, objectBody, pageLimit } from '../api/index.ts';
import { apiKeyId, GatewayError, hashApiKey } from '../core/index.ts';
import type { AuditObject, Management } from './management.ts';

const auditObjects: readonly AuditObject[] = ['account', 'apiKey', 'connector', 'routes', 'config'];

/** Who made a change: the admin key, by its id (as API keys are listed), never the key. */
export function adminActor(req: FastifyRequest): string {
  const bearer = /^bearer[ \t]+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
  return bearer ? `admin:${apiKeyId(hashApiKey(bearer))}` : 'admin';
}

export function managementRoutes(management: Management) {
  return async (app: FastifyInstance) => {
    const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

    app.post('/v1/admin/accounts', async (req, reply) =>
      reply.code(201).send(await management.createAccount(objectBody(req.body), adminActor(req))),
    );

    app.get('/v1/admin/accounts/:id', async (req) => {
      const view = management.accountView(idOf(req));
      if (!view) throw new GatewayError('not_found', `no account ${idOf(req)}`, 'id', 404);
      return view;
    });

    app.patch('/v1/admin/accounts/:id', async (req) =>
      management.updateAccount(idOf(req), objectBody(req.body), adminActor(req)),
    );

    app.delete('/v1/admin/accounts/:id', async (req, reply) => {
      await management.deleteAccount(idOf(req), adminActor(req));
      return reply.code(204).send();
    });

    app.get('/v1/admin/accounts/:id/keys', async (req) => ({ data: await management.listKeys(idOf(req)) }));

    app.post('/v1/admin/accounts/:id/keys', async (req, reply) =>
      reply.code(201).send(await management.issueKey(idOf(req), adminActor(req))),
    );

    app.delete('/v1/admin/accounts/:id/keys/:keyId', async (req, reply) => {
      const { keyId } = req.params as { keyId: string };
      await management.revokeKey(idOf(req), keyId, adminActor(req));
      return reply.code(204).send();
    });

    // SMPP credentials on their own: a change of the account's `smpp` and nothing else.
    app.post('/v1/admin/accounts/:id/smpp', async (req) =>
      management.updateAccount(idOf(req), { smpp: objectBody(req.body) }, adminActor(req)),
    );

    app.delete('/v1/admin/accounts/:id/smpp', async (req) =>
      management.updateAccount(idOf(req), { smpp: null }, adminActor(req)),
    );

    // GET /v1/admin/connectors and /v1/admin/connectors/:id answer live state (src/api).
    app.post('/v1/admin/connectors', async (req, reply) =>
      reply.code(201).send(await management.createConnector(objectBody(req.body), adminActor(req))),
    );

    app.get('/v1/admin/connectors/:id/settings', async (req) => {
      const view = management.connectorView(idOf(req));
      if (!view) throw new GatewayError('not_found', `no connector ${idOf(req)}`, 'id', 404);
      return view;
    });

    app.patch('/v1/admin/connectors/:id', async (req) =>
      management.updateConnector(idOf(req), objectBody(req.body), adminActor(req)),
    );

    app.delete('/v1/admin/connectors/:id', async (req, reply) => {
      await management.deleteConnector(idOf(req), adminActor(req));
      return reply.code(204).send();
    });

    app.get('/v1/admin/routes/mt', async () => management.mtRoutes());

    app.put('/v1/admin/routes/mt', async (req) => {
      const body = objectBody(req.body);
      if (!Array.isArray(body.routes))
        throw new GatewayError('missing_field', 'routes is required', 'routes');
      return management.setMtRoutes(body.routes, adminActor(req));
    });

    app.delete('/v1/admin/routes/mt', async (req) => management.setMtRoutes(null, adminActor(req)));

    app.post('/v1/admin/reload', async (req) => management.reload(adminActor(req)));

    app.get('/v1/admin/audit', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      if (q.object !== undefined && !auditObjects.includes(q.object as AuditObject))
        throw new GatewayError('invalid_field', `object must be one of ${auditObjects.join(', ')}`, 'object');
      return management.listAudit(q.object, q.cursor ?? null, pageLimit(q)).catch(cursorRefused);
    });
  };
}
