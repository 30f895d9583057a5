// An SMSC for the store-fault tests: it counts every submit_sm by its text (so a message sent
// twice shows), answers at once or, while held, only when released, and sends a delivery
// receipt right behind each answer (as SMSCs often do, in the same packet).
import type { AddressInfo } from 'node:net';
import type { PduOf, SmppSession } from '../../src/smpp/index.ts';
import {
  CommandStatus,
  EsmClass,
  formatReceipt,
  MessageState,
  SmppServer,
  shortMessagePdu,
} from '../../src/smpp/index.ts';

export class HoldingSmsc {
  readonly #server = new SmppServer({ systemId: 'holding', authenticate: () => ({ status: 0 }) });
  /** submit_sm received, by text. */
  readonly submits = new Map<string, number>();
  /** Answers waiting for release, in arrival order; null while answering at once. */
  #held: Array<() => void> | null = null;
  #nextId = 1;

  constructor() {
    this.#server.on('request', (pdu, bound) => {
      if (pdu.command !== 'submit_sm') {
        bound.session.respond(pdu, CommandStatus.ESME_RINVCMDID);
        return;
      }
      const text = Buffer.from(pdu.shortMessage).toString('latin1');
      this.submits.set(text, (this.submits.get(text) ?? 0) + 1);
      const answer = () => this.#answer(pdu, bound.session, text);
      if (this.#held) this.#held.push(answer);
      else answer();
    });
  }

  listen(): Promise<AddressInfo> {
    return this.#server.listen(0, '127.0.0.1');
  }

  close(): Promise<void> {
    return this.#server.close();
  }

  /** Submits received and not answered yet. */
  get held(): number {
    return this.#held?.length ?? 0;
  }

  /** Holds the answers of the submits that come from now on. */
  hold(): void {
    this.#held ??= [];
  }

  /** Answers every held submit, in order, and answers at once again. */
  release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const answer of held) answer();
  }

  #answer(pdu: PduOf<'submit_sm'>, session: SmppSession, text: string): void {
    const id = (this.#nextId++).toString(16);
    session.respond(pdu, 0, { messageId: id });
    const now = new Date();
    const receipt = shortMessagePdu('deliver_sm', {
      sourceAddr: pdu.destinationAddr,
      destinationAddr: pdu.sourceAddr,
      esmClass: EsmClass.DELIVERY_RECEIPT,
      shortMessage: Buffer.from(
        formatReceipt({ id, submitDate: now, doneDate: now, stat: 'DELIVRD', text }),
        'latin1',
      ),
      tlvs: { receiptedMessageId: id, messageState: MessageState.DELIVERED },
    });
    session.request(receipt).catch(() => {});
  }
}
