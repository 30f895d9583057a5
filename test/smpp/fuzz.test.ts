// Hostile input: random bytes and mutated valid PDUs, thrown at the codec, at our SMPP
// server and at the SMSC simulator. Nothing may crash, hang or hold unbounded memory, and
// the listener must still serve a well-behaved client afterwards.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { CommandStatus, decodePdu, encodePdu, SmppDecodeError, SmppServer } from '../../src/smpp/index.ts';
import { mutate, prng, validPdus } from './mutations.ts';
import { bindPdu, RawPeer, submitSm } from './raw-peer.ts';

const closers: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

describe('SMPP fuzzing', () => {
  test('the decoder returns a PDU or throws SmppDecodeError for 20,000 mutated PDUs', () => {
    const random = prng(0x5eed);
    const bases = validPdus().map((p) => Buffer.from(encodePdu(p)));
    let decoded = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = mutate(random, bases[i % bases.length]!);
      try {
        decodePdu(bytes);
        decoded++;
      } catch (err) {
        assert.ok(err instanceof SmppDecodeError, `unexpected ${String(err)} for ${bytes.toString('hex')}`);
        refused++;
      }
    }
    // Both outcomes must occur, or the mutations are not exercising the decoder.
    assert.ok(decoded > 1000 && refused > 1000, `decoded ${decoded}, refused ${refused}`);
  });

  for (const target of ['server', 'simulator'] as const) {
    test(`the ${target} survives random and mutated streams and still serves a good client`, async () => {
      let port: number;
      if (target === 'server') {
        const server = new SmppServer({ authenticate: () => ({ status: 0 }) });
        server.on('request', (pdu, bound) => {
          if (pdu.command === 'submit_sm') bound.session.respond(pdu, 0, { messageId: 'x' });
        });
        ({ port } = await server.listen(0));
        closers.push(() => server.close());
      } else {
        const sim = new SmscSimulator({ deliveryDelayMs: 5 });
        ({ port } = await sim.listen(0));
        closers.push(() => sim.close());
      }
      const random = prng(target === 'server' ? 11 : 23);
      const bases = validPdus().map((p) => Buffer.from(encodePdu(p)));
      const heapBefore = process.memoryUsage().heapUsed;

      for (let round = 0; round < 40; round++) {
        const peer = await RawPeer.connect(port);
        // Half the connections bind first, so the mutated PDUs reach the bound-state code too.
        if (round % 2 === 0) {
          peer.send(bindPdu('bind_transceiver'));
          await peer.until((r) => r.length > 0);
        }
        const chunks: Buffer[] = [];
        for (let i = 0; i < 50; i++) {
          if (random() < 0.15) {
            chunks.push(
              Buffer.from(
                Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)),
              ),
            );
          } else {
            chunks.push(mutate(random, bases[Math.floor(random() * bases.length)]!));
          }
        }
        // Written in random slices, so PDUs straddle reads.
        const stream = Buffer.concat(chunks);
        for (let at = 0; at < stream.length; ) {
          const n = 1 + Math.floor(random() * 200);
          peer.sendBytes(stream.subarray(at, at + n));
          at += n;
        }
        await new Promise((r) => setTimeout(r, 5));
        peer.close();
      }

      // A lying command_length of 2 GB must close the connection, not allocate it.
      const greedy = await RawPeer.connect(port);
      const header = Buffer.alloc(16);
      header.writeUInt32BE(0x7fff_ffff, 0);
      header.writeUInt32BE(0x0000_0004, 4);
      greedy.sendBytes(header);
      await greedy.waitClosed();

      const good = await RawPeer.connect(port);
      good.send(bindPdu('bind_transceiver', 1));
      await good.until((r) => r.some((p) => p.command === 'bind_transceiver_resp'));
      good.send(submitSm({ sequenceNumber: 2 }));
      await good.until((r) => r.some((p) => p.command === 'submit_sm_resp'));
      const resp = good.received.find((p) => p.command === 'submit_sm_resp')!;
      assert.equal(resp.commandStatus, CommandStatus.ESME_ROK);
      good.close();

      global.gc?.();
      const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
      assert.ok(grownMb < 64, `heap grew by ${grownMb.toFixed(1)} MB`);
    });
  }
});
