// The SQLite store: the shared conformance suite in memory and on disk, then what only a
// file can show: parent directories, WAL, reopening, upgrading, no loss across a real
// kill -9, and the writer thread: its errors, its death, and the process's lifetime.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { openStore, SqliteStore, type WriterChange } from '../../src/store/index.ts';
import { makeMessage, storeConformance } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'smsgw-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tempPath = (name = 'smsgw') => join(dir, `${name}-${++files}.db`);

async function sqliteStore(path: string, options?: ConstructorParameters<typeof SqliteStore>[1]) {
  const store = new SqliteStore(path, options);
  await store.migrate();
  return store;
}

/** The store's writer thread (test access to a private field). */
function writerOf(store: SqliteStore): Worker {
  return (store as unknown as { thread: { worker: Worker } }).thread.worker;
}

storeConformance('SQLite :memory:', () => sqliteStore(':memory:'));
// A file's default (writer auto) commits these tests' light writes on the event loop.
storeConformance('SQLite file', () => sqliteStore(tempPath()));
storeConformance('SQLite file, writer thread', () => sqliteStore(tempPath(), { writer: 'thread' }));
storeConformance('SQLite file, synchronous=NORMAL', () => sqliteStore(tempPath(), { synchronous: 'NORMAL' }));

describe('SqliteStore on disk', () => {
  test('creates parent directories and keeps data across close and reopen', async () => {
    const path = join(dir, 'nested', 'deeper', 'smsgw.db');
    const store = await sqliteStore(path);
    const m = makeMessage({ binary: Buffer.from([1, 2, 3]), text: null, encoding: 'binary' });
    await store.insertMessages([m]);
    const unawaited = makeMessage();
    const pending = store.insertMessages([unawaited]);
    await store.close();
    await pending;
    assert.ok(existsSync(path));

    const reopened = await sqliteStore(path);
    assert.deepEqual(await reopened.getMessage(m.id), m);
    assert.deepEqual(await reopened.getMessage(unawaited.id), unawaited);
    await reopened.close();

    const db = new DatabaseSync(path);
    assert.equal(db.prepare('PRAGMA journal_mode').get()?.['journal_mode'], 'wal');
    db.close();
  });

  test('an unknown synchronous mode is refused', () => {
    assert.throws(() => new SqliteStore(':memory:', { synchronous: 'SOMETIMES' as 'FULL' }), /synchronous/);
  });

  test('a database from a newer smsgw is refused rather than touched', async () => {
    const path = tempPath();
    const db = new DatabaseSync(path);
    db.exec('PRAGMA user_version = 99');
    db.close();
    await assert.rejects(openStore(`sqlite:${path}`), /schema version 99/);
  });

  test('a version 1 database is upgraded in place: its deliveries kept, their ids no longer reused', async () => {
    const path = tempPath();
    const db = new DatabaseSync(path);
    db.exec(`
      CREATE TABLE webhook_deliveries (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, url TEXT NOT NULL,
        secret TEXT, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL, last_error TEXT, abandoned_at INTEGER) STRICT;
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE abandoned_at IS NULL;
      CREATE TABLE esme_deliveries (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, created_at INTEGER NOT NULL,
        payload TEXT NOT NULL) STRICT;
      CREATE INDEX esme_deliveries_account ON esme_deliveries (account_id, id);
      INSERT INTO webhook_deliveries (id, account_id, url, body, next_attempt_at, created_at)
        VALUES (5, 'acc-a', 'https://a', '{}', 10, 1);
      INSERT INTO esme_deliveries VALUES (7, 'acc-a', 1, '{"kind":"mo"}');
      PRAGMA user_version = 1;
    `);
    db.close();

    const store = await sqliteStore(path);
    const [hook] = await store.dueWebhooks(10, 10);
    assert.deepEqual([hook?.id, hook?.url], [5, 'https://a']);
    assert.deepEqual(
      (await store.pendingEsmeDeliveries('acc-a', 10)).map((d) => [d.id, d.payload]),
      [[7, { kind: 'mo' }]],
    );
    await store.finishWebhook(5, 'delivered');
    await store.enqueueWebhook({
      accountId: 'acc-a',
      url: 'https://a',
      secret: null,
      body: '{}',
      nextAttemptAt: 10,
      createdAt: 2,
    });
    assert.deepEqual(
      (await store.dueWebhooks(10, 10)).map((d) => d.id),
      [6],
    );
    await store.deleteEsmeDelivery(7);
    assert.equal(await store.enqueueEsmeDelivery('acc-a', { kind: 'mo' }), 8);
    await store.close();

    const upgraded = new DatabaseSync(path);
    assert.equal(upgraded.prepare('PRAGMA user_version').get()?.['user_version'], 9);
    assert.deepEqual(
      upgraded
        .prepare(`SELECT name FROM sqlite_schema WHERE name LIKE '%deliveries%' ORDER BY name`)
        .all()
        .map((r) => r['name']),
      ['esme_deliveries', 'esme_deliveries_account', 'webhook_deliveries', 'webhook_deliveries_due'],
    );
    upgraded.close();
  });

  test('a resolved write survives kill -9 of the process that made it', async () => {
    const path = tempPath('killed');
    const storeUrl = new URL('../../src/store/index.ts', import.meta.url).href;
    // Inserts batches of concurrent messages forever, then moves half of each batch to
    // `sending`; a line is printed only once its write has resolved.
    const child = `
      import { SqliteStore } from ${JSON.stringify(storeUrl)};
      const store = new SqliteStore(process.env.STORE_PATH);
      await store.migrate();
      const message = (id) => ({
        id, accountId: 'acc', direction: 'mt', status: 'queued', to: '447700900001', from: 'Brand',
        text: 'text of ' + id, binary: null, udh: null, encoding: 'gsm7', segments: 1, priority: 'bulk', clientRef: null,
        callbackUrl: null, flash: false, origin: 'http', receiptRequested: false, connectorId: null,
        createdAt: Date.now(), sendAt: null, validUntil: null, submittedAt: null, doneAt: null, attempts: 0,
        nextAttemptAt: null, error: null, groupId: null, meta: null,
      });
      for (let batch = 0; ; batch++) {
        const ids = Array.from({ length: 25 }, (_, i) => 'm-' + batch + '-' + i);
        await Promise.all(ids.map(async (id) => {
          await store.insertMessages([message(id)]);
          process.stdout.write('inserted ' + id + '\\n');
          if (id.endsWith('0')) {
            await store.updateMessage(id, { status: 'sending' }, { at: Date.now(), type: 'sending', detail: null });
            process.stdout.write('sending ' + id + '\\n');
          }
        }));
      }
    `;
    const proc = spawn(process.execPath, ['--input-type=module', '--eval', child], {
      env: { ...process.env, STORE_PATH: path },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      proc.on('exit', (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve) => {
      proc.stdout.setEncoding('utf8');
      proc.stdout.on('data', (chunk: string) => {
        output += chunk;
        // Killed while writes are still being made and committed, not between runs.
        if (output.length > 60_000 && !proc.killed) {
          proc.kill('SIGKILL');
          resolve();
        }
      });
      proc.on('exit', () => resolve());
    });
    assert.equal(await exited, 'SIGKILL');

    const lines = output.slice(0, output.lastIndexOf('\n')).split('\n');
    const inserted = lines.filter((l) => l.startsWith('inserted ')).map((l) => l.slice('inserted '.length));
    const sending = lines.filter((l) => l.startsWith('sending ')).map((l) => l.slice('sending '.length));
    assert.ok(inserted.length > 1000 && sending.length > 100);

    const store = await sqliteStore(path);
    for (const id of inserted) assert.equal((await store.getMessage(id))?.text, `text of ${id}`, id);
    for (const id of sending) assert.equal((await store.getMessage(id))?.status, 'sending', id);
    await store.close();
    const db = new DatabaseSync(path);
    assert.equal(db.prepare('PRAGMA integrity_check').get()?.['integrity_check'], 'ok');
    db.close();
  });
});

describe('SqliteStore writes', () => {
  for (const [where, path, writer] of [
    ['in memory', () => ':memory:', 'main'],
    ['on a file, committed on the event loop (auto, light traffic)', () => tempPath(), 'auto'],
    ['on the writer thread', () => tempPath(), 'thread'],
  ] as const) {
    test(`${where}: a write SQLite refuses fails alone, leaves nothing behind, and keeps its details`, async () => {
      const store = await sqliteStore(path(), { writer });
      assert.equal(store.writingOnThread, writer === 'thread');
      const m = makeMessage();
      const other = makeMessage();
      await store.insertMessages([m]);
      const results = await Promise.allSettled([
        // The update is made, then its event is refused (STRICT: no text in an INTEGER).
        store.updateMessage(
          m.id,
          { status: 'sending' },
          { at: 'soon' as unknown as number, type: 'sending', detail: null },
        ),
        store.insertMessages([other]),
        store.updateMessage(m.id, { attempts: 1 }),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['rejected', 'fulfilled', 'fulfilled'],
      );
      const error = (results[0] as PromiseRejectedResult).reason;
      assert.ok(error instanceof Error);
      assert.equal((error as Error & { code?: string }).code, 'ERR_SQLITE_ERROR');
      assert.match(error.message, /TEXT value in INTEGER column/);
      assert.deepEqual(await store.getMessage(m.id), { ...m, attempts: 1 });
      assert.deepEqual(
        (await store.listEvents(m.id)).map((e) => e.type),
        ['queued'],
      );
      assert.deepEqual(await store.getMessage(other.id), other);
      await store.close();
    });
  }

  test('if the writer thread dies, waiting writes are rejected and no more are taken', async () => {
    const store = await sqliteStore(tempPath(), { writer: 'thread' });
    const m = makeMessage();
    await store.insertMessages([m]);
    assert.equal(store.writingOnThread, true);
    const waiting = store.insertMessages([makeMessage()]);
    // As a crash would: the thread stops under the store.
    await writerOf(store).terminate();
    await assert.rejects(waiting, /writer thread stopped .* may or may not be stored/);
    await assert.rejects(store.updateMessage(m.id, { status: 'failed' }), /writer thread stopped/);
    await assert.rejects(store.ping(), /writer thread stopped/);
    assert.deepEqual(await store.getMessage(m.id), m);
    await store.close();
  });

  test('webhook bodies cross to the writer thread beside the batch and are stored as given', async () => {
    const store = await sqliteStore(tempPath(), { writer: 'thread' });
    const delivery = (body: string) => ({
      accountId: 'acc',
      url: 'http://127.0.0.1:9/hooks',
      secret: null,
      body,
      nextAttemptAt: 1,
      createdAt: 1,
    });
    const bodies = ['{"text":"a \\"quoted\\" word, ünïcode ✓"}', '', '{"n":2}'];
    // In one tick, so they cross in one batch with a message between them.
    const [first, , second, third] = await Promise.all([
      store.enqueueWebhook(delivery(bodies[0]!)),
      store.insertMessages([makeMessage()]),
      store.enqueueWebhook(delivery(bodies[1]!)),
      store.enqueueWebhook(delivery(bodies[2]!)),
    ]);
    const due = await store.dueWebhooks(2, 10);
    assert.deepEqual(
      [first, second, third].map((id) => due.find((d) => d.id === id)?.body),
      bodies,
    );
    await store.close();
  });

  test('the writer thread keeps no SMSC message ids interned: its V8 malloced memory stays flat', async () => {
    // Short ids (under 10 characters), one new one per message, as SMSCs give them: V8's
    // JSON.parse interned every one from one-byte text, and the thread's string table grew
    // until a full collection (docs/PERFORMANCE.md, memory, third round).
    const store = await sqliteStore(tempPath(), { writer: 'thread' });
    const writer = writerOf(store);
    const m = makeMessage();
    await store.insertMessages([m]);
    const malloced = async () => (await writer.getHeapStatistics()).malloced_memory;
    let n = 0;
    const link = async (chunks: number) => {
      for (let chunk = 0; chunk < chunks; chunk++) {
        const links = Array.from({ length: 1_000 }, () => {
          const smscId = (++n).toString(16);
          return { connectorId: 'smsc', smscId, messageId: m.id, part: 0, parts: 1 };
        });
        await store.linkSmscIds(links);
      }
    };
    // Warmed up first, so the compiler's own (passing) memory is not counted.
    await link(20);
    const before = await malloced();
    await link(200);
    const grown = (await malloced()) - before;
    assert.ok(grown < 1_000_000, `malloced memory grew by ${grown} bytes over 200,000 ids`);
    await store.close();
  });

  test('the every-second sweeps hand the writer thread nothing while nothing is due', async () => {
    const store = await sqliteStore(tempPath(), { writer: 'thread' });
    const writer = writerOf(store);
    let posts = 0;
    const post = writer.postMessage.bind(writer);
    writer.postMessage = (value: unknown) => {
      posts++;
      post(value);
    };
    const now = Date.now();
    const later = makeMessage({ status: 'scheduled', sendAt: now + 60_000, validUntil: now + 120_000 });
    await store.insertMessages([later]);
    posts = 0;
    assert.equal(await store.releaseScheduled(now), 0);
    assert.deepEqual(await store.expireOverdue(now, []), []);
    assert.equal(posts, 0, 'nothing due: no write');
    // Due, they are written as before.
    assert.equal(await store.releaseScheduled(now + 60_000), 1);
    assert.equal(posts, 1);
    assert.deepEqual(await store.expireOverdue(now + 120_000, []), [later.id]);
    assert.equal(posts, 2);
    assert.equal((await store.getMessage(later.id))?.status, 'expired');
    await store.close();
  });

  test('releaseMemory has the writer thread give back its garbage, and writes go on', () => {
    const path = tempPath('release');
    const storeUrl = new URL('../../src/store/index.ts', import.meta.url).href;
    // In a process with gc exposed, as bin/smsgw starts serve.
    const child = `
      import { randomUUID } from 'node:crypto';
      import { SqliteStore } from ${JSON.stringify(storeUrl)};
      const keepAlive = setInterval(() => {}, 1000);
      const store = new SqliteStore(process.env.STORE_PATH, { writer: 'thread' });
      await store.migrate();
      for (let i = 0; i < 50; i++)
        await store.linkSmscIds(Array.from({ length: 500 }, () =>
          ({ connectorId: 'smsc', smscId: randomUUID(), messageId: 'm', part: 0, parts: 1 })));
      const before = await store.thread.worker.getHeapStatistics();
      store.releaseMemory();
      // Answered after the release: the thread takes its messages in order.
      await store.upsertAccount({ id: 'acc', apiKeyHashes: [], settings: {} });
      const after = await store.thread.worker.getHeapStatistics();
      await store.close();
      clearInterval(keepAlive);
      process.stdout.write(JSON.stringify({ before: before.total_heap_size, after: after.total_heap_size }));
    `;
    const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '--eval', child], {
      env: { ...process.env, STORE_PATH: path },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const heap = JSON.parse(run.stdout) as { before: number; after: number };
    // 25,000 writes leave the thread's heap at ~15 MB committed; collected and given back, ~7.
    assert.ok(heap.after < heap.before - 2 * 2 ** 20, `writer heap ${heap.before} -> ${heap.after} bytes`);
    const db = new DatabaseSync(path);
    assert.equal(db.prepare('SELECT id FROM accounts').get()?.['id'], 'acc');
    db.close();
  });

  test('an idle store does not keep the process alive, a waiting write does', () => {
    const path = tempPath('lifetime');
    const storeUrl = new URL('../../src/store/index.ts', import.meta.url).href;
    // Never closed: the process must still end, and only once the write is stored.
    const child = `
      import { SqliteStore } from ${JSON.stringify(storeUrl)};
      const store = new SqliteStore(process.env.STORE_PATH);
      await store.migrate();
      await new Promise((resolve) => setTimeout(resolve, 200));
      store.upsertAccount({ id: 'acc', apiKeyHashes: [], settings: {} }).then(() => process.stdout.write('stored'));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '--eval', child], {
      env: { ...process.env, STORE_PATH: path },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'stored');
    const db = new DatabaseSync(path);
    assert.equal(db.prepare('SELECT id FROM accounts').get()?.['id'], 'acc');
    db.close();
  });
});

describe('openStore', () => {
  test('sqlite::memory: and sqlite:<path> open migrated stores', async () => {
    const memory = await openStore('sqlite::memory:');
    const m = makeMessage();
    await memory.insertMessages([m]);
    assert.deepEqual(await memory.getMessage(m.id), m);
    await memory.close();

    const path = join(dir, 'opened', 'smsgw.db');
    const file = await openStore(`sqlite:${path}?synchronous=normal&busy_timeout=1000`);
    await file.insertMessages([m]);
    await file.close();
    const again = await openStore(`sqlite://${path}`);
    assert.deepEqual(await again.getMessage(m.id), m);
    await again.close();
  });

  test('writer=main writes on the calling thread, durably; writer=thread on its own thread', async () => {
    const path = join(dir, 'writer-main', 'smsgw.db');
    const threadsNow = () => readdirSync('/proc/self/task').length;
    const before = threadsNow();
    const main = await openStore(`sqlite:${path}?writer=main`);
    // At most: a thread of an earlier test's store may still be going.
    assert.ok(threadsNow() <= before, 'no writer thread started');
    const m = makeMessage();
    await main.insertMessages([m]);
    // As many commits as would move `auto` to a thread: `main` stays.
    for (let i = 1; i <= 300; i++) await main.updateMessage(m.id, { attempts: i });
    await main.updateMessage(m.id, { status: 'submitted', submittedAt: m.createdAt + 1 });
    assert.equal((main as SqliteStore).writingOnThread, false);
    assert.ok(threadsNow() <= before, 'no writer thread started');
    await main.close();
    const threaded = await openStore(`sqlite:${path}?writer=thread`);
    assert.equal(typeof writerOf(threaded as SqliteStore).threadId, 'number', 'the writer thread started');
    assert.equal((await threaded.getMessage(m.id))?.status, 'submitted');
    await threaded.close();
  });

  test('writer=auto commits on the event loop while light, moves to the writer thread under load and back once it is light again, in order', async () => {
    const store = await sqliteStore(tempPath('auto'), { writerWindowMs: 300 });
    const changes: WriterChange[] = [];
    store.watchWriter((change) => changes.push(change));
    const m = makeMessage();
    await store.insertMessages([m]);
    assert.equal(store.writingOnThread, false, 'a few commits stay on the event loop');
    // One commit per write, each waited for: their fsyncs soon take over 50 ms of a second.
    const inserted: string[] = [];
    let n = 0;
    const write = async () => {
      n++;
      const other = makeMessage();
      inserted.push(other.id);
      await Promise.all([
        store.updateMessage(m.id, { attempts: n }, { at: m.createdAt + n, type: 'sending', detail: { n } }),
        store.insertMessages([other]),
      ]);
    };
    const deadline = Date.now() + 30_000;
    while (!store.writingOnThread && Date.now() < deadline) await write();
    assert.equal(store.writingOnThread, true, `the writer thread took over (after ${n} commits)`);
    const onThread = writerOf(store);
    const switchedAt = n;
    for (let i = 0; i < 50; i++) await write();
    // Light again (a write every 200 ms): the thread stops while they go on, and commits come
    // back here.
    let exited = false;
    onThread.once('exit', () => {
      exited = true;
    });
    const lightUntil = Date.now() + 20_000;
    let whileLight = 0;
    while (!exited && Date.now() < lightUntil) {
      await write();
      whileLight++;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(exited, `the writer thread stopped (${whileLight} light writes)`);
    assert.equal(store.writingOnThread, false);
    // Still light (paced as above: back to back, a loaded machine's slow fsyncs would rightly
    // move them again).
    for (let i = 0; i < 5; i++) {
      await write();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(store.writingOnThread, false, 'light: on the event loop');
    assert.deepEqual(
      changes.map((c) => c.onThread),
      [true, false],
    );
    assert.match(changes[0]!.reason, /^commits took \d+ ms of the event loop within a second$/);
    assert.match(changes[1]!.reason, /^the writer thread's batches took \d+ ms in 0.3 s$/);

    assert.equal((await store.getMessage(m.id))?.attempts, n);
    const events = await store.listEvents(m.id);
    assert.deepEqual(
      events.filter((e) => e.type === 'sending').map((e) => (e.detail as { n: number }).n),
      Array.from({ length: n }, (_, i) => i + 1),
      `every update's event, in order (switched after ${switchedAt})`,
    );
    for (const id of inserted) assert.equal((await store.getMessage(id))?.id, id);
    await store.close();
    // Committed, not just seen by this connection: another one reads the same.
    const db = new DatabaseSync(store.path, { readOnly: true });
    assert.equal(db.prepare('SELECT attempts FROM messages WHERE id = ?').get(m.id)?.['attempts'], n);
    db.close();
  });

  test('writer=auto moving back and forth under bursts and pauses loses, reorders and duplicates nothing', async () => {
    // A small budget and a short window, so that the commits change sides many times,
    // with writes arriving while the thread starts, while it is let go and just after.
    const store = await sqliteStore(tempPath('auto-flip'), { loopCommitBudgetMs: 2, writerWindowMs: 40 });
    const changes: WriterChange[] = [];
    store.watchWriter((change) => changes.push(change));
    const m = makeMessage();
    await store.insertMessages([m]);
    let n = 0;
    const inserted: string[] = [];
    const writes: Promise<unknown>[] = [];
    const until = Date.now() + 3_000;
    for (let round = 0; Date.now() < until; round++) {
      // A burst of 1 to 40 writes in one tick, not waited for, then a pause of 0 to 60 ms.
      for (let i = 0; i < 1 + (round % 40); i++) {
        n++;
        const other = makeMessage();
        inserted.push(other.id);
        writes.push(
          store.updateMessage(m.id, { attempts: n }, { at: m.createdAt + n, type: 'sending', detail: { n } }),
          store.insertMessages([other]),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, (round * 7) % 61));
    }
    await Promise.all(writes);
    assert.ok(changes.filter((c) => c.onThread).length >= 2, `moved to the thread ${changes.length} times`);
    assert.ok(
      changes.some((c) => !c.onThread),
      'and back',
    );
    assert.equal((await store.getMessage(m.id))?.attempts, n);
    const events = await store.listEvents(m.id);
    assert.deepEqual(
      events.filter((e) => e.type === 'sending').map((e) => (e.detail as { n: number }).n),
      Array.from({ length: n }, (_, i) => i + 1),
    );
    const db = new DatabaseSync(store.path, { readOnly: true });
    assert.equal(db.prepare('SELECT count(*) AS n FROM messages').get()?.['n'], inserted.length + 1);
    db.close();
    await store.close();
  });

  test('writer=auto never commits on the event loop what grows with the data: a group, or over 100 due messages', async () => {
    // No budget to reach: only what a write is sends it to the thread.
    const unlimited = { loopCommitBudgetMs: Number.POSITIVE_INFINITY };
    const store = await sqliteStore(tempPath('auto-unbounded'), unlimited);
    const reasons: string[] = [];
    store.watchWriter(({ reason }) => reasons.push(reason));
    const now = Date.now();
    const scheduled = (n: number, sendAt: number) =>
      Array.from({ length: n }, () =>
        makeMessage({ status: 'scheduled', sendAt, validUntil: now + 600_000 }),
      );
    // 100 due, inserted 100 at a time: both at the bound, so both stay here.
    await store.insertMessages(scheduled(100, now + 1_000));
    assert.equal(await store.releaseScheduled(now + 1_000), 100);
    assert.equal(store.writingOnThread, false, '100 rows are committed on the event loop');
    // 101 at once: the insert goes to a writer thread, started for it.
    await store.insertMessages(scheduled(101, now + 2_000));
    assert.equal(store.writingOnThread, true, 'over 100 rows start the writer thread');
    assert.deepEqual(reasons, ['a write that grows with the data (insertMessages)']);
    await store.close();

    for (const [what, write] of [
      ['releaseScheduled with 101 due', (s: SqliteStore) => s.releaseScheduled(now + 2_000)],
      ['cancelGroup', (s: SqliteStore) => s.cancelGroup('g1', now)],
    ] as const) {
      const again = await sqliteStore(store.path, unlimited);
      await again.insertMessages([makeMessage({ groupId: 'g1' })]);
      assert.equal(again.writingOnThread, false);
      await write(again);
      assert.equal(again.writingOnThread, true, `${what} went to the writer thread`);
      await again.close();
    }
    const db = new DatabaseSync(store.path, { readOnly: true });
    const counts = db
      .prepare('SELECT status, count(*) AS n FROM messages GROUP BY status ORDER BY status')
      .all();
    db.close();
    assert.deepEqual(
      counts.map((r) => [r['status'], r['n']]),
      [
        ['canceled', 2],
        ['queued', 201],
      ],
    );
  });

  // postgres:// URLs: test/store/postgres.test.ts.
  test('other URLs are refused', async () => {
    await assert.rejects(openStore('mysql://localhost/smsgw'), /unknown store URL/);
    await assert.rejects(openStore('sqlite:'), /names no file/);
    await assert.rejects(openStore('sqlite::memory:?synchronous=maybe'), /synchronous must be one of/);
    await assert.rejects(openStore('sqlite::memory:?cache=shared'), /unknown option cache/);
    await assert.rejects(
      openStore('sqlite::memory:?writer=both'),
      /writer must be one of auto, thread, main/,
    );
  });
});
