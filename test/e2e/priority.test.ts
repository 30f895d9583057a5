// Priorities: with the connector held to its tps, emergency and otp messages accepted after
// a backlog of bulk ones overtake it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gatewayFrom, waitFor } from './helpers.ts';

/** A gateway whose one connector (a simulator) takes `tps` messages a second. */
const slowCarrier = (tps: number) => `
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-1] }
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: slow, type: simulator, deliveryDelayMs: 10, tps: ${tps} }
routes:
  mt: [{ connectors: [slow] }]
`;

test('emergency and otp overtake a bulk backlog', async (t) => {
  const gw = await gatewayFrom(slowCarrier(20));
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
  await waitFor(() => submitted(emergency), 10_000);
  const tOtp = await waitFor(() => submitted(otp), 10_000);
  const lastBulk = await waitFor(() => submitted(bulk.at(-1)!), 10_000);
  assert.ok(tOtp < lastBulk, 'otp before the end of the bulk backlog');
  // At 20/s the 30 bulk messages take over a second; the urgent ones went within the first part of it.
  const bulkTimes = await Promise.all(bulk.map(async (id) => (await submitted(id))!));
  const overtaken = bulkTimes.filter((b) => b > tOtp).length;
  assert.ok(overtaken >= 10, `${overtaken} bulk messages were sent after the otp`);
});

test('waiting together, emergency leaves before otp, and otp before bulk', async (t) => {
  const gw = await gatewayFrom(slowCarrier(5));
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const admin = api(gw.base, 'admin-key-1');
  // The connector is down while they are accepted, so all three wait together, in the
  // order least urgent first.
  assert.equal((await admin('POST', '/v1/admin/connectors/slow/stop')).status, 200);
  const send = async (priority: string) =>
    (await call('POST', '/v1/messages', { to: '+447700900210', text: priority, priority })).body.id as string;
  const ids = [await send('bulk'), await send('otp'), await send('emergency')];
  assert.equal((await admin('POST', '/v1/admin/connectors/slow/start')).status, 200);
  const times = await Promise.all(
    ids.map((id) =>
      waitFor(
        async () => Date.parse((await call('GET', `/v1/messages/${id}`)).body.submittedAt ?? '') || undefined,
      ),
    ),
  );
  const [bulk, otp, emergency] = times as [number, number, number];
  assert.ok(emergency <= otp && otp <= bulk, `emergency ${emergency}, otp ${otp}, bulk ${bulk}`);
});
