// Upgrades of the SQLite store: a store written by an older smsgw (fixtures/sqlite-v5.sql,
// captured from schema version 5 and never edited) opens with every row readable and ends
// up with the same tables and columns as a store created today; a store from a newer smsgw
// is refused, untouched, with a message that says what to do.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { openStore } from '../../src/store/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'smsgw-upgrade-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fixtureV5 = readFileSync(new URL('./fixtures/sqlite-v5.sql', import.meta.url), 'utf8');

/** A database file made from SQL, then changed by `more` (to play an older version). */
function storeFile(sql: string, more = ''): string {
  const path = join(dir, `store-${++files}.db`);
  const db = new DatabaseSync(path);
  db.exec(sql);
  db.exec(more);
  db.close();
  return path;
}

/** Every table and index by name, and each table's columns: what a schema is, less its history. */
function shape(path: string) {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const objects = db
      .prepare("SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
      .all()
      .map((r) => `${r['type']} ${r['name']}`);
    const columns = Object.fromEntries(
      db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .all()
        .map((t) => [
          t['name'],
          db
            .prepare(`PRAGMA table_info(${t['name']})`)
            .all()
            .map(
              (c) => `${c['name']} ${c['type']}${c['notnull'] ? ' NOT NULL' : ''} ${c['dflt_value'] ?? ''}`,
            )
            // Columns are read by name: one added later sits at the end, and that is all.
            .sort(),
        ]),
    );
    const version = db.prepare('PRAGMA user_version').get()!['user_version'];
    return { version, objects, columns };
  } finally {
    db.close();
  }
}

async function freshShape() {
  const path = join(dir, `fresh-${++files}.db`);
  const store = await openStore(`sqlite:${path}`);
  await store.close();
  return shape(path);
}

describe('SQLite store upgrades', () => {
  test('a store written by schema version 5 opens: every row readable, new writes follow on, the schema as today', async () => {
    const path = storeFile(fixtureV5);
    const store = await openStore(`sqlite:${path}`);
    try {
      const delivered = await store.getMessage('msg-v5-delivered');
      assert.equal(delivered?.status, 'delivered');
      assert.equal(delivered?.connectorId, 'smsc-v5');
      assert.equal(delivered?.text, 'delivered before the upgrade');
      assert.deepEqual(delivered?.meta, { tag: 'v5' });
      assert.deepEqual(
        (await store.listEvents('msg-v5-delivered')).map((e) => [e.type, e.detail]),
        [
          ['queued', null],
          ['submitted', { connector: 'smsc-v5' }],
          ['delivered', null],
        ],
      );
      const binary = await store.getMessage('msg-v5-binary');
      assert.deepEqual(binary?.binary, Buffer.from([1, 2, 3]));
      assert.deepEqual(binary?.udh, Buffer.from([5, 0, 3, 7, 2, 1]));
      assert.equal((await store.getMessage('msg-v5-queued'))?.groupId, 'batch-v5');
      assert.equal((await store.getMessage('msg-v5-inbound'))?.direction, 'mo');
      assert.deepEqual(await store.findSmscId('smsc-v5', 'smsc-1'), {
        connectorId: 'smsc-v5',
        smscId: 'smsc-1',
        messageId: 'msg-v5-delivered',
        part: 1,
        parts: 1,
      });
      assert.equal((await store.getIdempotency('acc-v5', 'idem-v5', 1_764_892_800_000))?.statusCode, 202);
      assert.deepEqual((await store.findAccountByApiKeyHash('a'.repeat(64)))?.settings, {
        mps: 0,
        defaultFrom: 'Brand',
      });
      const hooks = await store.dueWebhooks(1_764_892_800_030, 10);
      assert.deepEqual(
        hooks.map((h) => [h.id, h.url, h.method, h.contentType, h.headers]),
        [
          [1, 'https://hooks.example.com/v5', 'POST', null, null],
          [
            2,
            'https://hooks.example.com/twilio',
            'POST',
            'application/x-www-form-urlencoded',
            { 'X-Twilio-Signature': 'sig' },
          ],
        ],
      );
      assert.deepEqual(
        (await store.pendingEsmeDeliveries('acc-v5', 10)).map((d) => d.payload),
        [{ kind: 'mo', messageId: 'msg-v5-inbound' }],
      );
      assert.deepEqual((await store.getRecord('suppression', 'acc-v5:447700900200'))?.data, {
        reason: 'STOP',
      });
      assert.equal((await store.listUnmatchedReceipts(10)).length, 1);
      // Queue ids carry on from where the old store left them.
      const next = await store.enqueueWebhook({
        accountId: 'acc-v5',
        url: 'https://hooks.example.com/v5',
        secret: null,
        body: '{}',
        nextAttemptAt: 1,
        createdAt: 1,
      });
      assert.equal(next, 3);
    } finally {
      await store.close();
    }
    assert.deepEqual(shape(path), await freshShape());
  });

  // Older versions made from the version 5 fixture by taking away what each later step adds.
  const older: Array<[number, string]> = [
    [
      4,
      'ALTER TABLE webhook_deliveries DROP COLUMN method; ALTER TABLE webhook_deliveries DROP COLUMN content_type; ALTER TABLE webhook_deliveries DROP COLUMN headers; ALTER TABLE webhook_deliveries DROP COLUMN reply;',
    ],
    [3, 'ALTER TABLE messages DROP COLUMN meta;'],
    [2, 'ALTER TABLE messages DROP COLUMN udh;'],
  ];
  for (const [version] of older) {
    test(`a store at schema version ${version} is upgraded step by step to today's shape, its rows kept`, async () => {
      const taking = older.filter(([v]) => v >= version).map(([, sql]) => sql);
      const path = storeFile(fixtureV5, `${taking.join('\n')} PRAGMA user_version = ${version};`);
      assert.equal(shape(path).version, version);
      const store = await openStore(`sqlite:${path}`);
      try {
        assert.equal((await store.getMessage('msg-v5-delivered'))?.status, 'delivered');
        assert.equal((await store.dueWebhooks(1_764_892_800_030, 10)).length, 2);
      } finally {
        await store.close();
      }
      assert.deepEqual(shape(path), await freshShape());
    });
  }

  test('steps that find their work done change nothing: a version 5 store stamped 1 upgrades with its ids as they were', async () => {
    const path = storeFile(fixtureV5, 'PRAGMA user_version = 1;');
    const store = await openStore(`sqlite:${path}`);
    try {
      assert.deepEqual(
        (await store.dueWebhooks(1_764_892_800_030, 10)).map((h) => h.id),
        [1, 2],
      );
    } finally {
      await store.close();
    }
    assert.deepEqual(shape(path), await freshShape());
  });

  test('a store from a newer smsgw is refused untouched, and serve says so in one line', async () => {
    const path = storeFile('CREATE TABLE future (x INTEGER); PRAGMA user_version = 99;');
    await assert.rejects(
      openStore(`sqlite:${path}`),
      /was written by a newer smsgw \(schema version 99; this one knows up to \d+\): run that version, or restore a backup/,
    );
    const config = join(dir, 'newer.yaml');
    writeFileSync(config, `store: sqlite:${path}\nhttp: { listen: 127.0.0.1:0 }\n`);
    const served = spawnSync(process.execPath, [resolve('src/cli/main.ts'), 'serve', '--config', config], {
      encoding: 'utf8',
    });
    assert.equal(served.status, 1);
    assert.deepEqual(served.stderr.trim().split('\n'), [
      `smsgw serve: cannot start: store ${path} was written by a newer smsgw (schema version 99; this one knows up to ${(await freshShape()).version}): run that version, or restore a backup taken before it`,
    ]);
    const after = shape(path);
    assert.deepEqual([after.version, after.objects], [99, ['table future']]);
  });
});
