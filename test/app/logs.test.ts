// The gateway's log at `debug` through a whole working day in small: REST send, an ESME
// bind (and a refused one) and submit, a carrier bind, webhooks (failing, then delivered),
// a one-time password sent and checked. Every line is JSON, the events an operator needs
// are there, and no secret of the config or of the traffic is in any line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildHttpApi } from '../../src/api/index.ts';
import { createLogger, startGateway } from '../../src/app/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import type { AccountLimits, AccountRegistry, Gateway, Message } from '../../src/core/index.ts';
import { GatewayError } from '../../src/core/index.ts';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { shortMessagePdu } from '../../src/smpp/index.ts';
import { redactStoreUrl } from '../../src/store/index.ts';
import { api, esme, waitFor, webhookReceiver } from '../e2e/helpers.ts';

const secrets = {
  apiKey: 'acme-key-5f1c0d9e',
  adminKey: 'admin-key-77aa31',
  esmePassword: 'esmepw42',
  wrongPassword: 'wrongp99',
  carrierPassword: 'carpw777',
  webhookSecret: 'whsec-9d2b7e61c4',
  webhookPathToken: 'hooktoken-3a8f',
};

test('logs at debug: JSON lines with binds, refusals, webhook failures, start and stop; no secret in any', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-logs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const smsc = new SmscSimulator({
    deliveryDelayMs: 10,
    accounts: [{ systemId: 'gw', password: secrets.carrierPassword }],
  });
  const { port: smscPort } = await smsc.listen(0);
  t.after(() => smsc.close());
  let failFirst = 2;
  const hooks = await webhookReceiver(() => (failFirst-- > 0 ? 500 : 200));
  t.after(() => hooks.close());

  const lines: string[] = [];
  const log = createLogger('debug', { write: (line: string) => void lines.push(line) });
  const app = await startGateway(
    parseConfig(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:${dir}/gw.db
admin: { apiKeys: [${secrets.adminKey}] }
accounts:
  - id: acme
    apiKeys: [${secrets.apiKey}]
    defaultFrom: ACME
    smpp: { systemId: acme, password: ${secrets.esmePassword} }
    webhook: { url: "${hooks.url}?token=${secrets.webhookPathToken}", secret: ${secrets.webhookSecret} }
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: gw, password: ${secrets.carrierPassword} }
routes: { mt: [{ connectors: [carrier] }] }
`),
    { log },
  );
  let closed = false;
  t.after(() => (closed ? undefined : app.close()));
  const base = `http://127.0.0.1:${app.httpAddress.port}`;
  const call = api(base, secrets.apiKey);
  const codes: string[] = [];
  app.gateway.on('status', (m: Message) => {
    if (m.meta?.verify && m.status === 'queued') codes.push(/\d{4,10}/.exec(m.text!)![0]);
  });
  await waitFor(
    () => app.gateway.connectors.get('carrier')!.state().status === 'up',
    10_000,
    'carrier bound',
  );

  // REST, with its webhooks (the first two answered 500, then retried).
  const sent = await call('POST', '/v1/messages', { to: '+447700900123', text: 'hello by REST' });
  assert.equal(sent.status, 202);
  // An ESME refused, then bound, submitting.
  const refused = esme(app.smppAddress!.port, { systemId: 'acme', password: secrets.wrongPassword });
  refused.client.start();
  await waitFor(() => refused.client.state === 'stopped', 10_000, 'refused bind');
  const { client } = esme(app.smppAddress!.port, { systemId: 'acme', password: secrets.esmePassword });
  client.start();
  const session = await client.waitBound();
  const resp = await session.request(
    shortMessagePdu('submit_sm', {
      sourceAddr: 'ACME',
      destinationAddr: '447700900124',
      shortMessage: Buffer.from('by SMPP'),
    }),
  );
  assert.equal(resp.commandStatus, 0);
  // A one-time password, sent and checked.
  const verification = await call('POST', '/v1/verify', { to: '+447700900125' });
  assert.equal(verification.status, 201, JSON.stringify(verification.body));
  const id = verification.body.id as string;
  await waitFor(() => codes.length > 0, 10_000, 'code message');
  const checked = await call('POST', `/v1/verify/${id}/check`, { code: codes[0] });
  assert.equal(checked.body.status, 'approved');
  // Admin view and a change of the MO rules, with the admin key.
  const admin = api(base, secrets.adminKey);
  assert.equal((await admin('GET', '/v1/admin/connectors')).status, 200);
  assert.equal((await admin('PUT', '/v1/admin/routes/mo', { routes: [{ account: 'acme' }] })).status, 200);
  await waitFor(() => hooks.hooks.length >= 3, 30_000, 'webhooks delivered after the failures');
  await client.stop();
  await app.close();
  closed = true;

  const entries = lines.map((l) => JSON.parse(l) as { level: string; msg: string; [k: string]: unknown });
  const messages = entries.map((e) => e.msg);
  for (const expected of [
    'gateway started',
    'connector bind up',
    'ESME bind refused',
    'ESME bound',
    'webhook delivery failed',
    'MO routes replaced',
    'shutting down',
    'connector stopped',
    'shut down',
  ]) {
    assert.ok(
      messages.some((m) => m.startsWith(expected)),
      `'${expected}' is logged:\n${messages.join('\n')}`,
    );
  }
  const refusal = entries.find((e) => e.msg === 'ESME bind refused')!;
  assert.equal(refusal.systemId, 'acme');
  assert.equal(refusal.account, 'acme');
  assert.equal(refusal.status, 'ESME_RINVPASWD');
  assert.match(String(refusal.remote), /^127\.0\.0\.1:\d+$/);
  const hookFailure = entries.find((e) => e.msg === 'webhook delivery failed')!;
  assert.equal(hookFailure.host, new URL(hooks.url).host);
  const all = lines.join('\n');
  for (const [name, secret] of Object.entries({ ...secrets, code: codes[0]! }))
    assert.ok(!all.includes(secret), `the ${name} is in the log`);
});

test('a 500 is logged with its request id, which the answer carries as x-request-id', async (t) => {
  const lines: string[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(line) });
  const http = await buildHttpApi({
    // A store that writes: an unexpected error is then the gateway's own (a 500).
    gateway: { checkStore: async () => true } as unknown as Gateway,
    accounts: {} as AccountRegistry,
    adminKeyHashes: [],
    metrics: { contentType: 'text/plain', render: async () => '' },
    limits: {} as AccountLimits,
    routes: {},
    log,
    plugins: {
      public: [
        async (app) => {
          app.get('/boom', async () => {
            throw new Error('kaboom');
          });
          app.get('/busy', async () => {
            throw new GatewayError('store_unavailable', 'the store is out of reach', undefined, 503);
          });
        },
      ],
    },
  });
  t.after(() => http.close());
  const res = await http.inject({ method: 'GET', url: '/boom?x=1' });
  assert.equal(res.statusCode, 500);
  const requestId = res.headers['x-request-id'];
  assert.ok(typeof requestId === 'string' && requestId.length > 0);
  const ok = await http.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(ok.headers['x-request-id'], undefined, 'only failures carry the id');
  const entry = JSON.parse(lines.at(-1)!) as Record<string, unknown> & { err: { message: string } };
  assert.equal(entry.msg, 'HTTP request failed');
  assert.equal(entry.reqId, requestId);
  assert.equal(entry.url, '/boom');
  assert.equal(entry.status, 500);
  assert.equal(entry.err.message, 'kaboom');

  // A run of 503s: each answer has its id, the log one line for the run.
  lines.length = 0;
  for (let i = 0; i < 5; i++) {
    const busy = await http.inject({ method: 'GET', url: '/busy' });
    assert.equal(busy.statusCode, 503);
    assert.ok(busy.headers['x-request-id']);
  }
  assert.equal(lines.length, 1, lines.join(''));
  assert.equal(JSON.parse(lines[0]!).status, 503);
});

test('the store URL is logged without its password', () => {
  assert.equal(
    redactStoreUrl('postgres://smsgw:s3cret@db.example:5432/smsgw?lease_ms=30000'),
    'postgres://smsgw:***@db.example:5432/smsgw?lease_ms=30000',
  );
  assert.equal(redactStoreUrl('postgresql://db/smsgw?password=s3cret'), 'postgresql://db/smsgw?password=***');
  assert.equal(redactStoreUrl('sqlite:./var/smsgw.db'), 'sqlite:./var/smsgw.db');
});
