// What an idle gateway has loaded: what a module loads stays on its heap for the life of the
// process, so the code only some gateways run (another store, other carrier protocols, the
// upload parsers) is loaded by the first one that needs it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { serve } from './serve-helpers.ts';

test('an idle gateway has not loaded the PostgreSQL store, the UCP/EMI, CIMD2 and modem drivers or the upload parsers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-modules-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const list = join(dir, 'loaded.txt');
  // Every file module the gateway's process loads, as it loads it.
  const hook = join(dir, 'hook.mjs');
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
     import { appendFileSync } from 'node:fs';
     registerHooks({
       load(url, context, next) {
         if (url.startsWith('file:')) appendFileSync(${JSON.stringify(list)}, url + '\\n');
         return next(url, context);
       },
     });`,
  );
  const gateway = serve(['--http', '127.0.0.1:0', '--smpp', '127.0.0.1:0'], {
    cwd: dir,
    env: { NODE_OPTIONS: `--import ${pathToFileURL(hook).href}` },
  });
  await gateway.logged('gateway started');
  gateway.kill();
  assert.deepEqual(await gateway.exited, { code: 0, signal: null });
  const loaded = readFileSync(list, 'utf8').split('\n');
  const has = (part: string) => loaded.some((url) => url.includes(part));
  // What every gateway runs is there (the list is the gateway's).
  for (const used of [
    '/src/store/sqlite.ts',
    '/src/connectors/smpp.ts',
    '/src/connectors/simulator.ts',
    '/node_modules/fastify/',
  ])
    assert.ok(has(used), `${used} loaded`);
  for (const unused of [
    '/src/store/postgres.ts',
    '/node_modules/pg/',
    '/src/connectors/ucp.ts',
    '/src/ucp/',
    '/src/connectors/cimd2.ts',
    '/src/cimd2/',
    '/src/connectors/modem.ts',
    '/src/modem/',
    '/node_modules/csv-parse/',
    '/node_modules/@streamparser/json/',
    '/node_modules/countries-and-timezones/',
  ])
    assert.ok(!has(unused), `${unused} not loaded`);
});
