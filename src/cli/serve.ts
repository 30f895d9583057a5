// `smsgw serve [--config FILE]` (also SMSGW_CONFIG): the gateway. With no config it runs
// the embedded default of CONTRACT §1 and prints where everything listens.
import { parseArgs } from 'node:util';
import { defaultConfig, startGateway } from '../app/index.ts';
import { ConfigError, loadConfigFile } from '../config/index.ts';
import { redactStoreUrl } from '../store/index.ts';

const help = `usage: smsgw serve [--config FILE]

Starts the gateway. Without --config (or SMSGW_CONFIG) it runs with SQLite under ./var,
the HTTP API on 127.0.0.1:8080, the SMPP server on 127.0.0.1:2775, a simulator connector
and a demo account whose credentials are printed on first start.
`;

export async function serveCommand(argv: string[]): Promise<number> {
  let values: { config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`smsgw serve: ${(err as Error).message}\n${help}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const file = values.config ?? process.env.SMSGW_CONFIG;
  let config = defaultConfig();
  if (file) {
    try {
      config = loadConfigFile(file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`${file}: invalid config\n${err.problems.join('\n')}\n`);
      return 2;
    }
  }
  let app: Awaited<ReturnType<typeof startGateway>>;
  try {
    app = await startGateway(config, { demoAccount: !file });
  } catch (err) {
    // A store from a newer smsgw, a certificate gone since the config was checked, a port in
    // use. Exits at once: what had started before the failure would hold the process open.
    process.stderr.write(`smsgw serve: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
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
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    out(`${signal}: shutting down`);
    await app.close();
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  return 0;
}
