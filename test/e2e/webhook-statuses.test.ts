// An account's webhook reports the message statuses it chose (webhook.statuses), and by
// default `submitted` and every final status.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

test('webhook.statuses: only the chosen statuses are reported; the default reports submitted too', async (t) => {
  const finals = await webhookReceiver();
  const every = await webhookReceiver();
  t.after(() => finals.close());
  t.after(() => every.close());
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: finals, apiKeys: [finals-key-1], defaultFrom: ACME, webhook: { url: "${finals.url}", statuses: [delivered, undelivered] } }
  - { id: every, apiKeys: [every-key-1], defaultFrom: ACME, webhook: { url: "${every.url}" } }
connectors:
  - id: sim
    type: simulator
    deliveryDelayMs: 10
    outcomes: [{ to: "+1555000*", status: undelivered, error: "001" }]
routes:
  mt: [{ connectors: [sim] }]
`);
  t.after(() => gw.close());
  for (const [key, hooks] of [
    ['finals-key-1', finals],
    ['every-key-1', every],
  ] as const) {
    const call = api(gw.base, key);
    const ok = (await call('POST', '/v1/messages', { to: '+447700900301', text: 'a' })).body.id;
    const bad = (await call('POST', '/v1/messages', { to: '+15550001234', text: 'b' })).body.id;
    await waitFor(() => hooks.hooks.filter((h) => h.body.data.status !== 'submitted').length === 2);
    await new Promise((r) => setTimeout(r, 200));
    const seen = hooks.hooks.map(
      (h) => `${h.body.data.id === ok ? 'ok' : h.body.data.id === bad ? 'bad' : '?'}:${h.body.data.status}`,
    );
    assert.deepEqual(
      seen.sort(),
      key === 'finals-key-1'
        ? ['bad:undelivered', 'ok:delivered']
        : ['bad:submitted', 'bad:undelivered', 'ok:delivered', 'ok:submitted'],
    );
  }
});

test('webhook.statuses: an unknown status is a config error naming its path', async () => {
  await assert.rejects(
    gatewayFrom(`
accounts:
  - { id: a, apiKeys: [a-key-1234], webhook: { url: "http://127.0.0.1:9/h", statuses: [sent] } }
`),
    /accounts\[0\]\.webhook\.statuses\[0\]: expected one of submitted, delivered/,
  );
});
