// POST|GET /v1/connectors/{id}/receipts and /v1/connectors/{id}/inbound: where HTTP
// providers push delivery receipts and inbound messages (CONTRACT §8). Public routes: each
// push is authenticated by its connector (provider signature or the secret in the URL).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Connector } from '../types.ts';
import { HttpConnector } from './connector.ts';
import { formFields, type Push, parseJson } from './provider.ts';

const maxPushBytes = 64 * 1024;

export function httpPushRoutes(
  connectors: ReadonlyMap<string, Connector>,
  publicUrl: () => string,
): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    // Bodies as text in this scope: JSON, forms and whatever else a provider sends.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    /** The push's connector, or a 404 sent for it. */
    const connectorOf = (req: FastifyRequest, reply: FastifyReply): HttpConnector | null => {
      const { id } = req.params as { id: string };
      const connector = connectors.get(id);
      if (connector instanceof HttpConnector) return connector;
      reply
        .code(404)
        .send({ error: { code: 'not_found', message: `no http connector '${id}'`, field: 'id' } });
      return null;
    };
    for (const kind of ['receipts', 'inbound'] as const) {
      app.route({
        method: ['GET', 'POST'],
        url: `/v1/connectors/:id/${kind}`,
        // A HEAD is no push: it must not apply one.
        exposeHeadRoute: false,
        // Anyone may call these: a body is read only for a connector that exists, and a
        // provider's push (a receipt, a message) is small.
        bodyLimit: maxPushBytes,
        onRequest: async (req, reply) => {
          if (!connectorOf(req, reply)) return reply;
        },
        handler: async (req: FastifyRequest, reply: FastifyReply) => {
          const connector = connectorOf(req, reply);
          if (!connector) return reply;
          const answer = await connector.push(kind, pushOf(req, publicUrl()));
          return reply.code(answer.status).type(answer.contentType).send(answer.body);
        },
      });
    }
  };
}

function pushOf(req: FastifyRequest, publicUrl: string): Push {
  const q = req.url.indexOf('?');
  const query = new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1));
  const rawBody = typeof req.body === 'string' ? req.body : '';
  const json = rawBody.trimStart().startsWith('{') ? parseJson(rawBody) : undefined;
  const bodyFields =
    json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : formFields(rawBody);
  return {
    method: req.method,
    // As the provider called it: the signature (Twilio's) covers the URL it was handed.
    url: `${publicUrl.replace(/\/+$/, '')}${req.url}`,
    query,
    headers: req.headers,
    rawBody,
    fields: { ...Object.fromEntries(query), ...bodyFields },
  };
}
