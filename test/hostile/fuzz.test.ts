// An SMPP fuzzer against a live gateway process: 200,000 mutated PDUs (seeded, so a
// failure replays) over many connections, half of them bound, written in random slices so
// PDUs straddle reads, some followed by raw garbage. The gateway must stay up, keep its
// RSS within a bound, and serve a legitimate ESME afterwards: bind, submit, receipt.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CommandStatus, encodePdu, type Pdu, type PduOf } from '../../src/smpp/index.ts';
import { esme, waitFor } from '../e2e/helpers.ts';
import { mutate, prng, validPdus } from '../smpp/mutations.ts';
import { bindPdu, RawPeer, submitSm } from '../smpp/raw-peer.ts';
import { connectHostile, type GatewayProcess, startGatewayProcess, watchRss } from './gateway-process.ts';

const seed = 0x5eed_f00d;
const totalPdus = 200_000;
const pdusPerConnection = 5_000;
const parallel = 4;
/** Decoding and answering 200,000 PDUs churns the heap; an unbounded queue would pass this. */
const maxGrowthMb = 150;

let gw: GatewayProcess;
before(async () => {
  gw = await startGatewayProcess(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, smpp: { systemId: acme, password: secret, maxBinds: 4 } }
  # The fuzzer's account: mps keeps its valid submits from filling the store.
  - { id: fuzz, apiKeys: [fuzz-key-1], mps: 20, smpp: { systemId: fuzz, password: fuzzpw, maxBinds: 50 } }
connectors: [{ id: sim, type: simulator, deliveryDelayMs: 10 }]
routes: { mt: [{ connectors: [sim] }] }
`);
});
after(() => gw?.close());

/** The marker after a connection's stream: its answer means the gateway has read it all. */
const markerSequence = 0x7fff_fff0;

async function fuzzConnection(random: () => number, bases: Buffer[], bound: boolean): Promise<number> {
  const peer = new RawPeer(await connectHostile(gw.smppPort));
  try {
    if (bound) {
      peer.send({
        ...(bindPdu('bind_transceiver') as PduOf<'bind_transceiver'>),
        systemId: 'fuzz',
        password: 'fuzzpw',
      });
      await peer.until((r) => r.some((p) => p.command === 'bind_transceiver_resp'), 30_000);
    }
    const stream = Buffer.concat(
      Array.from({ length: pdusPerConnection }, () =>
        mutate(random, bases[Math.floor(random() * bases.length)]!),
      ),
    );
    for (let at = 0; at < stream.length; ) {
      const n = 1 + Math.floor(random() * 4096);
      peer.sendBytes(stream.subarray(at, at + n));
      at += n;
    }
    peer.send({ command: 'enquire_link', commandStatus: 0, sequenceNumber: markerSequence } as Pdu);
    await peer.until(
      (r) => r.some((p) => p.command === 'enquire_link_resp' && p.sequenceNumber === markerSequence),
      60_000,
    );
    if (random() < 0.2) {
      // Garbage to end with: a lying command_length closes the connection, or it just stops.
      peer.sendBytes(
        Buffer.from(Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256))),
      );
    }
    return pdusPerConnection;
  } finally {
    peer.close();
  }
}

test(`SMPP fuzzer: ${totalPdus} mutated PDUs against a live gateway, which then serves a good ESME`, async () => {
  // Bind PDUs stay out of the mutated stream: each refused one costs a password hash, and
  // binds are fuzzed enough by the bound connections' own and by test/smpp/fuzz.test.ts.
  const bases = validPdus()
    .filter((p) => !p.command.startsWith('bind_'))
    .map((p) => Buffer.from(encodePdu(p)));
  const rss = watchRss(gw);
  let sent = 0;
  let started = 0;
  const worker = async () => {
    while (started * pdusPerConnection < totalPdus) {
      const index = started++;
      // One generator per connection: the same bytes on each run, however they interleave.
      const pdus = await fuzzConnection(prng(seed + index), bases, index % 2 === 0);
      sent += pdus;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const seen = rss.stop();
  process.stdout.write(
    `# ${sent} mutated PDUs (seed ${seed}); gateway RSS ${seen.startMb.toFixed(0)} MB at the start, at most ${seen.peakMb.toFixed(0)} MB\n`,
  );
  assert.ok(sent >= totalPdus);
  assert.ok(gw.alive(), 'the gateway process died');
  assert.ok(
    seen.peakMb - seen.startMb < maxGrowthMb,
    `RSS grew by ${(seen.peakMb - seen.startMb).toFixed(0)} MB`,
  );

  const legit = esme(gw.smppPort, { systemId: 'acme', password: 'secret' });
  legit.client.start();
  await legit.client.waitBound();
  const resp = await legit.client.request(submitSm({ registeredDelivery: 1 } as Partial<Pdu>));
  assert.equal(resp.commandStatus, CommandStatus.ESME_ROK);
  await waitFor(() => legit.received.some((p) => p.command === 'deliver_sm'), 30_000, 'the receipt');
  await legit.client.stop();
});
