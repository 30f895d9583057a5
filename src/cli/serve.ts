// `smsgw serve [--config FILE] [--http HOST:PORT] [--smpp HOST:PORT] [--store URL]`: the
// gateway. With no config it runs the embedded default of CONTRACT §1 and prints where
// everything listens and the demo credentials; its log is JSON lines on stdout.
import { parseArgs } from 'node:util';
import {
  createLogger,
  defaultConfig,
  ListenError,
  releaseMemory,
  releaseMemoryWhenQuiet,
  startGateway,
} from '../app/index.ts';
import type { GatewayConfig, LogLevel } from '../config/index.ts';
import { ConfigError, loadConfigFile, validateConfig } from '../config/index.ts';
import { redactStoreUrl } from '../store/index.ts';

const help = `usage: smsgw serve [--config FILE] [--http HOST:PORT] [--smpp HOST:PORT] [--store URL]

Starts the gateway. Without --config (or SMSGW_CONFIG) it runs with SQLite under ./var,
the HTTP API on 127.0.0.1:8080, the SMPP server on 127.0.0.1:2775, a simulator connector
and a demo account whose credentials are printed on first start.

  --config FILE      the config file (env SMSGW_CONFIG)
  --http HOST:PORT   http.listen (env SMSGW_HTTP_LISTEN)
  --smpp HOST:PORT   smppServer.listen (env SMSGW_SMPP_LISTEN)
  --store URL        store: sqlite:PATH or postgres://... (env SMSGW_STORE)

The flags win over the environment, which wins over the config file. Logs are JSON lines
on stdout at log.level (env SMSGW_LOG_LEVEL: fatal error warn info debug trace silent).
SIGTERM or SIGINT drains and exits 0 within shutdownGraceSeconds (default 10); SIGHUP
re-reads the config file (accounts and MT routes; see docs/management.md).
`;

const logLevels: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export async function serveCommand(argv: string[]): Promise<number> {
  let values: { config?: string; http?: string; smpp?: string; store?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        http: { type: 'string' },
        smpp: { type: 'string' },
        store: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`smsgw serve: ${(err as Error).message}\n${help}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const env = process.env;
  const file = values.config ?? env.SMSGW_CONFIG;
  let config: GatewayConfig;
  const override = overrides({
    http: values.http ?? env.SMSGW_HTTP_LISTEN,
    smpp: values.smpp ?? env.SMSGW_SMPP_LISTEN,
    store: values.store ?? env.SMSGW_STORE,
  });
  try {
    if (file) config = loadConfigFile(file, env, override);
    else {
      config = defaultConfig();
      override(config as unknown as Record<string, unknown>);
      // The demo set-up is ours and sound (its routes name the account start-up makes):
      // only what was set over it is checked.
      const { http, smppServer, store } = config;
      validateConfig({ http: { listen: http.listen }, ...(smppServer ? { smppServer } : {}), store });
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${file ?? 'smsgw serve'}: invalid config\n${err.problems.join('\n')}\n`);
    return 2;
  }
  const level = env.SMSGW_LOG_LEVEL || config.log?.level || 'info';
  if (!logLevels.includes(level)) {
    process.stderr.write(`SMSGW_LOG_LEVEL: expected one of ${logLevels.join(', ')}\n`);
    return 2;
  }
  const log = createLogger(level as LogLevel);

  // A signal while starting is acted on once started (the default would kill the process).
  let app: Awaited<ReturnType<typeof startGateway>> | undefined;
  let signalled: string | null = null;
  let stopReleasing: (() => void) | undefined;
  const onSignal = (signal: string) => {
    signalled ??= signal;
    if (app) shutdown(app, signal);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  let closing = false;
  const shutdown = (running: NonNullable<typeof app>, signal: string) => {
    if (closing) return;
    closing = true;
    stopReleasing?.();
    log.info({ signal }, 'signal received');
    const graceMs = (config.shutdownGraceSeconds ?? 10) * 1000;
    // The last resort: whatever still holds the process does not keep it past the grace.
    setTimeout(() => {
      log.warn('shutdown grace over: exiting');
      process.exit(0);
    }, graceMs).unref();
    running.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };

  try {
    app = await startGateway(config, {
      demoAccount: !file,
      log,
      readConfig: file ? () => loadConfigFile(file, env, override) : undefined,
    });
  } catch (err) {
    // One line for what an operator can fix (port in use, store out of reach); no stack.
    const reason = err instanceof ListenError ? err.message : `cannot start: ${(err as Error).message}`;
    log.fatal({ reason }, 'start failed');
    process.stderr.write(`smsgw serve: ${reason}\n`);
    return 1;
  }

  // With no config file a person is trying the gateway out: the banner goes with the log
  // on stdout. Started from a config, stdout holds JSON lines only and the banner goes to stderr.
  const banner = file ? process.stderr : process.stdout;
  const out = (line: string) => banner.write(`${line}\n`);
  const http = `${config.http.tls ? 'https' : 'http'}://${app.httpAddress.address}:${app.httpAddress.port}`;
  out(`smsgw listening: HTTP ${http}`);
  out(`web console: ${http}/console (sign in with an account API key or an admin key)`);
  if (app.smppAddress) out(`smsgw listening: SMPP ${app.smppAddress.address}:${app.smppAddress.port}`);
  if (app.smppTlsAddress)
    out(`smsgw listening: SMPP/TLS ${app.smppTlsAddress.address}:${app.smppTlsAddress.port}`);
  if (app.metricsAddress)
    out(`smsgw listening: metrics http://${app.metricsAddress.address}:${app.metricsAddress.port}/metrics`);
  out(
    `store: ${redactStoreUrl(config.store)}; connectors: ${config.connectors.map((c) => `${c.id} (${c.type})`).join(', ') || 'none'}`,
  );
  if (app.created.apiKey) {
    out('demo account created; its credentials are shown this once:');
    out(`  API key:       ${app.created.apiKey}`);
    out(`  SMPP:          system_id demo, password ${app.created.smppPassword}`);
    out(
      `  try: curl -X POST ${http}/v1/messages -H 'Authorization: Bearer ${app.created.apiKey}' -H 'content-type: application/json' -d '{"to":"+447700900123","text":"Hello from smsgw"}'`,
    );
  }
  if (app.created.adminKey) out(`admin key for this run: ${app.created.adminKey}`);

  // Start-up's garbage (config, schemas, the first compilations) is collected now and the
  // memory it held given back, in each thread (the store's writer if it runs), and a burst's once the gateway is quiet
  // after it: V8 by itself waits for 100 s (src/app/memory.ts).
  releaseMemory(app.store);
  stopReleasing = releaseMemoryWhenQuiet(app.store);

  if (signalled) shutdown(app, signalled);
  // SIGHUP re-reads the config file: a file with a problem is refused, the old one stays.
  const running = app;
  if (file)
    process.on('SIGHUP', () => {
      running.management.reload('config').then(
        (result) => log.info({ changes: result.changes.length }, 'config reloaded'),
        (err) => log.error({ reason: (err as Error).message }, 'config not reloaded'),
      );
    });
  return 0;
}

/** The listen addresses and store the command line or environment give, set on the settings before they are checked. */
function overrides(o: { http?: string; smpp?: string; store?: string }) {
  return (raw: Record<string, unknown>): void => {
    const section = (name: string) => {
      const value = raw[name];
      if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
      const made: Record<string, unknown> = {};
      raw[name] = made;
      return made;
    };
    if (o.http) section('http').listen = o.http;
    if (o.smpp) section('smppServer').listen = o.smpp;
    if (o.store) raw.store = o.store;
  };
}
