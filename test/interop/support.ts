// What the interop tests share: our SmppClient and a small SMSC on our SmppServer, set up
// for one test and torn down after it, and the messages exchanged with the peers, with the
// exact octets each must be on the wire (written out here, not made by our own encoder, so
// a peer decoding them is an independent check).
import type { TestContext } from 'node:test';
import type { BoundSession, Pdu, PduOf, SmppClientOptions, SmppServerOptions } from '../../src/smpp/index.ts';
import {
  buildReceiptTlvs,
  CommandStatus,
  EsmClass,
  formatReceipt,
  MessageState,
  SmppClient,
  SmppServer,
} from '../../src/smpp/index.ts';
import { submitSm } from '../smpp/raw-peer.ts';

export { submitSm };

/** GSM 03.38 in unpacked septets: @ is 0x00, £ 0x01, { and } go through the escape 0x1B. */
export const gsmMessage = {
  text: 'Hi @home £5 {x}',
  octets: Buffer.from('48692000686f6d65200135201b28781b29', 'hex'),
};

/** UCS-2 (UTF-16BE); the emoji is a surrogate pair. */
export const ucs2Message = {
  text: 'Привет 👋',
  octets: Buffer.from('041f044004380432043504420020d83ddc4b', 'hex'),
};

/**
 * 200 characters that are the same octets in GSM 03.38 and ASCII, sent as two parts of
 * 153 and 47 with the 8-bit-reference concatenation UDH (05 00 03 ref total seq).
 */
export const longMessage = {
  text: 'Part of a long message that needs two SMS. '.repeat(5).slice(0, 200),
  parts(reference: number): Array<{ udh: Buffer; text: string; shortMessage: Buffer }> {
    const chunks = [this.text.slice(0, 153), this.text.slice(153)];
    return chunks.map((text, i) => {
      const udh = Buffer.from([0x05, 0x00, 0x03, reference, chunks.length, i + 1]);
      return { udh, text, shortMessage: Buffer.concat([udh, Buffer.from(text, 'ascii')]) };
    });
  },
};

export function messageIdOf(pdu: Pdu): string {
  if (!('messageId' in pdu)) throw new Error(`${pdu.command} has no message_id`);
  return pdu.messageId;
}

export async function waitFor<T>(find: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A deliver_sm as an SMSC sends it; fields override. */
export function deliverSm(fields: Partial<PduOf<'deliver_sm'>>): PduOf<'deliver_sm'> {
  return submitSm({ ...fields, command: 'deliver_sm' }) as PduOf<'deliver_sm'>;
}

/**
 * Our SmppClient, not yet started, with no reconnect. Inbound requests are answered with
 * ESME_ROK and kept in `inbound`; the client is stopped when the test ends.
 */
export function ourClient(t: TestContext, options: Partial<SmppClientOptions> & { port: number }) {
  const client = new SmppClient({
    host: '127.0.0.1',
    systemId: 'esme',
    password: 'secret',
    reconnect: false,
    ...options,
  });
  const inbound: Pdu[] = [];
  client.on('request', (pdu, session) => {
    inbound.push(pdu);
    session.respond(pdu);
  });
  t.after(() => client.stop());
  return { client, inbound };
}

/** Our client, started and bound. */
export async function boundClient(t: TestContext, options: Partial<SmppClientOptions> & { port: number }) {
  const made = ourClient(t, options);
  made.client.start();
  const session = await made.client.waitBound();
  return { ...made, session };
}

interface StoredMessage {
  id: string;
  submit: PduOf<'submit_sm'>;
  submittedAt: Date;
  doneAt: Date | null;
}

/**
 * A small SMSC on our SmppServer: binds esme/secret (ESME_RINVPASWD for a wrong password,
 * ESME_RINVSYSID for anyone else), answers submit_sm with ids "a1", "a2" … and, when
 * registered_delivery asks, sends a DELIVRD receipt at once; answers query_sm. Every request
 * it is handed is kept in `requests`.
 */
export async function ourSmsc(
  t: TestContext,
  options: Partial<SmppServerOptions> & { secure?: boolean } = {},
) {
  const server = new SmppServer({
    systemId: 'smsgw',
    authenticate: (req) => {
      if (req.systemId !== 'esme') return { status: CommandStatus.ESME_RINVSYSID };
      return req.password === 'secret' ? { status: 0 } : { status: CommandStatus.ESME_RINVPASWD };
    },
    ...options,
  });
  const requests: Array<{ pdu: Pdu; bound: BoundSession }> = [];
  const receiptResponses: Pdu[] = [];
  const messages = new Map<string, StoredMessage>();
  let next = 0xa1;
  server.on('request', (pdu, bound) => {
    requests.push({ pdu, bound });
    const session = bound.session;
    if (pdu.command === 'submit_sm') {
      const id = (next++).toString(16);
      const message: StoredMessage = { id, submit: pdu, submittedAt: new Date(), doneAt: null };
      messages.set(id, message);
      session.respond(pdu, 0, { messageId: id });
      if ((pdu.registeredDelivery & 0x03) === 1) {
        message.doneAt = new Date();
        const receipt = deliverSm({
          sourceAddr: pdu.destinationAddr,
          destinationAddr: pdu.sourceAddr,
          esmClass: EsmClass.DELIVERY_RECEIPT,
          shortMessage: Buffer.from(
            formatReceipt({ id, submitDate: message.submittedAt, doneDate: message.doneAt, stat: 'DELIVRD' }),
            'latin1',
          ),
          tlvs: buildReceiptTlvs({ messageId: id, messageState: MessageState.DELIVERED }),
        });
        // An ESME that leaves before answering is not this SMSC's problem; tests that care
        // look at receiptResponses.
        session.request(receipt).then(
          (resp) => receiptResponses.push(resp),
          () => {},
        );
      }
    } else if (pdu.command === 'query_sm') {
      const message = messages.get(pdu.messageId);
      if (!message) session.respond(pdu, CommandStatus.ESME_RQUERYFAIL, { messageId: pdu.messageId });
      else
        session.respond(pdu, 0, {
          messageId: message.id,
          messageState: message.doneAt ? MessageState.DELIVERED : MessageState.ENROUTE,
        });
    } else {
      session.respond(pdu, CommandStatus.ESME_RINVCMDID);
    }
  });
  const refused: number[] = [];
  server.on('bindRefused', (_req, status) => refused.push(status));
  const { port } = await server.listen(0, '127.0.0.1', options.secure ?? false);
  t.after(() => server.close());
  return { server, port, requests, receiptResponses, refused, messages };
}

/** The ESME's submit_sm addresses, in the snake_case both peers' APIs take. */
export const addresses = {
  source_addr_ton: 1,
  source_addr_npi: 1,
  source_addr: '447700900000',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '447700900001',
};

/** The submit_sm PDUs among what our SMSC received. */
export function submitsOf(requests: Array<{ pdu: { command: string } }>): PduOf<'submit_sm'>[] {
  return requests.filter((r) => r.pdu.command === 'submit_sm').map((r) => r.pdu as PduOf<'submit_sm'>);
}
