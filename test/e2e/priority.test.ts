// Priorities: with the connector held to its tps, emergency and otp messages accepted after
// a backlog of bulk ones overtake it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gatewayFrom, waitFor } from './helpers.ts';

test('emergency and otp overtake a bulk backlog', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: slow, type: simulator, deliveryDelayMs: 10, tps: 20 }
routes:
  mt: [{ connectors: [slow] }]
`);
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const bulk: string[] = [];
  for (let i = 0; i < 30; i++)
    bulk.push(
      (await call('POST', '/v1/messages', { to: '+447700900200', text: `bulk ${i}`, priority: 'bulk' })).body
        .id,
    );
  const otp = (
    await call('POST', '/v1/messages', { to: '+447700900201', text: 'code 123456', priority: 'otp' })
  ).body.id;
  const emergency = (
    await call('POST', '/v1/messages', { to: '+447700900202', text: 'evacuate', priority: 'emergency' })
  ).body.id;

  const submitted = async (id: string) =>
    Date.parse((await call('GET', `/v1/messages/${id}`)).body.submittedAt ?? '') || undefined;
  const tEmergency = await waitFor(() => submitted(emergency), 10_000);
  const tOtp = await waitFor(() => submitted(otp), 10_000);
  const lastBulk = await waitFor(() => submitted(bulk.at(-1)!), 10_000);
  assert.ok(tEmergency <= tOtp, 'emergency before otp');
  assert.ok(tOtp < lastBulk, 'otp before the end of the bulk backlog');
  // At 20/s the 30 bulk messages take over a second; the urgent ones went within the first part of it.
  const bulkTimes = await Promise.all(bulk.map(async (id) => (await submitted(id))!));
  const overtaken = bulkTimes.filter((b) => b > tOtp).length;
  assert.ok(overtaken >= 10, `${overtaken} bulk messages were sent after the otp`);
});
