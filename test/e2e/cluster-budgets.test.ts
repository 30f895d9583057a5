// Cluster mode: a connector's `binds` and an account's `mps` are totals for the whole
// cluster. Three gateways on one PostgreSQL and a connector with 2 binds never hold more
// than 2 binds at the SMSC together; a gateway with none hands its messages to those with
// one, and when a gateway holding binds stops, the others take its binds. Three gateways
// and an account with mps 30 accept about 30 a second together, not 90; an account's
// maxBinds counts its ESMEs' binds on every gateway; Verify's velocity limits hold for the
// cluster too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { CommandStatus } from '../../src/smpp/index.ts';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { api, esme, gatewayFrom, waitFor } from './helpers.ts';

type Gateway = Awaited<ReturnType<typeof gatewayFrom>>;

interface NodeView {
  self: boolean;
  share: number;
  connectors: Record<string, { bound: number; binds: number }>;
}

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('cluster-wide budgets', (t) => t.skip(missing));
} else {
  describe('cluster-wide budgets', () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server.stop());

    /** Starts `n` gateways on one new database; each is closed after the test unless closed before. */
    async function cluster(t: { after(fn: () => unknown): void }, n: number, body: string) {
      const store = await server.createDatabase();
      const gateways: Gateway[] = [];
      const open = new Set<Gateway>();
      t.after(async () => {
        for (const gw of open) await gw.close();
      });
      for (let i = 0; i < n; i++) {
        const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: ${store}
admin: { apiKeys: [admin-key-123] }
${body}`);
        gateways.push(gw);
        open.add(gw);
      }
      const self = async (gw: Gateway) =>
        ((await api(gw.base, 'admin-key-123')('GET', '/v1/admin/nodes')).body.data as NodeView[]).find(
          (v) => v.self,
        )!;
      // Every gateway has seen the others and taken its share.
      await waitFor(
        async () => (await Promise.all(gateways.map(self))).every((v) => Math.abs(v.share - 1 / n) < 1e-9),
        15_000,
        'every gateway on its share',
      );
      return {
        gateways,
        self,
        store,
        async stop(gw: Gateway) {
          open.delete(gw);
          await gw.close();
        },
      };
    }

    test('a connector’s binds are a budget for the cluster; a stopped gateway’s binds move', async (t) => {
      const sim = new SmscSimulator({ deliveryDelayMs: 20 });
      let open = 0;
      let most = 0;
      sim.on('bound', () => {
        open++;
        most = Math.max(most, open);
      });
      sim.on('unbound', () => open--);
      const { port } = await sim.listen(0);
      t.after(() => sim.close());
      const c = await cluster(
        t,
        3,
        `accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: pw, binds: 2, window: 8 }
routes: { mt: [{ connectors: [carrier] }] }`,
      );
      const held = async () =>
        (await Promise.all(c.gateways.map(c.self))).map((v) => v.connectors.carrier?.bound ?? 0);
      await waitFor(
        async () => open === 2 && (await held()).reduce((a, b) => a + b, 0) === 2,
        15_000,
        '2 binds up',
      );
      const holders = (await held()).map((n, i) => (n > 0 ? i : -1)).filter((i) => i >= 0);
      assert.equal(holders.length, 2, 'two gateways hold one bind each');

      const send = async (gateways: Gateway[], label: string, count: number) => {
        const ids = await Promise.all(
          Array.from({ length: count }, async (_, i) => {
            const res = await api(gateways[i % gateways.length]!.base, 'acme-key-1')('POST', '/v1/messages', {
              to: '+447700900123',
              text: `${label} ${i}`,
            });
            assert.equal(res.status, 202, JSON.stringify(res.body));
            return res.body.id as string;
          }),
        );
        const call = api(gateways[0]!.base, 'acme-key-1');
        await waitFor(
          async () => {
            for (const id of ids)
              if ((await call('GET', `/v1/messages/${id}`)).body.status !== 'delivered') return false;
            return true;
          },
          30_000,
          `${label}: every message delivered`,
        );
      };
      // Through every gateway, the one without a bind too.
      await send(c.gateways, 'first', 60);
      assert.ok(most <= 2, `at most 2 binds at the SMSC (saw ${most})`);

      // A gateway holding a bind stops: its bind passes to the one that had none.
      const stopped = c.gateways[holders[0]!]!;
      await c.stop(stopped);
      const rest = c.gateways.filter((gw) => gw !== stopped);
      await waitFor(
        async () => {
          if (open !== 2) return false;
          const views = await Promise.all(rest.map(c.self));
          return views.every((v) => v.connectors.carrier?.bound === 1);
        },
        20_000,
        'both remaining gateways hold a bind',
      );
      await send(rest, 'second', 40);
      assert.ok(most <= 2, `at most 2 binds at the SMSC (saw ${most})`);
    });

    test('gateways that join take what is left: the binds stay where they are', async (t) => {
      const sim = new SmscSimulator({ deliveryDelayMs: 20 });
      let binds = 0;
      let unbinds = 0;
      sim.on('bound', () => binds++);
      sim.on('unbound', () => unbinds++);
      const { port } = await sim.listen(0);
      t.after(() => sim.close());
      const body = `accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: pw, binds: 1 }
routes: { mt: [{ connectors: [carrier] }] }`;
      const c = await cluster(t, 1, body);
      await waitFor(() => binds === 1, 15_000, 'the first gateway bound');
      // Three more join one by one; each sees the others before the next comes.
      for (let n = 2; n <= 4; n++) {
        const joined = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: ${c.store}
admin: { apiKeys: [admin-key-123] }
${body}`);
        t.after(() => joined.close());
        c.gateways.push(joined);
        await waitFor(
          async () =>
            (await Promise.all(c.gateways.map(c.self))).every((v) => Math.abs(v.share - 1 / n) < 1e-9),
          15_000,
          `${n} gateways on their shares`,
        );
      }
      const held = (await Promise.all(c.gateways.map(c.self))).map((v) => v.connectors.carrier?.bound ?? 0);
      assert.deepEqual(held, [1, 0, 0, 0], 'the first gateway keeps the bind');
      assert.equal(unbinds, 0, 'no bind was closed and opened elsewhere');
      assert.equal(binds, 1);
    });

    test('an account’s maxBinds holds for the cluster', async (t) => {
      const c = await cluster(
        t,
        2,
        `smppServer: { listen: 127.0.0.1:0 }
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, smpp: { systemId: acme, password: secret, maxBinds: 2 } }]
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }`,
      );
      const bindTo = async (gw: Gateway) => {
        const { client } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
        const refused = new Promise<number>((resolve) => client.once('bindFailed', resolve));
        client.start();
        const outcome = await Promise.race([client.waitBound().then(() => 0), refused]);
        t.after(() => client.stop());
        return { client, outcome };
      };
      const first = await bindTo(c.gateways[0]!);
      const second = await bindTo(c.gateways[1]!);
      assert.equal(first.outcome, 0);
      assert.equal(second.outcome, 0);
      // One bind on each gateway: a third, on either, is over the account's 2.
      for (const gw of c.gateways) {
        const third = await bindTo(gw);
        assert.equal(third.outcome, CommandStatus.ESME_RBINDFAIL);
        await third.client.stop();
      }
      // One unbinds: there is room again, on the other gateway too.
      await first.client.stop();
      const again = await waitFor(
        async () => {
          const b = await bindTo(c.gateways[1]!);
          if (b.outcome !== 0) await b.client.stop();
          return b.outcome === 0 && b;
        },
        15_000,
        'a bind once one is released',
      );
      assert.equal(again.outcome, 0);
    });

    test('an account’s mps holds for the cluster', async (t) => {
      const mps = 30;
      const c = await cluster(
        t,
        3,
        `accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, mps: ${mps} }]
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }`,
      );
      const calls = c.gateways.map((gw) => api(gw.base, 'acme-key-1'));
      // Each gateway's first second's burst is spent first; then accepted requests are counted.
      const hammer = async (ms: number) => {
        let accepted = 0;
        const until = Date.now() + ms;
        await Promise.all(
          calls.flatMap((call) =>
            [0, 1].map(async () => {
              while (Date.now() < until) {
                const res = await call('POST', '/v1/messages', { to: '+447700900123', text: 'rate' });
                if (res.status === 202) accepted++;
                else assert.equal(res.status, 429);
              }
            }),
          ),
        );
        return accepted;
      };
      await hammer(1_500);
      const seconds = 5;
      const accepted = await hammer(seconds * 1000);
      t.diagnostic(`accepted ${accepted} in ${seconds} s with mps ${mps} over 3 gateways`);
      // The budget for the window, and each gateway's refill of at most one request's rounding.
      assert.ok(
        accepted <= mps * seconds * 1.1 + 3,
        `at most about ${mps}/s together, got ${accepted / seconds}/s`,
      );
      assert.ok(accepted > mps, `more than a second’s worth in ${seconds} s, got ${accepted}`);
    });

    test('Verify’s velocity limits hold for the cluster', async (t) => {
      const maxPerPrefix = 6;
      const c = await cluster(
        t,
        3,
        `accounts:
  - id: acme
    apiKeys: [acme-key-1]
    defaultFrom: ACME
    verify: { prefixDigits: 9, maxPerPrefix: ${maxPerPrefix}, maxSends: 100 }
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }`,
      );
      const calls = c.gateways.map((gw) => api(gw.base, 'acme-key-1'));
      // A pumping run over consecutive numbers of one prefix, spread over every gateway.
      const statuses = await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const res = await calls[i % calls.length]!('POST', '/v1/verify', {
            to: `+44770099${String(1000 + i).padStart(4, '0')}`,
          });
          if (res.status !== 201)
            assert.equal(res.body.error?.code, 'verify_rate_limited', JSON.stringify(res.body));
          return res.status;
        }),
      );
      const started = statuses.filter((s) => s === 201).length;
      t.diagnostic(`${started} of 30 started with maxPerPrefix ${maxPerPrefix} over 3 gateways`);
      assert.ok(
        started <= maxPerPrefix,
        `at most ${maxPerPrefix} codes to the prefix together, got ${started}`,
      );
      assert.ok(started >= maxPerPrefix - 3, `each gateway sent its share, got ${started}`);
    });
  });
}
