// A large staged batch made messages while two `smsgw serve` processes share one PostgreSQL:
// with both running, every recipient becomes exactly one message and the counts add up to the
// total at every look, from either gateway; when the gateway making the messages is killed
// with SIGKILL mid-way, the other takes the batch over once its lease lapses and makes the
// rest, again one message per recipient; stopped with SIGTERM (a rolling restart's step), it
// gives its lease back and the batch moves at once. One batch.completed each time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import pg from 'pg';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { type ServeNode, startServeNode } from '../cli/serve-helpers.ts';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { waitFor, webhookReceiver } from './helpers.ts';

const missing = missingPeer('PostgreSQL');
/** A gateway's lease on the store (src/store's default): a killed one's batch waits this long at most. */
const leaseMs = 10_000;

type Counts = Record<string, number>;
interface BatchView {
  status: string;
  total: number;
  counts: Counts;
}

if (missing) {
  test('batch expansion across gateways', (t) => t.skip(missing));
} else {
  describe('batch expansion across gateways', () => {
    let server: PostgresServer;
    const dir = mkdtempSync(join(tmpdir(), 'smsgw-cbatch-'));
    before(async () => {
      server = await startPostgres();
    });
    after(async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const startNode = (name: string, store: string, body: string) => startServeNode(dir, name, store, body);

    /** Two gateways on a fresh database, an SMSC, a webhook receiver, and a client of the database. */
    async function cluster(t: { after(fn: () => unknown): void }) {
      const store = await server.createDatabase();
      const sim = new SmscSimulator({ deliveryDelayMs: 10, maxMessages: 1_000_000 });
      const { port: smscPort } = await sim.listen(0);
      t.after(() => sim.close());
      const hooks = await webhookReceiver();
      t.after(() => hooks.close());
      const body = `
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, webhook: { url: "${hooks.url}" } }
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: gw, password: pw, binds: 2, window: 32 }
routes: { mt: [{ connectors: [carrier] }] }`;
      const a = await startNode('a', store, body);
      const b = await startNode('b', store, body);
      t.after(() => {
        a.process.kill('SIGKILL');
        b.process.kill('SIGKILL');
      });
      const db = new pg.Client({ connectionString: store });
      await db.connect();
      t.after(() => db.end());
      return { a, b, db, hooks };
    }

    const recipientsOf = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) => ({ to: `+4477009${String(from + i).padStart(5, '0')}` }));

    async function upload(node: ServeNode, recipients: Array<{ to: string }>): Promise<string> {
      const res = await fetch(`${node.base}/v1/batches`, {
        method: 'POST',
        headers: { authorization: 'Bearer acme-key-1', 'content-type': 'application/json' },
        body: JSON.stringify({ from: 'ACME', text: 'hi {{to}}', recipients }),
      });
      const created = (await res.json()) as { id: string; total: number };
      assert.equal(res.status, 202, JSON.stringify(created));
      assert.equal(created.total, recipients.length);
      return created.id;
    }

    /** GET of the batch on `node`; null when the gateway does not answer (killed). */
    async function look(node: ServeNode, id: string): Promise<BatchView | null> {
      const res = await fetch(`${node.base}/v1/batches/${id}`, {
        headers: { authorization: 'Bearer acme-key-1' },
      }).catch(() => null);
      if (res?.status !== 200) return null;
      return (await res.json()) as BatchView;
    }

    /**
     * Looks at the batch on the nodes in turn until it completes, checking at every look that
     * its counts add up to its total; resolves with how many looks were taken.
     */
    async function watchUntilCompleted(nodes: () => ServeNode[], id: string, total: number): Promise<number> {
      let looks = 0;
      await waitFor(
        async () => {
          for (const node of nodes()) {
            const view = await look(node, id);
            if (!view) continue;
            looks++;
            const sum = Object.values(view.counts).reduce((s, n) => s + n, 0);
            assert.equal(view.total, total, `total at look ${looks}: ${JSON.stringify(view)}`);
            assert.equal(sum, total, `counts add up at look ${looks}: ${JSON.stringify(view.counts)}`);
            if (view.status === 'completed') return true;
          }
          return false;
        },
        300_000,
        `batch ${id} completed`,
      );
      return looks;
    }

    /** The batch's stored messages: one per recipient, none missing, none twice. */
    async function assertOnePerRecipient(db: pg.Client, id: string, recipients: Array<{ to: string }>) {
      const { rows } = await db.query<{ to_addr: string; n: string }>(
        'SELECT to_addr, count(*) AS n FROM messages WHERE group_id = $1 GROUP BY to_addr',
        [id],
      );
      const twice = rows.filter((r) => Number(r.n) > 1);
      assert.deepEqual(twice.slice(0, 10), [], `${twice.length} recipients with more than one message`);
      const stored = new Set(rows.map((r) => r.to_addr));
      const absent = recipients.filter((r) => !stored.has(r.to));
      assert.deepEqual(absent.slice(0, 10), [], `${absent.length} recipients with no message`);
      assert.equal(rows.length, recipients.length);
      const { rows: left } = await db.query(
        'SELECT count(*) AS n FROM batch_recipients WHERE batch_id = $1',
        [id],
      );
      assert.equal(Number(left[0].n), 0, 'no staged row left');
    }

    /** One batch.completed, still one after both gateways have looked at the store again (5 s). */
    async function assertCompletedOnce(hooks: Awaited<ReturnType<typeof webhookReceiver>>, id: string) {
      const completions = () =>
        hooks.hooks.filter((h) => h.body.type === 'batch.completed' && h.body.data.id === id);
      await waitFor(() => completions().length > 0, 20_000, 'batch.completed');
      await new Promise((r) => setTimeout(r, 6_000));
      assert.equal(completions().length, 1);
    }

    test('both gateways running: one message per recipient, counts add up at every look', {
      timeout: 600_000,
    }, async (t) => {
      const { a, b, db, hooks } = await cluster(t);
      const recipients = recipientsOf(10_000, 0);
      const id = await upload(a, recipients);
      const looks = await watchUntilCompleted(() => [a, b], id, recipients.length);
      t.diagnostic(`${looks} looks`);
      await assertOnePerRecipient(db, id, recipients);
      await assertCompletedOnce(hooks, id);
    });

    /**
     * Stops the first gateway with `signal` while it makes the batch's messages: at best once
     * a chunk's messages are stored and not yet recorded as made (the batch's only record
     * read in the same statement), else once half are made. The other makes the rest.
     * SIGSTOP pauses it (between two chunks) until the other has taken the batch over and
     * made a chunk, then lets it go on.
     */
    async function handOver(t: TestContext, signal: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP') {
      const { a, b, db, hooks } = await cluster(t);
      const recipients = recipientsOf(20_000, 20_000);
      const id = await upload(a, recipients);
      const progress = async () => {
        const { rows } = await db.query(
          `SELECT (SELECT count(*) FROM messages WHERE group_id = $1) AS made, r.data->>'uploader' AS uploader,
                  (r.data->'staged'->>'expanded')::int AS recorded
             FROM records r WHERE r.kind = 'batch'`,
          [id],
        );
        return { made: Number(rows[0].made), recorded: Number(rows[0].recorded), uploader: rows[0].uploader };
      };
      const atStop = await waitFor(
        async () => {
          const p = await progress();
          const caught =
            signal === 'SIGSTOP'
              ? p.made === p.recorded && p.made >= 2_000
              : (p.made > p.recorded && p.made >= 2_000) || p.made >= recipients.length / 2;
          return caught && p;
        },
        120_000,
        'the first gateway’s messages made',
      );
      a.process.kill(signal);
      if (signal !== 'SIGSTOP') await a.process.exited;
      const stoppedAt = Date.now();
      const left = await progress();
      t.diagnostic(
        `${signal} with ${atStop.made} of ${recipients.length} made, ${atStop.recorded} recorded (${left.made} made, ${left.recorded} recorded once it exited)`,
      );
      assert.ok(left.made < recipients.length, 'stopped before it made every message');
      const taken = await waitFor(
        async () => (await progress()).uploader !== atStop.uploader && Date.now() - stoppedAt,
        60_000,
        'the batch taken over',
      );
      if (signal === 'SIGSTOP') {
        await waitFor(
          async () => (await progress()).recorded > left.recorded,
          60_000,
          'a chunk made by the other',
        );
        a.process.kill('SIGCONT');
      }
      const looks = await watchUntilCompleted(() => [b], id, recipients.length);
      t.diagnostic(
        `taken over ${taken} ms after the exit, completed ${Date.now() - stoppedAt} ms after, ${looks} looks`,
      );
      await assertOnePerRecipient(db, id, recipients);
      await assertCompletedOnce(hooks, id);
      return taken;
    }

    test('the gateway making the messages killed mid-way: the other takes over, one message per recipient', {
      timeout: 600_000,
    }, async (t) => {
      await handOver(t, 'SIGKILL');
    });

    // A rolling restart's step: the stopping gateway gives its lease back, so the batch moves at once.
    test('the gateway making the messages stopped mid-way: the other takes over at once, one message per recipient', {
      timeout: 600_000,
    }, async (t) => {
      const taken = await handOver(t, 'SIGTERM');
      assert.ok(
        taken < leaseMs - 2_000,
        `taken over ${taken} ms after the exit, before the lease could lapse`,
      );
    });

    // A gateway paused past its lease (a VM frozen, a long stall) while it makes a batch's
    // messages: the other takes the batch over, and the paused one, going on, makes the
    // chunk it had read before the pause again (before each row made the same message id,
    // this stored 21,000 messages for 20,000 rows about one run in two, when the pause
    // landed after its claim check and before its insert); now the store refuses it.
    test('the gateway making the messages paused past its lease, then going on: one message per recipient', {
      timeout: 600_000,
    }, async (t) => {
      await handOver(t, 'SIGSTOP');
    });
  });
}
