// The composition root: builds store, accounts, connectors, pipeline, webhooks and both
// front doors from a config, and takes them down in order. Nothing else wires modules.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildHttpApi, gatewayMetrics, type HttpApiOptions, metricsRoute, SmppFront } from '../api/index.ts';
import { type Apps, buildApps } from '../apps/index.ts';
import { Batches, batchRoutes } from '../bulk/index.ts';
import { compatApis } from '../compat/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import type { Connector, ConnectorSink } from '../connectors/index.ts';
import { createConnector, SimulatorConnector } from '../connectors/index.ts';
import { consolePlugin } from '../console/index.ts';
import type { Message } from '../core/index.ts';
import {
  AccountLimits,
  AccountRegistry,
  AuthGuard,
  finalStatuses,
  Gateway,
  hashApiKey,
  hashPassword,
  messageView,
} from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { openStore } from '../store/index.ts';
import {
  conversationRoutes,
  followMoRoutes,
  inboundView,
  moAdminRoutes,
  moRoutesInForce,
  TwoWay,
} from '../twoway/index.ts';
import { OutboundPolicy, WebhookSender } from '../webhooks/index.ts';
import { keptPartsIn } from './kept-parts.ts';

/** Webhooks report `submitted` and every final status of an outbound message. */
const notifiedStatuses = new Set<Message['status']>([
  'submitted',
  ...[...finalStatuses].filter((st) => st !== 'received'),
]);

export interface GatewayApp {
  config: GatewayConfig;
  gateway: Gateway;
  apps: Apps;
  store: Store;
  accounts: AccountRegistry;
  http: FastifyInstance;
  batches: Batches;
  httpAddress: AddressInfo;
  smpp: SmppFront | null;
  smppAddress: AddressInfo | null;
  smppTlsAddress: AddressInfo | null;
  /** Where /metrics is served when `metrics.listen` gives it a listener of its own. */
  metricsAddress: AddressInfo | null;
  /** Keys created on this start (the demo account's), shown once. */
  created: { apiKey?: string; smppPassword?: string; adminKey?: string };
  close(): Promise<void>;
}

export interface StartOptions {
  /** Create a `demo` account with fresh credentials when the store has none (no-config start). */
  demoAccount?: boolean;
  logger?: boolean | object;
  /** Told of every HTTP route as it is registered. */
  onRoute?: HttpApiOptions['onRoute'];
}

export function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return {
    host: listen.slice(0, at).replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: Number(listen.slice(at + 1)),
  };
}

export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<GatewayApp> {
  const store = await openStore(config.store);
  await store.migrate();
  const accounts = new AccountRegistry(store);
  await accounts.load(config.accounts);
  const created: GatewayApp['created'] = {};
  if (options.demoAccount && !accounts.get('demo')) {
    created.apiKey = `demo_${randomBytes(18).toString('base64url')}`;
    created.smppPassword = randomBytes(6).toString('base64url').slice(0, 8);
    await accounts.save(
      {
        id: 'demo',
        webhook: null,
        smpp: { systemId: 'demo', passwordHash: await hashPassword(created.smppPassword), maxBinds: 4 },
        defaultFrom: 'smsgw',
        defaultCountry: null,
        mps: 0,
        twilio: null,
      },
      [hashApiKey(created.apiKey)],
    );
  }

  // Connectors call into the pipeline, which is built after them: a sink that forwards.
  let gateway: Gateway | undefined;
  const sink: ConnectorSink = {
    receipt: (r) => gateway!.receipt(r),
    inbound: (sms) => gateway!.inbound(sms),
    parts: keptPartsIn(store),
  };
  const connectors = new Map<string, Connector>(
    config.connectors.map((c) => [c.id, createConnector(c, sink)]),
  );
  gateway = new Gateway({ store, config, connectors });
  // MO rules an admin set through the API outlive a restart.
  gateway.setMoRoutes(await moRoutesInForce(store, config.routes.mo));
  // And those another gateway on the store sets or resets, from then on.
  await followMoRoutes(store, gateway, config.routes.mo);

  const callbacks = new OutboundPolicy(config.callbacks?.allow);
  const webhooks = new WebhookSender({
    store,
    outbound: {
      policy: callbacks,
      // What the operator configured is trusted; every other URL came from a client.
      trusted: (accountId, url) => {
        const account = accounts.get(accountId);
        return (
          url === account?.webhook?.url ||
          url === account?.twilio?.smsUrl ||
          gateway!.moRoutes.some((r) => r.url?.url === url)
        );
      },
    },
  });
  let http: FastifyInstance | undefined;
  const twoWay = new TwoWay({
    gateway,
    config,
    webhooks,
    webhookSecret: (id) => accounts.get(id)?.webhook?.secret ?? null,
    onError: (err, m) => http?.log.warn({ err, message: m.id }, 'two-way handling failed'),
  });
  const notify = (m: Message, type: 'message.status' | 'message.inbound') => {
    const account = accounts.get(m.accountId);
    const url = type === 'message.status' ? (m.callbackUrl ?? account?.webhook?.url) : account?.webhook?.url;
    if (!url) return;
    const data = type === 'message.inbound' ? inboundView(m) : messageView(m);
    webhooks.enqueue(m.accountId, url, account?.webhook?.secret ?? null, { type, data }).catch(() => {});
  };
  const apps = buildApps(
    {
      gateway,
      store,
      accounts,
      now: Date.now,
      async notify(accountId, type, data) {
        const hook = accounts.get(accountId)?.webhook;
        if (hook) await webhooks.enqueue(accountId, hook.url, hook.secret ?? null, { type, data });
      },
    },
    config.accounts,
  );
  // Applications first: a verification's message loses its code before webhooks see it.
  gateway.on('statusWrite', (m) => apps.onStatusWrite(m));
  gateway.on('status', (m) => apps.onStatus(m));
  // As the status is written, so its event is stored in the same transaction.
  gateway.on('statusWrite', (m) => {
    // The caller learnt `queued`/`scheduled` from the 202; webhooks report what follows
    // (the statuses the account chose, if it did). A batch's messages report only when the
    // batch asked for it (statusWebhooks).
    if (m.direction !== 'mt' || !notifiedStatuses.has(m.status) || m.meta?.statusWebhooks === false) return;
    const chosen = accounts.get(m.accountId)?.webhook?.statuses;
    if (!chosen || chosen.includes(m.status)) notify(m, 'message.status');
  });
  const batches = new Batches({
    gateway,
    onEvent: (accountId, type, data) => {
      const account = accounts.get(accountId);
      if (!account?.webhook) return;
      webhooks
        .enqueue(accountId, account.webhook.url, account.webhook.secret, { type, data })
        .catch(() => {});
    },
  });
  gateway.on('inbound', (m) => {
    if (!m.accountId) return;
    notify(m, 'message.inbound');
    apps.onInbound(m).catch(() => {});
  });

  const adminKeyHashes = config.admin.apiKeys.map(hashApiKey);
  if (options.demoAccount && adminKeyHashes.length === 0) {
    // No config, so no admin key: one for this run only, printed with the demo credentials.
    created.adminKey = `admin_${randomBytes(18).toString('base64url')}`;
    adminKeyHashes.push(hashApiKey(created.adminKey));
  }
  // One count of failed logins for every front door: REST, compat APIs, SMPP binds.
  const authGuard = new AuthGuard({
    onLockout: (event) => logLine('warn', 'authentication locked out', event),
  });
  const metrics = gatewayMetrics(gateway, connectors);
  // metrics.apiKey puts /metrics behind that key or an admin key.
  const metricsKeyHashes = config.metrics?.apiKey
    ? [hashApiKey(config.metrics.apiKey), ...adminKeyHashes]
    : [];
  const metricsHttp = config.metrics?.listen ? Fastify() : null;
  await metricsHttp?.register(metricsRoute(metrics, metricsKeyHashes, authGuard));
  const limits = new AccountLimits(() => gateway.shares.fraction);
  // Twilio signs with the auth token, which is the account's first API key: kept in memory
  // from the config (the store has only hashes), never written anywhere.
  const authTokens = new Map<string, string>();
  for (const a of config.accounts) if (a.apiKeys[0]) authTokens.set(a.id, a.apiKeys[0]);
  if (created.apiKey) authTokens.set('demo', created.apiKey);
  const compat = compatApis({
    gateway,
    accounts,
    limits,
    webhooks,
    authTokens,
    verify: apps.verify,
    callbacks,
    authGuard,
  });
  http = await buildHttpApi({
    gateway,
    accounts,
    adminKeyHashes,
    metrics,
    limits,
    routes: config.routes,
    logger: options.logger,
    ...(config.http.tls
      ? { https: { cert: readFileSync(config.http.tls.cert), key: readFileSync(config.http.tls.key) } }
      : {}),
    onRoute: options.onRoute,
    callbacks,
    authGuard,
    metricsAccess: { keyHashes: metricsKeyHashes, elsewhere: metricsHttp !== null },
    connectionLimits: {
      maxConnections: config.http.maxConnections,
      maxPipelined: config.http.maxPipelined,
      writeStallMs: secondsToMs(config.http.writeStallSeconds),
    },
    plugins: {
      account: [
        conversationRoutes(twoWay, gateway),
        ...apps.plugins,
        batchRoutes(batches, gateway, callbacks),
      ],
      admin: [
        moAdminRoutes({
          gateway,
          store,
          configured: config.routes.mo,
          accountIds: () => new Set(accounts.list().map((a) => a.id)),
        }),
      ],
      public: [consolePlugin(), ...compat],
    },
    injectInbound: async (id, sms) => {
      const c = connectors.get(id);
      if (!(c instanceof SimulatorConnector)) return false;
      await c.injectInbound(sms);
      return true;
    },
  });

  let smpp: SmppFront | null = null;
  let smppAddress: AddressInfo | null = null;
  let smppTlsAddress: AddressInfo | null = null;
  const tlsFiles = config.smppServer?.tls;
  if (config.smppServer?.listen || tlsFiles?.listen) {
    smpp = new SmppFront({
      gateway,
      accounts,
      limits,
      authGuard,
      connectionLimits: {
        maxConnections: config.smppServer?.maxConnections,
        maxConnectionsPerAddress: config.smppServer?.maxConnectionsPerAddress,
        bindTimeoutMs: secondsToMs(config.smppServer?.bindTimeoutSeconds),
        writeStallMs: secondsToMs(config.smppServer?.writeStallSeconds),
      },
      tls: tlsFiles
        ? {
            cert: readFileSync(tlsFiles.cert),
            key: readFileSync(tlsFiles.key),
            ...(tlsFiles.ca ? { ca: readFileSync(tlsFiles.ca) } : {}),
          }
        : undefined,
    });
  }

  await gateway.start();
  await batches.start();
  webhooks.start();
  apps.start();
  await Promise.all([...connectors.values()].map((c) => c.start()));
  const { host, port } = splitListen(config.http.listen);
  await http.listen({ host, port });
  const httpAddress = http.server.address() as AddressInfo;
  let metricsAddress: AddressInfo | null = null;
  if (metricsHttp && config.metrics?.listen) {
    await metricsHttp.listen(splitListen(config.metrics.listen));
    metricsAddress = metricsHttp.server.address() as AddressInfo;
  }
  if (smpp && config.smppServer?.listen) {
    const l = splitListen(config.smppServer.listen);
    smppAddress = await smpp.listen(l.port, l.host);
  }
  if (smpp && tlsFiles?.listen) {
    const l = splitListen(tlsFiles.listen);
    smppTlsAddress = await smpp.listen(l.port, l.host, true);
  }

  return {
    config,
    gateway,
    apps,
    store,
    accounts,
    http,
    batches,
    httpAddress,
    smpp,
    smppAddress,
    smppTlsAddress,
    metricsAddress,
    created,
    async close() {
      await http.close();
      await metricsHttp?.close();
      await smpp?.close();
      await Promise.all([...connectors.values()].map((c) => c.stop()));
      webhooks.stop();
      apps.stop();
      batches.stop();
      await gateway.stop();
      await store.close();
    },
  };
}

/** A JSON log line on stdout (CONTRACT §8: logs are JSON lines, never holding a secret). */
function logLine(level: 'info' | 'warn', msg: string, fields: object): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}

/** What `npm start` runs with no config file (CONTRACT §1). */
export function defaultConfig(): GatewayConfig {
  return {
    http: { listen: '127.0.0.1:8080' },
    smppServer: { listen: '127.0.0.1:2775' },
    store: 'sqlite:./var/smsgw.db',
    admin: { apiKeys: [] },
    accounts: [],
    connectors: [{ id: 'simulator', type: 'simulator', deliveryDelayMs: 200, outcomes: [], tps: 0 }],
    routes: { mt: [{ connectors: ['simulator'], strategy: 'failover' }], mo: [{ account: 'demo' }] },
    optOut: { enabled: true, scope: 'account', replies: {}, receiptErrors: [] },
  };
}
