// The framer against a byte stream cut every way TCP may cut it, against garbage, and
// against a seeded fuzz of random and mutated PDUs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SmppDecodeError } from '../../src/smpp/codec.ts';
import { encodePdu, SmppEncodeError } from '../../src/smpp/codec.ts';
import { CommandStatus } from '../../src/smpp/constants.ts';
import { defaultMaxPduLength, PduFramer } from '../../src/smpp/framer.ts';
import type { Pdu, PduOf } from '../../src/smpp/pdu.ts';

const S = CommandStatus;

/** A small seeded PRNG (mulberry32), so a failing fuzz run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const submit: PduOf<'submit_sm'> = {
  command: 'submit_sm',
  commandStatus: 0,
  sequenceNumber: 1,
  serviceType: '',
  sourceAddrTon: 5,
  sourceAddrNpi: 0,
  sourceAddr: 'MyBank',
  destAddrTon: 1,
  destAddrNpi: 1,
  destinationAddr: '447700900001',
  esmClass: 0,
  protocolId: 0,
  priorityFlag: 0,
  scheduleDeliveryTime: '',
  validityPeriod: '',
  registeredDelivery: 1,
  replaceIfPresentFlag: 0,
  dataCoding: 0,
  smDefaultMsgId: 0,
  shortMessage: Buffer.from('Your code is 482913'),
  tlvs: { userMessageReference: 42, sourcePort: 9200 },
};

const stream: Pdu[] = [
  {
    command: 'bind_transceiver',
    commandStatus: 0,
    sequenceNumber: 1,
    systemId: 'esme',
    password: 'pw',
    systemType: '',
    interfaceVersion: 0x34,
    addrTon: 0,
    addrNpi: 0,
    addressRange: '',
  },
  {
    command: 'bind_transceiver_resp',
    commandStatus: 0,
    sequenceNumber: 1,
    systemId: 'SMSC',
    tlvs: { scInterfaceVersion: 0x34 },
  },
  { ...submit, sequenceNumber: 2 },
  { command: 'submit_sm_resp', commandStatus: 0, sequenceNumber: 2, messageId: '1a2b' },
  { command: 'submit_sm_resp', commandStatus: S.ESME_RTHROTTLED, sequenceNumber: 3, messageId: '' },
  { command: 'enquire_link', commandStatus: 0, sequenceNumber: 4 },
  {
    ...submit,
    command: 'deliver_sm',
    sequenceNumber: 5,
    esmClass: 4,
    tlvs: { receiptedMessageId: '1a2b', messageState: 2, vendor: [{ tag: 0x1400, value: Buffer.from('x') }] },
  },
  {
    command: 'data_sm',
    commandStatus: 0,
    sequenceNumber: 6,
    serviceType: '',
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '447700900001',
    destAddrTon: 0,
    destAddrNpi: 0,
    destinationAddr: '1234',
    esmClass: 0,
    registeredDelivery: 0,
    dataCoding: 4,
    tlvs: { messagePayload: Buffer.alloc(700, 0x5a) },
  },
  { command: 'generic_nack', commandStatus: S.ESME_RINVCMDID, sequenceNumber: 7 },
  { command: 'unbind', commandStatus: 0, sequenceNumber: 8 },
];
const streamBytes = Buffer.concat(stream.map((p) => encodePdu(p)));

interface Collected {
  pdus: Pdu[];
  invalid: SmppDecodeError[];
  fatal: Error[];
}

function collector(maxPduLength?: number): { framer: PduFramer; got: Collected } {
  const got: Collected = { pdus: [], invalid: [], fatal: [] };
  const framer = new PduFramer(
    {
      pdu: (pdu) => got.pdus.push(pdu),
      invalid: (err) => got.invalid.push(err),
      fatal: (err) => got.fatal.push(err),
    },
    maxPduLength === undefined ? undefined : { maxPduLength },
  );
  return { framer, got };
}

function pushAll(framer: PduFramer, bytes: Buffer, cuts: number[]): void {
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    // each chunk is a fresh Buffer, as a socket hands them out
    framer.push(Buffer.from(bytes.subarray(from, cut)));
    from = cut;
  }
}

describe('framer: cutting', () => {
  test('a stream split at every byte offset gives the same PDUs', () => {
    for (let cut = 0; cut <= streamBytes.length; cut++) {
      const { framer, got } = collector();
      pushAll(framer, streamBytes, [cut]);
      assert.deepEqual(got.pdus, stream, `split at ${cut}`);
      assert.equal(framer.buffered, 0);
    }
  });

  test('a stream fed one byte at a time gives the same PDUs', () => {
    const { framer, got } = collector();
    for (let i = 0; i < streamBytes.length; i++) {
      framer.push(streamBytes.subarray(i, i + 1));
      assert.ok(framer.buffered < 1000);
    }
    assert.deepEqual(got.pdus, stream);
  });

  test('random chunkings give the same PDUs', () => {
    const random = prng(1);
    for (let run = 0; run < 500; run++) {
      const cuts: number[] = [];
      for (let at = 0; at < streamBytes.length; at += 1 + Math.floor(random() * 200)) cuts.push(at);
      const { framer, got } = collector();
      pushAll(framer, streamBytes, cuts);
      assert.deepEqual(got.pdus, stream, `run ${run}`);
    }
  });

  test('many PDUs in one chunk are decoded in place, without copies', () => {
    const many = Buffer.concat(
      Array.from({ length: 1000 }, (_, i) => encodePdu({ ...submit, sequenceNumber: i + 1 })),
    );
    const { framer, got } = collector();
    framer.push(many);
    assert.equal(got.pdus.length, 1000);
    got.pdus.forEach((pdu, i) => {
      assert.equal(pdu.sequenceNumber, i + 1);
      assert.equal((pdu as PduOf<'submit_sm'>).shortMessage.buffer, many.buffer);
    });
  });

  test('a straddling PDU is held in one buffer of its size, and decoded from there', () => {
    const bytes = encodePdu(stream[7]!);
    const { framer, got } = collector();
    framer.push(bytes.subarray(0, 2));
    assert.equal(framer.buffered, 2);
    framer.push(bytes.subarray(2, 300));
    assert.equal(framer.buffered, 300);
    framer.push(bytes.subarray(300));
    assert.equal(framer.buffered, 0);
    assert.deepEqual(got.pdus, [stream[7]]);
  });
});

describe('framer: garbage', () => {
  test('command_length below 16 is fatal, and the framer ignores what follows', () => {
    const { framer, got } = collector();
    framer.push(
      Buffer.concat([encodePdu(stream[5]!), Buffer.from('0000000f00000015000000000000000100', 'hex')]),
    );
    assert.equal(got.pdus.length, 1);
    assert.equal(got.fatal.length, 1);
    assert.equal((got.fatal[0] as SmppDecodeError).status, S.ESME_RINVCMDLEN);
    framer.push(streamBytes);
    assert.equal(got.pdus.length, 1);
    assert.equal(got.fatal.length, 1);
    assert.equal(framer.buffered, 0);
  });

  test('command_length above maxPduLength is fatal as soon as the length is read', () => {
    const { framer, got } = collector(1000);
    const tooLong = Buffer.alloc(4);
    tooLong.writeUInt32BE(1001);
    framer.push(tooLong.subarray(0, 3));
    assert.equal(got.fatal.length, 0);
    framer.push(tooLong.subarray(3));
    assert.equal(got.fatal.length, 1);
    assert.equal(framer.buffered, 0);
    assert.match(got.fatal[0]!.message, /1001/);
  });

  test('a PDU of exactly maxPduLength passes; the default allows a 64K message_payload', () => {
    const big = encodePdu({
      ...(stream[7] as PduOf<'data_sm'>),
      tlvs: { messagePayload: Buffer.alloc(65535) },
    });
    assert.ok(big.length <= defaultMaxPduLength);
    const { framer, got } = collector(big.length);
    framer.push(big);
    assert.equal(got.pdus.length, 1);
    assert.equal(got.fatal.length, 0);
  });

  test('an unknown command is invalid (ESME_RINVCMDID) and the stream goes on', () => {
    const { framer, got } = collector();
    framer.push(
      Buffer.concat([
        Buffer.from('000000140000009900000000000000070102030400', 'hex').subarray(0, 20),
        streamBytes,
      ]),
    );
    assert.equal(got.invalid.length, 1);
    assert.equal(got.invalid[0]!.status, S.ESME_RINVCMDID);
    assert.equal(got.invalid[0]!.commandId, 0x99);
    assert.equal(got.invalid[0]!.sequenceNumber, 7);
    assert.deepEqual(got.pdus, stream);
  });

  test('a truncated body is invalid (ESME_RINVCMDLEN) and the stream goes on', () => {
    const bind = encodePdu(stream[0]!);
    const cut = Buffer.from(bind.subarray(0, 20));
    cut.writeUInt32BE(20, 0);
    const { framer, got } = collector();
    framer.push(Buffer.concat([cut, streamBytes]));
    assert.equal(got.invalid.length, 1);
    assert.equal(got.invalid[0]!.status, S.ESME_RINVCMDLEN);
    assert.equal(got.invalid[0]!.sequenceNumber, 1);
    assert.deepEqual(got.pdus, stream);
  });

  test('what is buffered never exceeds maxPduLength, whatever the chunking', () => {
    const max = 2000;
    const { framer, got } = collector(max);
    const pdu = encodePdu({
      ...(stream[7] as PduOf<'data_sm'>),
      tlvs: { messagePayload: Buffer.alloc(max - 100) },
    });
    for (let i = 0; i < pdu.length; i += 7) {
      framer.push(pdu.subarray(i, i + 7));
      assert.ok(framer.buffered <= max);
    }
    assert.equal(got.pdus.length, 1);
  });
});

/** A random PDU: one of the stream's, with fields and lengths shaken up. */
function randomPdu(random: () => number): Pdu {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const text = (max: number) => 'x'.repeat(Math.floor(random() * max));
  const base = pick(stream);
  const sequenceNumber = Math.floor(random() * 0x7fffffff);
  switch (base.command) {
    case 'submit_sm':
    case 'deliver_sm':
      return {
        ...base,
        sequenceNumber,
        sourceAddr: text(21),
        destinationAddr: text(21),
        esmClass: Math.floor(random() * 256),
        shortMessage: Buffer.alloc(Math.floor(random() * 255), Math.floor(random() * 256)),
        tlvs:
          random() < 0.5
            ? undefined
            : {
                sarMsgRefNum: Math.floor(random() * 65536),
                messagePayload: Buffer.alloc(Math.floor(random() * 400)),
              },
      };
    case 'data_sm':
      return { ...base, sequenceNumber, tlvs: { messagePayload: Buffer.alloc(Math.floor(random() * 3000)) } };
    case 'submit_sm_resp':
      return { ...base, sequenceNumber, messageId: text(65) };
    default:
      return { ...base, sequenceNumber };
  }
}

/** Breaks a PDU's bytes the ways a broken peer does. */
function mutate(bytes: Buffer, random: () => number): Buffer {
  const out = Buffer.from(bytes);
  switch (Math.floor(random() * 6)) {
    case 0: // flip body bytes
      for (let i = 0; i < 1 + random() * 4; i++)
        if (out.length > 16) out[16 + Math.floor(random() * (out.length - 16))] = Math.floor(random() * 256);
      return out;
    case 1: // flip any byte, the header included
      out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
      return out;
    case 2: {
      // cut the body short, with a command_length that says so
      const cut = out.subarray(0, 16 + Math.floor(random() * (out.length - 16)));
      cut.writeUInt32BE(cut.length, 0);
      return cut;
    }
    case 3: {
      // trailing junk inside the PDU
      const grown = Buffer.concat([
        out,
        Buffer.from(Array.from({ length: 1 + Math.floor(random() * 9) }, () => Math.floor(random() * 256))),
      ]);
      grown.writeUInt32BE(grown.length, 0);
      return grown;
    }
    case 4: // a random command_id
      out.writeUInt32BE(Math.floor(random() * 2 ** 32), 4);
      return out;
    default: // plain noise
      return Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
  }
}

describe('framer: fuzz', () => {
  test('20,000 random and mutated PDUs: no throw escapes, the buffer stays bounded', () => {
    const random = prng(20240315);
    const max = 4096;
    const seen = { pdus: 0, invalid: 0, fatal: 0 };
    for (let total = 0; total < 20_000; ) {
      const parts: Buffer[] = [];
      for (let i = 0; i < 100; i++, total++) {
        const bytes = encodePdu(randomPdu(random));
        parts.push(random() < 0.2 ? mutate(bytes, random) : bytes);
      }
      const bytes = Buffer.concat(parts);
      const boundaries = parts.map((_, i) => parts.slice(0, i).reduce((n, p) => n + p.length, 0));
      let { framer, got } = collector(max);
      let from = 0;
      while (from < bytes.length) {
        const to = Math.min(bytes.length, from + 1 + Math.floor(random() * 600));
        framer.push(bytes.subarray(from, to));
        assert.ok(framer.buffered <= max, `buffered ${framer.buffered}`);
        from = to;
        if (got.fatal.length === 0) continue;
        // The stream is lost: nothing more comes out of this framer …
        const after = got.pdus.length + got.invalid.length;
        framer.push(bytes.subarray(from));
        assert.equal(got.pdus.length + got.invalid.length, after);
        assert.equal(framer.buffered, 0);
        // … and, as after a reconnect, a new one starts at the next PDU.
        seen.pdus += got.pdus.length;
        seen.invalid += got.invalid.length;
        seen.fatal += 1;
        from = boundaries.find((b) => b >= from) ?? bytes.length;
        ({ framer, got } = collector(max));
      }
      seen.pdus += got.pdus.length;
      seen.invalid += got.invalid.length;
      for (const err of got.invalid) assert.ok(err.status > 0);
      // whatever was decoded can be written again, or is refused with SmppEncodeError
      for (const pdu of got.pdus) {
        try {
          encodePdu(pdu);
        } catch (err) {
          assert.ok(err instanceof SmppEncodeError, String(err));
        }
      }
    }
    // the fuzz exercised every outcome
    assert.ok(seen.pdus > 15_000 && seen.invalid > 500 && seen.fatal > 100, JSON.stringify(seen));
  });

  test('pure noise never throws', () => {
    const random = prng(7);
    for (let run = 0; run < 2000; run++) {
      const { framer } = collector(1024);
      const noise = Buffer.from(
        Array.from({ length: Math.floor(random() * 2000) }, () => Math.floor(random() * 256)),
      );
      for (let i = 0, step = 1; i < noise.length; i += step, step = 1 + Math.floor(random() * 100)) {
        framer.push(noise.subarray(i, i + step));
        assert.ok(framer.buffered <= 1024);
      }
    }
  });
});
