// The composition root: builds store, accounts, connectors, pipeline, webhooks and both
// front doors from a config, and takes them down in order. Nothing else wires modules.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  bodiesHeld,
  buildHttpApi,
  gatewayMetrics,
  type HttpApiOptions,
  linkRedirectRoutes,
  messageLinkRoutes,
  metricsRoute,
  readyRoutes,
  SmppFront,
  uploadsRunning,
} from '../api/index.ts';
import { type Apps, buildApps } from '../apps/index.ts';
import { Billing, billingRoutes } from '../billing/index.ts';
import { Batches, type BatchesOptions, batchRoutes } from '../bulk/index.ts';
import { compatApis } from '../compat/index.ts';
import type { ConnectorConfig, GatewayConfig } from '../config/index.ts';
import type { Connector, ConnectorSink } from '../connectors/index.ts';
import {
  createConnector,
  HttpNumberLookup,
  httpPushRoutes,
  SimulatorConnector,
} from '../connectors/index.ts';
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
  Interceptors,
  interceptorLoadProblems,
  messageView,
} from '../core/index.ts';
import { adminActor, Management, managementRoutes } from '../manage/index.ts';
import { ConnectorHistory, healthRoutes, StatsSeries, statsRoutes } from '../stats/index.ts';
import type { Store } from '../store/index.ts';
import { openStore, redactStoreUrl } from '../store/index.ts';
import {
  conversationRoutes,
  followMoRoutes,
  inboundView,
  moAdminRoutes,
  moRoutesInForce,
  moRoutesSetByAdmin,
  TwoWay,
} from '../twoway/index.ts';
import { OutboundPolicy, WebhookSender } from '../webhooks/index.ts';
import { keptPartsIn } from './kept-parts.ts';
import { type Logger, perKeyLimiter, silentLog } from './log.ts';

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
  /** Accounts, keys and MT routes changed at run time; the config file reloaded (SIGHUP). */
  management: Management;
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
  /** This process in logs (its cluster instance id with PostgreSQL). */
  nodeId: string;
  /**
   * Drains and stops: new HTTP requests get 503 (`Connection: close`), ESMEs and carriers
   * are unbound, sends on the wire settle; what is left after `shutdownGraceSeconds` is cut
   * (it stays queued in the store and goes at the next start).
   */
  close(): Promise<void>;
}

/** A listener could not be opened (port in use, no such address): one line for the operator. */
export class ListenError extends Error {
  constructor(what: string, listen: string, err: NodeJS.ErrnoException) {
    const reason =
      err.code === 'EADDRINUSE'
        ? 'address already in use'
        : err.code === 'EADDRNOTAVAIL'
          ? 'address not available on this host'
          : err.code === 'EACCES'
            ? 'permission denied'
            : err.message;
    super(`cannot listen on ${listen} for ${what}: ${reason}`);
    this.name = 'ListenError';
  }
}

export interface StartOptions {
  /** Create a `demo` account with fresh credentials when the store has none (no-config start). */
  demoAccount?: boolean;
  logger?: boolean | object;
  /** Told of every HTTP route as it is registered. */
  onRoute?: HttpApiOptions['onRoute'];
  /** Where the gateway logs (JSON lines); none: nothing is logged. */
  log?: Logger;
  /** Reads the config file again (POST /v1/admin/reload, SIGHUP); absent: there is no file. */
  readConfig?: () => GatewayConfig;
  /** How batches are stored and sent in chunks (tests make them small). */
  batches?: Pick<BatchesOptions, 'chunkSize' | 'stageChunkSize' | 'expandWindow'>;
}

export function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return {
    host: listen.slice(0, at).replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: Number(listen.slice(at + 1)),
  };
}

export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<GatewayApp> {
  const log = options.log ?? silentLog;
  const store = await openStore(config.store);
  await store.migrate();
  store.watchWriter?.(({ onThread, reason }) =>
    log.info(
      { reason },
      onThread ? 'store commits moved to a writer thread' : 'store commits back on the event loop',
    ),
  );
  const nodeId = store.instanceId;
  const accounts = new AccountRegistry(store);
  // What the admin API made or changed wins over the file (see src/manage).
  const management = new Management({
    store,
    file: config,
    readFile: options.readConfig,
    accounts,
    moRouteAccounts: () => new Set(gateway?.moRoutes.flatMap((r) => (r.account ? [r.account] : [])) ?? []),
    moRoutesSetByAdmin: () => moRoutesSetByAdmin(store),
    onError: (err) => log.error({ reason: err.message }, 'managed change not put in force'),
  });
  const live = await management.load();
  for (const problem of live.problems)
    log.error({ reason: problem }, 'managed settings do not hold together');
  await accounts.load(live.config.accounts, { passwordHashes: live.passwordHashes, removed: live.removed });
  const created: GatewayApp['created'] = {};

  // Connectors call into the pipeline, which is built after them: a sink that forwards.
  let gateway: Gateway | undefined;
  const sink: ConnectorSink = {
    receipt: (r) => gateway!.receipt(r),
    inbound: (sms) => gateway!.inbound(sms),
    parts: keptPartsIn(store),
  };
  // Where providers reach this gateway: known once HTTP listens (its port may be 0 until then).
  let publicUrl = config.http.publicUrl ?? `http://${config.http.listen}`;
  const reachedAt = { publicUrl: () => publicUrl };
  const connectors = new Map<string, Connector>(
    live.config.connectors.map((c) => [c.id, createConnector(c, sink, log, reachedAt)]),
  );
  // Connectors changed at run time: one whose settings changed is stopped and made anew
  // (its binds restart); its messages wait queued and go by the routes in force.
  let connectorSettings = new Map(live.config.connectors.map((c) => [c.id, JSON.stringify(c)]));
  const replaceConnectors = async (next: readonly ConnectorConfig[]) => {
    const wanted = new Map(next.map((c) => [c.id, JSON.stringify(c)]));
    const removed: Connector[] = [];
    for (const [id, c] of connectors) {
      if (wanted.get(id) === connectorSettings.get(id)) continue;
      connectors.delete(id);
      removed.push(c);
    }
    await Promise.all(removed.map((c) => c.stop()));
    const added = next
      .filter((c) => !connectors.has(c.id))
      .map((c) => createConnector(c, sink, log, reachedAt));
    for (const c of added) connectors.set(c.id, c);
    connectorSettings = wanted;
    await gateway!.connectorsChanged(removed, added);
    // One that cannot start now (a modem not plugged in) is logged: the change is stored.
    await Promise.all(
      added.map((c) =>
        c
          .start()
          .catch((err) =>
            log.error({ connector: c.id, reason: (err as Error).message }, 'connector not started'),
          ),
      ),
    );
    if (removed.length > 0 || added.length > 0)
      log.info({ stopped: removed.map((c) => c.id), started: added.map((c) => c.id) }, 'connectors changed');
  };
  // Prices, balances and account policies at accept; its events go out once webhooks exist.
  let accountEvent = (_accountId: string, _type: string, _data: unknown): void => {};
  const billing = new Billing({
    store,
    config: live.config,
    notify: (id, type, data) => accountEvent(id, type, data),
    share: () => gateway?.shares.fraction ?? 1,
  });
  // The online number lookup: its failures are logged at most once a minute (with a count).
  const logLookupFailure = perKeyLimiter(60_000);
  const networkLookup = live.config.lookup
    ? new HttpNumberLookup(live.config.lookup, {
        onFailure: (_number, reason) =>
          logLookupFailure('lookup', (skipped) =>
            log.warn({ reason, alsoFailedSinceLastLine: skipped }, 'number lookup failed'),
          ),
      })
    : undefined;
  // Interceptor failures are logged once a minute per rule (never the message's text).
  const logInterceptorFailure = perKeyLimiter(60_000);
  const interceptors = new Interceptors({
    onReport: (report) => {
      metrics.interceptorCall?.(report.rule, report.outcome);
      if (report.outcome !== 'timeout' && report.outcome !== 'error') return;
      logInterceptorFailure(report.rule, (skipped) =>
        log.warn({ ...report, alsoFailedSinceLastLine: skipped }, 'interceptor failed'),
      );
    },
  });
  const unloadable = await interceptorLoadProblems(live.config.routes, interceptors);
  if (unloadable.length > 0) {
    await interceptors.close();
    await networkLookup?.close().catch(() => {});
    await store.close();
    throw new Error(unloadable.map((p) => `${p.path}: ${p.message}`).join('; '));
  }
  gateway = new Gateway({
    store,
    config: live.config,
    connectors,
    accept: billing,
    networkLookup,
    interceptors,
    publicUrl: reachedAt.publicUrl,
  });
  billing.follow(gateway);
  // The console's charts and health page: message counts per minute, connectors' bind history.
  const series = new StatsSeries({ store, queueDepth: () => gateway?.queued ?? 0 });
  series.attach(gateway);
  const statsHttp = statsRoutes(series);
  const connectorHistory = new ConnectorHistory(connectors);
  // MO rules an admin set through the API outlive a restart.
  gateway.setMoRoutes(await moRoutesInForce(store, config.routes.mo));
  // And those another gateway on the store sets or resets, from then on.
  await followMoRoutes(store, gateway, () => management.file.routes.mo);

  // Failures are logged per receiver host (never the path or the signature), once a minute.
  const logWebhookFailure = perKeyLimiter(60_000);
  // An event the store did not take is lost: said, at most once every 10 s.
  const logUnstored = perKeyLimiter(10_000);
  const webhookNotStored = (err: Error) =>
    logUnstored('webhook', (skipped) =>
      log.error({ reason: err.message, alsoFailedSinceLastLine: skipped }, 'webhook event not stored'),
    );
  const callbacks = new OutboundPolicy(config.callbacks?.allow);
  const webhooks = new WebhookSender({
    store,
    concurrency: config.callbacks?.concurrency,
    receiverConcurrency: config.callbacks?.receiverConcurrency,
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
    onResult(delivery, outcome, detail) {
      metrics.webhookAttempt?.(outcome);
      if (outcome === 'delivered') return;
      let host = '?';
      try {
        host = new URL(delivery.url).host;
      } catch {}
      logWebhookFailure(host, (skipped) =>
        log.warn(
          { host, outcome, reason: detail, alsoFailedSinceLastLine: skipped },
          'webhook delivery failed',
        ),
      );
    },
    onCircuit(host, state, reason) {
      if (state === 'open')
        log.warn({ host, reason }, 'webhook receiver circuit open: its events wait in the store');
      else log.info({ host, state }, `webhook receiver circuit ${state}`);
    },
  });
  const twoWay = new TwoWay({
    gateway,
    config,
    webhooks,
    webhookSecret: (id) => accounts.get(id)?.webhook?.secret ?? null,
    onError: (err, m) => log.warn({ reason: err.message, message: m.id }, 'two-way handling failed'),
  });
  accountEvent = (accountId, type, data) => {
    const hook = accounts.get(accountId)?.webhook;
    if (hook)
      webhooks.enqueue(accountId, hook.url, hook.secret ?? null, { type, data }).catch(webhookNotStored);
  };
  const notify = (m: Message, type: 'message.status' | 'message.inbound') => {
    const account = accounts.get(m.accountId);
    const url = type === 'message.status' ? (m.callbackUrl ?? account?.webhook?.url) : account?.webhook?.url;
    if (!url) return;
    const data = type === 'message.inbound' ? inboundView(m) : messageView(m);
    webhooks
      .enqueue(m.accountId, url, account?.webhook?.secret ?? null, { type, data })
      .catch(webhookNotStored);
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
    live.config.accounts,
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
  // Per message only at debug: at info the hot path pays nothing for the log.
  if (log.isLevelEnabled('debug')) {
    gateway.on('status', (m) =>
      log.debug(
        {
          message: m.id,
          account: m.accountId,
          status: m.status,
          connector: m.connectorId,
          error: m.error?.code,
        },
        'message status',
      ),
    );
  }
  const batches = new Batches({
    ...options.batches,
    gateway,
    onEvent: (accountId, type, data) => {
      const account = accounts.get(accountId);
      if (!account?.webhook) return;
      webhooks
        .enqueue(accountId, account.webhook.url, account.webhook.secret, { type, data })
        .catch(webhookNotStored);
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
    onLockout: (event) => log.warn(event, 'authentication locked out'),
  });
  const metrics = gatewayMetrics(gateway, connectors, {
    webhookBacklog: () => webhooks.backlog,
    // The HTTP app is made below; the metrics read it only once scraped.
    uploads: () => uploadsRunning(http),
    bodies: () => bodiesHeld(http),
    webhookCircuits: () => webhooks.circuits(),
    esmeBinds: () => smpp?.bindsByAccount() ?? new Map(),
  });
  let draining = false;
  let storeFailing = false;
  /**
   * Whether the store can be used, for /ready and the log: the one place where store health
   * is judged. A ping, and the gateway's own record of failing writes where it keeps one
   * (`storeHealth()`: a write fails while a ping may still answer).
   */
  const writeHealth = (gateway as { storeHealth?: () => { ok: boolean; lastError: string | null } })
    .storeHealth;
  const storeProblem = async (): Promise<string | null> => {
    let problem: string | null = null;
    try {
      await withTimeout(store.ping(), 2000, 'the store did not answer within 2 s');
      const writes = writeHealth?.call(gateway);
      if (writes && !writes.ok) problem = `store writes failing: ${writes.lastError ?? 'unknown error'}`;
    } catch (err) {
      problem = (err as Error).message;
    }
    if ((problem !== null) !== storeFailing) {
      storeFailing = problem !== null;
      if (storeFailing) log.error({ reason: problem }, 'store unavailable');
      else log.info('store available again');
    }
    return problem;
  };
  // Store trouble is logged when it starts and ends, whether or not anyone asks /ready.
  const storeWatch = setInterval(() => void storeProblem(), 5000);
  storeWatch.unref();
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
  for (const a of live.config.accounts) if (a.apiKeys[0]) authTokens.set(a.id, a.apiKeys[0]);
  if (created.apiKey) authTokens.set('demo', created.apiKey);
  // The SMPP server, once made (below): its binds follow account changes.
  let smpp: SmppFront | null = null;
  // A change through the admin API, a reload or another gateway's change, put in force here.
  await management.follow(async (changed) => {
    // Shutting down: nothing is started again (the next start reads the change from the store).
    if (draining) return;
    await replaceConnectors(changed.config.connectors);
    const list = changed.config.accounts;
    await accounts.load(list, { passwordHashes: changed.passwordHashes, removed: changed.removed });
    billing.setAccounts(list);
    gateway!.setAccounts(list);
    apps.setAccounts(list);
    gateway!.setMtRoutes(changed.config.routes.mt, changed.config.connectors);
    // The file's MO rules, unless an admin set others (PUT /v1/admin/routes/mo).
    gateway!.setMoRoutes(await moRoutesInForce(store, changed.config.routes.mo));
    for (const a of list) if (a.apiKeys[0]) authTokens.set(a.id, a.apiKeys[0]);
    for (const id of changed.removed) authTokens.delete(id);
    smpp?.accountsChanged();
  });
  const compat = compatApis({
    gateway,
    accounts,
    limits,
    webhooks,
    authTokens,
    verify: apps.verify,
    callbacks,
    authGuard,
    billing,
  });
  const billingHttp = billingRoutes(billing, {
    onCredit: (req, id, credit) => management.audit(adminActor(req), 'credit', 'account', id, null, credit),
  });
  const http = await buildHttpApi({
    gateway,
    accounts,
    adminKeyHashes,
    metrics,
    limits,
    // The rules in force (changed at run time by the admin API or a reload), as read.
    routes: {
      get mt() {
        return management.effective.routes.mt;
      },
      get mo() {
        return gateway.moRoutes;
      },
    } as GatewayConfig['routes'],
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
      maxConnectionsPerAddress: config.http.maxConnectionsPerAddress,
      maxPipelined: config.http.maxPipelined,
      writeStallMs: secondsToMs(config.http.writeStallSeconds),
      maxUploads: config.http.maxUploads,
      maxUploadBytes:
        config.http.maxUploadMegabytes === undefined ? undefined : config.http.maxUploadMegabytes * 1_048_576,
      maxBodyBytes:
        config.http.maxBodyMegabytes === undefined ? undefined : config.http.maxBodyMegabytes * 1_048_576,
      bodyIdleMs: secondsToMs(config.http.bodyIdleSeconds),
      bodyMinBytesPerSecond: config.http.bodyMinBytesPerSecond,
    },
    log,
    draining: () => draining,
    allowsAddress: (id, address, key) => billing.allowsAddress(id, 'api', address, key),
    plugins: {
      account: [
        conversationRoutes(twoWay, gateway),
        ...apps.plugins,
        batchRoutes(batches, gateway, callbacks),
        billingHttp.account,
        statsHttp.account,
        messageLinkRoutes({ store }),
      ],
      admin: [
        billingHttp.admin,
        managementRoutes(management),
        statsHttp.admin,
        healthRoutes({ history: connectorHistory, smpp: () => smpp, store }),
        moAdminRoutes({
          gateway,
          store,
          configured: () => management.file.routes.mo,
          accountIds: () => new Set(accounts.list().map((a) => a.id)),
          onReplaced: (source, rules) => log.info({ source, rules }, 'MO routes replaced'),
          audit: (req, action, before, after) =>
            management.audit(adminActor(req), action, 'routes', 'mo', before, after),
        }),
      ],
      public: [
        readyRoutes({ connectors, draining: () => draining, storeProblem }),
        linkRedirectRoutes({
          store,
          notify: async (accountId, type, data) => accountEvent(accountId, type, data),
        }),
        httpPushRoutes(connectors, reachedAt.publicUrl),
        consolePlugin(),
        ...compat,
      ],
    },
    injectInbound: async (id, sms) => {
      const c = connectors.get(id);
      if (!(c instanceof SimulatorConnector)) return false;
      await c.injectInbound(sms);
      return true;
    },
  });

  const tlsFiles = config.smppServer?.tls;
  if (config.smppServer?.listen || tlsFiles?.listen) {
    smpp = new SmppFront({
      gateway,
      accounts,
      limits,
      allowsAddress: (id, address) => billing.allowsAddress(id, 'smpp', address),
      authGuard,
      connectionLimits: {
        maxConnections: config.smppServer?.maxConnections,
        maxConnectionsPerAddress: config.smppServer?.maxConnectionsPerAddress,
        bindTimeoutMs: secondsToMs(config.smppServer?.bindTimeoutSeconds),
        writeStallMs: secondsToMs(config.smppServer?.writeStallSeconds),
      },
      log,
      tls: tlsFiles
        ? {
            cert: readFileSync(tlsFiles.cert),
            key: readFileSync(tlsFiles.key),
            ...(tlsFiles.ca ? { ca: readFileSync(tlsFiles.ca) } : {}),
          }
        : undefined,
    });
  }

  const graceMs = (config.shutdownGraceSeconds ?? 10) * 1000;
  let closing: Promise<void> | null = null;
  /** Takes everything down in order; each wait ends by `deadline`, after which what is left is cut. */
  const stop = async (deadline: number) => {
    const until = <T>(p: Promise<T>) => withTimeout(p, Math.max(0, deadline - Date.now()), 'grace over');
    // New work is refused from here on (503 + Connection: close, /ready 503).
    draining = true;
    clearInterval(storeWatch);
    // Awaited below, after the SMPP side; a failure is the cut's to handle, not unhandled meanwhile.
    const httpClosed = http.close();
    httpClosed.catch(() => {});
    await metricsHttp?.close().catch(() => {});
    await until(smpp?.close() ?? Promise.resolve()).catch(() =>
      log.warn('ESMEs cut at the end of the grace'),
    );
    await gateway.stop();
    await until(Promise.all([...connectors.values()].map((c) => c.stop()))).catch(() =>
      log.warn('connectors cut at the end of the grace; their messages on the wire will be sent again'),
    );
    await until(httpClosed).catch(() => {
      log.warn('HTTP connections cut at the end of the grace');
      http.server.closeAllConnections();
    });
    webhooks.stop();
    apps.stop();
    batches.stop();
    await until(series.stop()).catch((err) =>
      log.warn({ reason: (err as Error).message }, 'message counts of the last seconds not stored'),
    );
    await networkLookup?.close().catch(() => {});
    await interceptors.close();
    await withTimeout(store.close(), 2000, 'store close').catch((err) =>
      log.error({ reason: (err as Error).message }, 'store did not close'),
    );
  };

  let smppAddress: AddressInfo | null = null;
  let smppTlsAddress: AddressInfo | null = null;
  let httpAddress: AddressInfo;
  let metricsAddress: AddressInfo | null = null;
  const { host, port } = splitListen(config.http.listen);
  try {
    await gateway.start();
    series.start();
    await batches.start();
    webhooks.start();
    apps.start();
    await Promise.all([...connectors.values()].map((c) => c.start()));
    await http.listen({ host, port }).catch((err) => {
      throw new ListenError('HTTP', config.http.listen, err);
    });
    httpAddress = http.server.address() as AddressInfo;
    if (!config.http.publicUrl) {
      const scheme = config.http.tls ? 'https' : 'http';
      const hostName = httpAddress.family === 'IPv6' ? `[${httpAddress.address}]` : httpAddress.address;
      publicUrl = `${scheme}://${hostName}:${httpAddress.port}`;
    }
    if (metricsHttp && config.metrics?.listen) {
      const listen = config.metrics.listen;
      await metricsHttp.listen(splitListen(listen)).catch((err) => {
        throw new ListenError('metrics', listen, err);
      });
      metricsAddress = metricsHttp.server.address() as AddressInfo;
    }
    if (smpp && config.smppServer?.listen) {
      const listen = config.smppServer.listen;
      const l = splitListen(listen);
      smppAddress = await smpp.listen(l.port, l.host).catch((err) => {
        throw new ListenError('SMPP', listen, err);
      });
    }
    if (smpp && tlsFiles?.listen) {
      const listen = tlsFiles.listen;
      const l = splitListen(listen);
      smppTlsAddress = await smpp.listen(l.port, l.host, true).catch((err) => {
        throw new ListenError('SMPP/TLS', listen, err);
      });
    }
    // Only once every listener is up: a start that fails leaves no demo account whose
    // key was never shown.
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
      authTokens.set('demo', created.apiKey);
    }
  } catch (err) {
    await stop(Date.now() + graceMs);
    throw err;
  }
  const hostPort = (a: AddressInfo | null) => (a ? `${a.address}:${a.port}` : null);
  const listening = {
    http: hostPort(httpAddress),
    smpp: hostPort(smppAddress),
    smppTls: hostPort(smppTlsAddress),
  };
  // The addresses are in the message too, as the banner words them, for whoever greps stdout.
  const where = [
    `HTTP http://${listening.http}`,
    ...(listening.smpp ? [`SMPP ${listening.smpp}`] : []),
    ...(listening.smppTls ? [`SMPP/TLS ${listening.smppTls}`] : []),
  ];
  log.info(
    {
      node: nodeId,
      ...listening,
      storeKind: config.store.startsWith('sqlite:') ? 'sqlite' : 'postgres',
      store: redactStoreUrl(config.store),
      connectors: [...connectors.keys()],
    },
    `gateway started: ${where.join(', ')}`,
  );

  return {
    config,
    gateway,
    apps,
    store,
    accounts,
    management,
    http,
    batches,
    httpAddress,
    smpp,
    smppAddress,
    smppTlsAddress,
    metricsAddress,
    created,
    nodeId,
    close() {
      closing ??= (async () => {
        const started = Date.now();
        log.info({ graceSeconds: graceMs / 1000 }, 'shutting down');
        // The last moments of the grace are kept for closing the store.
        await stop(started + graceMs - Math.min(1000, graceMs / 4));
        log.info({ tookMs: Date.now() - started }, 'shut down');
      })();
      return closing;
    },
  };
}

/** `p`, or a rejection with `message` once `ms` have passed. */
function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
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
