// What an admin changes at run time on one gateway of a cluster reaches the others: MO
// rules (an inbound message arriving on the other gateway follows them), a connector
// stopped or started, an account's suppression list.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { api, gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('run-time changes across gateways', (t) => t.skip(missing));
} else {
  describe('run-time changes across gateways', () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server.stop());

    test('MO rules, connectors and suppressions changed on one gateway hold on the other', async (t) => {
      const hooks = await webhookReceiver();
      t.after(() => hooks.close());
      const store = await server.createDatabase();
      const config = `
http: { listen: 127.0.0.1:0 }
store: ${store}
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, webhook: { url: "${hooks.url}", secret: whsec-1 } }
  - { id: other, apiKeys: [other-key-1] }
connectors: [{ id: sim, type: simulator }]
routes:
  mt: [{ connectors: [sim] }]
  mo: [{ match: { to: ["+15550100"] }, account: other }]
`;
      const one = await gatewayFrom(config);
      t.after(() => one.close());
      const two = await gatewayFrom(config);
      t.after(() => two.close());
      const admin = [api(one.base, 'admin-key-123'), api(two.base, 'admin-key-123')] as const;

      // MO rules set on the first gateway route an inbound message the second one takes.
      const put = await admin[0]('PUT', '/v1/admin/routes/mo', {
        routes: [{ match: { to: ['+15550100'] }, account: 'acme' }],
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      let n = 0;
      await waitFor(
        async () => {
          const text = `hello ${n++}`;
          const res = await admin[1]('POST', '/v1/admin/connectors/sim/inbound', {
            from: '+447700900555',
            to: '+15550100',
            text,
          });
          assert.equal(res.status, 202);
          return waitFor(
            () => hooks.hooks.find((h) => h.body.data.text === text),
            2_000,
            'inbound webhook',
          ).catch(() => false);
        },
        20_000,
        'an inbound message on the second gateway routed by the first one’s rules',
      );

      // A connector stopped on one is stopped on both; started, it comes back on both.
      await admin[0]('POST', '/v1/admin/connectors/sim/stop');
      await waitFor(
        async () => (await admin[1]('GET', '/v1/admin/connectors/sim')).body.status === 'stopped',
        10_000,
        'the second gateway’s connector stopped',
      );
      await admin[1]('POST', '/v1/admin/connectors/sim/start');
      await waitFor(
        async () => (await admin[0]('GET', '/v1/admin/connectors/sim')).body.status === 'up',
        10_000,
        'the first gateway’s connector started again',
      );

      // A number suppressed on one gateway is refused on the other once it has heard of it
      // (a later notice, the MO reset below, is heard after it).
      const acme = [api(one.base, 'acme-key-1'), api(two.base, 'acme-key-1')] as const;
      assert.equal(
        (await acme[1]('POST', '/v1/messages', { to: '+447700900777', text: 'before' })).status,
        202,
      );
      const added = await acme[0]('POST', '/v1/suppressions', { to: '+447700900777' });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      await admin[0]('DELETE', '/v1/admin/routes/mo');
      const other = api(two.base, 'other-key-1');
      await waitFor(
        async () => {
          const text = `reset ${n++}`;
          await admin[1]('POST', '/v1/admin/connectors/sim/inbound', {
            from: '+447700900555',
            to: '+15550100',
            text,
          });
          // Answered once stored: by then it is the owner's the rules in force made it.
          const theirs = await other('GET', '/v1/messages?direction=mo&limit=100');
          return theirs.body.data.some((m: { text: string }) => m.text === text);
        },
        20_000,
        'the second gateway back on the config’s MO rules',
      );
      const refused = await acme[1]('POST', '/v1/messages', { to: '+447700900777', text: 'after' });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'recipient_opted_out');
    });
  });
}
