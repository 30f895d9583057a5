// Prometheus metrics: messages by status and connector, queue depth, bind states, and the
// time from acceptance to the SMSC's submit response.
import client from 'prom-client';
import type { Connector } from '../connectors/index.ts';
import type { Gateway, Message } from '../core/index.ts';

export interface Metrics {
  readonly contentType: string;
  render(): Promise<string>;
}

export function gatewayMetrics(gateway: Gateway, connectors: ReadonlyMap<string, Connector>): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'smsgw_process_' });
  const transitions = new client.Counter({
    name: 'smsgw_messages_total',
    help: 'Messages entering each status, by connector',
    labelNames: ['status', 'connector', 'direction'],
    registers: [registry],
  });
  const submitLatency = new client.Histogram({
    name: 'smsgw_submit_latency_seconds',
    help: 'From acceptance to the SMSC accepting the message',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  new client.Gauge({
    name: 'smsgw_queue_depth',
    help: 'Messages held in memory waiting for a connector',
    registers: [registry],
    collect() {
      this.set(gateway.queued);
    },
  });
  new client.Gauge({
    name: 'smsgw_in_flight',
    help: 'Messages sent to a connector and not yet answered',
    registers: [registry],
    collect() {
      this.set(gateway.inFlight);
    },
  });
  new client.Gauge({
    name: 'smsgw_connector_binds',
    help: 'Binds of each connector by state',
    labelNames: ['connector', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of connectors.values()) {
        const counts = new Map<string, number>();
        for (const b of c.state().binds) counts.set(b.state, (counts.get(b.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ connector: c.id, state }, n);
      }
    },
  });
  const count = (m: Message) => {
    transitions.inc({
      status: m.status,
      connector: m.connectorId ?? '',
      direction: m.direction === 'mt' ? 'outbound' : 'inbound',
    });
    if (m.status === 'submitted' && m.submittedAt !== null)
      submitLatency.observe((m.submittedAt - m.createdAt) / 1000);
  };
  gateway.on('status', count);
  gateway.on('inbound', count);
  // A group cancel (a batch's) emits no status per message: its count is added at once.
  gateway.on('groupCanceled', (_groupId, n) =>
    transitions.inc({ status: 'canceled', connector: '', direction: 'outbound' }, n),
  );
  return { contentType: registry.contentType, render: () => registry.metrics() };
}
