// Interceptor settings as `smsgw config check` and `serve` read them: a module that is not
// there, or does not load, is named by its path; the admin API cannot set one. And the
// warning for short links that would point at a local address.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, validateMoRoutes } from '../../src/config/index.ts';
import { configProblems } from './problems.ts';

const main = resolve('src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'smsgw-config-interceptors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const good = join(dir, 'good.js');
writeFileSync(good, 'export default (m) => ({ text: m.text });');
const broken = join(dir, 'broken.js');
writeFileSync(broken, 'export default (m) => {');
const noDefault = join(dir, 'no-default.js');
writeFileSync(noDefault, 'export const x = 1;');

const config = (mt: string, mo = '') => `
accounts: [{ id: acme, apiKeys: [acme-key-1] }]
connectors: [{ id: sim, type: simulator }]
routes:
  mt: [${mt}]
  mo: [${mo}]
`;

test('a module that is not a file is refused at load, naming its path', () => {
  assert.deepEqual(
    configProblems(config(`{ connectors: [sim], interceptor: { module: ${join(dir, 'nope.js')} } }`)),
    [`routes.mt[0].interceptor.module: no such file ${join(dir, 'nope.js')}`],
  );
  assert.deepEqual(
    configProblems(config(`{ connectors: [sim], interceptor: { module: ${good}, onError: maybe } }`)),
    [
      'routes.mt[0].interceptor.onError: expected accept or refuse: what a failure (the module throws, times out or answers wrongly) does: the message goes on unchanged, or is refused (503 interceptor_failed)',
    ],
  );
  assert.deepEqual(
    configProblems(config(`{ connectors: [sim] }`, `{ account: acme, interceptor: { module: ${dir} } }`)),
    [`routes.mo[0].interceptor.module: ${dir} is not a file`],
  );
});

test('config check loads each module: a syntax error or no default export is an error at its line', () => {
  const file = join(dir, 'check.yaml');
  writeFileSync(
    file,
    config(
      `{ connectors: [sim], interceptor: { module: ${good} } }, { connectors: [sim], interceptor: { module: ${broken} } }`,
      `{ account: acme, interceptor: { module: ${noDefault} } }`,
    ),
  );
  const res = spawnSync(process.execPath, [main, 'config', 'check', file], { encoding: 'utf8' });
  assert.equal(res.status, 2, res.stderr);
  const lines = res.stderr.trim().split('\n');
  assert.equal(lines.length, 2, res.stderr);
  assert.match(
    lines[0]!,
    /:5:\d+ routes\.mt\[1\]\.interceptor\.module: cannot load .*broken\.js: SyntaxError/,
  );
  assert.match(
    lines[1]!,
    /:6:\d+ routes\.mo\[0\]\.interceptor\.module: cannot load .*no-default\.js: .*no default export function/,
  );

  writeFileSync(file, config(`{ connectors: [sim], interceptor: { module: ${good} } }`));
  const ok = spawnSync(process.execPath, [main, 'config', 'check', file], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);

  // serve refuses to start on a module that does not load.
  writeFileSync(
    file,
    `http: { listen: 127.0.0.1:0 }\nstore: sqlite:${join(dir, 'gw.db')}\n${config(`{ connectors: [sim], interceptor: { module: ${broken} } }`)}`,
  );
  const served = spawnSync(process.execPath, [main, 'serve', '--config', file], { encoding: 'utf8' });
  assert.equal(served.status, 1);
  assert.match(served.stderr, /routes\.mt\[0\]\.interceptor\.module: cannot load .*broken\.js/);
});

test('MO rules set through the admin API cannot name an interceptor', () => {
  assert.throws(
    () => validateMoRoutes([{ account: 'acme', interceptor: { module: good } }], new Set(['acme'])),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.includes('routes.mo[0].interceptor: only the config file may set an interceptor'),
  );
});

test('config check warns of short links with no public URL to point at', () => {
  const file = join(dir, 'links.yaml');
  const links = (extra: string) => `
http: { listen: 127.0.0.1:8080${extra} }
accounts: [{ id: shop, apiKeys: [shop-key-1], links: { shorten: true } }]
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }
`;
  writeFileSync(file, links(''));
  const warned = spawnSync(process.execPath, [main, 'config', 'check', file], { encoding: 'utf8' });
  assert.equal(warned.status, 0, warned.stderr);
  assert.match(
    warned.stderr,
    /accounts\[0\]\.links: warning: short links will point at http:\/\/127\.0\.0\.1:8080, which phones cannot reach/,
  );
  writeFileSync(file, links(', publicUrl: "https://sms.example.com"'));
  const quiet = spawnSync(process.execPath, [main, 'config', 'check', file], { encoding: 'utf8' });
  assert.equal(quiet.stderr, '');
});
