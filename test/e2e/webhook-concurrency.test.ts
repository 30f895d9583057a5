// How many webhook requests one receiver gets at once (callbacks.receiverConcurrency, default
// 64): a receiver that holds every request sees exactly that many in flight, never more, and
// every event once it answers.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { api, gatewayFrom, waitFor } from './helpers.ts';

/** Holds each request until `release()`; counts them in flight and received. */
async function holdingReceiver() {
  const held: http.ServerResponse[] = [];
  const events: string[] = [];
  let inFlight = 0;
  let most = 0;
  let holding = true;
  const answer = (res: http.ServerResponse) => {
    inFlight--;
    res.end();
  };
  const server = http.createServer((req, res) => {
    inFlight++;
    most = Math.max(most, inFlight);
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      events.push((JSON.parse(raw) as { id: string }).id);
      if (holding) held.push(res);
      else answer(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    events,
    inFlight: () => inFlight,
    most: () => most,
    release() {
      holding = false;
      for (const res of held.splice(0)) answer(res);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function run(callbacks: string, messages: number, limit: number) {
  const receiver = await holdingReceiver();
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
${callbacks}
accounts:
  - { id: acme, apiKeys: [acme-key-0001], defaultFrom: ACME, webhook: { url: "${receiver.url}" } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 0 }
routes:
  mt: [{ connectors: [sim] }]
`);
  try {
    const call = api(gw.base, 'acme-key-0001');
    const ids: string[] = [];
    for (let i = 0; i < messages; i++) {
      const res = await call('POST', '/v1/messages', {
        to: `+4477009${String(i).padStart(5, '0')}`,
        text: 'hi',
      });
      assert.equal(res.status, 202);
      ids.push((res.body as { id: string }).id);
    }
    // Every message delivered: both its events (submitted, delivered) are stored and due.
    for (const id of ids)
      await waitFor(
        async () =>
          ((await call('GET', `/v1/messages/${id}`)).body as { status: string }).status === 'delivered',
        10_000,
        `${id} delivered`,
      );
    await waitFor(() => receiver.inFlight() === limit, 10_000, `${limit} requests in flight`);
    // Time for more to arrive, were the limit not held.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(receiver.inFlight(), limit);
    receiver.release();
    await waitFor(() => new Set(receiver.events).size === messages * 2, 10_000, 'every event');
    assert.equal(receiver.most(), limit);
  } finally {
    await gw.close();
    await receiver.close();
  }
}

test('callbacks.receiverConcurrency: a receiver gets that many requests at once, no more', async () => {
  await run('callbacks: { receiverConcurrency: 3 }', 12, 3);
});

test('by default a receiver gets 64 requests at once', async () => {
  await run('', 40, 64);
});
