// An alert to 10,000 recipients started while a bulk batch is going out: every alert
// message is submitted before the batch moves on, over both connectors of the route.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '../../src/core/index.ts';
import { api, gatewayFrom, waitFor } from '../e2e/helpers.ts';

const alertSize = 10_000;
const bulkSize = 4000;

test('a 10k alert during a running bulk batch goes out first, spread over the route', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: sim-a, type: simulator, deliveryDelayMs: 50, tps: 300 }
  - { id: sim-b, type: simulator, deliveryDelayMs: 50, tps: 300 }
routes:
  mt: [{ connectors: [sim-a, sim-b], strategy: failover }]
`);
  t.after(() => gw.close());
  const { store } = gw.app;
  const call = api(gw.base, 'acme-key-1');

  // The running batch (bulk priority), held to the connectors' tps, so it lasts.
  const batch = await call('POST', '/v1/batches', {
    from: 'ACME',
    text: 'Newsletter {{n}}',
    recipients: Array.from({ length: bulkSize }, (_, i) => ({
      to: `+4477009${String(i).padStart(5, '0')}`,
      vars: { n: String(i) },
    })),
  });
  assert.equal(batch.status, 202);
  assert.equal(batch.body.total, bulkSize);
  const batchId = batch.body.id as string;
  const left = async (groupId: string) => {
    const c = await store.countByStatus(groupId);
    return (c.queued ?? 0) + (c.scheduled ?? 0);
  };
  await waitFor(async () => (await left(batchId)) <= bulkSize - 200, 30_000, 'batch under way');

  const started = Date.now();
  const recipients = Array.from({ length: alertSize }, (_, i) => `+4478009${String(i).padStart(5, '0')}`);
  const res = await call('POST', '/v1/alerts', {
    text: 'Evacuate zone B now',
    recipients,
  });
  assert.equal(res.status, 202);
  assert.equal(res.body.total, alertSize);
  const alertId = res.body.id as string;
  const accepting = Date.now() - started;

  await waitFor(async () => (await left(alertId)) === 0, 120_000, 'every alert message submitted');
  const bulkLeft = await left(batchId);
  t.diagnostic(
    `alert of ${alertSize}: accepted in ${accepting} ms, all submitted after ${Date.now() - started} ms; ` +
      `${bulkLeft} of ${bulkSize} batch messages still waiting then`,
  );
  assert.ok(bulkLeft > 0, 'the batch had not drained when the alert was out');
  assert.equal((await call('GET', `/v1/batches/${batchId}`)).body.status, 'running');

  const all = async (groupId: string) => {
    const out: Message[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: Message[]; nextCursor: string | null } = await store.listMessages(
        { accountId: 'acme', groupId },
        cursor,
        500,
      );
      out.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  };
  const alert = await all(alertId);
  assert.equal(alert.length, alertSize);
  assert.ok(alert.every((m) => m.priority === 'emergency' && m.submittedAt !== null));
  const first = Math.min(...alert.map((m) => m.submittedAt!));
  const last = Math.max(...alert.map((m) => m.submittedAt!));
  // Bulk messages submitted while the alert went out: only those already on the wire.
  const overlapping = (await all(batchId)).filter(
    (m) => m.submittedAt !== null && m.submittedAt > first && m.submittedAt < last,
  ).length;
  assert.ok(overlapping < 200, `${overlapping} bulk messages went out during the alert`);
  // Spread over both connectors of the route, though it is a failover route.
  const onA = alert.filter((m) => m.connectorId === 'sim-a').length;
  const onB = alert.filter((m) => m.connectorId === 'sim-b').length;
  assert.equal(onA + onB, alertSize);
  assert.ok(onA > alertSize * 0.3 && onB > alertSize * 0.3, `sim-a ${onA}, sim-b ${onB}`);
});
