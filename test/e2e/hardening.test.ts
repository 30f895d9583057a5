// Hardening of the HTTP front door (issue #15): bodies nested too deep, far-future dates and
// oversized texts are clear 400s (never a 500), the Bearer scheme in any case, /health tells
// nothing of the internals, and /metrics behind a key or on a listener of its own.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CommandStatus } from '../../src/smpp/index.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { esme, gatewayFrom } from './helpers.ts';

let gw: Awaited<ReturnType<typeof gatewayFrom>>;

before(async () => {
  gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-0001] }
metrics: { apiKey: metrics-key-0001 }
accounts:
  - { id: acme, apiKeys: [acme-key-0001], defaultFrom: ACME, smpp: { systemId: acme, password: secret } }
connectors:
  - { id: sim, type: simulator }
routes:
  mt: [{ connectors: [sim] }]
`);
});
after(() => gw.close());

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${gw.base}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer acme-key-0001', 'content-type': 'application/json', ...headers },
    body,
  });

async function refusal(res: Response): Promise<{ status: number; code: string; field?: string }> {
  const { error } = (await res.json()) as { error: { code: string; field?: string } };
  return { status: res.status, code: error.code, ...(error.field ? { field: error.field } : {}) };
}

test('a deeply nested body with an Idempotency-Key is a 400, not a 500', async () => {
  const depth = 100_000;
  const body = `{"to":"+447700900001","text":"hi","extra":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const res = await post('/v1/messages', body, { 'idempotency-key': 'deep-1' });
  assert.deepEqual(await refusal(res), { status: 400, code: 'invalid_body' });
  // A body of ordinary depth still works with a key.
  const ok = await post('/v1/messages', '{"to":"+447700900001","text":"hi"}', {
    'idempotency-key': 'flat-1',
  });
  assert.equal(ok.status, 202);
});

test('sendAt more than 10 years ahead is refused (messages and batches)', async () => {
  const far = new Date(Date.now() + 11 * 365 * 24 * 3600_000).toISOString();
  assert.deepEqual(
    await refusal(
      await post('/v1/messages', JSON.stringify({ to: '+447700900001', text: 'hi', sendAt: far })),
    ),
    { status: 400, code: 'invalid_send_at', field: 'sendAt' },
  );
  assert.deepEqual(
    await refusal(
      await post(
        '/v1/batches',
        JSON.stringify({
          text: 'hi',
          recipients: [{ to: '+447700900001' }],
          sendAt: '+100000-01-01T00:00:00Z',
        }),
      ),
    ),
    { status: 400, code: 'invalid_send_at', field: 'sendAt' },
  );
  const near = new Date(Date.now() + 9 * 365 * 24 * 3600_000).toISOString();
  const ok = await post('/v1/messages', JSON.stringify({ to: '+447700900001', text: 'hi', sendAt: near }));
  assert.equal(ok.status, 202);
});

test('a far-future schedule is refused on SMPP and Kannel too', async (t) => {
  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
  client.start();
  t.after(() => client.stop());
  await client.waitBound();
  const far = await client.request(submitSm({ scheduleDeliveryTime: '991231235959000+' }));
  assert.equal(far.commandStatus, CommandStatus.ESME_RINVSCHED);
  const near = await client.request(submitSm({ scheduleDeliveryTime: '000001000000000R' }));
  assert.equal(near.commandStatus, CommandStatus.ESME_ROK);
  const kannel = await fetch(
    `${gw.base}/cgi-bin/sendsms?${new URLSearchParams({ username: 'acme', password: 'acme-key-0001', to: '447700900001', text: 'hi', deferred: String(11 * 365 * 24 * 60) })}`,
  );
  assert.equal(kannel.status, 400);
  assert.match(await kannel.text(), /within 10 years/);
});

test('the segment calculator takes no more text than a message', async () => {
  const text = 'a'.repeat(500_000);
  assert.deepEqual(await refusal(await post('/v1/messages/segments', JSON.stringify({ text }))), {
    status: 400,
    code: 'invalid_field',
    field: 'text',
  });
  const get = await fetch(`${gw.base}/v1/messages/segments?text=${'a'.repeat(12_000)}`, {
    headers: { authorization: 'Bearer acme-key-0001' },
  });
  assert.deepEqual(await refusal(get), { status: 400, code: 'invalid_field', field: 'text' });
  const ok = await post('/v1/messages/segments', JSON.stringify({ text: 'a'.repeat(10_000) }));
  assert.equal(ok.status, 200);
});

test('the Bearer scheme is read in any case', async () => {
  for (const scheme of ['bearer', 'BEARER', 'Bearer', 'bEaReR']) {
    const res = await fetch(`${gw.base}/v1/messages?limit=1`, {
      headers: { authorization: `${scheme} acme-key-0001` },
    });
    assert.equal(res.status, 200, scheme);
    const admin = await fetch(`${gw.base}/v1/admin/accounts`, {
      headers: { authorization: `${scheme} admin-key-0001` },
    });
    assert.equal(admin.status, 200, scheme);
  }
});

test('/metrics asks for the metrics key or an admin key', async () => {
  const metrics = (key?: string) =>
    fetch(`${gw.base}/metrics`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  assert.equal((await metrics()).status, 401);
  assert.equal((await metrics('acme-key-0001')).status, 401);
  for (const key of ['metrics-key-0001', 'admin-key-0001']) {
    const res = await metrics(key);
    assert.equal(res.status, 200, key);
    assert.match(await res.text(), /smsgw_queue_depth/);
  }
});

test('/metrics on a listener of its own is not served on the API listener', async (t) => {
  const own = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
metrics: { listen: 127.0.0.1:0 }
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }
`);
  t.after(() => own.close());
  assert.equal((await fetch(`${own.base}/metrics`)).status, 404);
  const address = own.app.metricsAddress!;
  const res = await fetch(`http://127.0.0.1:${address.port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /smsgw_queue_depth/);
});

test('/health tells whether the store answers, not what it is or where', async (t) => {
  const down = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }
`);
  t.after(() => down.close().catch(() => {}));
  const up = await fetch(`${down.base}/health`);
  assert.deepEqual([up.status, await up.json()], [200, { status: 'ok' }]);
  await down.app.store.close();
  const res = await fetch(`${down.base}/health`);
  assert.deepEqual([res.status, await res.json()], [503, { status: 'unavailable' }]);
});
