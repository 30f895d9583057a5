// The TLS settings as `smsgw config check` and `serve` read them: every certificate and key
// file is found, read and parsed before the gateway starts, and each problem names its path.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import { requirePeer } from '../peers/available.ts';
import { testCertificate } from '../peers/tls.ts';
import { configProblems as problemsOf } from './problems.ts';

const main = resolve('src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'smsgw-config-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const smpp = 'type: smpp, host: smsc.example.com, port: 3550, systemId: gw, password: pw';

test('good TLS settings load, with the connector tls forms true, false and an object', (t) => {
  if (!requirePeer(t, 'OpenSSL')) return;
  const { certPath, keyPath } = testCertificate();
  const config = parseConfig(`
http: { listen: 127.0.0.1:8443, tls: { cert: ${certPath}, key: ${keyPath} } }
smppServer: { listen: 127.0.0.1:2775, tls: { listen: 127.0.0.1:3550, cert: ${certPath}, key: ${keyPath} } }
connectors:
  - { id: a, ${smpp} }
  - { id: b, ${smpp}, tls: true }
  - { id: c, ${smpp}, tls: { ca: ${certPath}, servername: smsc.example.com, rejectUnauthorized: true } }
`);
  assert.deepEqual(config.http.tls, { cert: certPath, key: keyPath });
  assert.deepEqual(
    config.connectors.map((c) => c.type === 'smpp' && c.tls),
    [false, true, { ca: certPath, servername: 'smsc.example.com', rejectUnauthorized: true }],
  );
});

test('config check names each TLS file that is missing, not PEM, or a key that does not fit its certificate', (t) => {
  if (!requirePeer(t, 'OpenSSL')) return;
  const { certPath, keyPath } = testCertificate();
  const otherKey = join(dir, 'other-key.pem');
  const made = spawnSync(
    'openssl',
    ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', otherKey],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(made.status, 0, made.stderr);
  const notPem = join(dir, 'not-pem.txt');
  writeFileSync(notPem, 'this is not a certificate\n');
  const missing = join(dir, 'missing.pem');
  const file = join(dir, 'bad-tls.yaml');
  writeFileSync(
    file,
    `
http: { listen: 127.0.0.1:8443, tls: { cert: ${missing}, key: ${keyPath} } }
smppServer: { tls: { listen: 127.0.0.1:3550, cert: ${certPath}, key: ${otherKey}, ca: ${notPem} } }
connectors:
  - { id: a, ${smpp}, tls: { ca: ${notPem} } }
  - { id: b, ${smpp}, tls: { ca: ${missing} } }
`,
  );
  const res = spawnSync(process.execPath, [main, 'config', 'check', file], { encoding: 'utf8' });
  assert.equal(res.status, 2, res.stdout);
  // Each line is placed in the file (FILE:LINE:COL), then names the setting.
  const lines = res.stderr.trim().split('\n');
  for (const line of lines) assert.match(line, new RegExp(`^${file}:\\d+:\\d+ `));
  assert.deepEqual(lines.map((line) => line.replace(/^\S+:\d+:\d+ /, '')).sort(), [
    `connectors[0].tls.ca: ${notPem} holds no PEM certificate`,
    `connectors[1].tls.ca: cannot read ${missing}: no such file`,
    `http.tls.cert: cannot read ${missing}: no such file`,
    `smppServer.tls.ca: ${notPem} holds no PEM certificate`,
    `smppServer.tls: ${otherKey} does not fit ${certPath} (key values mismatch)`,
  ]);

  // serve refuses the same file the same way, before opening anything.
  const served = spawnSync(process.execPath, [main, 'serve', '--config', file], { encoding: 'utf8' });
  assert.equal(served.status, 2);
  assert.match(served.stderr, /http\.tls\.cert: cannot read .*missing\.pem: no such file/);
});

test('malformed TLS settings are refused naming their paths', () => {
  assert.deepEqual(
    problemsOf(`
http: { tls: { cert: a.pem } }
smppServer: { tls: { cert: a.pem, key: b.pem } }
connectors:
  - { id: a, ${smpp}, tls: "yes" }
  - { id: b, ${smpp}, tls: { ca: a.pem, verify: false } }
`).sort(),
    [
      'connectors[0].tls: expected true, false or { ca, servername, rejectUnauthorized }',
      'connectors[1].tls.verify: unknown field',
      'http.tls.key: required',
      'smppServer.tls.listen: required',
    ],
  );
});
