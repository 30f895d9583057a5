// Batches in cluster mode: a gateway that starts while another uploads a batch leaves the
// upload alone; a batch whose messages another gateway sends still completes, once, with
// one batch.completed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { api, gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

type Gateway = Awaited<ReturnType<typeof gatewayFrom>>;

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('batches across gateways', (t) => t.skip(missing));
} else {
  describe('batches across gateways', () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server.stop());

    const config = (store: string, smscPort: number, hooks: string) => `
http: { listen: 127.0.0.1:0 }
store: ${store}
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, webhook: { url: "${hooks}", secret: whsec-1 } }
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: gw, password: pw, binds: 1 }
routes: { mt: [{ connectors: [carrier] }] }
`;

    async function setup(t: { after(fn: () => unknown): void }) {
      const sim = new SmscSimulator({ deliveryDelayMs: 10 });
      const { port } = await sim.listen(0);
      t.after(() => sim.close());
      const hooks = await webhookReceiver();
      t.after(() => hooks.close());
      const store = await server.createDatabase();
      const open: Gateway[] = [];
      t.after(async () => {
        for (const gw of open) await gw.close();
      });
      const start = async () => {
        const gw = await gatewayFrom(config(store, port, hooks.url));
        open.push(gw);
        return gw;
      };
      return { sim, hooks, start };
    }

    /** The batch completed (nothing left to send) and every message's receipt in. */
    const batchDone = (gw: Gateway, id: string, total: number) =>
      waitFor(
        async () => {
          const b = (await api(gw.base, 'acme-key-1')('GET', `/v1/batches/${id}`)).body;
          return b.status === 'completed' && b.counts.delivered === total && b;
        },
        60_000,
        `batch ${id} completed`,
      );

    test('a gateway starting during another one’s upload leaves it be', async (t) => {
      const { hooks, start } = await setup(t);
      const uploader = await start();
      const rows = 600;
      let sent = 0;
      let secondStarted: Promise<Gateway> | undefined;
      const encoder = new TextEncoder();
      // The upload trickles in for longer than the gateways take between two looks at every
      // batch in the store (5 s); a second gateway starts halfway through.
      const csv = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent === 0) controller.enqueue(encoder.encode('to\n'));
          if (sent >= rows) return controller.close();
          if (sent === rows / 2) {
            secondStarted = start();
            await secondStarted;
          }
          let lines = '';
          for (const end = sent + 100; sent < end; sent++) lines += `+4477009${String(20000 + sent)}\n`;
          controller.enqueue(encoder.encode(lines));
          await new Promise((r) => setTimeout(r, 1_100));
        },
      });
      const res = await fetch(
        `${uploader.base}/v1/batches?${new URLSearchParams({ from: 'ACME', text: 'hi' })}`,
        {
          method: 'POST',
          headers: { authorization: 'Bearer acme-key-1', 'content-type': 'text/csv' },
          body: csv,
          duplex: 'half',
        } as RequestInit,
      );
      const created = (await res.json()) as { id: string; total: number };
      assert.equal(res.status, 202, JSON.stringify(created));
      assert.equal(created.total, rows, JSON.stringify(created));
      assert.ok(secondStarted, 'the second gateway started during the upload');
      await batchDone(await secondStarted!, created.id, rows);
      await waitFor(
        () => hooks.hooks.some((h) => h.body.type === 'batch.completed' && h.body.data.id === created.id),
        10_000,
        'batch.completed',
      );
    });

    test('a batch another gateway sends completes once', async (t) => {
      const { hooks, start } = await setup(t);
      // The first holds the connector's one bind; the second, which takes the batch, has none.
      const sender = await start();
      await waitFor(
        () => sender.app.gateway.connectors.get('carrier')!.state().status === 'up',
        10_000,
        'the first gateway bound',
      );
      const taker = await start();
      await waitFor(
        () => taker.app.gateway.connectors.get('carrier')!.state().status === 'standby',
        15_000,
        'the second gateway on standby',
      );
      const sendAt = new Date(Date.now() + 1_500).toISOString();
      const recipients = Array.from({ length: 50 }, (_, i) => ({ to: `+4477009${String(30000 + i)}` }));
      const created = await api(taker.base, 'acme-key-1')('POST', '/v1/batches', {
        from: 'ACME',
        text: 'later',
        sendAt,
        recipients,
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      await batchDone(taker, created.body.id, recipients.length);
      // Both gateways watch it; one batch.completed, whoever saw the end first.
      await waitFor(
        () =>
          hooks.hooks.some((h) => h.body.type === 'batch.completed' && h.body.data.id === created.body.id),
        10_000,
        'batch.completed',
      );
      await new Promise((r) => setTimeout(r, 6_000)); // both have looked at the store again since
      const completions = hooks.hooks.filter(
        (h) => h.body.type === 'batch.completed' && h.body.data.id === created.body.id,
      );
      assert.equal(completions.length, 1);
    });
  });
}
