// Codec throughput: PDUs per second to encode, decode, and both, for a typical submit_sm
// (about 100 octets of text and two TLVs) and its submit_sm_resp, for our codec and for
// the npm `smpp` package (node-smpp) side by side. One core, no I/O.
import { createRequire } from 'node:module';
import { decodePdu, encodePdu } from '../src/smpp/codec.ts';
import type { Pdu } from '../src/smpp/pdu.ts';
import { formatRate, opsPerSecond, printTable } from './report.ts';

interface NodeSmppPdu {
  toBuffer(): Buffer;
  [field: string]: unknown;
}
const nodeSmpp = createRequire(import.meta.url)('smpp') as {
  PDU: new (commandOrBuffer: string | Buffer, options?: Record<string, unknown>) => NodeSmppPdu;
};

const text = Buffer.from(
  'Your verification code is 482913. It expires in 10 minutes. Never share it, not even with us. -Bank',
);

const ours: Record<string, Pdu> = {
  submit_sm: {
    command: 'submit_sm',
    commandStatus: 0,
    sequenceNumber: 123456,
    serviceType: '',
    sourceAddrTon: 5,
    sourceAddrNpi: 0,
    sourceAddr: 'MyBank',
    destAddrTon: 1,
    destAddrNpi: 1,
    destinationAddr: '447700900123',
    esmClass: 0,
    protocolId: 0,
    priorityFlag: 0,
    scheduleDeliveryTime: '',
    validityPeriod: '',
    registeredDelivery: 1,
    replaceIfPresentFlag: 0,
    dataCoding: 0,
    smDefaultMsgId: 0,
    shortMessage: text,
    tlvs: { userMessageReference: 4242, sourcePort: 9200 },
  },
  submit_sm_resp: {
    command: 'submit_sm_resp',
    commandStatus: 0,
    sequenceNumber: 123456,
    messageId: '5f3a9c2e11',
  },
};

// node-smpp's PDU objects are mutated by toBuffer(), so each encode builds a fresh one.
const theirs: Record<string, () => NodeSmppPdu> = {
  submit_sm: () =>
    new nodeSmpp.PDU('submit_sm', {
      sequence_number: 123456,
      source_addr_ton: 5,
      source_addr_npi: 0,
      source_addr: 'MyBank',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      registered_delivery: 1,
      data_coding: 0,
      short_message: text,
      user_message_reference: 4242,
      source_port: 9200,
    }),
  submit_sm_resp: () =>
    new nodeSmpp.PDU('submit_sm_resp', { sequence_number: 123456, message_id: '5f3a9c2e11' }),
};

export async function benchCodec(): Promise<void> {
  const ms = 250;
  const rows: string[][] = [];
  let sink = 0;
  for (const name of Object.keys(ours)) {
    const pdu = ours[name]!;
    const make = theirs[name]!;
    const ourBytes = encodePdu(pdu);
    const theirBytes = make().toBuffer();
    // Same PDU on the wire, so the race is fair.
    if (!ourBytes.equals(theirBytes)) throw new Error(`${name}: the two codecs write different bytes`);
    const measured = [
      ['encode', () => (sink += encodePdu(pdu).length), () => (sink += make().toBuffer().length)],
      [
        'decode',
        () => (sink += decodePdu(ourBytes).sequenceNumber),
        () => (sink += new nodeSmpp.PDU(theirBytes).sequence_number as number),
      ],
      [
        'encode+decode',
        () => (sink += decodePdu(encodePdu(pdu)).sequenceNumber),
        () => (sink += new nodeSmpp.PDU(make().toBuffer()).sequence_number as number),
      ],
    ] as const;
    for (const [what, ourFn, theirFn] of measured) {
      const a = opsPerSecond(ourFn, ms);
      const b = opsPerSecond(theirFn, ms);
      rows.push([
        `${name} (${ourBytes.length} B)`,
        what,
        formatRate(a),
        formatRate(b),
        `${(a / b).toFixed(1)}×`,
      ]);
    }
  }
  printTable('SMPP codec, PDUs/s on one core', ['PDU', 'operation', 'smsgw', 'npm smpp 0.5', 'ratio'], rows);
  // Uses the results, so no measured call can be optimised away.
  if (sink === 0) process.stdout.write('\n');
}

if (import.meta.main) await benchCodec();
