// The `smsgw` command as a user runs it: `serve` with no config (the `npm start` of the
// README), `serve --config`, and `config check`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { missingPeer } from '../peers/available.ts';
import { startPostgres } from '../peers/postgres.ts';

const main = resolve('src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'smsgw-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `smsgw serve` in `cwd` until it has printed what it listens on; returns its output. */
async function serve(cwd: string, args: string[] = []) {
  const child = spawn(process.execPath, [main, 'serve', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await new Promise<void>((resolveReady, reject) => {
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    // The banner is on stdout with no config; from a config, on stderr (stdout is the JSON log).
    for (const input of [child.stdout!, child.stderr!])
      createInterface({ input }).on('line', (line) => {
        lines.push(line);
        if (/^store: /.test(line)) setTimeout(resolveReady, 100); // the credentials follow at once
      });
  });
  return {
    lines,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

test('serve with no config: the defaults of CONTRACT §1, a demo key that sends a message', async () => {
  const cwd = mkdtempSync(join(dir, 'default-'));
  const first = await serve(cwd);
  try {
    assert.ok(first.lines.includes('smsgw listening: HTTP http://127.0.0.1:8080'), first.lines.join('\n'));
    assert.ok(first.lines.includes('smsgw listening: SMPP 127.0.0.1:2775'));
    const key = /API key:\s+(\S+)/.exec(first.lines.join('\n'))?.[1];
    assert.ok(key, 'the demo API key is printed');
    const res = await fetch('http://127.0.0.1:8080/v1/messages', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+447700900123', text: 'Hello from smsgw' }),
    });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    let status = '';
    for (let i = 0; i < 100 && status !== 'delivered'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const m = await fetch(`http://127.0.0.1:8080/v1/messages/${id}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      status = ((await m.json()) as { status: string }).status;
    }
    assert.equal(status, 'delivered', 'the simulator carrier delivers');
  } finally {
    await first.stop();
  }
  // The key is shown once: a second start over the same ./var does not print one.
  const second = await serve(cwd);
  await second.stop();
  assert.ok(!second.lines.some((l) => /API key:/.test(l)), second.lines.join('\n'));
});

test('config check: ok for a good file; one line per problem naming its path and exit 2 for a bad one', () => {
  const good = join(dir, 'good.yaml');
  writeFileSync(
    good,
    'connectors: [{ id: sim, type: simulator }]\nroutes: { mt: [{ connectors: [sim] }] }\n',
  );
  const ok = spawnSync(process.execPath, [main, 'config', 'check', good], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /ok/);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    `connectors:
  - { id: sim, type: simulator }
  - { id: a, type: smpp, host: 127.0.0.1, port: 99999, systemId: gw }
routes:
  mt: [{ connectors: [nope] }]
`,
  );
  const res = spawnSync(process.execPath, [main, 'config', 'check', bad], { encoding: 'utf8' });
  assert.equal(res.status, 2);
  const lines = res.stderr.trim().split('\n');
  assert.ok(lines.includes(`${bad}:3:43 connectors[1].port: expected integer 1..65535`), res.stderr);

  const served = spawnSync(process.execPath, [main, 'serve', '--config', bad], { encoding: 'utf8' });
  assert.equal(served.status, 2);
  assert.match(served.stderr, /connectors\[1\]\.port: expected integer 1\.\.65535/);
});

/** `smsgw config check` on a file holding `text`: exit code and the lines it printed. */
function check(name: string, text: string) {
  const file = join(dir, name);
  writeFileSync(file, text);
  const res = spawnSync(process.execPath, [main, 'config', 'check', file], { encoding: 'utf8' });
  return {
    file,
    status: res.status,
    stderr: res.stderr.trim().split('\n').filter(Boolean),
    stdout: res.stdout,
  };
}

test('config check: YAML and schema errors as FILE:LINE:COL path: message', () => {
  const syntax = check('syntax.yaml', 'http:\n  listen: 127.0.0.1:8080\n  listen: 127.0.0.1:8081\n');
  assert.equal(syntax.status, 2);
  assert.deepEqual(syntax.stderr, [`${syntax.file}:3:3 http.listen: Map keys must be unique`]);

  const schema = check(
    'schema.yaml',
    `accounts:
  - id: acme
    apiKeys: [short]
connectors:
  - id: sim
    type: simulator
    deliveryDelayMs: fast
    colour: blue
`,
  );
  assert.equal(schema.status, 2);
  assert.deepEqual(schema.stderr, [
    `${schema.file}:3:15 accounts[0].apiKeys[0]: expected at least 8 characters`,
    `${schema.file}:7:5 connectors[0].deliveryDelayMs: expected integer 0..86400000`,
    `${schema.file}:8:5 connectors[0].colour: unknown field`,
  ]);

  // JSON is YAML too: the same positions.
  const json = check(
    'schema.json',
    '{\n  "connectors": [\n    {"id": "sim", "type": "simulator", "tps": -1}\n  ]\n}\n',
  );
  assert.equal(json.status, 2);
  assert.deepEqual(json.stderr, [`${json.file}:3:40 connectors[0].tps: expected integer 0..1000000`]);
});

test('config check (and serve): ports out of range, two listeners on one address, routes naming unknown connectors or accounts', () => {
  const text = `http:
  listen: 127.0.0.1:8080
smppServer:
  listen: 0.0.0.0:8080
  tls: { listen: "127.0.0.1:70000", cert: c.pem, key: k.pem }
connectors:
  - { id: sim, type: simulator }
routes:
  mt:
    - connectors: [sim, nope]
  mo:
    - account: ghost
`;
  const res = check('clash.yaml', text);
  assert.equal(res.status, 2);
  assert.deepEqual(res.stderr, [
    `${res.file}:4:3 smppServer.listen: 0.0.0.0:8080 is already taken by http.listen`,
    `${res.file}:5:10 smppServer.tls.listen: port 70000 is out of range 0..65535`,
    `${res.file}:5:37 smppServer.tls.cert: cannot read c.pem: no such file`,
    `${res.file}:5:50 smppServer.tls.key: cannot read k.pem: no such file`,
    `${res.file}:10:25 routes.mt[0].connectors[1]: no connector 'nope'`,
    `${res.file}:12:7 routes.mo[0].account: no account 'ghost'`,
  ]);
  // serve stops on them too, before it listens on anything.
  const served = spawnSync(process.execPath, [main, 'serve', '--config', res.file], { encoding: 'utf8' });
  assert.equal(served.status, 2);
  assert.match(served.stderr, /^smppServer\.listen: 0\.0\.0\.0:8080 is already taken by http\.listen$/m);
  assert.match(served.stderr, /^smppServer\.tls\.listen: port 70000 is out of range 0\.\.65535$/m);

  // Port 0 (any free port) twice is no clash.
  const free = check('free.yaml', 'http: { listen: "127.0.0.1:0" }\nsmppServer: { listen: "127.0.0.1:0" }\n');
  assert.equal(free.status, 0, free.stderr.join('\n'));
});

test('config check: warns of rules after a catch-all, literal names nothing defines, an empty file; exit 0', () => {
  const res = check(
    'warn.yaml',
    `accounts: [{ id: acme, apiKeys: [acme-key-1] }]
connectors: [{ id: sim, type: simulator }]
routes:
  mt:
    - match: { to: ["+44*"], account: [nobody] }
      connectors: [sim]
    - match: { to: ["*"] }
      connectors: [sim]
    - match: { to: ["+1*"] }
      connectors: [sim]
  mo:
    - { match: { connector: [ghost] }, account: acme }
    - { account: acme }
    - { match: { keyword: [STOP] }, account: acme }
`,
  );
  assert.equal(res.status, 0, res.stderr.join('\n'));
  assert.deepEqual(res.stderr, [
    `${res.file}:5:40 routes.mt[0].match.account[0]: warning: no account 'nobody' in this file`,
    `${res.file}:9:7 routes.mt[2]: warning: never matches: routes.mt[1] before it takes every message`,
    `${res.file}:12:30 routes.mo[0].match.connector[0]: warning: no connector 'ghost'`,
    `${res.file}:14:7 routes.mo[2]: warning: never matches: routes.mo[1] before it takes every message`,
  ]);
  assert.match(res.stdout, /ok \(.*; 4 warnings\)/);

  for (const [name, text] of [
    ['empty.yaml', ''],
    ['braces.yaml', '{}\n'],
  ]) {
    const empty = check(name!, text!);
    assert.equal(empty.status, 0);
    assert.deepEqual(empty.stderr, [
      `${empty.file}:1:1 (root): warning: the file is empty: no accounts, connectors or routes, so nothing can be sent`,
    ]);
  }
});

test('config check: a TLS file serve could not read is an error naming its setting', () => {
  const key = join(dir, 'present.key');
  writeFileSync(key, 'not read, only looked for');
  const res = check(
    'tls.yaml',
    `smppServer:
  listen: 127.0.0.1:0
  tls:
    listen: 127.0.0.1:0
    cert: ${join(dir, 'missing.pem')}
    key: ${key}
`,
  );
  assert.equal(res.status, 2);
  assert.deepEqual(res.stderr, [
    `${res.file}:5:5 smppServer.tls.cert: cannot read ${join(dir, 'missing.pem')}: no such file`,
    `${res.file}:6:5 smppServer.tls.key: ${key} holds no PEM private key`,
  ]);
});

test('config check --help: the usage on stdout, exit 0', () => {
  const res = spawnSync(process.execPath, [main, 'config', 'check', '--help'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /^usage: smsgw config check FILE$/m);
  assert.match(res.stdout, /FILE:LINE:COL path: message/);
});

test('config check: a store URL the store would refuse is an error on store', () => {
  const sqlite = check('store.yaml', 'store: "sqlite:./x.db?synchronous=fast"\n');
  assert.equal(sqlite.status, 2);
  assert.deepEqual(sqlite.stderr, [
    `${sqlite.file}:1:1 store: store URL sqlite:./x.db?synchronous=fast: synchronous must be one of OFF, NORMAL, FULL, EXTRA`,
  ]);
  const postgres = check('store-pg.yaml', 'store: "postgres://u:secret@db:99999/smsgw"\n');
  assert.equal(postgres.status, 2);
  assert.deepEqual(postgres.stderr, [`${postgres.file}:1:1 store: store URL is not a valid postgres:// URL`]);
});
test('serve on PostgreSQL: the store password is not printed', async (t) => {
  const missing = missingPeer('PostgreSQL');
  if (missing) return t.skip(missing);
  const server = await startPostgres();
  try {
    // The throwaway server trusts every connection, so any password gets in.
    const url = (await server.createDatabase()).replace(
      'postgres://smsgw@',
      'postgres://smsgw:pg-s3cret-pw@',
    );
    const cwd = mkdtempSync(join(dir, 'pg-'));
    writeFileSync(
      join(cwd, 'smsgw.yaml'),
      `http: { listen: "127.0.0.1:0" }\nstore: "${url}?password=pg-s3cret-pw"\nconnectors: [{ id: sim, type: simulator }]\nroutes: { mt: [{ connectors: [sim] }] }\n`,
    );
    const gw = await serve(cwd, ['--config', 'smsgw.yaml']);
    await gw.stop();
    const store = gw.lines.find((l) => l.startsWith('store: '));
    assert.ok(store?.includes('postgres://smsgw:***@127.0.0.1:'), store);
    assert.ok(!gw.lines.join('\n').includes('pg-s3cret-pw'), gw.lines.join('\n'));
  } finally {
    await server.stop();
  }
});
