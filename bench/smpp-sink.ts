// An SMSC that answers every bind and submit_sm at once, in its own process so the load
// generator and the sink each have a core. `node bench/smpp-sink.ts smsgw|node-smpp`
// prints {"port": N} once listening.
//
// `smsgw --receipts` also sends a delivery receipt (deliver_sm) at once for every submit
// that asks for one. Started with an IPC channel (bench/systems.ts), the sink answers
// 'stats' with what it counted: submit_sm PDUs, messages (first parts), receipts, and the
// latency of every message whose text starts with `T<µs>` — the sender's
// process.hrtime in microseconds, one clock for all processes of the machine.
import smpp from 'smpp';
import { EsmClass, formatReceipt, MessageState, SmppServer, shortMessagePdu } from '../src/smpp/index.ts';

const impl = process.argv[2] ?? 'smsgw';
const receipts = process.argv.includes('--receipts');
// Ids with a letter outside hex by default: smsgw reads an all-hex id that it cannot match
// at once also as decimal (and back), and then gives a receipt that overtook its submit's
// record to another message (see docs/PERFORMANCE.md). `--hex-ids` shows that.
const idPrefix = process.argv.includes('--hex-ids') ? '' : 's';

export interface SinkStats {
  submits: number;
  messages: number;
  receipts: number;
  /** Microseconds from the sender's timestamp to the submit_sm here (with `latencies`). */
  latenciesUs?: number[];
}

if (impl === 'smsgw') {
  const server = new SmppServer({ authenticate: () => ({ status: 0 }), window: 1024, enquireLinkMs: 0 });
  const stats: SinkStats = { submits: 0, messages: 0, receipts: 0 };
  let latenciesUs: number[] = [];
  let n = 0;
  server.on('request', (pdu, bound) => {
    const messageId = `${idPrefix}${(++n).toString(16)}`;
    bound.session.respond(pdu, 0, { messageId });
    if (pdu.command !== 'submit_sm') return;
    stats.submits++;
    const body = pdu.shortMessage;
    // A concatenated message: the UDH comes first; only its first part counts as a message.
    let at = 0;
    if (pdu.esmClass & EsmClass.UDHI) {
      at = body[0]! + 1;
      if (!isFirstPart(body)) return;
    }
    stats.messages++;
    if (body[at] === 0x54 /* T */) {
      const space = body.indexOf(0x20, at);
      const sentUs = Number(body.toString('latin1', at + 1, space < 0 ? body.length : space));
      if (sentUs > 0) latenciesUs.push(nowUs() - sentUs);
    }
    if (receipts && pdu.registeredDelivery & 1) {
      const now = new Date();
      const receipt = shortMessagePdu('deliver_sm', {
        sourceAddrTon: pdu.destAddrTon,
        sourceAddrNpi: pdu.destAddrNpi,
        sourceAddr: pdu.destinationAddr,
        destAddrTon: pdu.sourceAddrTon,
        destAddrNpi: pdu.sourceAddrNpi,
        destinationAddr: pdu.sourceAddr,
        esmClass: EsmClass.DELIVERY_RECEIPT,
        shortMessage: Buffer.from(
          formatReceipt({ id: messageId, submitDate: now, doneDate: now, stat: 'DELIVRD' }),
          'latin1',
        ),
      });
      receipt.tlvs = { receiptedMessageId: messageId, messageState: MessageState.DELIVERED };
      stats.receipts++;
      bound.session.request(receipt).catch(() => {});
    }
  });
  process.on('message', (ask: { latencies?: boolean }) => {
    process.send!({ ...stats, ...(ask.latencies ? { latenciesUs } : {}) } satisfies SinkStats);
    if (ask.latencies) latenciesUs = [];
  });
  const { port } = await server.listen(0);
  process.stdout.write(`${JSON.stringify({ port })}\n`);
} else if (impl === 'node-smpp') {
  let n = 0;
  const server = smpp.createServer((session: NodeSmppSession) => {
    session.on('bind_transceiver', (pdu) => session.send(pdu.response()));
    session.on('submit_sm', (pdu) => session.send(pdu.response({ message_id: (++n).toString(16) })));
    session.on('enquire_link', (pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
} else {
  process.stderr.write(`unknown sink ${impl}\n`);
  process.exit(2);
}

function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The concatenation IE (8-bit or 16-bit reference) says part 1. */
function isFirstPart(body: Buffer): boolean {
  const end = body[0]! + 1;
  for (let i = 1; i + 1 < end; i += 2 + body[i + 1]!) {
    if (body[i] === 0x00) return body[i + 4] === 1;
    if (body[i] === 0x08) return body[i + 5] === 1;
  }
  return true;
}

interface NodeSmppPdu {
  response(fields?: Record<string, unknown>): unknown;
}
interface NodeSmppSession {
  on(event: string, handler: (pdu: NodeSmppPdu) => void): void;
  send(pdu: unknown): void;
  close(): void;
}
