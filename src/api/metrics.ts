// Prometheus metrics: messages by status and connector (and by account, with error codes),
// queue depth, bind states, ESME binds, webhooks, the time from acceptance to the SMSC's
// submit response and from there to the receipt, and prom-client's process and Node.js
// metrics under their standard names. Per message: a few numbers added to in a Map, nothing
// more (prom-client reads them when scraped).
import client from 'prom-client';
import type { Connector } from '../connectors/index.ts';
import type { Gateway, InterceptorOutcome, Message, QualityFigures } from '../core/index.ts';
import { qualityWindow } from '../core/index.ts';
import type { BodyFigures } from './body-bytes.ts';
import type { UploadFigures } from './uploads.ts';

export interface Metrics {
  readonly contentType: string;
  render(): Promise<string>;
  /** One webhook request's outcome (a retry or abandonment is a failure). */
  webhookAttempt?(outcome: 'delivered' | 'retry' | 'abandoned'): void;
  /** One interceptor call's outcome, by its rule (`routes.mt[0]`). */
  interceptorCall?(rule: string, outcome: InterceptorOutcome): void;
}

/** What the metrics read from the parts built around the gateway. */
export interface MetricSources {
  /** Webhook deliveries in hand: read ahead, being sent, or their outcome being written. */
  webhookBacklog?: () => number;
  /** Each webhook receiver's circuit breaker. */
  webhookCircuits?: () => Array<{ host: string; state: 'closed' | 'open' | 'half-open' }>;
  /** ESME binds by account. */
  esmeBinds?: () => ReadonlyMap<string, number>;
  /** Uploads (batches, imports, alerts) running, the body bytes they have read, those waiting. */
  uploads?: () => UploadFigures;
  /** Request bodies other than uploads over 16 KiB, as reserved (http.maxBodyMegabytes). */
  bodies?: () => BodyFigures;
}

/** Statuses a delivery receipt sets: their time since the submit is the receipt latency. */
const receiptStatuses = new Set<Message['status']>(['delivered', 'undelivered', 'expired']);
/** Final statuses that count as an error, by the message's error code. */
const errorStatuses = new Set<Message['status']>(['undelivered', 'expired', 'rejected', 'failed']);

export function gatewayMetrics(
  gateway: Gateway,
  connectors: ReadonlyMap<string, Connector>,
  sources: MetricSources = {},
): Metrics {
  const registry = new client.Registry();
  // Which gateway of a cluster each series comes from (its id among the store's nodes).
  registry.setDefaultLabels({ node: gateway.store.instanceId });
  // The event loop's lag sampled every 100 ms, not prom-client's 10: its timer alone woke the
  // idle process 100 times a second (about half its CPU at idle).
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const transitions = talliedCounter(registry, {
    name: 'smsgw_messages_total',
    help: 'Messages entering each status, by connector',
    labelNames: ['status', 'connector', 'direction'],
  });
  const submitLatency = new client.Histogram({
    name: 'smsgw_submit_latency_seconds',
    help: 'From acceptance to the SMSC accepting the message',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  // Routing quality (src/core/route-quality.ts): the last receipts per connector and country.
  const qualityGauge = (name: string, help: string, value: (q: QualityFigures) => number | null) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['connector', 'country'],
      registers: [registry],
      collect() {
        this.reset();
        for (const q of gateway.routeQuality.list()) {
          const v = value(q);
          if (v !== null) this.set({ connector: q.connector, country: q.country }, v);
        }
      },
    });
  qualityGauge(
    'smsgw_route_delivery_ratio',
    `Share of the last ${qualityWindow} receipts that said delivered, by connector and destination country`,
    (q) => q.deliveryRatio,
  );
  qualityGauge(
    'smsgw_route_receipt_latency_seconds',
    `Mean time from submit to a delivered receipt over the last ${qualityWindow} receipts, by connector and destination country`,
    (q) => (q.receiptLatencyMs === null ? null : q.receiptLatencyMs / 1000),
  );
  qualityGauge('smsgw_route_receipts', 'Receipts the two figures above are taken over', (q) => q.receipts);
  const networkLookup = gateway.networkLookup;
  if (networkLookup)
    new client.Counter({
      name: 'smsgw_number_lookups_total',
      help: 'Online number lookups by outcome: hit (from the cache), miss (asked and answered), failure (asked, no answer used)',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        // The lookup keeps its own totals: the counter shows them.
        this.reset();
        const { hits, misses, failures } = networkLookup.counts;
        this.inc({ outcome: 'hit' }, hits);
        this.inc({ outcome: 'miss' }, misses);
        this.inc({ outcome: 'failure' }, failures);
      },
    });
  new client.Gauge({
    name: 'smsgw_queue_depth',
    help: 'Messages held in memory waiting for a connector',
    registers: [registry],
    collect() {
      this.set(gateway.queued);
    },
  });
  const store = gateway.store;
  if (store.writingOnThread !== undefined)
    new client.Gauge({
      name: 'smsgw_store_writer_thread',
      help: 'SQLite: 1 while commits run on a writer thread of their own, 0 while on the event loop',
      registers: [registry],
      collect() {
        this.set(store.writingOnThread ? 1 : 0);
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
  const receiptLatency = new client.Histogram({
    name: 'smsgw_receipt_latency_seconds',
    help: 'From the SMSC accepting a message to its delivery receipt',
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400],
    registers: [registry],
  });
  const byAccount = talliedCounter(registry, {
    name: 'smsgw_account_messages_total',
    help: 'Messages entering each status, by account',
    labelNames: ['account', 'status', 'direction'],
  });
  const errors = talliedCounter(registry, {
    name: 'smsgw_message_errors_total',
    help: 'Messages that ended in failure, by account, connector and error code',
    labelNames: ['account', 'connector', 'code'],
  });
  const interceptorCalls = new client.Counter({
    name: 'smsgw_interceptor_calls_total',
    help: 'Interceptor calls by rule and outcome: unchanged, changed, refused, timeout, error',
    labelNames: ['rule', 'outcome'],
    registers: [registry],
  });
  const interceptorFailures = new client.Counter({
    name: 'smsgw_interceptor_failures_total',
    help: "Interceptor calls that failed (an error, a timeout, an answer of the wrong shape): the rule's onError applied",
    labelNames: ['rule'],
    registers: [registry],
  });
  const webhookAttempts = new client.Counter({
    name: 'smsgw_webhook_attempts_total',
    help: 'Webhook requests by outcome: delivered, retry (failed, tried again later), abandoned',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const webhookFailures = new client.Counter({
    name: 'smsgw_webhook_failures_total',
    help: 'Webhook requests that failed (the receiver answered other than 2xx, or not at all)',
    registers: [registry],
  });
  new client.Gauge({
    name: 'smsgw_webhook_backlog',
    help: 'Webhook deliveries in hand: read ahead, being sent, or their outcome being written',
    registers: [registry],
    collect() {
      this.set(sources.webhookBacklog?.() ?? 0);
    },
  });
  const uploadGauge = (name: string, help: string, value: (u: UploadFigures) => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const uploads = sources.uploads?.();
        this.set(uploads ? value(uploads) : 0);
      },
    });
  uploadGauge(
    'smsgw_uploads_running',
    'Uploads (batches, imports, alerts) being read or worked on',
    (u) => u.running,
  );
  uploadGauge('smsgw_upload_bytes', 'Request body bytes the uploads running have read', (u) => u.bytes);
  uploadGauge(
    'smsgw_uploads_waiting',
    'Uploads whose reading waits for others to end (http.maxUploadMegabytes reached)',
    (u) => u.waiting,
  );
  new client.Gauge({
    name: 'smsgw_body_bytes',
    help: 'Request body bytes reserved by the requests over 16 KiB (uploads aside) being read or answered',
    registers: [registry],
    collect() {
      this.set(sources.bodies?.().bytes ?? 0);
    },
  });
  new client.Counter({
    name: 'smsgw_bodies_refused_total',
    help: 'Requests refused 503 server_busy before their body was read (http.maxBodyMegabytes reached)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.bodies?.().refused ?? 0);
    },
  });
  const circuitStates = { closed: 0, 'half-open': 1, open: 2 } as const;
  new client.Gauge({
    name: 'smsgw_webhook_circuit_state',
    help: "A webhook receiver's circuit: 0 closed (sent to), 1 half-open (one probe), 2 open (its events wait in the store)",
    labelNames: ['host'],
    registers: [registry],
    collect() {
      this.reset();
      // Two receivers of one host (http and https, say): the worse state shows.
      const byHost = new Map<string, number>();
      for (const { host, state } of sources.webhookCircuits?.() ?? [])
        byHost.set(host, Math.max(byHost.get(host) ?? 0, circuitStates[state]));
      for (const [host, state] of byHost) this.set({ host }, state);
    },
  });
  new client.Gauge({
    name: 'smsgw_connector_up',
    help: '1 when the connector has a bind that can send, else 0',
    labelNames: ['connector'],
    registers: [registry],
    collect() {
      for (const c of connectors.values()) this.set({ connector: c.id }, c.state().status === 'up' ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'smsgw_esme_binds',
    help: 'SMPP binds of ESME accounts to this gateway',
    labelNames: ['account'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [account, n] of sources.esmeBinds?.() ?? []) this.set({ account }, n);
    },
  });
  const count = (m: Message) => {
    const direction = m.direction === 'mt' ? 'outbound' : 'inbound';
    const connector = m.connectorId ?? '';
    transitions(`${m.status}\0${connector}\0${direction}`);
    byAccount(`${m.accountId}\0${m.status}\0${direction}`);
    if (m.status === 'submitted' && m.submittedAt !== null)
      submitLatency.observe((m.submittedAt - m.createdAt) / 1000);
    else if (receiptStatuses.has(m.status) && m.submittedAt !== null)
      receiptLatency.observe((Date.now() - m.submittedAt) / 1000);
    if (errorStatuses.has(m.status)) {
      const code = m.error?.code ?? m.status;
      errors(`${m.accountId}\0${connector}\0${code}`);
    }
  };
  gateway.on('status', count);
  gateway.on('inbound', count);
  // A group cancel (a batch's) emits no status per message: its count is added at once.
  gateway.on('groupCanceled', (_groupId, n) => transitions('canceled\0\0outbound', n));
  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    webhookAttempt(outcome) {
      webhookAttempts.inc({ outcome });
      if (outcome !== 'delivered') webhookFailures.inc();
    },
    interceptorCall(rule, outcome) {
      interceptorCalls.inc({ rule, outcome });
      if (outcome === 'timeout' || outcome === 'error') interceptorFailures.inc({ rule });
    },
  };
}

/**
 * A counter counted in plain numbers, one per series, given to prom-client when scraped.
 * prom-client's own inc() hashes and checks the label object on every call, even on a label
 * child: three counters per status change, several changes per message. The returned
 * function adds `n` to the series whose label values, in `labelNames` order, joined by
 * NUL, are `key`.
 */
function talliedCounter(
  registry: client.Registry,
  config: { name: string; help: string; labelNames: readonly string[] },
): (key: string, n?: number) => void {
  const counts = new Map<string, number>();
  const { labelNames } = config;
  new client.Counter({
    ...config,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, n] of counts) {
        const values = key.split('\0');
        this.inc(Object.fromEntries(labelNames.map((label, i) => [label, values[i] ?? ''])), n);
      }
    },
  });
  return (key, n = 1) => {
    counts.set(key, (counts.get(key) ?? 0) + n);
  };
}
