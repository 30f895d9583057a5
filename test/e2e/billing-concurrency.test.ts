// Exactly-once debits under concurrency (issue #19): a prepaid account with credit for 500
// messages, hit by 1,000 requests at once over REST and SMPP together, accepts exactly 500
// and refuses the rest for money — on one gateway with SQLite, and on three gateways
// sharing one PostgreSQL (the balance lives in the database, so every node sees it).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CommandStatus } from '../../src/smpp/index.ts';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom } from './helpers.ts';

type Gateway = Awaited<ReturnType<typeof gatewayFrom>>;

const credit = 500;
const requests = 1_000;

const config = (store: string) => `
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: ${store}
admin: { apiKeys: [admin-key-0001] }
pricing: [{ match: { to: ["+*"] }, price: 0.01, currency: EUR }]
accounts:
  - id: pre
    apiKeys: [pre-key-0001]
    defaultFrom: PRE
    smpp: { systemId: pre, password: pw, maxBinds: 10 }
    billing: { type: prepaid, currency: EUR }
connectors: [{ id: sim, type: simulator, deliveryDelayMs: 10 }]
routes: { mt: [{ connectors: [sim] }] }
`;

/**
 * Half the requests over REST, half over SMPP, spread over the gateways and all in flight
 * together; returns how many were accepted and how many refused for money (anything else
 * fails the test).
 */
async function hammer(t: { after(fn: () => unknown): void }, gateways: Gateway[]) {
  const binds = await Promise.all(
    gateways.map(async (gw) => {
      const { client } = esme(gw.app.smppAddress!.port, {
        systemId: 'pre',
        password: 'pw',
        bindType: 'transmitter',
      });
      client.start();
      t.after(() => client.stop());
      await client.waitBound();
      return client;
    }),
  );
  const outcomes = await Promise.all(
    Array.from({ length: requests }, async (_, i) => {
      const to = `+4477009${String(i).padStart(5, '0')}`;
      if (i % 2 === 0) {
        const gw = gateways[(i / 2) % gateways.length]!;
        const res = await api(gw.base, 'pre-key-0001')('POST', '/v1/messages', { to, text: 'hello' });
        return res.status === 202 ? 'accepted' : res.status === 402 ? 'refused' : `REST ${res.status}`;
      }
      const client = binds[((i - 1) / 2) % binds.length]!;
      const resp = await client.request(
        submitSm({ sourceAddr: 'PRE', sourceAddrTon: 5, sourceAddrNpi: 0, destinationAddr: to.slice(1) }),
      );
      return resp.commandStatus === CommandStatus.ESME_ROK
        ? 'accepted'
        : resp.commandStatus === CommandStatus.ESME_RSUBMITFAIL
          ? 'refused'
          : `SMPP 0x${resp.commandStatus.toString(16)}`;
    }),
  );
  const count = (what: string) => outcomes.filter((o) => o === what).length;
  const other = outcomes.filter((o) => o !== 'accepted' && o !== 'refused');
  return { accepted: count('accepted'), refused: count('refused'), other };
}

async function expectExactlyCredit(gateways: Gateway[], result: Awaited<ReturnType<typeof hammer>>) {
  assert.deepEqual(result.other, [], 'every request accepted or refused for money');
  assert.deepEqual([result.accepted, result.refused], [credit, requests - credit]);
  for (const gw of gateways) {
    const balance = await api(gw.base, 'pre-key-0001')('GET', '/v1/balance');
    assert.deepEqual(balance.body, { balance: 0, currency: 'EUR', type: 'prepaid' });
  }
  // Stored: exactly the accepted ones, each with its debit.
  const usage = await api(gateways[0]!.base, 'pre-key-0001')('GET', '/v1/usage?groupBy=day');
  assert.deepEqual(
    usage.body.data.map((r: Record<string, unknown>) => [r.messages, r.price]),
    [[credit, credit * 0.01]],
  );
  const ledger = await api(gateways[0]!.base, 'pre-key-0001')('GET', '/v1/balance/ledger?limit=500');
  assert.equal(ledger.body.data.filter((e: { kind: string }) => e.kind === 'debit').length, credit);
}

test('SQLite: 1,000 concurrent requests over REST and SMPP on credit for 500 accept exactly 500', async (t) => {
  const gw = await gatewayFrom(config('sqlite:DIR/gw.db'));
  t.after(() => gw.close());
  const topUp = await api(gw.base, 'admin-key-0001')('POST', '/v1/admin/accounts/pre/credit', {
    amount: credit * 0.01,
  });
  assert.equal(topUp.status, 200);
  await expectExactlyCredit([gw], await hammer(t, [gw]));
});

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('PostgreSQL: exactly-once debits across three gateways', (t) => t.skip(missing));
} else {
  describe('PostgreSQL, three gateways', () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server.stop());

    test('1,000 concurrent requests over REST and SMPP on three gateways, credit for 500: exactly 500', async (t) => {
      const store = await server.createDatabase();
      const gateways: Gateway[] = [];
      t.after(async () => {
        for (const gw of gateways) await gw.close();
      });
      for (let i = 0; i < 3; i++) gateways.push(await gatewayFrom(config(store)));
      // Credited through one gateway, spent through all three.
      const topUp = await api(gateways[1]!.base, 'admin-key-0001')('POST', '/v1/admin/accounts/pre/credit', {
        amount: credit * 0.01,
      });
      assert.deepEqual(topUp.body, { balance: credit * 0.01, currency: 'EUR' });
      await expectExactlyCredit(gateways, await hammer(t, gateways));
    });
  });
}
