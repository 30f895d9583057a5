// GET /v1/admin/nodes: the gateway processes on the store, with their claimed backlog and
// binds. On SQLite the one process; on PostgreSQL every
// gateway of the cluster, and one that stops cleanly leaves the list at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { api, gatewayFrom, waitFor } from './helpers.ts';

const config = (store: string) => `
http: { listen: 127.0.0.1:0 }
store: ${store}
admin: { apiKeys: [admin-key-123] }
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }
`;

interface NodeView {
  id: string;
  self: boolean;
  alive: boolean;
  pid: number;
  backlog: number;
  leaseUntil: string | null;
  connectors: Record<string, { bound: number; binds: number }>;
}

test('one node on SQLite: this process and its binds', async (t) => {
  const gw = await gatewayFrom(config('sqlite:DIR/gw.db'));
  t.after(() => gw.close());
  const res = await api(gw.base, 'admin-key-123')('GET', '/v1/admin/nodes');
  assert.equal(res.status, 200);
  const nodes = res.body.data as NodeView[];
  assert.equal(nodes.length, 1);
  assert.equal(nodes[0]!.self, true);
  assert.equal(nodes[0]!.pid, process.pid);
  assert.equal(nodes[0]!.leaseUntil, null);
  assert.deepEqual(nodes[0]!.connectors, { sim: { bound: 1, binds: 1 } });
  const refused = await api(gw.base, 'acme-key-1')('GET', '/v1/admin/nodes');
  assert.equal(refused.status, 401);
});

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('nodes of a cluster', (t) => t.skip(missing));
} else {
  describe('nodes of a cluster', () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server.stop());

    test('every gateway on the database is listed; one that stops leaves at once', async (t) => {
      const store = await server.createDatabase();
      const one = await gatewayFrom(config(store));
      t.after(() => one.close());
      const two = await gatewayFrom(config(store));
      let twoClosed = false;
      t.after(() => (twoClosed ? undefined : two.close()));
      const admin = api(one.base, 'admin-key-123');
      const listed = async () => (await admin('GET', '/v1/admin/nodes')).body.data as NodeView[];
      const both = await waitFor(async () => {
        const nodes = await listed();
        return nodes.length === 2 && nodes.every((n) => n.connectors?.sim?.bound === 1) && nodes;
      });
      assert.deepEqual(
        both.map((n) => n.self),
        [true, false],
      );
      for (const n of both) {
        assert.equal(n.alive, true);
        assert.ok(Date.parse(n.leaseUntil!) > Date.now() - 1_000);
        assert.equal(n.backlog, 0);
      }
      await two.close();
      twoClosed = true;
      const left = await listed();
      assert.equal(left.length, 1);
      assert.equal(left[0]!.self, true);
    });
  });
}
