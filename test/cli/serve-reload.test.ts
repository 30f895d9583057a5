// SIGHUP makes `smsgw serve` read its config file again: a change is put in force without
// a restart, a file with a problem is refused (logged) and the running config stays.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, serve } from './serve-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'smsgw-serve-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('SIGHUP reloads the config file; a bad one is refused and the old one stays', async () => {
  const port = await freePort();
  const file = join(dir, 'gw.yaml');
  const config = (accounts: string) => `
http: { listen: 127.0.0.1:${port} }
store: sqlite:${dir}/gw.db
admin: { apiKeys: [admin-key-123] }
accounts:
${accounts}
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }
`;
  writeFileSync(file, config('  - { id: acme, apiKeys: [acme-key-1] }'));
  const gw = serve(['--config', file]);
  const status = async (key: string) =>
    (
      await fetch(`http://127.0.0.1:${port}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: '+447700900123', from: 'TEST', text: 'hi' }),
      })
    ).status;
  try {
    await gw.logged('gateway started');
    assert.equal(await status('beta-key-1'), 401);

    writeFileSync(
      file,
      config('  - { id: acme, apiKeys: [acme-key-1] }\n  - { id: beta, apiKeys: [beta-key-1] }'),
    );
    gw.kill('SIGHUP');
    const reloaded = await gw.logged('config reloaded');
    assert.equal(reloaded.changes, 1);
    assert.equal(await status('beta-key-1'), 202);
    const audit = await fetch(`http://127.0.0.1:${port}/v1/admin/audit?object=account`, {
      headers: { authorization: 'Bearer admin-key-123' },
    });
    const entries = ((await audit.json()) as { data: Array<Record<string, unknown>> }).data;
    assert.deepEqual(
      entries.map((e) => [e.actor, e.action, e.objectId]),
      [['config', 'create', 'beta']],
    );

    writeFileSync(file, config('  - { id: acme, apiKeys: [acme-key-1], mps: many }'));
    gw.kill('SIGHUP');
    const refused = await gw.logged('config not reloaded');
    assert.match(String(refused.reason), /accounts\[0\]\.mps/);
    assert.equal(await status('beta-key-1'), 202, 'the running config stays');
  } finally {
    gw.kill('SIGTERM');
    const { code } = await gw.exited;
    assert.equal(code, 0, gw.stderr());
  }
});
