// GET /v1/admin/stats/series and GET /v1/stats/series (CONTRACT §8.1 "Console stats"):
// message counts per bucket, exact for messages sent through REST, SMPP and a batch, current
// at once, kept across a restart, summed over the nodes of a cluster; and the health
// page's SMPP sessions, with a disconnect.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

const config = (store: string) => `
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: ${store}
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, smpp: { systemId: acme, password: secret } }
  - { id: other, apiKeys: [other-key-1], defaultFrom: OTHER }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10, outcomes: [{ to: "+1555000*", status: undelivered, error: "001" }] }
routes:
  mt: [{ connectors: [sim] }]
  mo: [{ account: acme }]
`;

type Points = Array<[number, number]>;
type Call = ReturnType<typeof api>;

async function series(call: Call, path: string): Promise<{ step: number; points: Points }> {
  const res = await call('GET', path);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

const total = (points: Points) => points.reduce((n, [, c]) => n + c, 0);

async function sum(call: Call, path: string): Promise<number> {
  return total((await series(call, path)).points);
}

/** Waits until every message the call's account sent has its final status. */
async function settled(call: Call, n: number) {
  await waitFor(
    async () => {
      const { data } = (await call('GET', '/v1/messages?limit=100')).body as { data: { status: string }[] };
      return data.filter((m) => m.status === 'delivered' || m.status === 'undelivered').length === n && data;
    },
    15_000,
    `${n} messages settled`,
  );
}

test('counts per bucket: REST, SMPP and a batch accepted, outcomes, inbound; current at once; kept across a restart', async (t) => {
  const gw = await gatewayFrom(config('sqlite:DIR/gw.db'));
  t.after(() => gw.close());
  let acme = api(gw.base, 'acme-key-1');
  let other = api(gw.base, 'other-key-1');
  let admin = api(gw.base, 'admin-key-123');

  // Nothing yet: the last hour's 60-second buckets, every one of them, all zero.
  const empty = await series(admin, '/v1/admin/stats/series?metric=accepted');
  assert.equal(empty.step, 60);
  assert.equal(empty.points.length, 61);
  const now = Math.floor(Date.now() / 1000);
  const [lastT] = empty.points.at(-1)!;
  assert.ok(lastT <= now && now - lastT < 60 + 2, 'the last bucket is the current one');
  empty.points.forEach(([t, n], i) => {
    assert.equal(t % 60, 0);
    assert.equal(t, empty.points[0]![0] + i * 60);
    assert.equal(n, 0);
  });

  // One REST message is counted at once, before any flush could store it.
  const first = await acme('POST', '/v1/messages', { to: '+447700900001', text: 'one' });
  assert.equal(first.status, 202);
  assert.equal(await sum(acme, '/v1/stats/series?metric=accepted'), 1);

  for (const to of ['+447700900002', '+15550001234']) {
    assert.equal((await acme('POST', '/v1/messages', { to, text: 'rest' })).status, 202);
  }
  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
  client.start();
  t.after(() => client.stop());
  await client.waitBound();
  for (const to of ['447700900003', '447700900004']) {
    const resp = await client.request(submitSm({ destinationAddr: to, destAddrTon: 1 }));
    assert.equal(resp.commandStatus, 0);
  }
  const batch = await acme('POST', '/v1/batches', {
    text: 'batch',
    recipients: ['+447700900005', '+447700900006', '+447700900007', '+15550009999'].map((to) => ({ to })),
  });
  assert.equal(batch.status, 202, JSON.stringify(batch.body));
  assert.equal((await other('POST', '/v1/messages', { to: '+447700900008', text: 'other' })).status, 202);
  const inbound = await admin('POST', '/v1/admin/connectors/sim/inbound', {
    from: '+447700900100',
    to: '+447000001',
    text: 'hello',
  });
  assert.ok(inbound.status < 300, JSON.stringify(inbound.body));
  await settled(acme, 9);
  await settled(other, 1);

  const expected = {
    admin: { accepted: 10, submitted: 10, delivered: 8, failed: 2, inbound: 1 },
    acme: { accepted: 9, submitted: 9, delivered: 7, failed: 2, inbound: 1 },
    other: { accepted: 1, submitted: 1, delivered: 1, failed: 0, inbound: 0 },
  };
  const check = async () => {
    for (const [metric, n] of Object.entries(expected.admin)) {
      assert.equal(await sum(admin, `/v1/admin/stats/series?metric=${metric}`), n, `admin ${metric}`);
      assert.equal(
        await sum(admin, `/v1/admin/stats/series?metric=${metric}&connector=sim`),
        metric === 'accepted' ? 0 : n,
        `admin ${metric} through sim (accepted messages have no connector yet)`,
      );
    }
    for (const [metric, n] of Object.entries(expected.acme)) {
      assert.equal(await sum(acme, `/v1/stats/series?metric=${metric}`), n, `acme ${metric}`);
      assert.equal(
        await sum(admin, `/v1/admin/stats/series?metric=${metric}&account=acme`),
        n,
        `admin ${metric} of acme`,
      );
    }
    for (const [metric, n] of Object.entries(expected.other))
      assert.equal(await sum(other, `/v1/stats/series?metric=${metric}`), n, `other ${metric}`);
    // Five-minute buckets: starts on multiples of 300, the same counts.
    const wide = await series(admin, '/v1/admin/stats/series?metric=accepted&step=300');
    assert.equal(wide.step, 300);
    assert.ok(wide.points.every(([t]) => t % 300 === 0));
    assert.equal(total(wide.points), 10);
    // A range that ends before anything was sent counts nothing.
    const before = Math.floor(Date.now() / 1000) - 7200;
    assert.equal(
      await sum(admin, `/v1/admin/stats/series?metric=accepted&from=${before - 600}&to=${before}`),
      0,
    );
  };
  await check();

  await client.stop();
  await gw.restart();
  acme = api(gw.base, 'acme-key-1');
  other = api(gw.base, 'other-key-1');
  admin = api(gw.base, 'admin-key-123');
  await check();
});

test('bad parameters are refused naming them', async (t) => {
  const gw = await gatewayFrom(config('sqlite:DIR/gw.db'));
  t.after(() => gw.close());
  const admin = api(gw.base, 'admin-key-123');
  const acme = api(gw.base, 'acme-key-1');
  const cases: Array<[string, string, string]> = [
    ['', 'invalid_metric', 'metric'],
    ['metric=sent', 'invalid_metric', 'metric'],
    ['metric=accepted&step=90', 'invalid_step', 'step'],
    ['metric=accepted&step=0', 'invalid_step', 'step'],
    ['metric=accepted&step=-60', 'invalid_step', 'step'],
    ['metric=accepted&step=172800', 'invalid_step', 'step'],
    ['metric=accepted&from=yesterday', 'invalid_from', 'from'],
    ['metric=accepted&to=1.5', 'invalid_to', 'to'],
    ['metric=accepted&from=1796119200000', 'invalid_from', 'from'],
    ['metric=accepted&from=2000&to=1000', 'invalid_range', 'from'],
    ['metric=accepted&from=0&to=1000000000', 'invalid_range', 'from'],
  ];
  for (const [query, code, field] of cases) {
    for (const [call, path] of [
      [admin, '/v1/admin/stats/series'],
      [acme, '/v1/stats/series'],
    ] as const) {
      const res = await call('GET', `${path}?${query}`);
      assert.equal(res.status, 400, `${path}?${query}`);
      assert.equal(res.body.error.code, code, `${path}?${query}`);
      assert.equal(res.body.error.field, field, `${path}?${query}`);
    }
  }
  // Empty parameters are parameters left out: the last hour in minutes.
  const defaults = await admin('GET', '/v1/admin/stats/series?metric=accepted&step=&from=&to=');
  assert.equal(defaults.status, 200);
  assert.equal(defaults.body.step, 60);
  assert.equal(defaults.body.points.length, 61);
  const queue = await acme('GET', '/v1/stats/series?metric=queued');
  assert.equal(queue.status, 400, "the queue is the gateway's, not the account's");
  assert.equal(queue.body.error.field, 'metric');
  assert.equal((await admin('GET', '/v1/admin/stats/series?metric=queued')).status, 200);
  assert.equal((await acme('GET', '/v1/admin/stats/series?metric=accepted')).status, 401);
});

test('SMPP sessions: listed with account, address, window and counts; an admin disconnects one', async (t) => {
  const gw = await gatewayFrom(config('sqlite:DIR/gw.db'));
  t.after(() => gw.close());
  const admin = api(gw.base, 'admin-key-123');
  assert.deepEqual((await admin('GET', '/v1/admin/smpp/sessions')).body, { data: [] });
  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
  client.start();
  t.after(() => client.stop());
  const session = await client.waitBound();
  const resp = await client.request(
    submitSm({ destinationAddr: '447700900003', destAddrTon: 1, registeredDelivery: 1 }),
  );
  assert.equal(resp.commandStatus, 0);
  // The receipt of that message reaches the ESME, which acknowledges it.
  const listed = await waitFor(async () => {
    const { data } = (await admin('GET', '/v1/admin/smpp/sessions')).body;
    return data.length === 1 && data[0].delivered === 1 && data[0];
  });
  assert.equal(listed.account, 'acme');
  assert.equal(listed.systemId, 'acme');
  assert.equal(listed.bindType, 'transceiver');
  assert.equal(listed.submitted, 1);
  assert.equal(typeof listed.window, 'number');
  assert.match(listed.address, /^127\.0\.0\.1:\d+$/);
  assert.ok(Math.abs(Date.parse(listed.since) - Date.now()) < 60_000);

  const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
  const res = await admin('DELETE', `/v1/admin/smpp/sessions/${listed.id}`);
  assert.equal(res.status, 204);
  await closed;
  await waitFor(async () => (await admin('GET', '/v1/admin/smpp/sessions')).body.data.length === 0);
  const again = await admin('DELETE', `/v1/admin/smpp/sessions/${listed.id}`);
  assert.equal(again.status, 404);
  assert.equal(again.body.error.code, 'not_found');
});

test("health: a connector's bind history with why it went down; webhook backlog per account", async (t) => {
  const carrier = new SmscSimulator({ accounts: [{ systemId: 'gw', password: 'right' }] });
  const { port } = await carrier.listen(0);
  t.after(() => carrier.close());
  const failing = await webhookReceiver(() => 500);
  t.after(() => failing.close());
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, webhook: { url: "${failing.url}" } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
  - { id: refused, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: wrong }
routes:
  mt: [{ connectors: [sim] }]
`);
  t.after(() => gw.close());
  const admin = api(gw.base, 'admin-key-123');
  const history = await waitFor(async () => {
    const { data } = (await admin('GET', '/v1/admin/connectors/refused/history')).body;
    return data.some((e: { status: string }) => e.status === 'down') && data;
  });
  const down = history.find((e: { status: string }) => e.status === 'down');
  assert.equal(down.bound, 0);
  assert.equal(down.binds, 1);
  assert.match(down.reason, /ESME_RINVPASWD/);
  assert.ok(Math.abs(Date.parse(down.at) - Date.now()) < 60_000);
  const sim = (await admin('GET', '/v1/admin/connectors/sim/history')).body.data;
  assert.equal(sim.at(-1).status, 'up');
  assert.equal(sim.at(-1).reason, null);
  const unknown = await admin('GET', '/v1/admin/connectors/nothing/history');
  assert.equal(unknown.status, 404);

  assert.deepEqual((await admin('GET', '/v1/admin/webhooks/backlog')).body, { data: [] });
  assert.equal(
    (await api(gw.base, 'acme-key-1')('POST', '/v1/messages', { to: '+447700900001', text: 'x' })).status,
    202,
  );
  const backlog = await waitFor(async () => {
    const { data } = (await admin('GET', '/v1/admin/webhooks/backlog')).body;
    return data[0]?.failing > 0 && data;
  });
  assert.equal(backlog.length, 1);
  assert.equal(backlog[0].accountId, 'acme');
  assert.ok(backlog[0].pending >= backlog[0].failing);
  assert.equal(backlog[0].abandoned, 0);
  assert.match(backlog[0].lastError, /500/);
});

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('series of a cluster', (t) => t.skip(missing));
} else {
  describe('series of a cluster', () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server.stop());

    test("two gateways on PostgreSQL: the series is the sum of both nodes' counts", async (t) => {
      const store = await server.createDatabase();
      const one = await gatewayFrom(config(store));
      t.after(() => one.close());
      const two = await gatewayFrom(config(store));
      t.after(() => two.close());
      const send = async (base: string, n: number) => {
        const acme = api(base, 'acme-key-1');
        for (let i = 0; i < n; i++)
          assert.equal(
            (await acme('POST', '/v1/messages', { to: `+44770090010${i}`, text: 'x' })).status,
            202,
          );
      };
      await send(one.base, 3);
      await send(two.base, 2);
      // Each node's counts reach the store within seconds; either node then reads the sum.
      for (const gw of [one, two]) {
        const admin = api(gw.base, 'admin-key-123');
        await waitFor(
          async () => (await sum(admin, '/v1/admin/stats/series?metric=accepted')) === 5,
          10_000,
          'both nodes counted',
        );
        await waitFor(
          async () => (await sum(api(gw.base, 'acme-key-1'), '/v1/stats/series?metric=accepted')) === 5,
          10_000,
          'the account series of both nodes',
        );
      }
    });
  });
}
