// Webhook receivers are isolated from one another: one that never answers, refuses
// connections or fails does not hold up another's events; each has its own requests in
// flight and its own bounded queue in memory (the rest waits in the store); a circuit opens
// after failures in a row, lets one probe through after its wait, and closes when the
// receiver is back — and every event is delivered once it is. Real HTTP receivers, real
// SQLite; waits are on events, never on the clock.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { type CircuitState, WebhookSender } from '../../src/webhooks/index.ts';
import { freePort } from '../peers/ports.ts';

const dir = mkdtempSync(join(tmpdir(), 'smsgw-webhook-isolation-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Polls `check` every 10 ms until it holds; fails naming `what` if it never does. */
async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * An HTTP receiver: `status()` answers each request, or null holds the answer until
 * `release()`. `events` are the `data.n` of the requests, in arrival order.
 */
async function receiver(status: () => number | null = () => 200) {
  const events: number[] = [];
  const delivered: number[] = [];
  const held: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const n = (JSON.parse(raw) as { data: { n: number } }).data.n;
      events.push(n);
      const answer = (code: number) => {
        if (code >= 200 && code < 300) delivered.push(n);
        res.statusCode = code;
        res.end();
      };
      const code = status();
      if (code === null) held.push(() => answer(200));
      else answer(code);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    events,
    delivered,
    held,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    release() {
      for (const answer of held.splice(0)) answer();
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const sorted = (ns: number[]) => [...new Set(ns)].sort((a, b) => a - b);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test("a receiver that never answers holds only its own slots: another's events all arrive meanwhile", async () => {
  const store = await openStore(`sqlite:${join(dir, 'hang.db')}`);
  let holding = true;
  const hanging = await receiver(() => (holding ? null : 200));
  const healthy = await receiver();
  const sender = new WebhookSender({ store, concurrency: 4, receiverConcurrency: 2, pollMs: 20 });
  sender.start();
  try {
    for (const n of range(10)) await sender.enqueue('slow', hanging.url, null, { type: 't', data: { n } });
    await until(() => hanging.held.length >= 2, 'the hanging receiver holds requests');
    for (const n of range(10)) await sender.enqueue('other', healthy.url, null, { type: 't', data: { n } });
    await until(() => healthy.delivered.length === 10, "the other receiver's ten events");
    assert.deepEqual(healthy.delivered, range(10), 'in order, each once');
    assert.equal(hanging.held.length, 2, 'the hanging receiver still holds its two, and got no more');
    assert.equal(hanging.events.length, 2);

    // Back: everything it was sent reaches it, once each.
    holding = false;
    hanging.release();
    await until(() => hanging.delivered.length >= 10, 'the hanging receiver gets its ten once back');
    assert.deepEqual(sorted(hanging.delivered), range(10));
  } finally {
    sender.stop();
    await hanging.close();
    await healthy.close();
    await store.close();
  }
});

test("a refusing receiver: its circuit opens after failures in a row and it is not tried per event; another's events arrive", async () => {
  const store = await openStore(`sqlite:${join(dir, 'refuse.db')}`);
  const refusedUrl = `http://127.0.0.1:${await freePort()}/hooks`;
  const healthy = await receiver();
  const circuits: Array<[string, CircuitState]> = [];
  let attempts = 0;
  const sender = new WebhookSender({
    store,
    concurrency: 4,
    receiverConcurrency: 2,
    circuitFailures: 3,
    // Not half-open again, and the failed ones not due again, within the test.
    circuitOpenMs: 3600_000,
    retryBaseMs: 3600_000,
    pollMs: 20,
    onResult: (d) => {
      if (d.url === refusedUrl) attempts++;
    },
    onCircuit: (host, state) => circuits.push([host, state]),
  });
  sender.start();
  try {
    for (const n of range(20)) {
      await sender.enqueue('dead', refusedUrl, null, { type: 't', data: { n } });
      await sender.enqueue('other', healthy.url, null, { type: 't', data: { n } });
    }
    await until(() => healthy.delivered.length === 20, "the other receiver's twenty events");
    await until(() => circuits.length > 0, 'the circuit opens');
    const host = new URL(refusedUrl).host;
    assert.deepEqual(circuits, [[host, 'open']]);
    assert.deepEqual(sender.circuits(), [{ host, state: 'open' }]);
    // Three failures open it; a request already in flight then may fail too (two at most in flight).
    await until(() => sender.backlog === 0, 'every outcome recorded');
    assert.ok(attempts >= 3 && attempts <= 4, `tried ${attempts} times, not once per event`);
    // The others wait in the store, due, for the circuit to let them through.
    const waiting = (await store.dueWebhooks(Date.now(), 100)).filter((d) => d.url === refusedUrl);
    assert.equal(waiting.length, 20 - attempts);
    assert.ok(waiting.every((d) => d.attempts === 0));
  } finally {
    sender.stop();
    await healthy.close();
    await store.close();
  }
});

test('a circuit lets one probe through after its wait and closes once the receiver is back; nothing is lost', async () => {
  const store = await openStore(`sqlite:${join(dir, 'recover.db')}`);
  let up = false;
  const flaky = await receiver(() => (up ? 200 : 503));
  const circuits: CircuitState[] = [];
  const sender = new WebhookSender({
    store,
    concurrency: 4,
    receiverConcurrency: 2,
    circuitFailures: 2,
    circuitOpenMs: 50,
    retryBaseMs: 50,
    pollMs: 20,
    onCircuit: (_host, state) => circuits.push(state),
  });
  sender.start();
  try {
    for (const n of range(10)) await sender.enqueue('acme', flaky.url, null, { type: 't', data: { n } });
    // Open, then probed (one request) and opened again while the receiver still fails.
    await until(() => circuits.filter((s) => s === 'open').length >= 2, 'opened, probed, opened again');
    assert.deepEqual(circuits.slice(0, 3), ['open', 'half-open', 'open']);
    const whileOpen = flaky.events.length;
    assert.ok(whileOpen < 10, `tried ${whileOpen} times before the receiver was back`);

    up = true;
    await until(() => circuits.at(-1) === 'closed', 'closed after a probe that passed');
    await until(() => sorted(flaky.delivered).length === 10, 'all ten delivered');
    assert.deepEqual(sorted(flaky.delivered), range(10));
    await until(() => sender.backlog === 0, 'every outcome recorded');
    assert.equal((await store.dueWebhooks(Date.now() + 3600_000, 100)).length, 0, 'nothing left to send');
    assert.deepEqual(sender.circuits(), [], 'a closed, idle receiver holds no state');
  } finally {
    sender.stop();
    await flaky.close();
    await store.close();
  }
});

test("a receiver's queue in memory is bounded: the rest waits in the store and is read as it drains", async () => {
  const store = await openStore(`sqlite:${join(dir, 'bound.db')}`);
  let holding = true;
  const slow = await receiver(() => (holding ? null : 200));
  const sender = new WebhookSender({ store, receiverConcurrency: 2, receiverBacklog: 4, pollMs: 20 });
  sender.start();
  try {
    for (const n of range(30)) await sender.enqueue('acme', slow.url, null, { type: 't', data: { n } });
    await until(() => slow.held.length === 2, 'two in flight');
    assert.equal(sender.backlog, 4, 'two in flight and two ready in memory; the other 26 in the store');

    holding = false;
    slow.release();
    await until(() => slow.delivered.length >= 30, 'all thirty sent');
    assert.deepEqual(sorted(slow.delivered), range(30), 'each of them');
    assert.equal(slow.delivered.length, 30, 'each once');
  } finally {
    sender.stop();
    await slow.close();
    await store.close();
  }
});
