// Mutations of valid PDUs for fuzzing, shared by the codec fuzzer (test/smpp/fuzz.test.ts)
// and the live-gateway fuzzer (test/hostile/). Seeded, so a failure can be replayed.
import type { Pdu } from '../../src/smpp/index.ts';
import { Prng } from '../sms/prng.ts';
import { bindPdu, submitSm } from './raw-peer.ts';

/** Uniform in [0, 1) from the shared seeded PRNG: the same corpus on every run. */
export function prng(seed: number): () => number {
  const rng = new Prng(seed);
  return () => rng.next() / 0x1_0000_0000;
}

export function validPdus(): Pdu[] {
  return [
    bindPdu('bind_transceiver'),
    submitSm({ registeredDelivery: 1, tlvs: { userMessageReference: 7 } } as Partial<Pdu>),
    submitSm({ esmClass: 0x40, shortMessage: Buffer.from([5, 0, 3, 9, 2, 1, 0x41, 0x42]) }),
    { command: 'enquire_link', commandStatus: 0, sequenceNumber: 3 },
    {
      command: 'query_sm',
      commandStatus: 0,
      sequenceNumber: 4,
      messageId: 'abc',
      sourceAddrTon: 0,
      sourceAddrNpi: 0,
      sourceAddr: '',
    },
  ] as Pdu[];
}

/** A valid PDU with one of: flipped octets, a truncated or lengthened body, a lying command_length. */
export function mutate(random: () => number, base: Buffer): Buffer {
  const buf = Buffer.from(base);
  switch (Math.floor(random() * 5)) {
    case 0: {
      const flips = 1 + Math.floor(random() * 4);
      for (let i = 0; i < flips; i++)
        buf[16 + Math.floor(random() * (buf.length - 16))] = Math.floor(random() * 256);
      return buf;
    }
    case 1: {
      const cut = buf.subarray(0, 16 + Math.floor(random() * (buf.length - 16)));
      cut.writeUInt32BE(cut.length, 0);
      return cut;
    }
    case 2: {
      const extra = Buffer.alloc(1 + Math.floor(random() * 40), Math.floor(random() * 256));
      const longer = Buffer.concat([buf, extra]);
      longer.writeUInt32BE(longer.length, 0);
      return longer;
    }
    case 3:
      buf.writeUInt32BE((0x8000_0000 | Math.floor(random() * 0x30)) >>> 0, 4);
      return buf;
    default:
      // Body octets with no terminating NUL anywhere: every C-octet string overruns.
      buf.fill(0x41, 16);
      return buf;
  }
}
