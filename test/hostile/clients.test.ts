// Hostile clients against a live gateway process, each for a bounded time, while a
// legitimate client's traffic must keep flowing: the gateway's RSS may not grow past a
// bound (before these limits it grew by hundreds of MB within seconds), the gateway must
// close every connection that does not read, every legitimate request is answered, and
// every receipt it asked for arrives.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { CommandStatus, encodePdu, type Pdu, type PduOf } from '../../src/smpp/index.ts';
import { esme, waitFor } from '../e2e/helpers.ts';
import { bindPdu, submitSm } from '../smpp/raw-peer.ts';
import {
  closedByPeer,
  connectHostile,
  type GatewayProcess,
  startGatewayProcess,
  watchRss,
  writeWithoutReading,
} from './gateway-process.ts';

const attackMs = 8_000;
/**
 * How long after an attack every hostile connection must have been closed by the gateway:
 * writeStallSeconds (2) plus a wide margin for a loaded machine.
 */
const closeWithinMs = 30_000;

let gw: GatewayProcess;
before(async () => {
  gw = await startGatewayProcess(`
http: { listen: 127.0.0.1:0, writeStallSeconds: 2 }
smppServer: { listen: 127.0.0.1:0, writeStallSeconds: 2 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, smpp: { systemId: acme, password: secret, maxBinds: 4 } }
  - { id: mallory, apiKeys: [mallory-key-1], smpp: { systemId: mallory, password: mallory, maxBinds: 50 } }
connectors: [{ id: sim, type: simulator, deliveryDelayMs: 10 }]
routes: { mt: [{ connectors: [sim] }] }
`);
});
after(() => gw?.close());

function bindAs(systemId: string, password: string): Pdu {
  return { ...(bindPdu('bind_transceiver') as PduOf<'bind_transceiver'>), systemId, password };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `attack` until `attackMs` have passed; resolves with the RSS seen meanwhile. */
async function underAttack(
  maxGrowthMb: number,
  attack: (stop: () => boolean) => Promise<unknown>,
  legitimate: (stop: () => boolean) => Promise<unknown>,
) {
  const rss = watchRss(gw);
  const endAt = Date.now() + attackMs;
  const stop = () => Date.now() >= endAt;
  await Promise.all([attack(stop), legitimate(stop)]);
  const seen = rss.stop();
  assert.ok(gw.alive(), 'the gateway process died');
  process.stdout.write(
    `# gateway RSS ${seen.startMb.toFixed(0)} MB at the start, at most ${seen.peakMb.toFixed(0)} MB\n`,
  );
  assert.ok(
    seen.peakMb - seen.startMb < maxGrowthMb,
    `RSS grew by ${(seen.peakMb - seen.startMb).toFixed(0)} MB (bound ${maxGrowthMb} MB)`,
  );
}

/** A bound ESME of account acme that submits one message every 50 ms, each asking for a receipt. */
async function legitimateEsme() {
  const legit = esme(gw.smppPort, { systemId: 'acme', password: 'secret' });
  legit.client.start();
  await legit.client.waitBound();
  let submitted = 0;
  return {
    ...legit,
    receipts: () => legit.received.filter((p) => p.command === 'deliver_sm').length,
    get submitted() {
      return submitted;
    },
    async submitUntil(stop: () => boolean) {
      while (!stop()) {
        const resp = await legit.client.request(submitSm({ registeredDelivery: 1 } as Partial<Pdu>));
        assert.equal(resp.commandStatus, CommandStatus.ESME_ROK);
        submitted++;
        await sleep(50);
      }
    },
  };
}

const enquireLinks = Buffer.concat(
  Array.from({ length: 4096 }, (_, i) =>
    encodePdu({ command: 'enquire_link', commandStatus: 0, sequenceNumber: i + 1 } as Pdu),
  ),
);

/** Connects again and again while `stop()` does not hold, sending without reading. */
async function hostileLoop(
  port: number,
  stop: () => boolean,
  open: Set<Socket>,
  send: (socket: Socket) => Promise<unknown>,
): Promise<number> {
  let connections = 0;
  while (!stop()) {
    const socket = await connectHostile(port);
    connections++;
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    await send(socket);
  }
  return connections;
}

test('SMPP: clients flooding enquire_link without reading, bound and not', async (t) => {
  const legit = await legitimateEsme();
  // Unbound however this test ends: a bind left behind would take later tests' receipts.
  t.after(() => legit.client.stop());
  const open = new Set<Socket>();
  let connections = 0;
  const flooder = async (bind: boolean, stop: () => boolean) => {
    const made = await hostileLoop(gw.smppPort, stop, open, (socket) => {
      if (bind) socket.write(encodePdu(bindAs('mallory', 'mallory')));
      return writeWithoutReading(socket, enquireLinks, stop);
    });
    connections += made;
  };
  // Before these limits: +135 MB in 8 s on a loaded machine, growing for as long as the
  // flood lasts; now about +50 MB (the heap's churn), whatever the flood's length.
  await underAttack(
    100,
    (stop) =>
      Promise.all([flooder(false, stop), flooder(false, stop), flooder(true, stop), flooder(true, stop)]),
    (stop) => legit.submitUntil(stop),
  );
  process.stdout.write(`# ${connections} flooding connections, ${legit.submitted} legitimate submits\n`);
  assert.ok(legit.submitted > 0);
  // Flooded as before: a connection opened as the attack ended may not have sent anything
  // yet, and a trickle the gateway answers into an unread but roomy buffer looks like any
  // slow client.
  await Promise.all([...open].map((s) => closedByPeer(s, enquireLinks, closeWithinMs)));
  await waitFor(() => legit.receipts() >= legit.submitted, 30_000, 'every receipt at the legitimate ESME');
});

test('HTTP: clients pipelining requests without reading, with no key and with one', async () => {
  const openApiRequest = 'GET /openapi.json HTTP/1.1\r\nhost: x\r\n\r\n';
  const openApi = Buffer.from(openApiRequest.repeat(1024));
  const pages = Buffer.from(
    'GET /v1/messages?limit=500 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer acme-key-1\r\n\r\n'.repeat(512),
  );
  const open = new Set<Socket>();
  let connections = 0;
  const pipeliner = async (requests: Buffer, stop: () => boolean) => {
    const made = await hostileLoop(gw.httpPort, stop, open, (socket) =>
      writeWithoutReading(socket, requests, stop),
    );
    connections += made;
  };
  let accepted = 0;
  const legitimate = async (stop: () => boolean) => {
    while (!stop()) {
      const res = await fetch(`http://127.0.0.1:${gw.httpPort}/v1/messages`, {
        method: 'POST',
        headers: { authorization: 'Bearer acme-key-1', 'content-type': 'application/json' },
        body: JSON.stringify({ to: '+447700900123', text: `legitimate ${accepted}` }),
      });
      assert.equal(res.status, 202, await res.text());
      await res.arrayBuffer().catch(() => {});
      accepted++;
      await sleep(50);
    }
  };
  // Before these limits: +1.7 GB in 8 s. Now +100 to +200 MB: a hundred connections are
  // opened and dropped meanwhile, and the heap grows with that churn, not with their number.
  await underAttack(
    300,
    (stop) =>
      Promise.all([...Array.from({ length: 8 }, () => pipeliner(openApi, stop)), pipeliner(pages, stop)]),
    legitimate,
  );
  process.stdout.write(`# ${connections} pipelining connections, ${accepted} legitimate messages accepted\n`);
  assert.ok(accepted > 0);
  await Promise.all([...open].map((s) => closedByPeer(s, Buffer.from(openApiRequest), closeWithinMs)));
});

test('SMPP: binds dropped before their answer hold no bind and receive nothing', async () => {
  const first = await legitimateEsme();
  // acme may bind 4 times: twice the limit in dead binds, each closed right after its bind.
  for (let i = 0; i < 8; i++) {
    const socket = await connectHostile(gw.smppPort);
    socket.on('error', () => {});
    socket.end(encodePdu(bindAs('acme', 'secret')));
    socket.destroy();
  }
  const second = await legitimateEsme();
  // Receipts go out over both live binds; none may go to a dead one.
  let stopAt = 0;
  await first.submitUntil(() => {
    stopAt++;
    return stopAt > 40;
  });
  await waitFor(() => first.receipts() + second.receipts() >= 40, 20_000, '40 receipts over the live binds');
  await Promise.all([first.client.stop(), second.client.stop()]);
});
