// TLS at every door, each checked by a client someone else wrote: curl against http.tls,
// `openssl s_client` carrying a hand-made bind through smppServer.tls, and the gateway's
// own smpp connector (tls: true | {ca, servername, rejectUnauthorized}) against an SMSC
// simulator that speaks only TLS. The certificate is made by openssl for this run.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { missingPeer, requirePeer } from '../peers/available.ts';
import { testCertificate } from '../peers/tls.ts';
import { gatewayFrom, waitFor } from './helpers.ts';

const run = promisify(execFile);
const skip = missingPeer('OpenSSL');

/** curl's answer: its exit code (60: the certificate could not be verified), status and body. */
async function curl(args: string[]): Promise<{ code: number; status: number; body: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args]);
    const at = stdout.lastIndexOf('\n');
    return { code: 0, status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at), stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, status: 0, body: '', stderr: e.stderr };
  }
}

/** A bind_transceiver as SMPP 3.4 §4.1.5 lays it out, written here byte by byte. */
function bindTransceiver(systemId: string, password: string, sequence: number): Buffer {
  const body = Buffer.concat([
    Buffer.from(`${systemId}\0${password}\0\0`, 'latin1'), // system_id, password, system_type
    Buffer.from([0x34, 0, 0, 0]), // interface_version, addr_ton, addr_npi, address_range ""
  ]);
  const header = Buffer.alloc(16);
  header.writeUInt32BE(16 + body.length, 0);
  header.writeUInt32BE(0x00000009, 4);
  header.writeUInt32BE(0, 8);
  header.writeUInt32BE(sequence, 12);
  return Buffer.concat([header, body]);
}

function unbind(sequence: number): Buffer {
  const pdu = Buffer.alloc(16);
  pdu.writeUInt32BE(16, 0);
  pdu.writeUInt32BE(0x00000006, 4);
  pdu.writeUInt32BE(sequence, 12);
  return pdu;
}

interface RawPdu {
  commandId: number;
  status: number;
  sequence: number;
  body: Buffer;
}

/** Runs `openssl s_client` to the port and writes each PDU once the answer to the one before is back. */
async function throughSClient(port: number, caFile: string, pdus: Buffer[]): Promise<RawPdu[]> {
  const child = spawn(
    'openssl',
    [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-CAfile',
      caFile,
      '-verify_ip',
      '127.0.0.1',
      '-verify_return_error',
      '-quiet',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': the PDUs printed last may still be in the pipe when it exits.
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  let received = Buffer.alloc(0);
  const answers: RawPdu[] = [];
  let answered = () => {};
  child.stdout.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    while (received.length >= 16 && received.length >= received.readUInt32BE(0)) {
      const length = received.readUInt32BE(0);
      answers.push({
        commandId: received.readUInt32BE(4),
        status: received.readUInt32BE(8),
        sequence: received.readUInt32BE(12),
        body: received.subarray(16, length),
      });
      received = received.subarray(length);
    }
    answered();
  });
  try {
    for (const [i, pdu] of pdus.entries()) {
      const answer = new Promise<void>((resolve, reject) => {
        answered = () => answers.length > i && resolve();
        closed.then((code) =>
          reject(new Error(`s_client exited ${code} after ${answers.length} PDUs: ${stderr}`)),
        );
      });
      child.stdin.write(pdu);
      await answer;
    }
    return answers;
  } finally {
    child.kill();
    await closed;
  }
}

describe('TLS', { skip: skip ?? false }, () => {
  const cert = skip ? undefined : testCertificate();
  let sim: SmscSimulator;
  let simPort: number;
  const simBinds: string[] = [];
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let base: string;

  before(async () => {
    sim = new SmscSimulator({ deliveryDelayMs: 20, tls: { cert: cert!.cert, key: cert!.key } });
    sim.on('bound', (b: { systemId: string }) => simBinds.push(b.systemId));
    simPort = (await sim.listen(0, '127.0.0.1', true)).port;
    const smsc = `type: smpp, host: 127.0.0.1, port: ${simPort}, password: pw`;
    gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0, tls: { cert: ${cert!.certPath}, key: ${cert!.keyPath} } }
smppServer:
  listen: 127.0.0.1:0
  tls: { listen: 127.0.0.1:0, cert: ${cert!.certPath}, key: ${cert!.keyPath} }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-tls] }
accounts:
  - { id: acme, apiKeys: [acme-key-tls], smpp: { systemId: acme, password: secret } }
connectors:
  - { id: verified, ${smsc}, systemId: verified, tls: { ca: ${cert!.certPath}, servername: localhost } }
  - { id: system-cas, ${smsc}, systemId: system-cas, tls: true }
  - { id: relaxed, ${smsc}, systemId: relaxed, tls: { rejectUnauthorized: false } }
routes:
  mt: [{ connectors: [verified] }]
`);
    base = `https://127.0.0.1:${gw.app.httpAddress.port}`;
  });
  after(async () => {
    await gw?.close();
    await sim?.close();
  });

  test('http.tls: curl with the CA sends a message over HTTPS; without it curl refuses the certificate', async (t) => {
    if (!requirePeer(t, 'curl')) return;
    const health = await curl(['--cacert', cert!.certPath, `${base}/health`]);
    assert.equal(health.status, 200, health.stderr);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });

    const sent = await curl([
      '--cacert',
      cert!.certPath,
      '-H',
      'Authorization: Bearer acme-key-tls',
      '-H',
      'content-type: application/json',
      '-d',
      '{"to":"+447700900555","from":"Brand","text":"over HTTPS"}',
      `${base}/v1/messages`,
    ]);
    assert.equal(sent.status, 202, sent.body);
    const { id } = JSON.parse(sent.body) as { id: string };
    // Through the `verified` connector's TLS bind to the simulator, and its receipt back.
    const delivered = await waitFor(async () => {
      const m = await gw.app.gateway.store.getMessage(id);
      return m?.status === 'delivered' ? m : undefined;
    });
    assert.equal(delivered.connectorId, 'verified');
    assert.equal([...sim.messages.values()].find((s) => s.to === '447700900555')?.systemId, 'verified');

    const unverified = await curl([`${base}/health`]);
    assert.equal(unverified.code, 60, 'curl: peer certificate cannot be authenticated');
    const plain = await curl([`http://127.0.0.1:${gw.app.httpAddress.port}/health`]);
    assert.notEqual(plain.status, 200, 'plain HTTP is not served on an HTTPS listener');
  });

  test('smppServer.tls: openssl s_client carries a bind and an unbind; plain SMPP is served beside it', async () => {
    const [bound, unbound] = await throughSClient(gw.app.smppTlsAddress!.port, cert!.certPath, [
      bindTransceiver('acme', 'secret', 7),
      unbind(8),
    ]);
    assert.deepEqual([bound!.commandId, bound!.status, bound!.sequence], [0x80000009, 0, 7]);
    assert.match(bound!.body.toString('latin1'), /^[^\0]+\0/, 'bind_transceiver_resp carries a system_id');
    assert.deepEqual([unbound!.commandId, unbound!.status, unbound!.sequence], [0x80000006, 0, 8]);

    const [refused] = await throughSClient(gw.app.smppTlsAddress!.port, cert!.certPath, [
      bindTransceiver('acme', 'wrong', 1),
    ]);
    assert.deepEqual([refused!.commandId, refused!.status], [0x80000009, 0x0000000e]); // ESME_RINVPASWD
    assert.notEqual(gw.app.smppAddress, null);
    assert.notEqual(gw.app.smppAddress!.port, gw.app.smppTlsAddress!.port);
  });

  test('smpp connector: a CA and servername verify the SMSC; tls: true refuses a certificate no system CA signed; rejectUnauthorized: false binds anyway', async () => {
    const connectors = gw.app.gateway.connectors;
    await waitFor(() => connectors.get('verified')!.state().status === 'up', 10_000, 'verified bound');
    await waitFor(() => connectors.get('relaxed')!.state().status === 'up', 10_000, 'relaxed bound');
    await waitFor(() => connectors.get('system-cas')!.state().status === 'down', 10_000, 'system-cas failed');
    assert.deepEqual([...new Set(simBinds)].sort(), ['relaxed', 'verified']);
  });

  test('smsgw serve prints the https:// address and the SMPP/TLS listener', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'smsgw-tls-serve-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'gw.yaml');
    writeFileSync(
      config,
      `http: { listen: 127.0.0.1:0, tls: { cert: ${cert!.certPath}, key: ${cert!.keyPath} } }
smppServer: { tls: { listen: 127.0.0.1:0, cert: ${cert!.certPath}, key: ${cert!.keyPath} } }
store: sqlite:${join(dir, 'gw.db')}
`,
    );
    const child = spawn(process.execPath, [resolve('src/cli/main.ts'), 'serve', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    t.after(async () => {
      child.kill('SIGTERM');
      await exited;
    });
    const lines: string[] = [];
    await new Promise<void>((ready, reject) => {
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${lines.join('\n')}`)));
      // Started from a config, stdout holds the JSON log; the banner is on stderr.
      createInterface({ input: child.stderr }).on('line', (line) => {
        lines.push(line);
        if (line.startsWith('store: ')) ready();
      });
    });
    assert.ok(
      lines.some((l) => /^smsgw listening: HTTP https:\/\/127\.0\.0\.1:\d+$/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /^smsgw listening: SMPP\/TLS 127\.0\.0\.1:\d+$/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      !lines.some((l) => /^smsgw listening: SMPP \d/.test(l)),
      'no plain SMPP listener was asked for',
    );
  });
});
