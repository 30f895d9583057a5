// GET /ready: whether this gateway should be sent traffic (CONTRACT §8). 200 while the
// store answers and the gateway is not draining, else 503; connectors are listed either
// way (a connector that is down does not make the gateway unready: messages wait for it).
import type { Connector } from '../connectors/index.ts';
import type { HttpPlugin } from './http.ts';

export interface ReadinessOptions {
  connectors: ReadonlyMap<string, Connector>;
  draining: () => boolean;
  /** Null while the store is usable, else why not. */
  storeProblem: () => Promise<string | null>;
}

export interface ConnectorReadiness {
  id: string;
  state: string;
  /** Binds up now. */
  binds: number;
  lastError: string | null;
  since: string | null;
}

export function connectorReadiness(c: Connector): ConnectorReadiness {
  const s = c.state();
  return {
    id: s.id,
    state: s.status,
    binds: s.binds.filter((b) => b.state === 'bound').length,
    lastError: s.lastError ?? null,
    since: s.since ?? null,
  };
}

export function readyRoutes(o: ReadinessOptions): HttpPlugin {
  return async (app) => {
    app.get('/ready', async (_req, reply) => {
      const connectors = [...o.connectors.values()].map(connectorReadiness);
      if (o.draining()) return reply.code(503).send({ status: 'draining', connectors });
      const problem = await o.storeProblem();
      if (problem !== null)
        return reply.code(503).send({ status: 'store_unavailable', error: problem, connectors });
      return { status: 'ready', connectors };
    });
  };
}
