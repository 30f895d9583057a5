// `smsgw serve` start-up as an operator meets it: listen addresses and store from flags or
// the environment, a port in use (one line, exit 1, the demo set-up not half made), JSON
// log lines only on stdout with a config, SMSGW_LOG_LEVEL, and `smsgw keys create`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { freePort, serve } from './serve-helpers.ts';

const main = resolve('src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'smsgw-serve-ops-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function stopped(p: ReturnType<typeof serve>) {
  p.kill('SIGTERM');
  const { code } = await p.exited;
  assert.equal(code, 0, p.stderr());
}

test('--http, --smpp and --store set where it listens and stores; the flags win over the environment', async () => {
  const [httpPort, smppPort, envHttpPort] = [await freePort(), await freePort(), await freePort()];
  const cwd = mkdtempSync(join(dir, 'flags-'));
  const gw = serve(
    [
      '--http',
      `127.0.0.1:${httpPort}`,
      '--smpp',
      `127.0.0.1:${smppPort}`,
      '--store',
      `sqlite:${cwd}/here.db`,
    ],
    { cwd, env: { SMSGW_HTTP_LISTEN: `127.0.0.1:${envHttpPort}` } },
  );
  try {
    const started = await gw.logged('gateway started');
    assert.equal(started.http, `127.0.0.1:${httpPort}`);
    assert.equal(started.smpp, `127.0.0.1:${smppPort}`);
    assert.equal(
      started.msg,
      `gateway started: HTTP http://127.0.0.1:${httpPort}, SMPP 127.0.0.1:${smppPort}`,
      'the addresses as the banner words them',
    );
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/health`)).status, 200);
    const smpp = net.connect(smppPort, '127.0.0.1');
    await new Promise<void>((ok, fail) => smpp.once('connect', ok).once('error', fail));
    smpp.destroy();
    assert.ok(existsSync(join(cwd, 'here.db')), 'the store is where --store says');
    assert.ok(!existsSync(join(cwd, 'var')), 'not the default store');
  } finally {
    await stopped(gw);
  }
});

test('SMSGW_HTTP_LISTEN, SMSGW_SMPP_LISTEN and SMSGW_STORE win over the config; with a config stdout is JSON lines only', async () => {
  const [httpPort, smppPort] = [await freePort(), await freePort()];
  const cwd = mkdtempSync(join(dir, 'env-'));
  const config = join(cwd, 'gw.yaml');
  writeFileSync(
    config,
    'http: { listen: 127.0.0.1:1 }\nsmppServer: { listen: 127.0.0.1:1 }\nstore: sqlite:/nonexistent/dir/gw.db\n',
  );
  const gw = serve(['--config', config], {
    cwd,
    env: {
      SMSGW_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      SMSGW_SMPP_LISTEN: `127.0.0.1:${smppPort}`,
      SMSGW_STORE: `sqlite:${cwd}/env.db`,
    },
  });
  try {
    const started = await gw.logged('gateway started');
    assert.equal(started.http, `127.0.0.1:${httpPort}`);
    assert.equal(started.smpp, `127.0.0.1:${smppPort}`);
    assert.equal(started.store, `sqlite:${cwd}/env.db`);
    assert.equal(started.level, 'info');
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/ready`)).status, 200);
  } finally {
    await stopped(gw);
  }
  for (const line of gw.lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON line: ${line}`);
  assert.match(gw.stderr(), /smsgw listening: HTTP/, 'the banner goes to stderr');
  assert.ok(gw.logs().some((l) => l.msg === 'shut down'));

  // SMSGW_LOG_LEVEL=warn: no info lines.
  const quiet = serve(['--config', config], {
    cwd,
    env: {
      SMSGW_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      SMSGW_STORE: `sqlite:${cwd}/env.db`,
      SMSGW_LOG_LEVEL: 'warn',
    },
  });
  await waitHealthy(httpPort);
  await stopped(quiet);
  assert.deepEqual(
    quiet.logs().filter((l) => l.level === 'info'),
    [],
  );
});

test('a port in use: one line naming it, exit 1, and the demo account is made on the next start', async () => {
  const port = await freePort();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
  const cwd = mkdtempSync(join(dir, 'in-use-'));
  const smppPort = await freePort();
  const args = ['--http', `127.0.0.1:${port}`, '--smpp', `127.0.0.1:${smppPort}`];
  const refused = spawnSync(process.execPath, [main, 'serve', ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  await new Promise((r) => blocker.close(r));
  assert.equal(refused.status, 1);
  assert.equal(
    refused.stderr,
    `smsgw serve: cannot listen on 127.0.0.1:${port} for HTTP: address already in use\n`,
  );
  assert.ok(!/\n\s+at /.test(refused.stdout + refused.stderr), 'no stack trace');
  assert.ok(!/API key/.test(refused.stdout), 'no credentials for a gateway that did not start');

  // SMPP's port taken instead: the same, named for SMPP.
  const smppBlocker = net.createServer();
  await new Promise<void>((r) => smppBlocker.listen(smppPort, '127.0.0.1', r));
  const smppRefused = spawnSync(process.execPath, [main, 'serve', ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  await new Promise((r) => smppBlocker.close(r));
  assert.equal(smppRefused.status, 1);
  assert.equal(
    smppRefused.stderr,
    `smsgw serve: cannot listen on 127.0.0.1:${smppPort} for SMPP: address already in use\n`,
  );
  assert.ok(!/API key/.test(smppRefused.stdout));

  // The same ./var, the ports free: the demo account is created now, its key shown.
  const gw = serve(args, { cwd });
  try {
    await gw.logged('gateway started');
    await waitFor(() => gw.lines.some((l) => /API key:\s+\S+/.test(l)));
  } finally {
    await stopped(gw);
  }
});

test('keys create: prints a key a running gateway accepts at once, kept across restarts; an unknown account is refused', async () => {
  const port = await freePort();
  const cwd = mkdtempSync(join(dir, 'keys-'));
  const config = join(cwd, 'gw.yaml');
  writeFileSync(
    config,
    `http: { listen: 127.0.0.1:${port} }
store: sqlite:${cwd}/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }
`,
  );
  const send = (key: string) =>
    fetch(`http://127.0.0.1:${port}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+447700900123', text: 'hi' }),
    }).then((r) => r.status);
  let gw = serve(['--config', config], { cwd });
  await gw.logged('gateway started');
  const made = spawnSync(
    process.execPath,
    [main, 'keys', 'create', '--account', 'acme', '--config', config],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(made.status, 0, made.stderr);
  const key = made.stdout.trim();
  assert.match(key, /^\S{24,}$/);
  assert.equal(await send(key), 202);
  assert.equal(await send('acme-key-1'), 202, 'the configured key still works');
  await stopped(gw);
  assert.ok(!gw.lines.join('\n').includes(key), 'the key is not logged');

  gw = serve(['--config', config], { cwd });
  try {
    await gw.logged('gateway started');
    assert.equal(await send(key), 202, 'kept when the config is loaded again');
  } finally {
    await stopped(gw);
  }
  const unknown = spawnSync(
    process.execPath,
    [main, 'keys', 'create', '--account', 'nope', '--config', config],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(unknown.status, 1);
  assert.equal(unknown.stderr, "smsgw keys: no account 'nope'\n");
  assert.equal(unknown.stdout, '');
});

async function waitFor(fn: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitHealthy(port: number) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error('not healthy');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('log.level and shutdownGraceSeconds are checked as config; log.level sets the level', async () => {
  const cwd = mkdtempSync(join(dir, 'level-'));
  const bad = join(cwd, 'bad.yaml');
  writeFileSync(bad, 'log: { level: loud }\nshutdownGraceSeconds: 0\n');
  const checked = spawnSync(process.execPath, [main, 'config', 'check', bad], { encoding: 'utf8' });
  assert.equal(checked.status, 2);
  const problems = checked.stderr.trim().split('\n');
  assert.ok(
    problems.includes(`${bad}:1:8 log.level: expected one of fatal, error, warn, info, debug, trace, silent`),
    checked.stderr,
  );
  assert.ok(problems.includes(`${bad}:2:1 shutdownGraceSeconds: expected integer 1..3600`), checked.stderr);

  const port = await freePort();
  const config = join(cwd, 'gw.yaml');
  writeFileSync(
    config,
    `http: { listen: 127.0.0.1:${port} }\nstore: sqlite:${cwd}/gw.db\nlog: { level: warn }\n`,
  );
  const gw = serve(['--config', config], { cwd });
  await waitHealthy(port);
  await stopped(gw);
  assert.deepEqual(gw.lines, [], 'nothing at info or below');
});

test('a store out of reach: one line, exit 1, its password nowhere', async () => {
  const port = await freePort();
  const res = spawnSync(
    process.execPath,
    [
      main,
      'serve',
      '--store',
      `postgres://smsgw:topsecret9@127.0.0.1:${port}/smsgw`,
      '--http',
      '127.0.0.1:0',
    ],
    { cwd: mkdtempSync(join(dir, 'no-store-')), encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(res.status, 1);
  assert.equal(res.stderr, `smsgw serve: cannot start: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  assert.ok(!(res.stdout + res.stderr).includes('topsecret9'));
});
