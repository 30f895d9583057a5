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
  const rl = createInterface({ input: child.stdout! });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await new Promise<void>((resolveReady, reject) => {
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    rl.on('line', (line) => {
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
  assert.ok(lines.includes('connectors[1].port: expected integer 1..65535'), res.stderr);

  const served = spawnSync(process.execPath, [main, 'serve', '--config', bad], { encoding: 'utf8' });
  assert.equal(served.status, 2);
  assert.match(served.stderr, /connectors\[1\]\.port: expected integer 1\.\.65535/);
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
