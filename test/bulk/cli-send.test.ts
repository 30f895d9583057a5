// `smsgw send` as a user runs it against a running gateway: a CSV batch with progress and a
// summary, a dry run, one message with --to, and a refusal reported with the gateway's words.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { type Message, tagsOf } from '../../src/core/index.ts';
import { gatewayFrom } from '../e2e/helpers.ts';

const main = resolve('src/cli/main.ts');

function smsgw(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [main, 'send', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

test('smsgw send: a CSV batch, a dry run, one message, a refusal', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1] }]
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 20, outcomes: [{ to: "+447700900999", status: undelivered }] }
routes:
  mt: [{ connectors: [sim] }]
`);
  t.after(() => gw.close());
  const csv = join(gw.dir, 'recipients.csv');
  const rows = Array.from({ length: 500 }, (_, i) => `+4477009${String(10000 + i)},Name${i}`);
  writeFileSync(csv, `to,name\n${rows.join('\n')}\n+447700910000,Again\nnonsense,X\n`);
  const common = ['--url', gw.base, '--csv', csv, '--text', 'Hi {{name}}', '--from', 'ACME'];

  const dry = await smsgw([...common, '--dry-run'], { SMSGW_API_KEY: 'acme-key-1' });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /dry run: 500 messages from 502 rows, 500 segments/);
  assert.match(dry.stdout, /route sim: 500 segments/);
  assert.match(dry.stdout, /skipped: duplicate 1, invalid 1/);

  const run = await smsgw([...common, '--key', 'acme-key-1']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /upload +\[#{30}\] 100%/);
  assert.match(run.stderr, /delivery \[#{30}\] 100% 500\/500/);
  // Each delivery line shows the real counts: those of the messages gone add up to its figure,
  // and the last (after the receipts came) has them all delivered.
  const progress = [...run.stderr.matchAll(/^delivery \[[#.]+\] +\d+% (\d+)\/500 {2}(.*)$/gm)];
  assert.ok(progress.length > 0, run.stderr);
  for (const [line, done, note] of progress) {
    const gone = [
      ...note!.matchAll(/\b(submitted|delivered|undelivered|expired|rejected|failed|canceled) (\d+)/g),
    ].reduce((sum, [, , n]) => sum + Number(n), 0);
    assert.equal(gone, Number(done), line);
  }
  assert.match(progress.at(-1)![2]!, /^delivered 500\b/);
  const id = /batch (\w+): 500 messages accepted/.exec(run.stdout)?.[1];
  assert.ok(id, run.stdout);
  assert.match(run.stdout, new RegExp(`summary: batch ${id} completed; 500 messages: .*delivered 500`));
  const page = await gw.app.store.listMessages({ accountId: 'acme', groupId: id }, null, 500);
  const texts = new Map(page.data.map((m: Message) => [m.to, m.text]));
  assert.equal(texts.size, 500);
  assert.equal(texts.get('+447700910007'), 'Hi Name7');

  const one = await smsgw([
    '--url',
    gw.base,
    '--key',
    'acme-key-1',
    '--to',
    '+447700900999',
    '--text',
    'hi',
    '--from',
    'ACME',
  ]);
  assert.equal(one.code, 1, 'an undelivered message is a failure');
  assert.match(one.stdout, /summary: message \w+ undelivered/);
  const ok = await smsgw([
    '--url',
    gw.base,
    '--key',
    'acme-key-1',
    '--to',
    '+447700900998',
    '--text',
    'hi',
    '--from',
    'ACME',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /summary: message \w+ delivered/);
  // --country reads one number written without + too (the account has no defaultCountry).
  const national = await smsgw([
    '--url',
    gw.base,
    '--key',
    'acme-key-1',
    '--to',
    '07700900997',
    '--country',
    'GB',
    '--text',
    'hi',
    '--from',
    'ACME',
    '--no-wait',
  ]);
  assert.equal(national.code, 0, national.stderr);
  assert.match(national.stdout, /to \+447700900997: queued/);

  const refused = await smsgw([...common, '--key', 'wrong']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /401 unauthorized/);
  const usage = await smsgw(['--text', 'x']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /give --csv FILE or --to NUMBER/);
});

test('smsgw send --tags: one message and a CSV batch carry them to the tagged rule', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: tagged, type: simulator, deliveryDelayMs: 10 }
  - { id: other, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ match: { tags: [otp] }, connectors: [tagged] }, { connectors: [other] }]
`);
  t.after(() => gw.close());
  const env = { SMSGW_API_KEY: 'acme-key-1' };
  const one = await smsgw(
    ['--url', gw.base, '--to', '+447700900123', '--text', 'code', '--tags', 'x,otp'],
    env,
  );
  assert.equal(one.code, 0, one.stderr);
  const csv = join(gw.dir, 'tagged.csv');
  writeFileSync(csv, 'to\n+447700900124\n');
  const batch = await smsgw(['--url', gw.base, '--csv', csv, '--text', 'code', '--tags', 'otp'], env);
  assert.equal(batch.code, 0, batch.stderr);
  const page = await gw.app.gateway.store.listMessages({ accountId: 'acme' }, null, 10);
  assert.equal(page.data.length, 2);
  for (const m of page.data) {
    assert.equal(m.connectorId, 'tagged', m.to);
    assert.ok(tagsOf(m.meta).includes('otp'), m.to);
  }
});
