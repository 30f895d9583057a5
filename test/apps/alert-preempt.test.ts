// An alert to 10,000 recipients started while a bulk run is going out: every alert message
// is submitted before the bulk backlog moves on, over both connectors of the route.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message, SubmitRequest } from '../../src/core/index.ts';
import { api, gatewayFrom, waitFor } from '../e2e/helpers.ts';

const alertSize = 10_000;
const bulkSize = 4000;

test('a 10k alert during a running bulk backlog goes out first, spread over the route', async (t) => {
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
  const { gateway, store } = gw.app;

  // The running batch: bulk messages, held to the connectors' tps, so the backlog lasts.
  const bulk: SubmitRequest[] = Array.from({ length: bulkSize }, (_, i) => ({
    to: `+4477009${String(i).padStart(5, '0')}`,
    text: `Newsletter ${i}`,
    priority: 'bulk',
    groupId: 'bulk-run',
  }));
  const accepted = await gateway.submitMany('acme', bulk, { defaultFrom: 'ACME' });
  assert.ok(accepted.every((r) => 'message' in r));
  const left = async (groupId: string) => {
    const c = await store.countByStatus(groupId);
    return (c.queued ?? 0) + (c.scheduled ?? 0);
  };
  await waitFor(async () => (await left('bulk-run')) <= bulkSize - 200, 30_000, 'bulk run under way');

  const started = Date.now();
  const recipients = Array.from({ length: alertSize }, (_, i) => `+4478009${String(i).padStart(5, '0')}`);
  const res = await api(gw.base, 'acme-key-1')('POST', '/v1/alerts', {
    text: 'Evacuate zone B now',
    recipients,
  });
  assert.equal(res.status, 202);
  assert.equal(res.body.total, alertSize);
  const alertId = res.body.id as string;
  const accepting = Date.now() - started;

  await waitFor(async () => (await left(alertId)) === 0, 120_000, 'every alert message submitted');
  const bulkLeft = await left('bulk-run');
  t.diagnostic(
    `alert of ${alertSize}: accepted in ${accepting} ms, all submitted after ${Date.now() - started} ms; ` +
      `${bulkLeft} of ${bulkSize} bulk messages still waiting then`,
  );
  assert.ok(bulkLeft > 0, 'the bulk backlog had not drained when the alert was out');

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
  const overlapping = (await all('bulk-run')).filter(
    (m) => m.submittedAt !== null && m.submittedAt > first && m.submittedAt < last,
  ).length;
  assert.ok(overlapping < 200, `${overlapping} bulk messages went out during the alert`);
  // Spread over both connectors of the route, though it is a failover route.
  const onA = alert.filter((m) => m.connectorId === 'sim-a').length;
  const onB = alert.filter((m) => m.connectorId === 'sim-b').length;
  assert.equal(onA + onB, alertSize);
  assert.ok(onA > alertSize * 0.3 && onB > alertSize * 0.3, `sim-a ${onA}, sim-b ${onB}`);
});
