// Cluster mode end to end: gateways on a throwaway PostgreSQL server. One gateway takes REST
// messages to delivered and keeps them across a restart; two gateways on one database
// share a backlog and the SMSC sees every message exactly once; a gateway's backlog passes
// to the other when it stops; an inbound message taken by one gateway reaches an ESME bound
// to the other.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SimulatedMessage } from '../../src/simulator/index.ts';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { api, esme, gatewayFrom, waitFor } from './helpers.ts';

type Gateway = Awaited<ReturnType<typeof gatewayFrom>>;
type NodeBinds = { connectors?: Record<string, { bound: number }> };

const account = `
accounts:
  - id: acme
    apiKeys: [acme-key-1]
    defaultFrom: ACME`;

/**
 * A gateway on `store` whose one connector binds to `smscPort` as `systemId`: 2 binds for
 * the cluster (a connector's binds are the cluster's total), so two gateways hold one each.
 */
function clusterMember(store: string, smscPort: number, systemId: string): Promise<Gateway> {
  return gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: ${store}
admin: { apiKeys: [admin-key-123] }
${account}
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: ${systemId}, password: pw, binds: 2, window: 8 }
routes:
  mt:
    - connectors: [carrier]
`);
}

/** A gateway's config on `store` whose one connector `sim` is a simulator with `options`. */
function simulatorMember(store: string, options: string): string {
  return `
http: { listen: 127.0.0.1:0 }
store: ${store}
${account}
connectors:
  - { id: sim, type: simulator, ${options} }
routes:
  mt: [{ connectors: [sim] }]
`;
}

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('cluster mode on PostgreSQL', (t) => t.skip(missing));
} else {
  describe('cluster mode on PostgreSQL', () => {
    let server: PostgresServer;
    const gateways: Gateway[] = [];
    before(async () => {
      server = await startPostgres();
    });
    after(async () => {
      for (const gw of gateways) await gw.close();
      await server?.stop();
    });
    async function start(start: () => Promise<Gateway>): Promise<Gateway> {
      const gw = await start();
      gateways.push(gw);
      return gw;
    }
    async function stop(gw: Gateway): Promise<void> {
      gateways.splice(gateways.indexOf(gw), 1);
      await gw.close();
    }

    test('one gateway: REST messages reach the connector, become delivered, and outlive a restart', async () => {
      const store = await server.createDatabase();
      const yaml = simulatorMember(store, 'deliveryDelayMs: 20');
      const gw = await start(() => gatewayFrom(yaml));
      const call = api(gw.base, 'acme-key-1');
      const accepted = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          call('POST', '/v1/messages', { to: '+447700900100', text: `hi ${i}` }),
        ),
      );
      for (const res of accepted) assert.equal(res.status, 202);
      const first = accepted[0]!.body.id as string;
      const done = await waitFor(async () => {
        const m = await call('GET', `/v1/messages/${first}`);
        return m.body.status === 'delivered' && m.body;
      });
      assert.equal(done.connector, 'sim');
      assert.deepEqual(
        done.events.map((e: { type: string }) => e.type).filter((t: string) => t !== 'receipt'),
        ['queued', 'submitted', 'delivered'],
      );
      await waitFor(async () => {
        const list = await call('GET', '/v1/messages?status=delivered&limit=100');
        return list.body.data.length === 20;
      });
      await stop(gw);

      const again = await start(() => gatewayFrom(yaml));
      const kept = await api(again.base, 'acme-key-1')('GET', `/v1/messages/${first}`);
      assert.equal(kept.status, 200);
      assert.equal(kept.body.status, 'delivered');
    });

    describe('two gateways on one database', () => {
      let sim: SmscSimulator;
      let smscPort: number;
      const submits: SimulatedMessage[] = [];
      before(async () => {
        // Slow to answer, so a backlog stays queued (and claimed) for a while: long enough
        // for the other gateway to look for due messages several times.
        // (Receipts still come after the responses: one that overtakes its response is
        // matched by its id's other-base readings too, which can name another message.)
        sim = new SmscSimulator({ deliveryDelayMs: 300, responseDelayMs: 100 });
        sim.on('submit', (m) => submits.push(m));
        smscPort = (await sim.listen(0)).port;
      });
      after(() => sim?.close());
      const textsAtSmsc = (prefix: string) =>
        submits.map((m) => m.shortMessage.toString('latin1')).filter((t) => t.startsWith(prefix));

      test('a shared backlog is sent exactly once', async () => {
        const store = await server.createDatabase();
        const a = await start(() => clusterMember(store, smscPort, 'gw-a'));
        const b = await start(() => clusterMember(store, smscPort, 'gw-b'));
        const calls = [api(a.base, 'acme-key-1'), api(b.base, 'acme-key-1')];
        // Each has taken its one of the two binds.
        await waitFor(async () => {
          const nodes = (await api(a.base, 'admin-key-123')('GET', '/v1/admin/nodes')).body.data;
          return nodes.length === 2 && nodes.every((n: NodeBinds) => n.connectors?.carrier?.bound === 1);
        });
        // Scheduled ones are released claimed by nobody: both gateways race for them.
        const sendAt = new Date(Date.now() + 2_000).toISOString();
        const requests = Array.from({ length: 120 }, (_, i) => ({
          to: `+4477009${String(i).padStart(5, '0')}`,
          text: `backlog ${i}`,
          ...(i % 3 === 0 ? {} : { sendAt }),
        }));
        const accepted = await Promise.all(
          requests.map((body, i) => calls[i % 2]!('POST', '/v1/messages', body)),
        );
        for (const res of accepted) assert.equal(res.status, 202);
        await waitFor(
          async () => {
            const list = await calls[0]!('GET', '/v1/messages?status=delivered&limit=200');
            return list.body.data.length === requests.length;
          },
          60_000,
          'every message delivered',
        );
        const sent = textsAtSmsc('backlog ');
        assert.equal(sent.length, requests.length, 'one submit_sm per message');
        assert.deepEqual(new Set(sent), new Set(requests.map((r) => r.text)));
        const bySender = new Set(
          submits
            .filter((m) => m.shortMessage.toString('latin1').startsWith('backlog '))
            .map((m) => m.systemId),
        );
        // Messages sent straight away go from the gateway that accepted them.
        assert.deepEqual(bySender, new Set(['gw-a', 'gw-b']));
        await Promise.all([stop(a), stop(b)]);
      });

      test("a stopped gateway's backlog is sent by the other, and only once it stops", async () => {
        const store = await server.createDatabase();
        // A carrier that is not there: a's messages wait in its queue.
        const unreachable = new SmscSimulator();
        const deadPort = (await unreachable.listen(0)).port;
        await unreachable.close();
        const a = await start(() => clusterMember(store, deadPort, 'gw-a'));
        const b = await start(() => clusterMember(store, smscPort, 'gw-b'));
        const callA = api(a.base, 'acme-key-1');
        for (let i = 0; i < 10; i++) {
          const res = await callA('POST', '/v1/messages', { to: '+447700900200', text: `handover ${i}` });
          assert.equal(res.status, 202);
        }
        // b looks for due messages every second; a's are a's while a lives.
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        assert.deepEqual(textsAtSmsc('handover '), []);
        await stop(a);
        await waitFor(() => textsAtSmsc('handover ').length === 10, 30_000, 'b to send a’s backlog');
        assert.deepEqual(
          new Set(
            submits
              .filter((m) => m.shortMessage.toString('latin1').startsWith('handover '))
              .map((m) => m.systemId),
          ),
          new Set(['gw-b']),
        );
        await waitFor(async () => {
          const list = await api(b.base, 'acme-key-1')('GET', '/v1/messages?status=delivered&limit=100');
          return list.body.data.length === 10;
        }, 30_000);
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal(textsAtSmsc('handover ').length, 10, 'sent once');
        await stop(b);
      });
    });

    test('an inbound message taken by a gateway without a receiver reaches the ESME through the other, once', async () => {
      const store = await server.createDatabase();
      const yaml = `
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: ${store}
admin: { apiKeys: [admin-key-1] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, smpp: { systemId: acme, password: secret } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
  mo: [{ match: { to: ["+15550100"] }, account: acme }]
`;
      const a = await start(() => gatewayFrom(yaml));
      const b = await start(() => gatewayFrom(yaml));
      const receiver = esme(b.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
      receiver.client.start();
      await receiver.client.waitBound();
      try {
        const admin = api(a.base, 'admin-key-1');
        for (const text of ['one', 'two', 'three']) {
          const res = await admin('POST', '/v1/admin/connectors/sim/inbound', {
            from: '+447700900001',
            to: '+15550100',
            text,
          });
          assert.equal(res.status, 202);
        }
        const delivered = () => receiver.received.filter((p) => p.command === 'deliver_sm');
        await waitFor(
          () => delivered().length >= 3 || undefined,
          10_000,
          'delivered through the other gateway',
        );
        // A few more polls of both gateways: nothing goes twice.
        await new Promise((r) => setTimeout(r, 2_500));
        assert.deepEqual(
          delivered()
            .map((p) => p.shortMessage.toString('latin1'))
            .sort(),
          ['one', 'three', 'two'],
        );
      } finally {
        await receiver.client.stop();
      }
    });

    test('a batch paused and canceled through one gateway stops going out of the other, which holds it', async () => {
      const store = await server.createDatabase();
      const yaml = simulatorMember(store, 'tps: 100');
      const a = await start(() => gatewayFrom(yaml));
      const b = await start(() => gatewayFrom(yaml));
      const sent = () =>
        [a, b].reduce((sum, gw) => sum + gw.app.gateway.connectors.get('sim')!.state().sent, 0);
      const settled = async () => {
        // Notices travel after the commit; what was on the wire then still goes.
        await new Promise((r) => setTimeout(r, 500));
        const at = sent();
        await new Promise((r) => setTimeout(r, 1_500));
        return [at, sent()];
      };
      const recipients = Array.from({ length: 600 }, (_, i) => ({
        to: `+4477009${String(i).padStart(5, '0')}`,
      }));
      // Accepted by b: b holds the messages and sends them, 100 a second.
      const created = await api(b.base, 'acme-key-1')('POST', '/v1/batches', {
        text: 'Sale today',
        recipients,
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const id = created.body.id as string;
      const throughA = api(a.base, 'acme-key-1');
      await waitFor(() => sent() > 50 || undefined, 10_000, 'sending');

      assert.equal((await throughA('POST', `/v1/batches/${id}/pause`)).status, 200);
      const [paused, stillPaused] = await settled();
      assert.equal(stillPaused, paused, 'nothing goes out while paused');
      assert.ok(paused < 500, `paused after ${paused}`);

      assert.equal((await throughA('POST', `/v1/batches/${id}/resume`)).status, 200);
      await waitFor(() => sent() > paused + 20 || undefined, 10_000, 'sending again');

      assert.equal((await throughA('POST', `/v1/batches/${id}/cancel`)).status, 200);
      const [canceled, stillCanceled] = await settled();
      assert.equal(stillCanceled, canceled, 'nothing goes out once canceled');
      assert.ok(canceled < 600, `canceled after ${canceled}`);
      const final = (await throughA('GET', `/v1/batches/${id}`)).body;
      assert.equal(final.status, 'canceled');
      assert.equal(
        final.counts.canceled + final.counts.submitted + final.counts.delivered,
        600,
        JSON.stringify(final.counts),
      );
      assert.equal(final.counts.submitted + final.counts.delivered, canceled, 'each sent once');
    });
  });
}
