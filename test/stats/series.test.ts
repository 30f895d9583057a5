// StatsSeries on a real SQLite store with a clock of the test's own: counts land in the
// minute they happened, buckets wider than a minute add them up, the delivery ratio and
// receipt latency percentiles come from the counts, the queue depth is each node's highest
// of a minute summed over nodes, a failed flush keeps its counts in their minute, and counts
// older than 7 days are purged.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Gateway, Message } from '../../src/core/index.ts';
import { type SeriesMetric, StatsSeries } from '../../src/stats/index.ts';
import { SqliteStore, type Store } from '../../src/store/index.ts';
import { makeMessage } from '../store/conformance.ts';

/** 2026-12-01T10:00:00Z: a whole hour, so buckets of 60 and 300 s start on it. */
const start = Date.UTC(2026, 11, 1, 10) / 1000;

async function setUp(t: import('node:test').TestContext) {
  const store = new SqliteStore(':memory:');
  await store.migrate();
  t.after(() => store.close());
  const clock = { ms: start * 1000 };
  const gateway = new EventEmitter();
  const node = (queueDepth?: () => number, over: Store = store) => {
    const series = new StatsSeries({ store: over, now: () => clock.ms, queueDepth });
    series.attach(gateway as unknown as Gateway);
    return series;
  };
  /** A status event now: accepted now, and submitted now unless `fields` say when. */
  const status = (fields: Partial<Message>) =>
    gateway.emit(
      'status',
      makeMessage({
        createdAt: clock.ms,
        ...(fields.status === 'submitted' ? { submittedAt: clock.ms } : {}),
        ...fields,
      }),
    );
  const read = (series: StatsSeries, metric: SeriesMetric, from: number, to: number, step = 60, more = {}) =>
    series.series({ metric, from, to, step, ...more }).then((s) => s.points);
  return { store, clock, gateway, node, status, read };
}

test('counts per minute and per wider bucket, filtered by account and connector, stored or not', async (t) => {
  const { clock, node, status, gateway, read } = await setUp(t);
  const series = node();
  status({ status: 'queued', accountId: 'a' });
  status({ status: 'scheduled', accountId: 'b' });
  clock.ms += 61_000; // 10:01:01
  status({ status: 'paused', accountId: 'a' });
  status({ status: 'submitted', accountId: 'a', connectorId: 'c1' });
  await series.flush();
  clock.ms += 4 * 60_000; // 10:05:01
  status({ status: 'queued', accountId: 'a' });
  status({ status: 'canceled', accountId: 'a' });
  gateway.emit(
    'inbound',
    makeMessage({
      direction: 'mo',
      status: 'received',
      accountId: '',
      connectorId: 'c1',
      createdAt: clock.ms,
    }),
  );

  assert.deepEqual(await read(series, 'accepted', start, start + 360), [
    [start, 1 + 1],
    [start + 60, 1],
    [start + 120, 0],
    [start + 180, 0],
    [start + 240, 0],
    [start + 300, 1],
    [start + 360, 0],
  ]);
  assert.deepEqual(await read(series, 'accepted', start, start + 360, 300), [
    [start, 3],
    [start + 300, 1],
  ]);
  assert.deepEqual(await read(series, 'accepted', start, start + 120, 60, { accountId: 'b' }), [
    [start, 1],
    [start + 60, 0],
    [start + 120, 0],
  ]);
  assert.deepEqual(await read(series, 'submitted', start, start + 300, 300, { connectorId: 'c1' }), [
    [start, 1],
    [start + 300, 0],
  ]);
  assert.deepEqual(await read(series, 'inbound', start + 300, start + 300, 60), [[start + 300, 1]]);
  // The same once everything is stored.
  await series.flush();
  assert.deepEqual(await read(series, 'accepted', start, start + 360, 300), [
    [start, 3],
    [start + 300, 1],
  ]);
});

test('delivery ratio and receipt latency percentiles per bucket', async (t) => {
  const { clock, node, status, read } = await setUp(t);
  const series = node();
  const receipt = (s: Message['status'], latencyMs: number) =>
    status({ status: s, connectorId: 'c1', submittedAt: clock.ms - latencyMs });
  for (let i = 0; i < 9; i++) receipt('delivered', 200);
  receipt('undelivered', 20_000);
  clock.ms += 60_000;
  receipt('delivered', 50);
  status({ status: 'failed', connectorId: 'c1' }); // refused at submit: no receipt, no latency

  assert.deepEqual(await read(series, 'delivery_ratio', start, start + 120), [
    [start, 0.9],
    [start + 60, 0.5],
    [start + 120, null],
  ]);
  // p50 of the first minute: the 5th of 9 in the 100–250 ms bucket, 100 + 150 × 5/9 ms.
  assert.deepEqual(await read(series, 'receipt_latency_p50', start, start + 120), [
    [start, 0.183],
    [start + 60, 0.05],
    [start + 120, null],
  ]);
  // p95: the 9.5th of 10, in the 10–30 s bucket that holds the one slow receipt.
  assert.deepEqual(await read(series, 'receipt_latency_p95', start, start + 60), [
    [start, 20],
    [start + 60, 0.095],
  ]);
  // Both minutes in one bucket, stored: the 10.45th of 11, 0.45 of the way through 10–30 s.
  await series.flush();
  assert.deepEqual(await read(series, 'receipt_latency_p95', start, start + 60, 120), [[start, 19]]);
});

test("queue depth: each node's highest of a minute, summed over nodes", async (t) => {
  const { clock, node, read } = await setUp(t);
  let depthOne = 5;
  const one = node(() => depthOne);
  const two = node(() => 3);
  await one.flush();
  depthOne = 40;
  clock.ms += 10_000;
  await one.flush();
  depthOne = 7;
  clock.ms += 10_000;
  await one.flush();
  await two.flush();
  // The minute is not over: this node's highest so far counts, the other's is not known yet.
  assert.deepEqual(await read(one, 'queued', start, start), [[start, 40]]);
  clock.ms += 60_000;
  await one.flush();
  await two.flush();
  assert.deepEqual(await read(one, 'queued', start, start + 60), [
    [start, 43],
    [start + 60, 7],
  ]);
  // Filters do not apply: the queue is the gateway's.
  assert.deepEqual(await read(two, 'queued', start, start, 60, { accountId: 'x' }), [[start, 43]]);
});

test('a flush the store refuses keeps its counts, in the minute they happened', async (t) => {
  const { store, clock, node, status, read } = await setUp(t);
  let refuse = true;
  // Only what StatsSeries uses of a store.
  const flaky = {
    addStatsCounts: (counts: Parameters<Store['addStatsCounts']>[0]) =>
      refuse ? Promise.reject(new Error('disk full')) : store.addStatsCounts(counts),
    statsSeries: (query: Parameters<Store['statsSeries']>[0]) => store.statsSeries(query),
    purgeStats: (before: number) => store.purgeStats(before),
  } as unknown as Store;
  const series = node(undefined, flaky);
  status({ status: 'queued' });
  await assert.rejects(series.flush(), /disk full/);
  clock.ms += 120_000;
  refuse = false;
  await series.flush();
  const fresh = node();
  assert.deepEqual(await read(fresh, 'accepted', start, start + 120), [
    [start, 1],
    [start + 60, 0],
    [start + 120, 0],
  ]);
});

test('counts older than 7 days are purged', async (t) => {
  const { clock, node, status, read } = await setUp(t);
  const series = node();
  status({ status: 'queued' });
  await series.flush();
  clock.ms += 7 * 24 * 3600_000 - 60_000;
  await series.flush();
  assert.deepEqual(await read(series, 'accepted', start, start), [[start, 1]]);
  clock.ms += 2 * 3600_000;
  await series.flush();
  assert.deepEqual(await read(series, 'accepted', start, start), [[start, 0]]);
});
