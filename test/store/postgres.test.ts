// The PostgreSQL store against a throwaway server: the shared conformance suite, then what
// only a shared database shows: several instances claiming one queue, leases, migrations.
import assert from 'node:assert/strict';
import { type StdioOptions, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import type { Message } from '../../src/core/message.ts';
import { openStore, type StoreNotice } from '../../src/store/index.ts';
import { PostgresStore } from '../../src/store/postgres.ts';
import { BulkWrite } from '../../src/store/postgres-bulk.ts';
import { waitFor } from '../e2e/helpers.ts';
import { missingPeer } from '../peers/available.ts';
import { startPostgres } from '../peers/postgres.ts';
import { makeMessage, storeConformance } from './conformance.ts';

const ids = (messages: Message[]) => messages.map((m) => m.id);
const later = Date.now() + 3600_000;

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('PostgreSQL store', (t) => t.skip(missing));
} else {
  const server = await startPostgres();
  after(() => server.stop());

  storeConformance('PostgreSQL', async () => {
    const store = new PostgresStore({ connectionString: await server.createDatabase() });
    await store.migrate();
    return store;
  });
  storeConformance('PostgreSQL through openStore', async () => openStore(await server.createDatabase()));

  describe('PostgreSQL store shared by several instances', () => {
    const open: PostgresStore[] = [];
    after(async () => {
      for (const store of open) await store.close();
    });
    async function instance(url: string, leaseMs?: number): Promise<PostgresStore> {
      const store = new PostgresStore({ connectionString: url, ...(leaseMs ? { leaseMs } : {}) });
      await store.migrate();
      open.push(store);
      return store;
    }
    /**
     * An instance in a process of its own, which can crash or be stopped: a migrated
     * PostgresStore `store` (its lease `leaseMs`) stores `messages` (`m`), prints `stored`,
     * then runs `body`.
     */
    function instanceProcess(
      url: string,
      leaseMs: number,
      messages: Message[],
      body: string,
      stdio: StdioOptions = ['ignore', 'pipe', 'inherit'],
    ) {
      const storeUrl = new URL('../../src/store/postgres.ts', import.meta.url).href;
      return spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { createInterface } from 'node:readline';
           import { PostgresStore } from ${JSON.stringify(storeUrl)};
           const store = new PostgresStore({ connectionString: ${JSON.stringify(url)}, leaseMs: ${leaseMs} });
           await store.migrate();
           const m = JSON.parse(process.argv[1]);
           await store.insertMessages(m);
           console.log('stored');
           ${body}`,
          JSON.stringify(messages),
        ],
        { stdio },
      );
    }
    /** Messages queued by an instance that has since stopped: claimed by nobody alive. */
    async function backlog(url: string, messages: Message[]): Promise<void> {
      const store = await instance(url);
      await store.insertMessages(messages);
      await store.close();
    }

    test('instances adding to the same minutes at once: every count kept, no deadlock', async () => {
      const url = await server.createDatabase();
      const instances = await Promise.all([instance(url), instance(url), instance(url)]);
      const counts = Array.from({ length: 120 }, (_, i) => ({
        metric: i % 2 ? 'delivered' : 'accepted',
        minute: 60 * (i % 10),
        accountId: `acc-${i % 3}`,
        connectorId: `c-${i % 4}`,
        n: 1,
      }));
      // Each gives them in another order, many times over, all at once.
      const orders = [counts, [...counts].reverse(), [...counts.slice(60), ...counts.slice(0, 60)]];
      await Promise.all(
        instances.map(async (store, i) => {
          for (let round = 0; round < 10; round++) await store.addStatsCounts(orders[i]!);
        }),
      );
      const read = (metric: string) => instances[0]!.statsSeries({ metrics: [metric], from: 0, to: 600 });
      const total = async (metric: string) => (await read(metric)).reduce((n, r) => n + r.n, 0);
      assert.equal(await total('accepted'), 60 * 3 * 10);
      assert.equal(await total('delivered'), 60 * 3 * 10);
    });

    test('instances claiming at once get disjoint sets that cover the queue', async () => {
      const url = await server.createDatabase();
      const messages = Array.from({ length: 600 }, (_, i) =>
        makeMessage({ priority: i % 3 === 0 ? 'otp' : 'bulk' }),
      );
      await backlog(url, messages);
      const instances = await Promise.all([instance(url), instance(url), instance(url)]);
      // Each takes small bites as a dispatcher refills, holding what it got (exclude).
      const taken = await Promise.all(
        instances.map(async (store) => {
          const held = new Map<string, Message>();
          for (;;) {
            const due = await store.dueMessages(later, 25, held);
            if (due.length === 0) return held;
            for (const m of due) {
              assert.ok(!held.has(m.id), 'an instance is not handed what it holds');
              held.set(m.id, m);
            }
          }
        }),
      );
      const all = taken.flatMap((held) => [...held.keys()]);
      assert.equal(all.length, messages.length, 'no message handed to two instances');
      assert.deepEqual(new Set(all), new Set(ids(messages)));
      // Claimed, they stay with their instance: nobody finds any more, and each its own again.
      for (const [i, store] of instances.entries()) {
        assert.deepEqual(await store.dueMessages(later, 1000, taken[i]!), []);
        assert.equal((await store.dueMessages(later, 1000, new Set())).length, taken[i]!.size);
      }
    });

    test('what an instance accepted is its own to send; the others get it once it closes', async () => {
      const url = await server.createDatabase();
      const [a, b] = [await instance(url), await instance(url)];
      const accepted = [makeMessage(), makeMessage()];
      await a.insertMessages(accepted);
      assert.deepEqual(await b.dueMessages(later, 10, new Set()), []);
      // Not held in memory any more (a spill): a's own refill finds it again.
      assert.deepEqual(ids(await a.dueMessages(later, 10, new Set())), ids(accepted));
      assert.deepEqual(ids(await a.dueMessages(later, 10, new Set([accepted[0]!.id]))), [accepted[1]!.id]);
      await a.close();
      assert.deepEqual(ids(await b.dueMessages(later, 10, new Set())), ids(accepted));
    });

    test('released scheduled messages are claimed by nobody: any instance may send them', async () => {
      const url = await server.createDatabase();
      const [a, b] = [await instance(url), await instance(url)];
      const scheduled = makeMessage({ status: 'scheduled', sendAt: Date.now() });
      await a.insertMessages([scheduled]);
      assert.equal(await a.releaseScheduled(later), 1);
      assert.deepEqual(ids(await b.dueMessages(later, 10, new Set())), [scheduled.id]);
      assert.deepEqual(await a.dueMessages(later, 10, new Set()), [], 'now b holds it');
    });

    test("requeueInFlight and expireOverdue leave another live instance's messages alone", async () => {
      const url = await server.createDatabase();
      const [a, b] = [await instance(url), await instance(url)];
      const sending = makeMessage({ status: 'sending', attempts: 1 });
      const overdue = makeMessage({ validUntil: Date.now() - 1000 });
      await a.insertMessages([sending, overdue]);
      assert.equal(await b.requeueInFlight(), 0);
      assert.deepEqual(await b.expireOverdue(Date.now()), []);
      assert.equal((await b.getMessage(sending.id))?.status, 'sending');
      assert.equal((await b.getMessage(overdue.id))?.status, 'queued');
      assert.equal(await a.requeueInFlight(), 1);
      assert.deepEqual(await a.expireOverdue(Date.now()), [overdue.id]);
      assert.equal((await a.getMessage(sending.id))?.status, 'queued');
    });

    test("a webhook delivery is its storing instance's to send; the others get it once it closes", async () => {
      const url = await server.createDatabase();
      const [a, b] = [await instance(url), await instance(url)];
      const now = Date.now();
      const ids: number[] = [];
      for (const n of [1, 2, 3]) {
        ids.push(
          await a.enqueueWebhook({
            accountId: 'acc-a',
            url: 'https://example.com/hook',
            secret: null,
            body: `{"n":${n}}`,
            nextAttemptAt: now,
            createdAt: now,
          }),
        );
      }
      assert.equal(new Set(ids).size, 3, 'each delivery has its own id');
      assert.deepEqual(await b.dueWebhooks(now, 10), [], 'held by the instance that stored them');
      assert.deepEqual(
        (await a.dueWebhooks(now, 10)).map((d) => [d.id, d.body]),
        ids.map((id, i) => [id, `{"n":${i + 1}}`]),
        'its own again (after a restart of its sender, say)',
      );
      await a.close();
      const taken = await b.dueWebhooks(now, 2);
      assert.deepEqual(
        taken.map((d) => d.body),
        ['{"n":1}', '{"n":2}'],
      );
      const c = await instance(url);
      assert.deepEqual(
        (await c.dueWebhooks(now, 10)).map((d) => d.body),
        ['{"n":3}'],
        'what b claimed is not handed to c',
      );
    });

    test('an ESME delivery is held by the instance that sends it; released or unclaimed, another takes it', async () => {
      const url = await server.createDatabase();
      const [a, b] = [await instance(url), await instance(url)];
      const held = await a.enqueueEsmeDelivery('acc-a', { n: 1 }, true);
      // Stored by an instance with no receiver bound: any instance may send it.
      const open = await a.enqueueEsmeDelivery('acc-a', { n: 2 });
      assert.deepEqual(
        (await b.pendingEsmeDeliveries('acc-a', 10)).map((d) => d.id),
        [open],
      );
      assert.deepEqual(
        (await a.pendingEsmeDeliveries('acc-a', 10)).map((d) => d.id),
        [held],
        'its own, not what b took',
      );
      await a.releaseEsmeDeliveries('acc-a');
      assert.deepEqual(
        (await b.pendingEsmeDeliveries('acc-a', 10)).map((d) => [d.id, d.payload]),
        [
          [held, { n: 1 }],
          [open, { n: 2 }],
        ],
      );
      assert.deepEqual(await a.pendingEsmeDeliveries('acc-a', 10), [], 'b holds both');
      await b.close();
      assert.equal((await a.pendingEsmeDeliveries('acc-a', 10)).length, 2, 'a closed instance holds nothing');
    });

    test('a notice reaches the other instances once the writes before it commit, not its announcer', async () => {
      const url = await server.createDatabase();
      const [a, b] = [await instance(url), await instance(url)];
      const m = makeMessage({ groupId: 'g1' });
      await a.insertMessages([m]);
      const heardByA: StoreNotice[] = [];
      const heardByB: Array<[StoreNotice, string | undefined]> = [];
      await a.onNotice((n) => heardByA.push(n));
      await b.onNotice((n) => {
        void b.getMessage(m.id).then((stored) => heardByB.push([n, stored?.status]));
      });
      const canceled = a.cancelGroup('g1', Date.now(), []);
      await a.announce({ kind: 'group', groupId: 'g1', hold: 'canceled' });
      assert.equal(await canceled, 1);
      await waitFor(() => heardByB.length > 0 || undefined, 5_000, 'b hears it');
      assert.deepEqual(heardByB, [[{ kind: 'group', groupId: 'g1', hold: 'canceled' }, 'canceled']]);
      await b.announce({ kind: 'message', id: m.id, change: 'replaced' });
      await waitFor(() => heardByA.length > 0 || undefined, 5_000, 'a hears b');
      assert.deepEqual(heardByA, [{ kind: 'message', id: m.id, change: 'replaced' }], 'not its own');
    });

    test("a crashed instance's claims pass to the others when its lease ends", async () => {
      const url = await server.createDatabase();
      const survivor = await instance(url);
      const leaseMs = 3_000;
      // A process that accepts two messages and dies without closing its store.
      const child = instanceProcess(url, leaseMs, [makeMessage(), makeMessage()], 'process.exit(0);');
      let output = '';
      child.stdout!.on('data', (chunk) => (output += chunk));
      const exited = new Promise((resolve) => child.on('exit', resolve));
      assert.equal(await exited, 0);
      assert.equal(output.trim(), 'stored');
      const crashedAt = Date.now();
      const first = await survivor.dueMessages(later, 10, new Set());
      // The lease is still running unless this machine was slower than the lease itself.
      if (Date.now() - crashedAt < leaseMs / 2) assert.deepEqual(first, [], 'still the dead instance’s');
      const taken = await waitFor(
        async () => {
          const due = await survivor.dueMessages(later, 10, new Set());
          return due.length > 0 && due;
        },
        30_000,
        'the lease to end',
      );
      assert.equal(taken.length, 2);
    });

    test('an instance whose lease lapsed keeps only the messages nobody took meanwhile', async () => {
      const url = await server.createDatabase();
      const other = await instance(url);
      const leaseMs = 1_500;
      const messages = [makeMessage(), makeMessage()];
      // A process that stores (claims) two messages, is frozen past its lease, then looks
      // at what is still its own.
      const child = instanceProcess(
        url,
        leaseMs,
        messages,
        `for await (const line of createInterface({ input: process.stdin })) {
           console.log(JSON.stringify(await store.reclaimMessages(m.map((x) => x.id))));
           await store.close();
           process.exit(0);
         }`,
        ['pipe', 'pipe', 'inherit'],
      );
      const lines = createInterface({ input: child.stdout! });
      const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
      after(() => child.kill('SIGKILL'));
      assert.equal(await next(), 'stored');
      child.kill('SIGSTOP');
      // Its lease runs out; the other instance takes one of the two.
      const taken = await waitFor(
        async () => {
          const due = await other.dueMessages(later, 1, new Set());
          return due.length > 0 && due;
        },
        30_000,
        'the lease to lapse',
      );
      child.kill('SIGCONT');
      child.stdin!.write('reclaim\n');
      const kept = JSON.parse(await next()) as string[];
      assert.deepEqual(
        kept,
        messages.map((m) => m.id).filter((id) => id !== taken[0]!.id),
      );
    });

    test('the server ends a session a stopped instance left inside a transaction once it has sat there a lease', async () => {
      const url = await server.createDatabase();
      await instance(url);
      const leaseMs = 1_000;
      const admin = new pg.Client({ connectionString: url });
      const locker = new pg.Client({ connectionString: url });
      await admin.connect();
      await locker.connect();
      after(() => Promise.all([admin.end(), locker.end()]));
      // The schema table locked: a migration's transaction waits in its read of the version.
      // (Apart from the watching connection: a transaction sees pg_stat_activity as it was
      // at its first look.)
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE smsgw_schema IN ACCESS EXCLUSIVE MODE');
      const child = instanceProcess(url, leaseMs, [], '', ['ignore', 'ignore', 'inherit']);
      after(() => child.kill('SIGKILL'));
      const backend = await waitFor(
        async () =>
          (
            await admin.query(
              "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%smsgw_schema%' AND pid <> pg_backend_pid()",
            )
          ).rows[0]?.pid as number | undefined,
        30_000,
        'the migration to wait on the lock',
      );
      // Stopped while it waits; the lock let go, its read is answered and its session sits
      // inside the transaction, its locks held, for as long as nothing ends it.
      child.kill('SIGSTOP');
      await locker.query('COMMIT');
      const stateOf = async () =>
        (await admin.query('SELECT state FROM pg_stat_activity WHERE pid = $1', [backend])).rows[0]?.state as
          | string
          | undefined;
      const states = new Set<string>();
      await waitFor(
        async () => {
          const state = await stateOf();
          if (state) states.add(state);
          return state === undefined;
        },
        15_000,
        'the session to be ended',
      );
      assert.ok(states.has('idle in transaction'), `seen: ${[...states].join(', ')}`);
    });

    test('gateways starting together migrate once; a newer schema is refused', async () => {
      const url = await server.createDatabase();
      await Promise.all([instance(url), instance(url), instance(url)]);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        assert.deepEqual((await admin.query('SELECT version FROM smsgw_schema')).rows, [{ version: 9 }]);
        await admin.query('UPDATE smsgw_schema SET version = 99');
      } finally {
        await admin.end();
      }
      const newer = new PostgresStore({ connectionString: url });
      await assert.rejects(newer.migrate(), /schema version 99/);
      await newer.close();
    });

    test('a database from before billing (schema version 3) is upgraded: its messages kept, priced ones stored', async () => {
      const url = await server.createDatabase();
      const first = await instance(url);
      const old = makeMessage();
      await first.insertMessages([old]);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        // Version 3's shape: no price columns, no billing tables.
        await admin.query(`ALTER TABLE messages DROP COLUMN price, DROP COLUMN currency;
          DROP TABLE balances, ledger, quota_counts; UPDATE smsgw_schema SET version = 3`);
      } finally {
        await admin.end();
      }
      const upgraded = await instance(url);
      assert.equal((await upgraded.getMessage(old.id))?.id, old.id);
      const priced = makeMessage({ accountId: 'acc-up', priceMicros: 5_000, currency: 'EUR' });
      await upgraded.creditAccount('acc-up', 5_000, 'EUR', Date.now(), null);
      await upgraded.insertMessages([priced], undefined, {
        accountId: 'acc-up',
        currency: 'EUR',
        debits: [{ messageId: priced.id, amount: 5_000 }],
        floor: 0,
        quotas: [{ period: 'd2026-12-05', limit: 1 }],
        at: Date.now(),
      });
      assert.deepEqual(await upgraded.getBalance('acc-up'), { balance: 0, currency: 'EUR' });
      assert.equal((await upgraded.getMessage(priced.id))?.priceMicros, 5_000);
    });

    test('version 5: a status change writes no entry into an index of every row’s status', async () => {
      const url = await server.createDatabase();
      const first = await instance(url);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const indexes = async () =>
        (
          await admin.query(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'messages' ORDER BY indexname",
          )
        ).rows.map((r) => r.indexname as string);
      try {
        // A version 4 database, with the index it had.
        await admin.query(`DROP INDEX messages_scheduled, messages_sending;
          CREATE INDEX messages_status ON messages (status, send_at); UPDATE smsgw_schema SET version = 4`);
        await first.close();
        await instance(url);
        const upgraded = await indexes();
        assert.ok(!upgraded.includes('messages_status'), upgraded.join());
        assert.ok(
          upgraded.includes('messages_scheduled') && upgraded.includes('messages_sending'),
          upgraded.join(),
        );
        // Scheduled messages due and messages left `sending` are still found by an index.
        const plan = async (sql: string) =>
          (await admin.query(`EXPLAIN (FORMAT JSON) ${sql}`)).rows[0]['QUERY PLAN'][0].Plan;
        await admin.query('SET enable_seqscan = off');
        assert.match(
          JSON.stringify(await plan("SELECT id FROM messages WHERE status = 'scheduled' AND send_at <= 0")),
          /messages_scheduled/,
        );
        assert.match(
          JSON.stringify(
            await plan("SELECT id FROM messages WHERE status = 'sending' AND claimed_by IS NULL"),
          ),
          /messages_sending/,
        );
      } finally {
        await admin.end();
      }
    });

    test('version 6: a version 5 database gets the indexes a search by number or client reference uses', async () => {
      const url = await server.createDatabase();
      const first = await instance(url);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const searchIndexes = ['messages_client_ref', 'messages_from', 'messages_to'];
      const present = async () =>
        (
          await admin.query(
            'SELECT indexname FROM pg_indexes WHERE tablename = $1 AND indexname = ANY($2) ORDER BY indexname',
            ['messages', searchIndexes],
          )
        ).rows.map((r) => r.indexname as string);
      try {
        await admin.query(`DROP INDEX ${searchIndexes.join(', ')}; UPDATE smsgw_schema SET version = 5`);
        assert.deepEqual(await present(), []);
        await first.close();
        await instance(url);
        assert.deepEqual(await present(), searchIndexes);
      } finally {
        await admin.end();
      }
    });

    test('a bulk of writes finds its rows by key, even with a plan made while the table was small', async () => {
      const url = await server.createDatabase();
      const store = await instance(url);
      const few = [makeMessage(), makeMessage()];
      await store.insertMessages(few);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const applyBulk = (messageIds: string[]) => {
        const bulk = new BulkWrite();
        for (const id of messageIds)
          bulk.add({ op: 'updateMessage', id, patch: { attempts: 1 }, event: null });
        bulk.add({ op: 'finishWebhook', id: 1, outcome: 'delivered', at: 0 });
        return admin.query('SELECT smsgw_apply($1::jsonb, false) AS outcomes', [
          JSON.stringify([bulk.write('t')]),
        ]);
      };
      try {
        await admin.query('ALTER TABLE messages SET (autovacuum_enabled = false)');
        // The session plans the bulk's statements while the table holds two rows, and keeps a
        // generic plan after five calls; the table then grows without a new ANALYZE.
        for (let i = 0; i < 8; i++) await applyBulk(ids(few));
        const more = Array.from({ length: 3000 }, () => makeMessage());
        await store.insertMessages(more);
        await admin.query('BEGIN');
        const { rows } = await applyBulk([...ids(few), ...ids(more.slice(0, 20))]);
        assert.deepEqual(rows[0].outcomes, [{ ok: true, value: [[], [1], [], []] }]);
        // This transaction's scans so far.
        const scans = await admin.query(
          "SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE relname IN ('messages', 'webhook_deliveries')",
        );
        assert.deepEqual(scans.rows.map((r) => [r.relname, Number(r.seq_scan)]).sort(), [
          ['messages', 0],
          ['webhook_deliveries', 0],
        ]);
        await admin.query('COMMIT');
        assert.equal((await store.getMessage(more[19]!.id))?.attempts, 1);
      } finally {
        await admin.end();
      }
    });

    test('a connection cut in the middle of a claim fails that claim only: the process goes on, the next claim works', async () => {
      const url = await server.createDatabase();
      const store = await instance(url);
      const queued = [makeMessage(), makeMessage()];
      await store.insertMessages(queued);
      // The claim waits on a lock held here, so it is on the wire when its backend is cut.
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query('BEGIN');
        await admin.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
        const claim = store.dueMessages(later, 10, new Set());
        const { pid } = await waitFor(async () => {
          const { rows } = await admin.query(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()",
          );
          return rows[0] as { pid: number } | undefined;
        });
        // Unheard, the checked-out client's 'error' event was thrown: an uncaught exception
        // that failed this test (and ended `smsgw serve`).
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await assert.rejects(claim, /terminat/);
        await admin.query('COMMIT');
      } finally {
        await admin.end();
      }
      assert.deepEqual(ids(await store.dueMessages(later, 10, new Set())), ids(queued));
    });

    test('openStore reads its own options off the URL and refuses bad ones', async () => {
      const url = await server.createDatabase();
      const store = await openStore(`${url}?pool_size=2&lease_ms=5000`);
      await store.ping();
      await store.close();
      const spelledOut = await openStore(url.replace(/^postgres:/, 'postgresql:'));
      await spelledOut.ping();
      await spelledOut.close();
      await assert.rejects(openStore(`${url}?lease_ms=soon`), /lease_ms must be an integer/);
      await assert.rejects(openStore(`${url}?pool_size=0`), /pool_size must be an integer/);
    });
  });
}
