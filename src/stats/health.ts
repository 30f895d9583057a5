// Health at a glance (the console's health page): each connector's recent bind history,
// the ESMEs bound here (with a way to cut one off), and the webhook backlog per account.
import type { HttpPlugin, SmppFront } from '../api/index.ts';
import type { Connector, ConnectorState } from '../connectors/index.ts';
import { GatewayError } from '../core/index.ts';
import type { Store } from '../store/index.ts';

/** One change of a connector's state: its status, binds up of all, and why the last went down. */
export interface BindEvent {
  at: string;
  status: ConnectorState['status'];
  bound: number;
  binds: number;
  reason: string | null;
}

/** Changes kept per connector (the newest). */
const historyLength = 50;

/** Follows each connector's state events and keeps its last changes, newest last. */
export class ConnectorHistory {
  readonly #events = new Map<string, BindEvent[]>();

  constructor(connectors: ReadonlyMap<string, Connector>, now: () => number = Date.now) {
    for (const c of connectors.values()) {
      const events: BindEvent[] = [];
      this.#events.set(c.id, events);
      c.on('state', (state) => {
        const event = {
          at: new Date(now()).toISOString(),
          status: state.status,
          bound: state.binds.filter((b) => b.state === 'bound').length,
          binds: state.binds.length,
          reason: state.lastError ?? null,
        };
        // A state event that changes none of these (a bind's in-flight count) is no news.
        const last = events.at(-1);
        if (
          last &&
          last.status === event.status &&
          last.bound === event.bound &&
          last.binds === event.binds &&
          last.reason === event.reason
        )
          return;
        events.push(event);
        if (events.length > historyLength) events.shift();
      });
    }
  }

  /** The connector's changes, oldest first; undefined for an unknown connector. */
  of(connectorId: string): BindEvent[] | undefined {
    return this.#events.get(connectorId)?.slice();
  }
}

export interface HealthRoutesOptions {
  history: ConnectorHistory;
  /** The SMPP front door, when the gateway has one. */
  smpp: () => SmppFront | null;
  store: Store;
}

export function healthRoutes(o: HealthRoutesOptions): HttpPlugin {
  return async (app) => {
    app.get('/v1/admin/connectors/:id/history', async (req) => {
      const { id } = req.params as { id: string };
      const data = o.history.of(id);
      if (!data) throw new GatewayError('not_found', `no connector ${id}`, undefined, 404);
      return { data };
    });
    app.get('/v1/admin/smpp/sessions', async () => ({ data: o.smpp()?.sessions() ?? [] }));
    app.delete('/v1/admin/smpp/sessions/:id', async (req, reply) => {
      const { id } = req.params as { id: string };
      if (!o.smpp()?.disconnect(id))
        throw new GatewayError('not_found', `no SMPP session ${id} on this gateway`, undefined, 404);
      return reply.code(204).send();
    });
    app.get('/v1/admin/webhooks/backlog', async () => ({ data: await o.store.webhookBacklog() }));
  };
}
