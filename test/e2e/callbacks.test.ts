// Client-supplied callback URLs on every front door (CONTRACT §8): a message's callbackUrl,
// a batch's, Twilio's StatusCallback, Kannel's and Jasmin's dlr-url are refused when they
// lead to an internal address (each API in its own error shape), and nothing reaches the
// receiver listening there; the account webhook written in the config is still called.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { callbackReceiver } from '../compat/helpers.ts';
import { gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

let gw: Awaited<ReturnType<typeof gatewayFrom>>;
let internal: Awaited<ReturnType<typeof callbackReceiver>>;
let configured: Awaited<ReturnType<typeof webhookReceiver>>;
const accountSid = 'AC00000000000000000000000000000007';

before(async () => {
  internal = await callbackReceiver();
  configured = await webhookReceiver();
  gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - id: acme
    apiKeys: [acme-key-0001]
    defaultFrom: ACME
    twilio: { accountSid: ${accountSid} }
    webhook: { url: "${configured.url}" }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 20 }
routes:
  mt: [{ connectors: [sim] }]
`);
});
after(async () => {
  await gw.close();
  await internal.close();
  await configured.close();
});

const port = () => new URL(internal.base).port;
/** The receiver's address, spelt as an attacker would. */
const spellings = () => [
  `http://127.0.0.1:${port()}/x`,
  `http://localhost:${port()}/x`,
  `http://0x7f000001:${port()}/x`,
  `http://2130706433:${port()}/x`,
  `http://[::ffff:127.0.0.1]:${port()}/x`,
  `http://[::1]:${port()}/x`,
  'http://169.254.169.254/latest/meta-data/',
];

const post = (path: string, body: unknown) =>
  fetch(`${gw.base}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer acme-key-0001', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test('REST: a callbackUrl to an internal address is 400 callback_not_allowed', async () => {
  for (const callbackUrl of spellings()) {
    const res = await post('/v1/messages', { to: '+447700900001', text: 'hi', callbackUrl });
    assert.equal(res.status, 400, callbackUrl);
    const { error } = (await res.json()) as { error: { code: string; field: string } };
    assert.deepEqual([error.code, error.field], ['callback_not_allowed', 'callbackUrl'], callbackUrl);
  }
  // The configured webhook, on the same loopback, is trusted: a message without its own
  // callbackUrl reports there.
  const res = await post('/v1/messages', { to: '+447700900002', text: 'hi' });
  assert.equal(res.status, 202);
  const { id } = (await res.json()) as { id: string };
  await waitFor(() => configured.hooks.find((h) => h.body.data.id === id), 10_000, 'account webhook');
});

test('batches: a callbackUrl to an internal address is 400 callback_not_allowed', async () => {
  for (const callbackUrl of spellings()) {
    const res = await post('/v1/batches', {
      text: 'hi {{name}}',
      recipients: [{ to: '+447700900003', vars: { name: 'Ann' } }],
      callbackUrl,
    });
    assert.equal(res.status, 400, callbackUrl);
    const { error } = (await res.json()) as { error: { code: string; field: string } };
    assert.deepEqual([error.code, error.field], ['callback_not_allowed', 'callbackUrl'], callbackUrl);
  }
});

test('Twilio: an internal StatusCallback is refused with 21609', async () => {
  for (const url of spellings()) {
    const res = await fetch(`${gw.base}/2010-04-01/Accounts/${accountSid}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${accountSid}:acme-key-0001`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ To: '+447700900004', From: 'ACME', Body: 'hi', StatusCallback: url }),
    });
    assert.equal(res.status, 400, url);
    assert.equal(((await res.json()) as { code: number }).code, 21609, url);
  }
});

test('Kannel and Jasmin: an internal dlr-url is refused in their own words', async () => {
  for (const url of spellings()) {
    const kannel = await fetch(
      `${gw.base}/cgi-bin/sendsms?${new URLSearchParams({
        username: 'acme',
        password: 'acme-key-0001',
        to: '447700900005',
        text: 'hi',
        'dlr-mask': '3',
        'dlr-url': url,
      })}`,
    );
    assert.equal(kannel.status, 400, url);
    assert.match(await kannel.text(), /^DLR-URL not allowed .*, rejected$/);
    const jasmin = await fetch(
      `${gw.base}/send?${new URLSearchParams({
        username: 'acme',
        password: 'acme-key-0001',
        to: '447700900006',
        content: 'hi',
        'dlr-url': url,
        'dlr-level': '2',
      })}`,
    );
    assert.equal(jasmin.status, 400, url);
    assert.match(await jasmin.text(), /^Error "Argument \[dlr-url\] is not allowed/);
  }
  // Nothing of all this was sent, so nothing can call the receiver.
  assert.equal(internal.requests.length, 0);
});
