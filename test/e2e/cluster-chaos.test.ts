// The cluster under faults, as an operator meets them: three `smsgw serve` processes on one
// PostgreSQL send 20k messages with delivery receipts through one SMSC while one gateway is
// killed with SIGKILL and, later, PostgreSQL is stopped for 10 s and started again. Clients
// retry what was refused or cut off, with an Idempotency-Key. Then: every accepted message is
// delivered (its receipt applied) and carries its submission data, each got its final
// webhook, and the SMSC saw at most nodes × binds × window duplicates.
// A second test stops the gateway holding the carrier's bind with SIGTERM (a rolling
// restart's step): the bind moves to another gateway at once, not when the lease lapses.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { type ServeNode, startServeNode } from '../cli/serve-helpers.ts';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { waitFor, webhookReceiver } from './helpers.ts';

const missing = missingPeer('PostgreSQL');
/** The run's size; CHAOS_MESSAGES makes a quicker one while working on it. */
const total = Number(process.env.CHAOS_MESSAGES ?? 20_000);
const binds = 2;
const window = 16;
const nodes = 3;
/** What a gateway's lease is (src/store): a dead gateway's claims wait this long at most. */
const leaseSeconds = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (missing) {
  test('cluster under faults', (t) => t.skip(missing));
} else {
  describe('cluster under faults', () => {
    let server: PostgresServer;
    const dir = mkdtempSync(join(tmpdir(), 'smsgw-chaos-'));
    before(async () => {
      server = await startPostgres();
    });
    after(async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const startNode = (name: string, store: string, body: string) =>
      startServeNode(dir, name, store, `admin: { apiKeys: [admin-key-123] }\n${body}`);

    // About 90 s on a quiet 2-core machine: longer than the suite's default test timeout.
    test('kill -9 of a gateway, then PostgreSQL down 10 s, under 20k messages with receipts', {
      timeout: 600_000,
    }, async (t) => {
      const store = await server.createDatabase();
      const sim = new SmscSimulator({ deliveryDelayMs: 20, maxMessages: 10 * total });
      const submits = new Map<string, number>();
      sim.on('submit', (m) => {
        const text = m.shortMessage.toString('latin1');
        submits.set(text, (submits.get(text) ?? 0) + 1);
      });
      const { port: smscPort } = await sim.listen(0);
      t.after(() => sim.close());
      const hooks = await webhookReceiver();
      t.after(() => hooks.close());

      const body = `
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, webhook: { url: "${hooks.url}", statuses: [delivered] } }
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: gw, password: pw,
      binds: ${binds}, window: ${window} }
routes: { mt: [{ connectors: [carrier] }] }`;
      const live: ServeNode[] = [];
      for (let i = 0; i < nodes; i++) live.push(await startNode(`node${i}`, store, body));
      t.after(() => {
        for (const n of live) n.process.kill('SIGKILL');
      });

      // Clients: each message is posted until it is accepted, to the next live gateway, with
      // its own Idempotency-Key, so an answer lost with a killed gateway is asked for again.
      const accepted = new Map<number, string>(); // n → message id
      const refusals = new Map<string, number>();
      let next = 0;
      let turn = 0;
      // Set when the run has failed: the clients stop, or they would retry for ever.
      let failed: unknown = null;
      const postUntilAccepted = async (n: number) => {
        for (;;) {
          if (failed) throw failed;
          const node = live[turn++ % live.length]!;
          try {
            const res = await fetch(`${node.base}/v1/messages`, {
              method: 'POST',
              headers: {
                authorization: 'Bearer acme-key-1',
                'content-type': 'application/json',
                'idempotency-key': `chaos-${n}`,
              },
              body: JSON.stringify({ to: '+447700900123', text: `chaos ${n}` }),
            });
            const answer = (await res.json()) as { id?: string; error?: { code: string } };
            if (res.status === 202) {
              accepted.set(n, answer.id!);
              return;
            }
            const code = `${res.status} ${answer.error?.code}`;
            refusals.set(code, (refusals.get(code) ?? 0) + 1);
            assert.ok(
              res.status === 503 || res.status === 409 || res.status === 429,
              `only a temporary refusal, got ${code}`,
            );
          } catch (error) {
            // The killed gateway's connection; anything else is a fault of the test.
            if (!(error instanceof TypeError)) throw error;
            refusals.set('connection', (refusals.get('connection') ?? 0) + 1);
          }
          await sleep(100);
        }
      };
      const clients = Array.from({ length: 48 }, async () => {
        while (next < total) await postUntilAccepted(next++);
      });

      // The faults, each once the run is well under way.
      const faults = (async () => {
        await waitFor(() => accepted.size >= total * 0.25, 600_000, 'a quarter accepted');
        const victim = live.pop()!;
        victim.process.kill('SIGKILL');
        const killedAt = Date.now();
        t.diagnostic(`SIGKILL of a gateway after ${accepted.size} accepted`);
        await victim.process.exited;
        // Its lease lapses: the others see it dead, and its claimed backlog is taken over.
        const view = async () => {
          const res = await fetch(`${live[0]!.base}/v1/admin/nodes`, {
            headers: { authorization: 'Bearer admin-key-123' },
          }).catch(() => null);
          if (res?.status !== 200) return null;
          return ((await res.json()) as { data: Array<{ alive: boolean; backlog: number }> }).data;
        };
        await waitFor(
          async () => (await view())?.filter((n) => n.alive).length === nodes - 1,
          60_000,
          'the killed gateway seen dead in /v1/admin/nodes',
        );
        const seenDead = Date.now() - killedAt;
        await waitFor(
          async () => (await view())?.every((n) => n.alive || n.backlog === 0),
          60_000,
          'the killed gateway’s backlog taken over',
        );
        t.diagnostic(
          `the killed gateway seen dead after ${seenDead} ms, its backlog taken after ${Date.now() - killedAt} ms`,
        );

        await waitFor(() => accepted.size >= total * 0.5, 600_000, 'half accepted');
        t.diagnostic(`PostgreSQL stopped after ${accepted.size} accepted`);
        await server.shutDown();
        await sleep(10_000);
        await server.startAgain();
        t.diagnostic(`PostgreSQL started again, ${accepted.size} accepted`);
      })();
      await Promise.all(
        [...clients, faults].map((p) =>
          p.catch((error) => {
            failed ??= error;
            throw error;
          }),
        ),
      );
      t.diagnostic(`refused or cut off meanwhile: ${JSON.stringify(Object.fromEntries(refusals))}`);
      assert.equal(accepted.size, total);

      // Every accepted message delivered: sent, and its receipt applied.
      const db = new pg.Client({ connectionString: store });
      await db.connect();
      t.after(() => db.end());
      const tally = async () =>
        (
          await db.query<{ status: string; n: string; submitted: string; claimed: string }>(
            `SELECT status, count(*) AS n, count(submitted_at) AS submitted, count(claimed_by) AS claimed
               FROM messages WHERE direction = 'mt' GROUP BY status ORDER BY status`,
          )
        ).rows;
      await waitFor(
        async () => (await tally()).find((r) => r.status === 'delivered' && Number(r.n) >= total),
        300_000,
        'every accepted message delivered',
      ).catch(async (error) => {
        t.diagnostic(`messages by status: ${JSON.stringify(await tally())}`);
        for (const n of live) t.diagnostic(`gateway log: ${n.process.lines.slice(-20).join('\n')}`);
        throw error;
      });
      const { rows } = await db.query<{
        id: string;
        status: string;
        submitted_at: string | null;
        connector_id: string | null;
        linked: boolean;
      }>(
        `SELECT m.id, m.status, m.submitted_at, m.connector_id,
                EXISTS (SELECT 1 FROM smsc_links l WHERE l.message_id = m.id) AS linked
           FROM messages m WHERE m.direction = 'mt'`,
      );
      assert.equal(rows.length, total, 'one message per accepted request (no request stored twice)');
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const [n, id] of accepted) {
        const row = byId.get(id);
        assert.ok(row, `accepted chaos ${n} (${id}) is in the store`);
        assert.equal(row.status, 'delivered', `chaos ${n}`);
        assert.ok(
          row.submitted_at !== null && row.connector_id === 'carrier' && row.linked,
          `chaos ${n} has its submission data`,
        );
        assert.ok((submits.get(`chaos ${n}`) ?? 0) >= 1, `chaos ${n} reached the SMSC`);
      }

      // Sent more than once: only what was on the wire when a gateway died or the database went.
      let duplicates = 0;
      for (const count of submits.values()) duplicates += count - 1;
      const bound = nodes * binds * window;
      t.diagnostic(`duplicates at the SMSC: ${duplicates} (bound ${bound}) of ${total}`);
      assert.ok(duplicates <= bound, `at most ${bound} duplicates, saw ${duplicates}`);

      // Every final webhook sent (at least once; a gateway killed before it recorded the
      // sending may send one again).
      await waitFor(
        () => new Set(hooks.hooks.map((h) => h.body.data.id)).size >= total,
        120_000,
        'a delivered webhook for every message',
      );
      const hooked = new Set(hooks.hooks.map((h) => h.body.data.id as string));
      for (const id of accepted.values()) assert.ok(hooked.has(id), `${id}: its delivered webhook`);
      t.diagnostic(`webhooks: ${hooks.hooks.length} for ${total} messages`);
    });

    test('a gateway stopped with SIGTERM hands its bind over at once', async (t) => {
      const store = await server.createDatabase();
      const sim = new SmscSimulator({ deliveryDelayMs: 10 });
      const { port: smscPort } = await sim.listen(0);
      t.after(() => sim.close());
      let bound = 0;
      sim.on('bound', () => bound++);
      const body = `
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: gw, password: pw, binds: 1 }
routes: { mt: [{ connectors: [carrier] }] }`;
      const first = await startNode('first', store, body);
      await waitFor(() => bound === 1, 20_000, 'the first gateway bound');
      const second = await startNode('second', store, body);
      t.after(() => {
        first.process.kill('SIGKILL');
        second.process.kill('SIGKILL');
      });
      // The second gateway is up and on standby: the one bind is the first's.
      await waitFor(
        async () => {
          const res = await fetch(`${second.base}/ready`);
          const ready = (await res.json()) as { connectors: Array<{ id: string; state: string }> };
          return ready.connectors.find((c) => c.id === 'carrier')?.state === 'standby';
        },
        20_000,
        'the second gateway on standby',
      );

      const stoppedAt = Date.now();
      first.process.kill('SIGTERM');
      assert.equal((await first.process.exited).code, 0);
      const exitedAt = Date.now();
      await waitFor(() => bound === 2, 20_000, 'the second gateway bound');
      const boundAt = Date.now();
      // A message accepted by the second gateway goes out over its new bind.
      const res = await fetch(`${second.base}/v1/messages`, {
        method: 'POST',
        headers: { authorization: 'Bearer acme-key-1', 'content-type': 'application/json' },
        body: JSON.stringify({ to: '+447700900123', text: 'after the handover' }),
      });
      assert.equal(res.status, 202);
      const { id } = (await res.json()) as { id: string };
      await waitFor(
        async () => {
          const m = await fetch(`${second.base}/v1/messages/${id}`, {
            headers: { authorization: 'Bearer acme-key-1' },
          });
          return ((await m.json()) as { status: string }).status === 'delivered';
        },
        20_000,
        'delivered over the moved bind',
      );
      t.diagnostic(
        `SIGTERM → exit ${exitedAt - stoppedAt} ms; exit → the other gateway bound ${boundAt - exitedAt} ms`,
      );
      // Waiting for the lease would take leaseSeconds: the bind was handed back, not left to lapse.
      assert.ok(
        boundAt - exitedAt < leaseSeconds * 1000 - 2_000,
        'the bind moved before the lease could lapse',
      );
    });
  });
}
