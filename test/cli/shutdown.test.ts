// SIGTERM on a gateway under keep-alive REST load, with an ESME bound: it drains (its
// answers close their connections, new requests get 503), unbinds the ESME in order,
// keeps every message it accepted, and exits 0 within shutdownGraceSeconds.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { SmppClient } from '../../src/smpp/index.ts';
import { openStore } from '../../src/store/index.ts';
import { webhookReceiver } from '../e2e/helpers.ts';
import { freePort, serve } from './serve-helpers.ts';

const graceSeconds = 3;

test('SIGTERM under keep-alive REST load: drains, unbinds, loses nothing, exits 0 within the grace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-shutdown-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [httpPort, smppPort] = [await freePort(), await freePort()];
  // A carrier over SMPP that answers slowly (9.5 s: longer than the grace), and a webhook
  // receiver: the shutdown has binds to unbind and work on the wire in both directions.
  const smsc = new SmscSimulator({ deliveryDelayMs: 20, responseDelayMs: 9500 });
  const { port: smscPort } = await smsc.listen(0);
  const firstSubmit = new Promise((r) => smsc.once('submit', r));
  t.after(() => smsc.close());
  const hooks = await webhookReceiver();
  t.after(() => hooks.close());
  const config = join(dir, 'gw.yaml');
  writeFileSync(
    config,
    `http: { listen: 127.0.0.1:${httpPort} }
smppServer: { listen: 127.0.0.1:${smppPort} }
store: sqlite:${dir}/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, smpp: { systemId: acme, password: pw }, webhook: { url: "${hooks.url}" } }
connectors: [{ id: sim, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: gw, password: pw, binds: 2 }]
routes: { mt: [{ connectors: [sim] }] }
shutdownGraceSeconds: ${graceSeconds}
`,
  );
  const gw = serve(['--config', config]);
  t.after(() => gw.kill('SIGKILL'));
  const base = `http://127.0.0.1:${httpPort}`;
  await gw.logged('gateway started');

  const esme = new SmppClient({
    host: '127.0.0.1',
    port: smppPort,
    systemId: 'acme',
    password: 'pw',
    reconnect: false,
  });
  esme.start();
  await esme.waitBound();
  const esmeUnbound = new Promise<Error | undefined>((r) => esme.once('unbound', r));

  // Eight keep-alive connections, each sending as fast as it is answered.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  const accepted: string[] = [];
  const afterSignal: Array<{ status: number; connection: string | undefined }> = [];
  let signalled = false;
  let stop = false;
  const post = () =>
    new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const req = http.request(
        `${base}/v1/messages`,
        {
          method: 'POST',
          agent,
          headers: { authorization: 'Bearer acme-key-1', 'content-type': 'application/json' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ to: '+447700900123', text: 'load' }));
    });
  const loops = Array.from({ length: 8 }, async () => {
    while (!stop) {
      let res: Awaited<ReturnType<typeof post>>;
      try {
        res = await post();
      } catch {
        // Refused or reset once the gateway stopped listening: the client's to retry.
        if (signalled) return;
        throw new Error('a request failed before the signal');
      }
      if (res.status === 202) accepted.push((JSON.parse(res.body) as { id: string }).id);
      // Read when the answer is in, not when the request left: one sent just before the
      // signal may be read by the gateway after it, and its 503 is then right.
      if (signalled) afterSignal.push({ status: res.status, connection: res.connection });
      else if (res.status !== 202) {
        stop = true;
        throw new Error(`${res.status} before the signal: ${res.body}`);
      }
    }
  });
  // The signal as the first submits reach the SMSC: their answers are 9.5 s away.
  await Promise.race([firstSubmit, Promise.all(loops)]);
  if (stop) await Promise.all(loops);

  const signalledAt = Date.now();
  signalled = true;
  gw.kill('SIGTERM');
  const { code, signal } = await gw.exited;
  const tookMs = Date.now() - signalledAt;
  stop = true;
  await Promise.all(loops);

  assert.equal(signal, null);
  assert.equal(code, 0, gw.stderr());
  assert.ok(tookMs < (graceSeconds + 4) * 1000, `exited ${tookMs} ms after SIGTERM`);
  assert.equal(await esmeUnbound, undefined, 'the ESME was unbound in order, not cut');
  // Clients are turned away by 503 + Connection: close, or by the answer to the request
  // they had in flight closing its connection (test/app/drain.test.ts shows both alone).
  for (const r of afterSignal) {
    assert.ok(r.status === 202 || r.status === 503, `status ${r.status} while draining`);
    if (r.status === 503) assert.equal(r.connection, 'close');
  }
  const msgs = gw.logs().map((l) => l.msg);
  assert.ok(msgs.includes('shutting down'), msgs.join('\n'));

  // Every 202 is in the store.
  const store = await openStore(`sqlite:${dir}/gw.db`);
  try {
    for (const id of accepted) assert.ok(await store.getMessage(id), `message ${id} was accepted and lost`);
  } finally {
    await store.close();
  }
});
