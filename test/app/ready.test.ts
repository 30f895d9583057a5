// GET /ready and the admin connector view: the store and drain decide 200/503; each
// connector shows its state, binds up, the reason it last failed and since when.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import Fastify from 'fastify';
import { readyRoutes } from '../../src/api/index.ts';
import { createLogger } from '../../src/app/index.ts';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { api, gatewayFrom, waitFor } from '../e2e/helpers.ts';

interface Ready {
  status: string;
  connectors: Array<{ id: string; state: string; binds: number; lastError: string | null; since: string }>;
}

test('ready: 200 while the store answers, whatever the connectors; each connector with its reason and since', async (t) => {
  const smsc = new SmscSimulator({ accounts: [{ systemId: 'gw', password: 'right' }] });
  const { port: smscPort } = await smsc.listen(0);
  t.after(() => smsc.close());
  // A port with nobody listening.
  const spare = net.createServer();
  await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
  const deadPort = (spare.address() as net.AddressInfo).port;
  await new Promise((r) => spare.close(r));

  const logged: Array<{ msg: string; reason?: string }> = [];
  const gw = await gatewayFrom(
    `
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
connectors:
  - { id: good, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: gw, password: right, binds: 2 }
  - { id: refused, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: gw, password: wrong }
  - { id: nobody, type: smpp, host: 127.0.0.1, port: ${deadPort}, systemId: gw, password: pw }
routes: { mt: [{ connectors: [good, refused, nobody] }] }
`,
    { log: createLogger('info', { write: (line: string) => void logged.push(JSON.parse(line)) }) },
  );
  let closed = false;
  t.after(() => (closed ? undefined : gw.close()));
  const ready = async () => {
    const res = await fetch(`${gw.base}/ready`);
    return { status: res.status, body: (await res.json()) as Ready };
  };
  const byId = (r: Ready) => Object.fromEntries(r.connectors.map((c) => [c.id, c]));
  const settled = await waitFor(
    async () => {
      const r = await ready();
      const c = byId(r.body);
      return c.good?.binds === 2 && c.refused?.lastError && c.nobody?.lastError ? r : undefined;
    },
    15_000,
    'connectors settled',
  );
  assert.equal(settled.status, 200);
  assert.equal(settled.body.status, 'ready');
  const c = byId(settled.body);
  assert.equal(c.good!.state, 'up');
  assert.equal(c.good!.lastError, null);
  assert.equal(c.refused!.state, 'down');
  assert.equal(c.refused!.binds, 0);
  assert.equal(c.refused!.lastError, 'bind refused: ESME_RINVPASWD');
  assert.equal(c.nobody!.state, 'down');
  assert.match(c.nobody!.lastError!, /ECONNREFUSED/);
  for (const one of settled.body.connectors) {
    assert.ok(Date.parse(one.since) <= Date.now(), `${one.id} since ${one.since}`);
  }

  // The admin view tells the same.
  const admin = await api(gw.base, 'admin-key-123')('GET', '/v1/admin/connectors');
  const refused = (admin.body.data as Array<{ id: string; lastError: string; since: string }>).find(
    (x) => x.id === 'refused',
  )!;
  assert.equal(refused.lastError, 'bind refused: ESME_RINVPASWD');
  assert.match(refused.since, /^\d{4}-\d\d-\d\dT/);

  // A store that does not answer: 503.
  await gw.app.store.close();
  const down = await ready();
  assert.equal(down.status, 503);
  assert.equal(down.body.status, 'store_unavailable');
  assert.equal(down.body.connectors.length, 3);
  const storeLine = logged.find((l) => l.msg === 'store unavailable');
  assert.ok(storeLine?.reason, 'store trouble is logged with its reason');
  await gw.close();
  closed = true;
});

test('ready: 503 while draining', async (t) => {
  let draining = false;
  const app = Fastify();
  t.after(() => app.close());
  await app.register(
    readyRoutes({ connectors: new Map(), draining: () => draining, storeProblem: async () => null }),
  );
  assert.equal((await app.inject('/ready')).statusCode, 200);
  draining = true;
  const res = await app.inject('/ready');
  assert.equal(res.statusCode, 503);
  assert.deepEqual(res.json(), { status: 'draining', connectors: [] });
});
