// Live management across a cluster: what an admin changes on one gateway of a PostgreSQL
// store is in force on the other without a restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { api, gatewayFrom, waitFor } from './helpers.ts';

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('live management across gateways', (t) => t.skip(missing));
} else {
  describe('live management across gateways', () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server.stop());

    test('an account and key made on one gateway send through the other; changes and deletes follow', async (t) => {
      const store = await server.createDatabase();
      const config = `
http: { listen: 127.0.0.1:0 }
store: ${store}
admin: { apiKeys: [admin-key-123] }
connectors: [{ id: sim, type: simulator }]
routes:
  mt: [{ connectors: [sim] }]
`;
      const one = await gatewayFrom(config);
      t.after(() => one.close());
      const two = await gatewayFrom(config);
      t.after(() => two.close());
      const admin = api(one.base, 'admin-key-123');
      const send = { to: '+447700900123', text: 'hello' };

      const created = await admin('POST', '/v1/admin/accounts', { id: 'beta', defaultFrom: 'BETA' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const key = await admin('POST', '/v1/admin/accounts/beta/keys');
      assert.equal(key.status, 201);
      const onTwo = api(two.base, key.body.key);
      const sent = await onTwo('POST', '/v1/messages', send);
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      assert.equal(sent.body.from, 'BETA');

      // A policy set on the first is enforced by the second.
      const patched = await admin('PATCH', '/v1/admin/accounts/beta', {
        defaultFrom: 'BETA2',
        policy: { destinations: { allow: ['+44*'] } },
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      await waitFor(
        async () => (await onTwo('POST', '/v1/messages', { ...send, to: '+15550100' })).status === 400,
        10_000,
        'the second gateway enforcing the policy set on the first',
      );
      assert.equal((await onTwo('POST', '/v1/messages', send)).body.from, 'BETA2');

      assert.equal((await admin('DELETE', '/v1/admin/accounts/beta')).status, 204);
      await waitFor(
        async () => (await onTwo('POST', '/v1/messages', send)).status === 401,
        10_000,
        'the second gateway refusing the deleted account’s key',
      );
      const audit = await api(two.base, 'admin-key-123')('GET', '/v1/admin/audit?object=account');
      assert.deepEqual(
        audit.body.data.map((e: { action: string }) => e.action),
        ['delete', 'update', 'create'],
      );
      // A connector added on the first binds on the second; removed, it goes from both.
      assert.equal(
        (await admin('POST', '/v1/admin/connectors', { id: 'sim2', type: 'simulator' })).status,
        201,
      );
      const adminTwo = api(two.base, 'admin-key-123');
      await waitFor(
        async () => (await adminTwo('GET', '/v1/admin/connectors/sim2')).body?.status === 'up',
        10_000,
        'the connector up on the second gateway',
      );
      assert.equal((await admin('DELETE', '/v1/admin/connectors/sim2')).status, 204);
      await waitFor(
        async () => (await adminTwo('GET', '/v1/admin/connectors/sim2')).status === 404,
        10_000,
        'the connector gone from the second gateway',
      );
      // The same id made on both at once: one of them gets it, the other a 409.
      for (let i = 0; i < 5; i++) {
        const both = await Promise.all(
          [one, two].map((gw) =>
            api(gw.base, 'admin-key-123')('POST', '/v1/admin/accounts', { id: `twin${i}` }),
          ),
        );
        assert.deepEqual(
          both.map((r) => r.status).sort(),
          [201, 409],
          JSON.stringify(both.map((r) => r.body)),
        );
      }
    });
  });
}
