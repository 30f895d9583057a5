// The carrier misbehaves and clients send garbage: the gateway resends, backs off, refuses
// clearly, and loses nothing.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { SmscSimulator, type SmscSimulatorOptions } from '../../src/simulator/index.ts';
import type { Pdu } from '../../src/smpp/index.ts';
import { CommandStatus } from '../../src/smpp/index.ts';
import { bindPdu, RawPeer, submitSm } from '../smpp/raw-peer.ts';
import { api, gatewayFrom, waitFor } from './helpers.ts';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function setup(simOptions: SmscSimulatorOptions) {
  const sim = new SmscSimulator({ deliveryDelayMs: 10, ...simOptions });
  const { port } = await sim.listen(0);
  closers.push(() => sim.close());
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, smpp: { systemId: acme, password: secret } }
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: pw, window: 32, requestTimeoutSeconds: 2 }
routes:
  mt: [{ connectors: [carrier] }]
`);
  closers.push(() => gw.close());
  return { sim, gw, call: api(gw.base, 'acme-key-1') };
}

async function sendAll(
  call: ReturnType<typeof api>,
  n: number,
  fields: Record<string, unknown> = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, j) =>
        call('POST', '/v1/messages', { to: '+447700900123', text: `msg ${i + j}`, ...fields }),
      ),
    );
    for (const r of batch) {
      assert.equal(r.status, 202);
      ids.push(r.body.id);
    }
  }
  return ids;
}

async function allDelivered(call: ReturnType<typeof api>, n: number) {
  return waitFor(
    async () => {
      const page = await call('GET', '/v1/messages?status=delivered&limit=500');
      return page.body.data.length >= n;
    },
    60_000,
    `${n} delivered`,
  );
}

describe('failures', () => {
  test('the SMSC drops the link mid-window: nothing is lost, the rest is resent', async () => {
    const { sim, call } = await setup({ dropEveryPdus: 40 });
    await sendAll(call, 300);
    await allDelivered(call, 300);
    const texts = new Set([...sim.messages.values()].map((m) => m.shortMessage.toString('latin1')));
    for (let i = 0; i < 300; i++) assert.ok(texts.has(`msg ${i}`), `msg ${i} reached the SMSC`);
    assert.ok(sim.stats.binds > 2, `reconnected (${sim.stats.binds} binds)`);
  });

  test('the SMSC answers ESME_RTHROTTLED: the gateway backs off and delivers everything', async () => {
    const { sim, call } = await setup({ throttleTps: 100 });
    // All due at one moment, so they leave in a burst over the SMSC's 100 a second however
    // slowly this machine takes them in (sent as they came, they may never reach it).
    await sendAll(call, 300, { sendAt: new Date(Date.now() + 5000).toISOString() });
    await allDelivered(call, 300);
    assert.ok(sim.stats.throttled > 0, 'the SMSC did throttle');
    const failed = await call('GET', '/v1/messages?status=failed');
    assert.equal(failed.body.data.length, 0);
  });

  test('bad input on the SMPP port: error statuses, the listener stays up', async () => {
    const { gw } = await setup({});
    const port = gw.app.smppAddress!.port;
    // Garbage before a bind: the connection is closed or nacked, never a crash.
    const junk = await RawPeer.connect(port);
    junk.sendBytes(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await junk.waitClosed().catch(() => junk.close());

    const peer = await RawPeer.connect(port);
    const bind = bindPdu('bind_transceiver', 1, 'secret') as Pdu & { systemId: string };
    bind.systemId = 'acme';
    peer.send(bind);
    await peer.until((r) => r.some((p) => p.command === 'bind_transceiver_resp'));
    assert.equal(peer.received[0]!.commandStatus, 0);
    peer.send(submitSm({ sequenceNumber: 2, destinationAddr: 'not a number' }));
    peer.send(submitSm({ sequenceNumber: 3, shortMessage: Buffer.alloc(0) }));
    // A header claiming 10 octets in a 3-octet message.
    peer.send(submitSm({ sequenceNumber: 4, esmClass: 0x40, shortMessage: Buffer.from([10, 0, 3]) }));
    peer.send(submitSm({ sequenceNumber: 5 }));
    await peer.until((r) => r.filter((p) => p.command === 'submit_sm_resp').length === 4);
    const status = (seq: number) =>
      peer.received.find((p) => p.sequenceNumber === seq && p.command === 'submit_sm_resp')!.commandStatus;
    assert.equal(status(2), CommandStatus.ESME_RINVDSTADR);
    assert.equal(status(3), CommandStatus.ESME_RINVMSGLEN);
    assert.equal(status(4), CommandStatus.ESME_RINVESMCLASS);
    assert.equal(status(5), 0);
    peer.close();
    const health = await fetch(`${gw.base}/health`);
    assert.equal(health.status, 200);
  });
});
