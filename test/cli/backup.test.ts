// `smsgw backup FILE` as an operator runs it: from another process, while a gateway serves
// from the SQLite store under a steady stream of messages. The copy must be whole (integrity
// check), consistent (every message with its events, nothing acknowledged before the backup
// missing) and open as a store again.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { openStore } from '../../src/store/index.ts';

const main = resolve('src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'smsgw-backup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function smsgw(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [main, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolveRun) => child.once('close', (code) => resolveRun({ code, stdout, stderr })));
}

test('backup under write load from another process: a whole, consistent copy that opens as a store', async (t) => {
  const dbPath = join(dir, 'gw.db');
  const configPath = join(dir, 'gw.yaml');
  writeFileSync(
    configPath,
    `http: { listen: 127.0.0.1:0 }
store: sqlite:${dbPath}
accounts: [{ id: acme, apiKeys: [acme-backup-key] }]
connectors: [{ id: sim, type: simulator, deliveryDelayMs: 0 }]
routes: { mt: [{ connectors: [sim] }] }
`,
  );
  const gateway = spawn(process.execPath, [main, 'serve', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const gatewayExited = new Promise<number | null>((r) => gateway.once('exit', r));
  t.after(() => gateway.kill('SIGKILL'));
  let gatewayErr = '';
  gateway.stderr.on('data', (d) => (gatewayErr += d));
  const base = await new Promise<string>((resolveBase, reject) => {
    gateway.once('exit', (code) => reject(new Error(`serve exited ${code}: ${gatewayErr}`)));
    // Started from a config, stdout holds the JSON log; the banner is on stderr.
    createInterface({ input: gateway.stderr }).on('line', (line) => {
      const url = /^smsgw listening: HTTP (\S+)/.exec(line)?.[1];
      if (url) resolveBase(url);
    });
  });

  // Six clients sending one message after another until told to stop.
  const accepted: string[] = [];
  let sending = true;
  const send = async () => {
    while (sending) {
      const res = await fetch(`${base}/v1/messages`, {
        method: 'POST',
        headers: { authorization: 'Bearer acme-backup-key', 'content-type': 'application/json' },
        body: JSON.stringify({ to: '+447700900123', from: 'Brand', text: `load ${accepted.length}` }),
      });
      assert.equal(res.status, 202, await res.clone().text());
      accepted.push(((await res.json()) as { id: string }).id);
    }
  };
  const load = Promise.all(Array.from({ length: 6 }, send));
  const until = async (n: number) => {
    while (accepted.length < n) await new Promise((r) => setTimeout(r, 10));
  };
  await until(200);

  const acknowledgedBefore = accepted.slice();
  const copyPath = join(dir, 'copy.db');
  const backup = await smsgw(['backup', '--config', configPath, copyPath]);
  const acceptedBy = accepted.length;
  await until(acceptedBy + 50); // the gateway kept serving through the backup
  sending = false;
  await load;

  assert.equal(backup.code, 0, backup.stderr);
  const copy = new DatabaseSync(copyPath, { readOnly: true });
  try {
    assert.deepEqual(
      copy
        .prepare('PRAGMA integrity_check')
        .all()
        .map((r) => r['integrity_check']),
      ['ok'],
    );
    const count = copy.prepare('SELECT count(*) AS n FROM messages').get()!['n'] as number;
    assert.match(backup.stdout, new RegExp(`: ${count} messages, schema version \\d+, integrity ok`));
    assert.ok(
      count >= acknowledgedBefore.length,
      `${count} messages, ${acknowledgedBefore.length} acknowledged before`,
    );
    const has = copy.prepare('SELECT 1 FROM messages WHERE id = ?');
    for (const id of acknowledgedBefore)
      assert.ok(has.get(id), `message ${id} acknowledged before the backup`);
    // One snapshot: no message without the event written with it, no event without its message.
    const orphans = copy
      .prepare(
        `SELECT (SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM message_events e WHERE e.message_id = m.id)) AS messages,
                (SELECT count(*) FROM message_events e WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = e.message_id)) AS events`,
      )
      .get();
    assert.deepEqual({ ...orphans }, { messages: 0, events: 0 });
  } finally {
    copy.close();
  }

  gateway.kill('SIGTERM');
  await gatewayExited;
  const source = new DatabaseSync(dbPath, { readOnly: true });
  const total = source.prepare('SELECT count(*) AS n FROM messages').get()!['n'] as number;
  source.close();
  assert.equal(total, accepted.length);

  // Restored: the copy is a store the gateway opens, with the messages readable.
  const restored = await openStore(`sqlite:${copyPath}`);
  try {
    const first = await restored.getMessage(acknowledgedBefore[0]!);
    assert.equal(first?.accountId, 'acme');
    assert.equal(first?.to, '+447700900123');
  } finally {
    await restored.close();
  }

  // With the gateway stopped too, named by SMSGW_STORE; an existing file is never overwritten.
  const again = await smsgw(['backup', join(dir, 'stopped.db')], { SMSGW_STORE: `sqlite:${dbPath}` });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`: ${total} messages`));
  const overwrite = await smsgw(['backup', '--store', `sqlite:${dbPath}`, copyPath]);
  assert.equal(overwrite.code, 1);
  assert.match(overwrite.stderr, /already exists; a backup never overwrites/);
  // An empty file (made by mktemp, say) is taken as the name to write.
  const empty = join(dir, 'empty.db');
  writeFileSync(empty, '');
  const intoEmpty = await smsgw(['backup', '--store', `sqlite:${dbPath}`, empty]);
  assert.equal(intoEmpty.code, 0, intoEmpty.stderr);
  assert.match(intoEmpty.stdout, new RegExp(`: ${total} messages`));
});

test('backup refuses what it cannot copy: no store, no directory for the copy, a PostgreSQL store, no file named', () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, [main, 'backup', ...args], { encoding: 'utf8' });
  const none = run(['--store', `sqlite:${join(dir, 'absent.db')}`, join(dir, 'x.db')]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no SQLite store at .*absent\.db/);

  const source = join(dir, 'source.db');
  writeFileSync(source, '');
  const noDirectory = run(['--store', `sqlite:${source}`, join(dir, 'absent', 'x.db')]);
  assert.equal(noDirectory.status, 1);
  assert.match(noDirectory.stderr, /no directory .*absent to write/);

  const postgres = run(['--store', 'postgres://smsgw@db.example.com/smsgw', join(dir, 'x.db')]);
  assert.equal(postgres.status, 2);
  assert.match(postgres.stderr, /PostgreSQL; back it up with pg_dump/);

  const noFile = run(['--store', `sqlite:${join(dir, 'absent.db')}`]);
  assert.equal(noFile.status, 2);
  assert.match(noFile.stderr, /name one file to write/);
});
