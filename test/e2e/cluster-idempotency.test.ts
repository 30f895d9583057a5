// One Idempotency-Key sent at once to two gateways on one PostgreSQL: one message is
// stored, and every request gets the winner's answer (or 409 request_in_progress while it
// is still being stored) — never a 500.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { api, gatewayFrom } from './helpers.ts';

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('idempotency across gateways', (t) => t.skip(missing));
} else {
  describe('idempotency across gateways', () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server.stop());

    test('the same key at once on two gateways: one message, the same answer', async (t) => {
      const store = await server.createDatabase();
      const config = `
http: { listen: 127.0.0.1:0 }
store: ${store}
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }
`;
      const one = await gatewayFrom(config);
      t.after(() => one.close());
      const two = await gatewayFrom(config);
      t.after(() => two.close());
      const calls = [api(one.base, 'acme-key-1'), api(two.base, 'acme-key-1')];
      let inProgress = 0;
      for (let round = 0; round < 25; round++) {
        const key = `key-${round}`;
        const body = { to: '+447700900123', text: `round ${round}` };
        const answers = await Promise.all(
          [0, 1, 0, 1].map((node) => calls[node]!('POST', '/v1/messages', body, { 'idempotency-key': key })),
        );
        const accepted = answers.filter((a) => a.status === 202);
        for (const a of answers) {
          if (a.status === 202) continue;
          assert.equal(a.status, 409, `round ${round}: ${JSON.stringify(a.body)}`);
          assert.equal(a.body.error.code, 'request_in_progress');
          inProgress++;
        }
        assert.ok(accepted.length > 0, `round ${round}: someone was accepted`);
        assert.equal(new Set(accepted.map((a) => a.body.id)).size, 1, `round ${round}: one message id`);
        const again = await calls[1]!('POST', '/v1/messages', body, { 'idempotency-key': key });
        assert.equal(again.status, 202);
        assert.equal(again.body.id, accepted[0]!.body.id);
      }
      const list = await calls[0]!('GET', '/v1/messages?limit=100');
      assert.equal(list.body.data.length, 25, 'one message per key');
      t.diagnostic(`answered 409 request_in_progress: ${inProgress} of 100`);
    });
  });
}
