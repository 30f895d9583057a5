// Webhook delivery against a real HTTP receiver and a real SQLite store: signed, retried
// after failures, resumed by a new sender (a restart), abandoned after the give-up time;
// sent as stored (no read back), with slots freed by the answer, not by the write after it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore, type Store } from '../../src/store/index.ts';
import { verifyWebhook, WebhookSender } from '../../src/webhooks/index.ts';
import { waitFor, webhookReceiver } from '../e2e/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'smsgw-webhooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a failing receiver gets the event again until it answers 2xx, signed each time', async () => {
  const store = await openStore(`sqlite:${join(dir, 'a.db')}`);
  let calls = 0;
  const receiver = await webhookReceiver(() => (++calls <= 2 ? 500 : 204));
  const sender = new WebhookSender({ store, retryBaseMs: 50, pollMs: 20 });
  sender.start();
  try {
    await sender.enqueue('acme', receiver.url, 'whsec-1', {
      type: 'message.status',
      data: { id: 'm1', status: 'delivered' },
    });
    const hook = await waitFor(() => receiver.hooks[0], 10_000, 'delivered after retries');
    assert.equal(calls, 3);
    assert.equal(hook.body.type, 'message.status');
    assert.deepEqual(hook.body.data, { id: 'm1', status: 'delivered' });
    assert.match(hook.body.id, /^evt_/);
    assert.ok(
      verifyWebhook(
        'whsec-1',
        hook.raw,
        String(hook.headers['smsgw-signature']),
        Math.floor(Date.now() / 1000),
      ),
    );
    // Delivered is done: nothing due any more (once the sender has recorded the 2xx).
    await waitFor(
      async () => (await store.dueWebhooks(Date.now() + 3600_000, 10)).length === 0 || undefined,
      5_000,
      'finished',
    );
  } finally {
    sender.stop();
    await receiver.close();
    await store.close();
  }
});

test('a pending delivery survives a restart and is sent by the next sender', async () => {
  const file = `sqlite:${join(dir, 'b.db')}`;
  let store = await openStore(file);
  const receiver = await webhookReceiver();
  // Enqueued, never started: the process "dies" before sending.
  await new WebhookSender({ store }).enqueue('acme', receiver.url, null, {
    type: 'message.inbound',
    data: { text: 'hi' },
  });
  await store.close();
  store = await openStore(file);
  const sender = new WebhookSender({ store, pollMs: 20 });
  sender.start();
  try {
    const hook = await waitFor(() => receiver.hooks[0], 10_000, 'sent after restart');
    assert.equal(hook.body.type, 'message.inbound');
    assert.equal(hook.headers['smsgw-signature'], undefined, 'no secret, no signature');
  } finally {
    sender.stop();
    await receiver.close();
    await store.close();
  }
});

test('a receiver that never answers 2xx is abandoned after the give-up time', async () => {
  const store = await openStore(`sqlite:${join(dir, 'c.db')}`);
  const receiver = await webhookReceiver(() => 503);
  const outcomes: string[] = [];
  const sender = new WebhookSender({
    store,
    retryBaseMs: 20,
    pollMs: 10,
    giveUpAfterMs: 300,
    // Its circuit opens after five failures: its probes come soon enough for the give-up.
    circuitOpenMs: 20,
    onResult: (_d, outcome) => outcomes.push(outcome),
  });
  sender.start();
  try {
    await sender.enqueue('acme', receiver.url, 'whsec-1', { type: 'message.status', data: {} });
    await waitFor(() => outcomes.includes('abandoned') || undefined, 10_000, 'abandoned');
    assert.ok(outcomes.filter((o) => o === 'retry').length >= 1);
    assert.equal((await store.dueWebhooks(Date.now() + 3600_000, 10)).length, 0);
  } finally {
    sender.stop();
    await receiver.close();
    await store.close();
  }
});

/** The store, with some of its methods wrapped (the rest bound to it, private fields and all). */
function wrapped(store: Store, methods: Partial<Store>): Store {
  return new Proxy(store, {
    get(target, key) {
      if (Object.hasOwn(methods, key)) return methods[key as keyof Store];
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** An HTTP receiver that holds every answer until `open()`; `bodies` in arrival order. */
async function heldReceiver() {
  const bodies: string[] = [];
  const held: Array<() => void> = [];
  let open = false;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      bodies.push(raw);
      if (open) res.end();
      else held.push(() => res.end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    bodies,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    open() {
      open = true;
      for (const answer of held.splice(0)) answer();
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('stored events are sent without being read back; a backlog past the ready queue is read, each sent once', async () => {
  const store = await openStore(`sqlite:${join(dir, 'd.db')}`);
  let reads = 0;
  const counting = wrapped(store, {
    dueWebhooks: (now, limit) => {
      reads++;
      return store.dueWebhooks(now, limit);
    },
  });
  const receiver = await heldReceiver();
  receiver.open();
  // No poll ticks during the test: reads are the sender's own choice.
  const sender = new WebhookSender({ store: counting, concurrency: 2, pollMs: 3600_000 });
  sender.start();
  try {
    await waitFor(() => reads === 1 || undefined, 5_000, 'the read at start');
    await new Promise((r) => setTimeout(r, 50));
    for (let n = 0; n < 5; n++) await sender.enqueue('acme', receiver.url, null, { type: 't', data: { n } });
    await waitFor(() => receiver.bodies.length === 5 || undefined, 5_000, 'five sent');
    assert.equal(reads, 1, 'sent as stored, not read back');

    // Held answers: 2 in flight, 8 ready (4 × concurrency); the other 10 wait in the store.
    const heldOne = await heldReceiver();
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        sender.enqueue('acme', heldOne.url, null, { type: 't', data: { n } }),
      ),
    );
    await waitFor(() => heldOne.bodies.length === 2 || undefined, 5_000, 'two in flight');
    heldOne.open();
    await waitFor(() => heldOne.bodies.length >= 20 || undefined, 10_000, 'all twenty sent');
    await new Promise((r) => setTimeout(r, 100));
    const sent = heldOne.bodies.map((b) => (JSON.parse(b) as { data: { n: number } }).data.n);
    assert.deepEqual(
      [...sent].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, n) => n),
      'each once',
    );
    assert.ok(reads > 1, 'the overflow was read from the store');
    await heldOne.close();
  } finally {
    sender.stop();
    await receiver.close();
    await store.close();
  }
});

test('a slot is free once the receiver has answered, while the outcome is still being written', async () => {
  const store = await openStore(`sqlite:${join(dir, 'e.db')}`);
  const finishing: Array<() => void> = [];
  const slowFinish = wrapped(store, {
    finishWebhook: (id, outcome) =>
      new Promise<void>((resolve, reject) =>
        finishing.push(() => store.finishWebhook(id, outcome).then(resolve, reject)),
      ),
  });
  const receiver = await heldReceiver();
  receiver.open();
  const sender = new WebhookSender({ store: slowFinish, concurrency: 1, pollMs: 3600_000 });
  sender.start();
  try {
    for (let n = 0; n < 3; n++) await sender.enqueue('acme', receiver.url, null, { type: 't', data: { n } });
    await waitFor(() => receiver.bodies.length === 3 || undefined, 5_000, 'all three sent');
    assert.equal(finishing.length, 3, 'no outcome written yet');
    for (const finish of finishing.splice(0)) finish();
    await waitFor(
      async () => (await store.dueWebhooks(Date.now() + 3600_000, 10)).length === 0 || undefined,
      5_000,
      'all finished',
    );
    assert.equal(receiver.bodies.length, 3, 'none sent twice');
  } finally {
    sender.stop();
    await receiver.close();
    await store.close();
  }
});
