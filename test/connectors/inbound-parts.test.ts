// What a carrier's inbound traffic can make a connector hold: the parts of long messages
// waiting for the rest, and completed messages the sink refused (kept for the peer's
// redelivery). Both are bounded by their size, which the peer chooses (an SMPP part may
// carry a 64 KB message_payload, a set up to 255 parts), not by their number.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InboundParts } from '../../src/connectors/inbound.ts';
import type { InboundSms } from '../../src/connectors/types.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap and Buffers in use: Buffers' memory is let go after the collection that frees them, in turns of its own. */
async function retainedMb(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise(setImmediate);
  }
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
}

function inbound(sink: (sms: InboundSms) => Promise<void>): InboundParts {
  const quiet = () => {};
  return new InboundParts({
    connectorId: 'smsc',
    sink: { receipt: async () => {}, inbound: sink },
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    reassemblyTimeoutMs: 3600_000,
    peer: 'SMSC',
  });
}

const body = Buffer.alloc(60_000, 0x41);

test('long messages the sink refused are held within a bound in bytes, not 1,000 of any size', async () => {
  const parts = inbound(async () => {
    throw new Error('store down');
  });
  const before = await retainedMb();
  // 600 two-part messages of 120 KB, each refused once complete: 72 MB if all were kept
  // (and as much again in the parts remembered to spot late duplicates).
  for (let i = 0; i < 600; i++) {
    const key = `+4477009${String(i).padStart(5, '0')}\u0000+447700900000`;
    for (const sequence of [1, 2]) {
      const kept = await parts.receive({
        key,
        id: `${i}/${sequence}`,
        body,
        dataCoding: 4,
        udh: false,
        sar: { reference: i, total: 2, sequence },
      });
      assert.equal(kept, sequence === 1, 'the completing part is refused, for the peer to send again');
    }
  }
  const grown = (await retainedMb()) - before;
  await parts.close();
  assert.ok(grown < 60, `${grown.toFixed(0)} MB held`);
});

test('a refused long message is still handed over when the peer sends its last part again', async () => {
  const got: InboundSms[] = [];
  let refuse = true;
  const parts = inbound(async (sms) => {
    if (refuse) throw new Error('store down');
    got.push(sms);
  });
  const part = (sequence: number) => ({
    key: '+447700900001\u0000+447700900000',
    id: `7/${sequence}`,
    body: Buffer.from(`part ${sequence} `),
    dataCoding: 0,
    udh: false,
    sar: { reference: 7, total: 2, sequence },
  });
  assert.equal(await parts.receive(part(1)), true);
  assert.equal(await parts.receive(part(2)), false);
  refuse = false;
  assert.equal(await parts.receive(part(2)), true);
  await parts.close();
  assert.deepEqual(
    got.map((s) => [s.text, s.segments]),
    [['part 1 part 2 ', 2]],
  );
});
