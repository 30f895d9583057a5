// /metrics of a running gateway: prom-client's process and Node.js metrics under their
// standard names, counts by account and by error code, receipt latency, webhooks, ESME
// binds; and every metric the Grafana dashboard (deploy/grafana/smsgw.json) queries exists.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { api, esme, gatewayFrom, waitFor, webhookReceiver } from '../e2e/helpers.ts';
import { freePort } from '../peers/ports.ts';

interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
}

/** Metric names in a PromQL expression: ours and prom-client's defaults. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:smsgw|process|nodejs)_[a-zA-Z0-9_]+)\b/g)].map((m) => m[1]!);
}

test('metrics: standard process names, per account and error code, latencies, webhooks; the dashboard queries only what exists', async (t) => {
  let failFirst = true;
  const hooks = await webhookReceiver(() => {
    const status = failFirst ? 500 : 200;
    failFirst = false;
    return status;
  });
  t.after(() => hooks.close());
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db?writer=main
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, smpp: { systemId: acme, password: pw }, webhook: { url: "${hooks.url}" } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10, outcomes: [{ to: "+447700900999", status: undelivered, error: "001" }] }
routes: { mt: [{ connectors: [sim] }] }
`);
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'pw' });
  client.start();
  await client.waitBound();
  t.after(() => client.stop());
  const ok = (await call('POST', '/v1/messages', { to: '+447700900123', text: 'hi' })).body.id as string;
  const bad = (await call('POST', '/v1/messages', { to: '+447700900999', text: 'hi' })).body.id as string;
  const inbound = { from: '+447700900123', to: '+15550001', text: 'x' };
  assert.equal(
    (await api(gw.base, 'admin-key-123')('POST', '/v1/admin/connectors/sim/inbound', inbound)).status,
    202,
  );
  for (const id of [ok, bad])
    await waitFor(
      async () =>
        ['delivered', 'undelivered'].includes((await call('GET', `/v1/messages/${id}`)).body.status),
      10_000,
      `${id} final`,
    );
  await waitFor(() => hooks.hooks.length >= 4, 10_000, 'webhooks');

  const labelled = await waitFor(async () => {
    const body = await (await fetch(`${gw.base}/metrics`)).text();
    return /smsgw_webhook_attempts_total\{outcome="delivered",node="[^"]+"\} [1-9]/.test(body)
      ? body
      : undefined;
  });
  // Every sample names the node it comes from (its id among the store's nodes); the lines
  // below are checked without it.
  const node = `node="${gw.app.store.instanceId}"`;
  for (const line of labelled.split('\n').filter((l) => l !== '' && !l.startsWith('#')))
    assert.ok(line.includes(node), line);
  const text = labelled.replaceAll(`,${node}`, '').replaceAll(`{${node}}`, '');
  const sample = (line: RegExp) => assert.match(text, line);
  // prom-client's defaults under their own names, not prefixed.
  sample(/^process_cpu_seconds_total \d/m);
  sample(/^process_resident_memory_bytes \d/m);
  sample(/^nodejs_eventloop_lag_p99_seconds \d/m);
  sample(/^nodejs_heap_size_used_bytes \d/m);
  assert.doesNotMatch(text, /smsgw_process_/);
  sample(/^smsgw_account_messages_total\{account="acme",status="delivered",direction="outbound"\} 1$/m);
  sample(/^smsgw_message_errors_total\{account="acme",connector="sim",code="001"\} 1$/m);
  sample(/^smsgw_receipt_latency_seconds_count 2$/m);
  sample(/^smsgw_submit_latency_seconds_count 2$/m);
  sample(/^smsgw_connector_up\{connector="sim"\} 1$/m);
  sample(/^smsgw_esme_binds\{account="acme"\} 1$/m);
  sample(/^smsgw_messages_total\{status="received",connector="sim",direction="inbound"\} 1$/m);
  sample(/^smsgw_webhook_backlog \d+$/m);
  sample(/^smsgw_webhook_failures_total 1$/m);
  sample(/^smsgw_webhook_attempts_total\{outcome="retry"\} 1$/m);
  // Commits on the event loop (writer=main; with `auto` a slow disk may move them).
  sample(/^smsgw_store_writer_thread 0$/m);

  // Every metric a dashboard panel queries is one /metrics has (a family, or a histogram's series).
  const families = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!));
  const histograms = new Set([...text.matchAll(/^# TYPE (\S+) histogram$/gm)].map((m) => m[1]!));
  const exists = (name: string) =>
    families.has(name) ||
    [...histograms].some((h) => ['_bucket', '_sum', '_count'].some((s) => name === h + s));
  const dashboard = JSON.parse(readFileSync('deploy/grafana/smsgw.json', 'utf8')) as Dashboard;
  let queried = 0;
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      const names = metricNames(target.expr);
      assert.ok(names.length > 0, `${panel.title}: '${target.expr}' reads no metric`);
      for (const name of names) {
        assert.ok(exists(name), `${panel.title}: ${name} is not in /metrics`);
        queried++;
      }
    }
  }
  assert.ok(queried >= 20, `the dashboard queries ${queried} metrics`);
});

test('metrics: smsgw_store_writer_thread reads 1 while commits run on the writer thread', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db?writer=thread
`);
  t.after(() => gw.close());
  await waitFor(() => gw.app.store.writingOnThread, 15_000, 'the writer thread ready');
  const node = `node="${gw.app.store.instanceId}"`;
  assert.match(
    await (await fetch(`${gw.base}/metrics`)).text(),
    new RegExp(`^smsgw_store_writer_thread\\{${node}\\} 1$`, 'm'),
  );
});

test("metrics: a webhook receiver's circuit state, by host (2 once it opened)", async (t) => {
  const port = await freePort();
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, webhook: { url: "http://127.0.0.1:${port}/hooks" } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes: { mt: [{ connectors: [sim] }] }
`);
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  // Each message: a `submitted` and a `delivered` event, refused by the receiver; five
  // failures in a row open its circuit.
  for (let n = 0; n < 3; n++)
    assert.equal((await call('POST', '/v1/messages', { to: '+447700900123', text: `hi ${n}` })).status, 202);
  const node = `node="${gw.app.store.instanceId}"`;
  await waitFor(
    async () =>
      (await (await fetch(`${gw.base}/metrics`)).text()).includes(
        `smsgw_webhook_circuit_state{host="127.0.0.1:${port}",${node}} 2`,
      ) || undefined,
    15_000,
    'the circuit open in /metrics',
  );
});
