// A store that cannot write (a full disk under SQLite, PostgreSQL stopped) must not turn into
// a resend storm: while outcomes cannot be recorded nothing goes to the SMSC, the outcomes
// of what was on the wire wait in memory and are recorded once the store is back (sent
// once, with their submission data), and accepting answers 503 store_unavailable.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { CommandStatus, type Pdu } from '../../src/smpp/index.ts';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom, waitFor } from './helpers.ts';
import { HoldingSmsc } from './holding-smsc.ts';

type Gateway = Awaited<ReturnType<typeof gatewayFrom>>;

const window = 8;
const twilioSid = 'AC00000000000000000000000000000001';

/** `binds`: the connector's binds, which gateways on one PostgreSQL share (one each for two). */
function gatewayConfig(store: string, smscPort: number, systemId: string, binds = 1): string {
  return `
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: ${store}
accounts:
  - id: acme
    apiKeys: [acme-key-1]
    defaultFrom: ACME
    smpp: { systemId: acme, password: secret }
    twilio: { accountSid: ${twilioSid} }
connectors:
  # The SMSC holds its answers for a while in these tests: no timeout (and retry) meanwhile.
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: ${systemId}, password: pw,
      binds: ${binds}, window: ${window}, requestTimeoutSeconds: 600 }
routes:
  mt: [{ connectors: [carrier] }]
`;
}

/** How the store is broken and mended. */
interface Fault {
  begin(): Promise<void>;
  end(): Promise<void>;
}

/**
 * Sends through each gateway while the fault comes and goes: a window of messages is on the
 * wire (the SMSC holds its answers) when the store breaks, is answered while it is broken,
 * and more are accepted or refused meanwhile. Then every accepted message must have been
 * sent exactly once and carry its submission data.
 */
async function sendThroughFault(gateways: Gateway[], smsc: HoldingSmsc, fault: Fault): Promise<void> {
  const calls = gateways.map((gw) => api(gw.base, 'acme-key-1'));
  const accepted = new Map<string, string>(); // id → text
  let sequence = 0;
  const post = async (gw: number) => {
    const text = `fault ${sequence++}`;
    const res = await calls[gw]!('POST', '/v1/messages', { to: `+4477009${10000 + sequence}`, text });
    if (res.status === 202) accepted.set(res.body.id, text);
    return res;
  };

  const store = gateways[0]!.app.store;
  const delivered = (id: string, text: string) =>
    waitFor(
      async () => {
        const m = await store.getMessage(id);
        return m?.status === 'delivered' && m;
      },
      60_000,
      `${text} delivered`,
    );

  // Before: messages go and are recorded as usual (their receipts too, before the fault).
  for (let gw = 0; gw < gateways.length; gw++) for (let i = 0; i < 5; i++) await post(gw);
  for (const [id, text] of accepted) await delivered(id, text);

  // Clients keep sending throughout, as they would; each gets a 202 or a 503, never else.
  const answers = new Set<number>();
  let loading = true;
  const load = Array.from({ length: 4 }, async (_, loop) => {
    while (loading) {
      answers.add((await post(loop % gateways.length)).status);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });

  // A window on the wire per gateway, and more queued behind it.
  smsc.hold();
  for (let gw = 0; gw < gateways.length; gw++)
    for (let i = 0; i < window + 4; i++) assert.equal((await post(gw)).status, 202);
  await waitFor(() => smsc.held === window * gateways.length, 10_000, 'every window on the wire');

  await fault.begin();
  const sentAtFault = total(smsc.submits);
  // Accepting is refused once a write fails (some may still be stored first: then accepted).
  for (let gw = 0; gw < gateways.length; gw++) {
    const refused = await waitFor(
      async () => {
        const res = await post(gw);
        assert.ok(res.status === 202 || res.status === 503, `accepting answered ${res.status}`);
        return res.status === 503 && res;
      },
      60_000,
      'a 503 while the store cannot write',
    );
    assert.equal(refused.body.error.code, 'store_unavailable');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After');
    const health = gateways[gw]!.app.gateway.storeHealth();
    assert.equal(health.ok, false);
    assert.ok(health.lastError, 'the failure is told');
  }
  const batch = await calls[0]!('POST', '/v1/batches', {
    from: 'ACME',
    text: 'batch',
    recipients: [{ to: '+447700900995' }],
  });
  assert.equal(batch.status, 503);
  assert.equal(batch.body.error.code, 'store_unavailable');
  assert.ok(batch.headers.get('retry-after'));
  // The compat APIs refuse in their own shape, each telling when to try again.
  const base = gateways[0]!.base;
  const kannel = await fetch(
    `${base}/cgi-bin/sendsms?${new URLSearchParams({ username: 'acme', password: 'acme-key-1', to: '+447700900998', text: 'by kannel' })}`,
  );
  assert.equal(kannel.status, 503);
  assert.equal(await kannel.text(), 'Temporal failure, try again later.');
  assert.ok(kannel.headers.get('retry-after'));
  const jasmin = await fetch(
    `${base}/send?${new URLSearchParams({ username: 'acme', password: 'acme-key-1', to: '447700900997', content: 'by jasmin' })}`,
  );
  assert.equal(jasmin.status, 503);
  assert.ok(jasmin.headers.get('retry-after'));
  const twilio = await fetch(`${base}/2010-04-01/Accounts/${twilioSid}/Messages.json`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${twilioSid}:acme-key-1`).toString('base64')}` },
    body: new URLSearchParams({ To: '+447700900996', From: 'ACME', Body: 'by twilio' }),
  });
  assert.equal(twilio.status, 503);
  assert.equal(((await twilio.json()) as { code: number }).code, 20503);
  assert.ok(twilio.headers.get('retry-after'));
  // Twilio Verify stores a record of its own first: refused the same way.
  const service = await fetch(`${base}/v2/Services`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${twilioSid}:acme-key-1`).toString('base64')}` },
    body: new URLSearchParams({ FriendlyName: 'Acme' }),
  });
  assert.equal(service.status, 503);
  assert.equal(((await service.json()) as { code: number }).code, 20503);
  // The SMPP front refuses with a temporary status, never a 500-like fault.
  const { client } = esme(gateways[0]!.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
  client.start();
  try {
    await client.waitBound();
    const resp = await client.request(
      submitSm({ destinationAddr: '447700900999', shortMessage: Buffer.from('by smpp') }),
    );
    assert.equal(resp.commandStatus, CommandStatus.ESME_RMSGQFUL);
    const multi = {
      ...submitSm({ shortMessage: Buffer.from('by smpp to many') }),
      command: 'submit_multi',
      destinations: [
        { kind: 'sme', ton: 1, npi: 1, address: '447700900701' },
        { kind: 'sme', ton: 1, npi: 1, address: '447700900702' },
      ],
    } as unknown as Pdu;
    assert.equal((await client.request(multi)).commandStatus, CommandStatus.ESME_RMSGQFUL);
  } finally {
    await client.stop();
  }

  // The SMSC answers the window while the store is broken: the outcomes wait in memory.
  smsc.release();
  for (const gw of gateways) await waitFor(() => gw.app.gateway.inFlight === 0, 10_000, 'answers taken');
  for (let gw = 0; gw < gateways.length; gw++) {
    assert.equal((await post(gw)).status, 503, 'still refused while the store cannot write');
  }
  assert.equal(total(smsc.submits), sentAtFault, 'nothing sent while outcomes cannot be recorded');

  await fault.end();
  for (const gw of gateways) await waitFor(() => gw.app.gateway.storeHealth().ok, 30_000, 'the store back');
  loading = false;
  await Promise.all(load);
  for (const status of answers) assert.ok(status === 202 || status === 503, `a client got ${status}`);

  // Every accepted message ends with its submission data, and went to the SMSC once.
  for (const [id, text] of accepted) {
    const message = await delivered(id, text);
    assert.equal(message.connectorId, 'carrier', `${text}: connector`);
    assert.ok(message.submittedAt, `${text}: submittedAt`);
    const submitted = (await store.listEvents(id)).filter((e) => e.type === 'submitted');
    assert.equal(submitted.length, 1, `${text}: one submitted event`);
    const smscIds = submitted[0]!.detail!.smscIds as string[];
    assert.equal(smscIds.length, 1, `${text}: its SMSC id`);
  }
  const resent = [...smsc.submits].filter(([text, n]) => text.startsWith('fault ') && n > 1);
  assert.deepEqual(resent, [], 'no message sent twice');
  assert.equal(
    [...smsc.submits.keys()].filter((text) => text.startsWith('fault ')).length,
    accepted.size,
    'every accepted message sent',
  );
}

function total(submits: Map<string, number>): number {
  let n = 0;
  for (const count of submits.values()) n += count;
  return n;
}

/** An SMSC of the test's own (its counts are the test's), closed after it. */
async function smscFor(t: TestContext): Promise<{ smsc: HoldingSmsc; smscPort: number }> {
  const smsc = new HoldingSmsc();
  const smscPort = (await smsc.listen()).port;
  t.after(() => smsc.close());
  return { smsc, smscPort };
}

describe('a store that cannot write', () => {
  const notRoot = process.getuid?.() !== 0;
  test('SQLite on a disk that fills up and is freed again', {
    skip: notRoot && 'filling a disk needs a tmpfs of its own, and mounting one needs root',
    timeout: 180_000,
  }, async (t) => {
    const { smsc, smscPort } = await smscFor(t);
    const disk = mkdtempSync(join(tmpdir(), 'smsgw-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', disk]);
    const filler = join(disk, 'filler');
    let gw: Gateway | undefined;
    t.after(async () => {
      // Mended first, however the test ended, so the gateway can stop.
      smsc.release();
      rmSync(filler, { force: true });
      await gw?.close();
      execFileSync('umount', ['-l', disk]);
      rmSync(disk, { recursive: true, force: true });
    });
    gw = await gatewayFrom(gatewayConfig(`sqlite:${disk}/smsgw.db`, smscPort, 'gw-sqlite'));
    await sendThroughFault([gw], smsc, {
      async begin() {
        const chunk = Buffer.alloc(64 * 1024);
        try {
          for (;;) appendFileSync(filler, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        }
      },
      async end() {
        rmSync(filler);
      },
    });
  });

  const noPostgres = missingPeer('PostgreSQL');
  describe('PostgreSQL stopped and started again under two gateways', { skip: noPostgres ?? false }, () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server?.stop());

    test('the same holds in cluster mode', { timeout: 180_000 }, async (t) => {
      const { smsc, smscPort } = await smscFor(t);
      const store = await server.createDatabase();
      const gateways: Gateway[] = [];
      let down = false;
      t.after(async () => {
        // Mended first, however the test ended, so the gateways can stop.
        smsc.release();
        if (down) await server.startAgain();
        for (const gw of gateways) await gw.close();
      });
      for (const name of ['gw-a', 'gw-b'])
        gateways.push(await gatewayFrom(gatewayConfig(store, smscPort, name, 2)));
      // Each holds one of the two binds, so each has a window of its own on the wire.
      await waitFor(
        () =>
          gateways.every(
            (gw) =>
              gw.app.gateway.connectors
                .get('carrier')!
                .state()
                .binds.filter((b) => b.state === 'bound').length === 1,
          ),
        15_000,
        'a bind on each gateway',
      );
      await sendThroughFault(gateways, smsc, {
        async begin() {
          down = true;
          await server.shutDown();
        },
        async end() {
          await server.startAgain();
          down = false;
        },
      });
    });

    test('a request refused for a read the store could not do marks the store down', async (t) => {
      const { smscPort } = await smscFor(t);
      const database = await server.createDatabase();
      let down = false;
      let gw: Gateway | undefined;
      t.after(async () => {
        if (down) await server.startAgain();
        await gw?.close();
      });
      gw = await gatewayFrom(gatewayConfig(database, smscPort, 'gw-read'));
      const call = api(gw.base, 'acme-key-1');
      const before = await call('POST', '/v1/messages', { to: '+447700900100', text: 'before' });
      assert.equal(before.status, 202);
      const store = gw.app.store;
      const delivered = (id: string) =>
        waitFor(async () => (await store.getMessage(id))?.status === 'delivered', 10_000, `${id} delivered`);
      await delivered(before.body.id);
      down = true;
      await server.shutDown();
      // Nothing was written since, and the account's opt-out lookup (kept for a second) is
      // due again: the first thing to meet the outage is this request's own read. Its 503
      // must be what /ready and the next requests see too.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const res = await call('POST', '/v1/messages', { to: '+447700900101', text: 'during' });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'store_unavailable');
      assert.equal(gw.app.gateway.storeHealth().ok, false, 'the store is marked down');
      const ready = await fetch(`${gw.base}/ready`);
      assert.equal(ready.status, 503);
      await server.startAgain();
      down = false;
      await waitFor(() => gw!.app.gateway.storeHealth().ok, 30_000, 'the store back up');
      const after = await call('POST', '/v1/messages', { to: '+447700900102', text: 'after' });
      assert.equal(after.status, 202);
      await delivered(after.body.id);

      // The same for a read of the API's own (a message looked up) that meets the outage first.
      down = true;
      await server.shutDown();
      const read = await call('GET', `/v1/messages/${after.body.id}`);
      assert.equal(read.status, 503);
      assert.equal(read.body.error.code, 'store_unavailable');
      assert.equal(gw.app.gateway.storeHealth().ok, false, 'the store is marked down by a read');
    });
  });
});
