// Webhook receivers are isolated from one another: one that never answers, refuses
// connections or fails does not hold up another's events; each has its own requests in
// flight and its own bounded queue in memory (the rest waits in the store); a circuit opens
// after failures in a row, lets one probe through after its wait, and closes when the
// receiver is back — and every event is delivered once it is, after a restart too, its
// backlog at the drain's rate. An open circuit costs each event its stored row only, and the
// sweep reads only what came due since its last read. Real HTTP receivers, real SQLite;
// waits are on events (the drain's lower bound on time is the one thing timed).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore, type Store, type WebhookReceivers } from '../../src/store/index.ts';
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
    // Two in flight at once on two connections: they may arrive in either order.
    assert.equal(healthy.delivered.length, 10, 'each once');
    assert.deepEqual(sorted(healthy.delivered), range(10));
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
    // Three failures open it; a request already in flight then may fail too (two at most in flight).
    await until(() => sender.backlog === 0, 'every outcome recorded');
    // Only once the healthy receiver's last outcomes are recorded does the sender let it go.
    assert.deepEqual(sender.circuits(), [{ host, state: 'open' }]);
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

test('an open circuit costs each event its stored row and nothing more: no attempt, no other write, no read', async () => {
  const store = await openStore(`sqlite:${join(dir, 'open-cost.db')}`);
  const refusedUrl = `http://127.0.0.1:${await freePort()}/hooks`;
  const calls: string[] = [];
  const counting = wrapped(store, {
    enqueueWebhook(d) {
      calls.push('enqueue');
      return store.enqueueWebhook(d);
    },
    rescheduleWebhook(id, at, error) {
      calls.push('reschedule');
      return store.rescheduleWebhook(id, at, error);
    },
    finishWebhook(id, outcome) {
      calls.push('finish');
      return store.finishWebhook(id, outcome);
    },
    dueWebhooks(now, limit, receivers) {
      calls.push('read');
      return store.dueWebhooks(now, limit, receivers);
    },
  });
  // The sender asks the time once per poll tick (the sweep's turn) when idle: ticks are counted by it.
  let clockReads = 0;
  const circuits: CircuitState[] = [];
  const sender = new WebhookSender({
    store: counting,
    receiverConcurrency: 1,
    circuitFailures: 1,
    // Not half-open again, and the failed one not due again, within the test.
    circuitOpenMs: 3600_000,
    retryBaseMs: 3600_000,
    pollMs: 10,
    now() {
      clockReads++;
      return Date.now();
    },
    onCircuit: (_host, state) => circuits.push(state),
  });
  sender.start();
  try {
    await sender.enqueue('dead', refusedUrl, null, { type: 't', data: { n: 0 } });
    await until(
      () => circuits.includes('open') && sender.backlog === 0,
      'the circuit opens, the failure recorded',
    );
    calls.length = 0;
    for (const n of range(100)) await sender.enqueue('dead', refusedUrl, null, { type: 't', data: { n } });
    const ticksFrom = clockReads;
    await until(() => clockReads >= ticksFrom + 20, 'twenty poll ticks at least');
    assert.deepEqual(
      calls,
      Array(100).fill('enqueue'),
      'one stored row per event; not tried, not rescheduled, and its backlog not read by the sweep',
    );
    assert.deepEqual(circuits, ['open']);
  } finally {
    sender.stop();
    await store.close();
  }
});

test('the sweep reads on from where its last read ended, and reads only when a retry has come due', async () => {
  const store = await openStore(`sqlite:${join(dir, 'sweep.db')}`);
  const reads: Array<WebhookReceivers | undefined> = [];
  const counting = wrapped(store, {
    dueWebhooks(now, limit, receivers) {
      reads.push(receivers);
      return store.dueWebhooks(now, limit, receivers);
    },
  });
  // The first five requests fail (one per event): each is retried once, then delivered.
  let requests = 0;
  const flaky = await receiver(() => (++requests <= 5 ? 503 : 200));
  const sender = new WebhookSender({ store: counting, retryBaseMs: 50, pollMs: 10, circuitFailures: 100 });
  sender.start();
  try {
    for (const n of range(5)) await sender.enqueue('acme', flaky.url, null, { type: 't', data: { n } });
    await until(() => sorted(flaky.delivered).length === 5, 'each delivered after its retry');
    assert.deepEqual(sorted(flaky.delivered), range(5));
    await until(() => sender.backlog === 0, 'every outcome recorded');
    const sweeps = reads.filter((r) => r?.only === undefined);
    assert.equal(sweeps[0]?.dueAfter, undefined, 'the first read, at start, is from the start');
    assert.ok(
      sweeps.slice(1).every((r) => r?.dueAfter !== undefined),
      'the later ones from where the last ended',
    );
    // A read per retry at most (two when one is written during a read), not one per poll tick.
    assert.ok(sweeps.length <= 1 + 2 * 5, `${sweeps.length} sweeps`);
  } finally {
    sender.stop();
    await flaky.close();
    await store.close();
  }
});

test('what waits in the store behind an open circuit is delivered after a restart', async () => {
  const file = `sqlite:${join(dir, 'restart.db')}`;
  let store = await openStore(file);
  let up = false;
  const flaky = await receiver(() => (up ? 200 : 503));
  const circuits: CircuitState[] = [];
  let sender = new WebhookSender({
    store,
    receiverConcurrency: 1,
    circuitFailures: 1,
    circuitOpenMs: 3600_000,
    retryBaseMs: 3600_000,
    pollMs: 10,
    onCircuit: (_host, state) => circuits.push(state),
  });
  sender.start();
  try {
    await sender.enqueue('acme', flaky.url, null, { type: 't', data: { n: 0 } });
    await until(() => circuits.includes('open') && sender.backlog === 0, 'the circuit opens');
    for (const n of range(30))
      await sender.enqueue('acme', flaky.url, null, { type: 't', data: { n: n + 1 } });
    assert.equal(flaky.events.length, 1, 'none of them tried while the circuit is open');
    sender.stop();
    await store.close();

    // Restarted, with the receiver back: the thirty waiting are sent (the failed one is due in an hour).
    up = true;
    store = await openStore(file);
    sender = new WebhookSender({ store, pollMs: 10 });
    sender.start();
    await until(() => flaky.delivered.length >= 30, 'the thirty sent after the restart');
    assert.deepEqual(
      sorted(flaky.delivered),
      range(30).map((n) => n + 1),
    );
  } finally {
    sender.stop();
    await flaky.close();
    await store.close();
  }
});

test("a receiver whose circuit closes again drains its backlog at the drain's rate, not in a burst", async () => {
  const store = await openStore(`sqlite:${join(dir, 'drain.db')}`);
  // The first request fails and opens the circuit; the probe is held until the receiver is back.
  let requests = 0;
  let up = false;
  const flaky = await receiver(() => (requests++ === 0 ? 503 : up ? 200 : null));
  const circuits: Array<[CircuitState, number]> = [];
  const sender = new WebhookSender({
    store,
    receiverConcurrency: 1,
    circuitFailures: 1,
    circuitOpenMs: 50,
    retryBaseMs: 3600_000,
    drainPerSecond: 20,
    pollMs: 10,
    onCircuit: (_host, state) => circuits.push([state, Date.now()]),
  });
  sender.start();
  try {
    await sender.enqueue('acme', flaky.url, null, { type: 't', data: { n: 0 } });
    await until(() => circuits.some(([state]) => state === 'open'), 'the circuit opens');
    for (const n of range(60))
      await sender.enqueue('acme', flaky.url, null, { type: 't', data: { n: n + 1 } });
    up = true;
    flaky.release();
    await until(() => circuits.some(([state]) => state === 'closed'), 'closed by a probe that passed');
    const closedAt = circuits.find(([state]) => state === 'closed')![1];
    await until(() => flaky.delivered.length >= 60, 'the sixty sent');
    // After the probe's one, a bucket of 20, then 20 a second: the other 39 take 1.95 s at least.
    const tookMs = Date.now() - closedAt;
    assert.ok(tookMs >= 1900, `drained in ${tookMs} ms`);
    assert.deepEqual(
      sorted(flaky.delivered),
      range(60).map((n) => n + 1),
    );
    assert.equal(flaky.delivered.length, 60, 'each once');
  } finally {
    sender.stop();
    await flaky.close();
    await store.close();
  }
});
