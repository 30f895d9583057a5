// The outbound URL policy for client-supplied callbacks: every spelling of an internal
// address refused when the URL is given, the operator's allow list, and the webhook
// sender judging the address again on connecting (real sockets, real SQLite).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/index.ts';
import { GatewayError } from '../../src/core/index.ts';
import { openStore } from '../../src/store/index.ts';
import { OutboundPolicy, WebhookSender } from '../../src/webhooks/index.ts';
import { waitFor, webhookReceiver } from '../e2e/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'smsgw-outbound-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Internal addresses, each in a spelling a naive check lets through. */
export const internalUrls = [
  'http://127.0.0.1:9000/hook',
  'http://localhost:9000/hook',
  'http://LOCALHOST./hook',
  'http://0x7f000001/',
  'http://2130706433/',
  'http://017700000001/',
  'http://0177.0.0.1/',
  'http://127.1/',
  'http://0/',
  'http://0.0.0.0/',
  'http://[::]/',
  'http://[::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
  'http://[::127.0.0.1]/',
  'http://[64:ff9b::7f00:1]/',
  'http://[64:ff9b::169.254.169.254]/',
  'http://[64:ff9b:1::a00:1]/',
  'http://[2002:7f00:1::1]/',
  'http://[2002:c0a8:101::]/',
  'http://169.254.169.254/latest/meta-data/',
  'http://[fe80::1]/',
  'http://[fd00:ec2::254]/',
  'http://[ff02::1]/',
  'http://10.1.2.3/',
  'http://172.16.0.1/',
  'http://192.168.1.1/',
  'http://100.64.0.1/',
  'http://192.0.2.1/',
  'http://198.18.0.1/',
  'http://224.0.0.1/',
  'http://239.255.255.250/',
  'http://255.255.255.255/',
  'http://[2001:db8::1]/',
  'https://127.0.0.1/',
];

test('every spelling of a loopback, private, link-local, multicast or reserved address is refused', async () => {
  const policy = new OutboundPolicy();
  for (const url of internalUrls) {
    const refusal = await policy.refusal(url);
    assert.ok(refusal?.startsWith('points at '), `${url} should be refused, got ${refusal}`);
  }
  for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'gopher://127.0.0.1/', 'not a url'])
    assert.notEqual(await policy.refusal(url), null, url);
});

test('public addresses pass, also when carried in IPv4-mapped, NAT64 or 6to4 form', async () => {
  const policy = new OutboundPolicy();
  for (const url of [
    'http://93.184.216.34/hook',
    'https://8.8.8.8:8443/x',
    'http://[2606:4700:4700::1111]/',
    'http://[::ffff:93.184.216.34]/',
    'http://[64:ff9b::5db8:d822]/',
    'http://[2002:5db8:d822::1]/',
  ])
    assert.equal(await policy.refusal(url), null, url);
});

test('check() answers 400 callback_not_allowed naming the field', async () => {
  await assert.rejects(
    new OutboundPolicy().check('http://[::ffff:127.0.0.1]:8080/', 'callbackUrl'),
    (err: GatewayError) =>
      err instanceof GatewayError &&
      err.code === 'callback_not_allowed' &&
      err.field === 'callbackUrl' &&
      err.httpStatus === 400,
  );
});

test('the operator allows ranges, addresses and host names', async () => {
  const policy = new OutboundPolicy([
    '127.0.0.0/8',
    'fd00::/8',
    '10.9.9.9',
    'hooks.internal.example',
    '*.corp.example',
  ]);
  for (const url of [
    'http://127.0.0.1:9000/',
    'http://0x7f000002/',
    'http://[::ffff:127.0.0.1]/',
    'http://localhost:9000/',
    'http://[fd00::1]/',
    'http://10.9.9.9/',
    'http://hooks.internal.example/',
    'http://HOOKS.internal.example./',
    'http://a.b.corp.example/',
  ])
    assert.equal(await policy.refusal(url), null, url);
  for (const url of ['http://10.9.9.8/', 'http://169.254.169.254/', 'http://[::1]/'])
    assert.notEqual(await policy.refusal(url), null, url);
  for (const host of ['corp.example.evil', 'evilcorp.example', 'hooks.internal.example.evil'])
    assert.equal(policy.allowsHost(host), false, host);
});

/** A sender whose every delivery is a client's (nothing trusted), and what it reported. */
function guardedSender(
  store: Awaited<ReturnType<typeof openStore>>,
  policy: OutboundPolicy,
  trusted = false,
) {
  const outcomes: Array<{ url: string; outcome: string; detail: string }> = [];
  const sender = new WebhookSender({
    store,
    pollMs: 20,
    retryBaseMs: 20,
    outbound: { policy, trusted: () => trusted },
    onResult: (d, outcome, detail) => outcomes.push({ url: d.url, outcome, detail }),
  });
  sender.start();
  return { sender, outcomes };
}

test('on connecting, a client URL leading to an internal address is refused and not tried again', async () => {
  const store = await openStore(`sqlite:${join(dir, 'connect.db')}`);
  const receiver = await webhookReceiver();
  const port = new URL(receiver.url).port;
  const { sender, outcomes } = guardedSender(store, new OutboundPolicy());
  try {
    // Stored straight into the queue, as a URL that passed its check when given and whose
    // name now resolves to loopback would be (DNS rebinding): the connection is judged.
    const urls = [
      `http://localhost:${port}/hooks`,
      `http://127.0.0.1:${port}/hooks`,
      `http://[::ffff:127.0.0.1]:${port}/hooks`,
    ];
    for (const url of urls) await sender.enqueue('acme', url, null, { type: 'message.status', data: {} });
    await waitFor(() => outcomes.length === urls.length || undefined, 10_000, 'every delivery decided');
    for (const o of outcomes) {
      assert.equal(o.outcome, 'abandoned', o.url);
      assert.match(o.detail, /callbacks may not reach/);
    }
    assert.equal(receiver.hooks.length, 0);
    assert.equal((await store.dueWebhooks(Date.now() + 3600_000, 10)).length, 0);
  } finally {
    sender.stop();
    await receiver.close();
    await store.close();
  }
});

test('on connecting, allowed names and ranges and trusted (configured) URLs are called', async () => {
  const receiver = await webhookReceiver();
  const port = new URL(receiver.url).port;
  const cases = [
    { name: 'allowed by name', policy: new OutboundPolicy(['localhost']), trusted: false, host: 'localhost' },
    {
      name: 'allowed by range',
      policy: new OutboundPolicy(['127.0.0.0/8']),
      trusted: false,
      host: 'localhost',
    },
    { name: 'trusted', policy: new OutboundPolicy(), trusted: true, host: '127.0.0.1' },
  ];
  try {
    for (const [i, c] of cases.entries()) {
      // A store each: a sender takes every due delivery of its store.
      const store = await openStore(`sqlite:${join(dir, `allowed-${i}.db`)}`);
      const { sender } = guardedSender(store, c.policy, c.trusted);
      try {
        await sender.enqueue('acme', `http://${c.host}:${port}/hooks`, null, { type: c.name, data: {} });
        await waitFor(() => receiver.hooks.find((h) => h.body.type === c.name), 10_000, c.name);
      } finally {
        sender.stop();
        await store.close();
      }
    }
  } finally {
    await receiver.close();
  }
});

test('a redirect is not followed, even to an allowed address', async () => {
  const store = await openStore(`sqlite:${join(dir, 'redirect.db')}`);
  const target = await webhookReceiver();
  const redirector = http.createServer((req, res) => {
    req.resume();
    res.writeHead(307, { location: target.url }).end();
  });
  await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
  const { sender, outcomes } = guardedSender(store, new OutboundPolicy(['127.0.0.0/8']));
  try {
    const port = (redirector.address() as AddressInfo).port;
    await sender.enqueue('acme', `http://127.0.0.1:${port}/`, null, { type: 'x', data: {} });
    const first = await waitFor(() => outcomes[0], 10_000, 'answered');
    assert.deepEqual([first.outcome, first.detail], ['retry', 'HTTP 307']);
    assert.equal(target.hooks.length, 0);
  } finally {
    sender.stop();
    redirector.close();
    await target.close();
    await store.close();
  }
});

test('callbacks.allow in the config: a bad entry is refused naming its path', () => {
  const config = parseConfig(
    'callbacks: { allow: ["127.0.0.0/8", "::1", "hooks.example.com", "*.corp.example"] }',
  );
  assert.deepEqual(config.callbacks?.allow.length, 4);
  assert.throws(
    () => parseConfig('callbacks: { allow: ["10.0.0.0/33", "hooks.example.com", "http://x/"] }'),
    (err: ConfigError) =>
      err instanceof ConfigError &&
      err.problems.length === 2 &&
      err.problems[0]!.startsWith('callbacks.allow[0]: ') &&
      err.problems[1]!.startsWith('callbacks.allow[2]: '),
  );
});
