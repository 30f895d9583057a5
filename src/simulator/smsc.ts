// A standalone SMSC that plays a carrier: accepts binds of all three kinds, answers every
// ESME request, returns delivery receipts when asked, injects inbound (MO) messages, and
// misbehaves on request (throttling, dropped links, slow or failed answers) so users can
// test their ESMEs, and our own tests and benchmarks have a carrier to talk to.
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { TlsOptions } from 'node:tls';
import type { BoundSession, Pdu, PduOf, SmppSession } from '../smpp/index.ts';
import {
  CommandStatus,
  EsmClass,
  formatReceipt,
  formatSmppTime,
  MessageState,
  NetworkErrorType,
  networkErrorCode,
  SmppServer,
  shortMessagePdu,
} from '../smpp/index.ts';
import { decodeText, encodingFromDataCoding, splitMessage } from '../sms/index.ts';
import { anotherTry, redeliveryDelayMs } from './redelivery.ts';

export interface SimulatorOutcome {
  /** Destination pattern: exact number, or a prefix ending in `*` (a leading `+` is ignored). */
  to: string;
  /** Receipt stat word: DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN. */
  stat: string;
  /** Receipt err field (network error code), e.g. "001". */
  err?: string;
}

export interface SmscSimulatorOptions {
  /** Accepted credentials; with none given, any system_id and password bind. */
  accounts?: Array<{ systemId: string; password: string }>;
  /** system_id the simulator answers binds with. */
  systemId?: string;
  /** Time from submit to the delivery receipt. */
  deliveryDelayMs?: number;
  /** First match wins; everything else is delivered. */
  outcomes?: SimulatorOutcome[];
  /** Submits per second across all binds above which ESME_RTHROTTLED is answered (0 = none). */
  throttleTps?: number;
  /** Close a connection after every N PDUs received on it (0 = never). */
  dropEveryPdus?: number;
  /** Delay every response to a submit by this much. */
  responseDelayMs?: number;
  /** Share (0..1) of submits answered with `failStatus`. */
  failRate?: number;
  failStatus?: number;
  /** How message ids are printed: in submit_sm_resp, and (independently) in receipts. */
  messageIdFormat?: 'hex' | 'decimal';
  receiptIdFormat?: 'hex' | 'decimal';
  /**
   * Receipts carry the receipted_message_id and message_state TLVs (default), or only
   * their text, as many older SMSCs send them.
   */
  receiptTlvs?: boolean;
  /** Seed for the pseudo-random choices (failRate), so runs repeat. */
  seed?: number;
  /** Messages remembered for query_sm / cancel_sm / replace_sm (oldest forgotten first). */
  maxMessages?: number;
  /** Receipts and MO held while the ESME has no receiver bind (oldest dropped first). */
  maxPendingDeliveries?: number;
  tls?: TlsOptions;
  window?: number;
  enquireLinkMs?: number;
}

export interface SimulatedMessage {
  id: number;
  systemId: string;
  from: string;
  to: string;
  dataCoding: number;
  shortMessage: Buffer;
  esmClass: number;
  registeredDelivery: number;
  submittedAt: Date;
  doneAt: Date | null;
  state: number;
  stat: string;
  err: string;
  tlvs: Pdu['tlvs'];
}

export interface InboundMessage {
  from: string;
  to: string;
  text: string;
  /** Send to this ESME (system_id); by default to any receiver bind. */
  systemId?: string;
  /** How a long text travels: UDH parts (default), SAR TLVs, or one message_payload. */
  longMessages?: 'udh' | 'sar' | 'payload';
}

export interface SimulatorStats {
  binds: number;
  submits: number;
  throttled: number;
  failed: number;
  receiptsSent: number;
  inboundSent: number;
  deliveriesDropped: number;
}

/** Every count at zero. */
export function zeroStats(): SimulatorStats {
  return {
    binds: 0,
    submits: 0,
    throttled: 0,
    failed: 0,
    receiptsSent: 0,
    inboundSent: 0,
    deliveriesDropped: 0,
  };
}

export interface SmscSimulatorEvents {
  submit: [message: SimulatedMessage];
  receipt: [message: SimulatedMessage];
  bound: [bound: BoundSession];
  unbound: [bound: BoundSession];
}

interface PendingDelivery {
  systemId: string;
  pdu: PduOf<'deliver_sm'>;
  /** The session that submitted, tried first for its receipt. */
  preferred: SmppSession | null;
  attempts: number;
}

const statState: Record<string, number> = {
  DELIVRD: MessageState.DELIVERED,
  UNDELIV: MessageState.UNDELIVERABLE,
  EXPIRED: MessageState.EXPIRED,
  REJECTD: MessageState.REJECTED,
  DELETED: MessageState.DELETED,
  UNKNOWN: MessageState.UNKNOWN,
  ACCEPTD: MessageState.ACCEPTED,
};

export class SmscSimulator extends EventEmitter<SmscSimulatorEvents> {
  readonly server: SmppServer;
  readonly stats: SimulatorStats = zeroStats();
  readonly messages = new Map<number, SimulatedMessage>();

  readonly #o: Required<Omit<SmscSimulatorOptions, 'accounts' | 'tls' | 'window' | 'enquireLinkMs'>> &
    SmscSimulatorOptions;
  #nextId = 1;
  #nextReference = 1;
  #random: () => number;
  // Receipts fall due in submit order (the delay is constant), so a FIFO and one timer do.
  readonly #dueReceipts: Array<{ at: number; message: SimulatedMessage; session: SmppSession }> = [];
  #dueHead = 0;
  #receiptTimer: NodeJS.Timeout | null = null;
  readonly #pending: PendingDelivery[] = [];
  #throttleWindowStart = 0;
  #throttleCount = 0;
  readonly #receivedPdus = new WeakMap<SmppSession, number>();
  #roundRobin = 0;

  constructor(options: SmscSimulatorOptions = {}) {
    super();
    this.#o = {
      systemId: 'smsgw-sim',
      deliveryDelayMs: 200,
      outcomes: [],
      throttleTps: 0,
      dropEveryPdus: 0,
      responseDelayMs: 0,
      failRate: 0,
      failStatus: CommandStatus.ESME_RSUBMITFAIL,
      messageIdFormat: 'hex',
      receiptIdFormat: 'hex',
      receiptTlvs: true,
      seed: 1,
      maxMessages: 1_000_000,
      maxPendingDeliveries: 100_000,
      ...options,
    };
    this.#random = mulberry32(this.#o.seed);
    const accounts = options.accounts;
    this.server = new SmppServer({
      systemId: this.#o.systemId,
      window: options.window ?? 64,
      enquireLinkMs: options.enquireLinkMs ?? 30_000,
      ...(options.tls ? { tls: options.tls } : {}),
      authenticate: (req) => {
        if (!accounts || accounts.length === 0) return { status: 0 };
        const account = accounts.find((a) => a.systemId === req.systemId);
        if (!account) return { status: CommandStatus.ESME_RINVSYSID };
        return account.password === req.password ? { status: 0 } : { status: CommandStatus.ESME_RINVPASWD };
      },
    });
    this.server.on('bound', (bound) => {
      this.stats.binds++;
      this.#watchDrops(bound.session);
      this.emit('bound', bound);
      if (bound.bindType !== 'transmitter') this.#flushPending();
    });
    this.server.on('unbound', (bound) => this.emit('unbound', bound));
    this.server.on('request', (pdu, bound) => this.#onRequest(pdu, bound));
  }

  listen(port: number, host = '127.0.0.1', secure = false): Promise<AddressInfo> {
    return this.server.listen(port, host, secure);
  }

  async close(): Promise<void> {
    if (this.#receiptTimer) clearTimeout(this.#receiptTimer);
    this.#receiptTimer = null;
    await this.server.close();
  }

  /** Sends an inbound (MO) message to the ESME, split into parts when long. */
  injectInbound(message: InboundMessage): number {
    const mode = message.longMessages ?? 'udh';
    const split = splitMessage(message.text, {
      encoding: 'auto',
      mode,
      reference: this.#nextReference,
      maxParts: 255,
    });
    this.#nextReference = (this.#nextReference % 255) + 1;
    const systemId = message.systemId ?? '';
    for (const part of split.parts) {
      const pdu = this.#deliverSm(message.from, message.to, split.dataCoding);
      if (part.udh) {
        pdu.esmClass |= EsmClass.UDHI;
        pdu.shortMessage = Buffer.concat([part.udh, part.payload]);
      } else if (mode === 'payload') {
        pdu.tlvs = { messagePayload: part.payload };
      } else {
        pdu.shortMessage = part.payload;
      }
      if (part.sar) {
        pdu.tlvs = {
          sarMsgRefNum: part.sar.reference,
          sarTotalSegments: part.sar.total,
          sarSegmentSeqnum: part.sar.sequence,
        };
      }
      this.#deliver({ systemId, pdu, preferred: null, attempts: 0 });
      this.stats.inboundSent++;
    }
    return split.parts.length;
  }

  #watchDrops(session: SmppSession): void {
    if (this.#o.dropEveryPdus <= 0) return;
    session.on('request', () => {
      const n = (this.#receivedPdus.get(session) ?? 0) + 1;
      this.#receivedPdus.set(session, n);
      // Drop after the request is read but before it is answered: the hard case for an ESME.
      if (n % this.#o.dropEveryPdus === 0) session.abort();
    });
  }

  #onRequest(pdu: Pdu, bound: BoundSession): void {
    const session = bound.session;
    switch (pdu.command) {
      case 'submit_sm':
      case 'data_sm':
      case 'submit_multi':
        this.#onSubmit(pdu, bound);
        return;
      case 'query_sm': {
        const m = this.findMessage(pdu.messageId);
        if (!m) {
          session.respond(pdu, CommandStatus.ESME_RQUERYFAIL);
          return;
        }
        session.respond(pdu, 0, {
          messageId: pdu.messageId,
          finalDate: m.doneAt ? formatSmppTime(m.doneAt) : '',
          messageState: m.state,
          errorCode: Number.parseInt(m.err, 10) || 0,
        });
        return;
      }
      case 'cancel_sm': {
        const m = this.findMessage(pdu.messageId);
        if (!m || m.state !== MessageState.ENROUTE) {
          session.respond(pdu, CommandStatus.ESME_RCANCELFAIL);
          return;
        }
        m.state = MessageState.DELETED;
        m.stat = 'DELETED';
        m.doneAt = new Date();
        session.respond(pdu);
        return;
      }
      case 'replace_sm': {
        const m = this.findMessage(pdu.messageId);
        if (!m || m.state !== MessageState.ENROUTE) {
          session.respond(pdu, CommandStatus.ESME_RREPLACEFAIL);
          return;
        }
        m.shortMessage = Buffer.from(pdu.shortMessage);
        if (pdu.registeredDelivery) m.registeredDelivery = pdu.registeredDelivery;
        session.respond(pdu);
        return;
      }
      case 'broadcast_sm': {
        const id = this.#nextId++;
        session.respond(pdu, 0, { messageId: this.#formatId(id, this.#o.messageIdFormat) });
        return;
      }
      case 'query_broadcast_sm':
        session.respond(pdu, 0, { messageId: pdu.messageId, tlvs: { messageState: MessageState.DELIVERED } });
        return;
      case 'cancel_broadcast_sm':
        session.respond(pdu);
        return;
      default:
        session.respond(pdu, CommandStatus.ESME_RINVCMDID);
    }
  }

  #onSubmit(pdu: PduOf<'submit_sm'> | PduOf<'data_sm'> | PduOf<'submit_multi'>, bound: BoundSession): void {
    const session = bound.session;
    if (!this.#underThrottle()) {
      this.stats.throttled++;
      this.#respondLater(session, pdu, CommandStatus.ESME_RTHROTTLED);
      return;
    }
    if (this.#o.failRate > 0 && this.#random() < this.#o.failRate) {
      this.stats.failed++;
      this.#respondLater(session, pdu, this.#o.failStatus);
      return;
    }
    const destinations =
      pdu.command === 'submit_multi'
        ? pdu.destinations.flatMap((d) => (d.kind === 'sme' ? [d.address] : []))
        : [pdu.destinationAddr];
    let firstId = 0;
    for (const to of destinations) {
      const message = this.#store(pdu, bound.systemId, to);
      if (firstId === 0) firstId = message.id;
      this.stats.submits++;
      this.emit('submit', message);
      // Every message completes after the delay (query_sm sees it); a receipt goes only if asked.
      this.#scheduleReceipt(message, session);
    }
    const messageId = this.#formatId(firstId, this.#o.messageIdFormat);
    this.#respondLater(
      session,
      pdu,
      0,
      pdu.command === 'submit_multi' ? { messageId, unsuccess: [] } : { messageId },
    );
  }

  #store(
    pdu: PduOf<'submit_sm'> | PduOf<'data_sm'> | PduOf<'submit_multi'>,
    systemId: string,
    to: string,
  ): SimulatedMessage {
    const id = this.#nextId++;
    const outcome = outcomeFor(this.#o.outcomes, to);
    const message: SimulatedMessage = {
      id,
      systemId,
      from: pdu.sourceAddr,
      to,
      dataCoding: pdu.dataCoding,
      // Copied: the decoded PDU may be a view of a socket buffer that is reused.
      shortMessage: 'shortMessage' in pdu ? Buffer.from(pdu.shortMessage) : Buffer.alloc(0),
      esmClass: pdu.esmClass,
      registeredDelivery: pdu.registeredDelivery,
      submittedAt: new Date(),
      doneAt: null,
      state: MessageState.ENROUTE,
      stat: outcome.stat,
      err: outcome.err ?? (outcome.stat === 'DELIVRD' ? '000' : '001'),
      tlvs: pdu.tlvs,
    };
    this.messages.set(id, message);
    if (this.messages.size > this.#o.maxMessages) {
      // The oldest tenth at once: dropping one entry per submit from the Map's front would
      // step over every slot deleted before it (V8 keeps them until it rehashes).
      let drop = Math.ceil(this.#o.maxMessages / 10);
      for (const oldest of this.messages.keys()) {
        this.messages.delete(oldest);
        if (--drop === 0) break;
      }
    }
    return message;
  }

  #respondLater(session: SmppSession, pdu: Pdu, status: number, fields: Record<string, unknown> = {}): void {
    if (this.#o.responseDelayMs > 0) {
      setTimeout(() => session.respond(pdu, status, fields), this.#o.responseDelayMs);
    } else {
      session.respond(pdu, status, fields);
    }
  }

  #underThrottle(): boolean {
    if (this.#o.throttleTps <= 0) return true;
    const now = Date.now();
    if (now - this.#throttleWindowStart >= 1_000) {
      this.#throttleWindowStart = now;
      this.#throttleCount = 0;
    }
    return ++this.#throttleCount <= this.#o.throttleTps;
  }

  /** A remembered message by the id the simulator gave it (in its message_id format). */
  findMessage(messageId: string): SimulatedMessage | undefined {
    const id =
      this.#o.messageIdFormat === 'hex' ? Number.parseInt(messageId, 16) : Number.parseInt(messageId, 10);
    return Number.isSafeInteger(id) ? this.messages.get(id) : undefined;
  }

  #formatId(id: number, format: 'hex' | 'decimal'): string {
    return format === 'hex' ? id.toString(16) : String(id);
  }

  #scheduleReceipt(message: SimulatedMessage, session: SmppSession): void {
    this.#dueReceipts.push({ at: Date.now() + this.#o.deliveryDelayMs, message, session });
    if (this.#receiptTimer === null) this.#armReceiptTimer();
  }

  #armReceiptTimer(): void {
    if (this.#dueHead >= this.#dueReceipts.length) {
      this.#dueReceipts.length = 0;
      this.#dueHead = 0;
      return;
    }
    const wait = Math.max(0, this.#dueReceipts[this.#dueHead]!.at - Date.now());
    this.#receiptTimer = setTimeout(() => {
      this.#receiptTimer = null;
      const now = Date.now();
      while (this.#dueHead < this.#dueReceipts.length && this.#dueReceipts[this.#dueHead]!.at <= now) {
        const due = this.#dueReceipts[this.#dueHead]!;
        this.#dueReceipts[this.#dueHead++] = undefined as never;
        this.#sendReceipt(due.message, due.session);
      }
      if (this.#dueHead > 4096) {
        this.#dueReceipts.splice(0, this.#dueHead);
        this.#dueHead = 0;
      }
      this.#armReceiptTimer();
    }, wait);
  }

  #sendReceipt(message: SimulatedMessage, session: SmppSession): void {
    if (message.state !== MessageState.ENROUTE) return; // canceled meanwhile
    message.doneAt = new Date();
    message.state = statState[message.stat] ?? MessageState.UNKNOWN;
    const success = message.state === MessageState.DELIVERED;
    const wanted = message.registeredDelivery & 0x03;
    // 0: none; 1: receipt on success and failure; 2: on failure only; 3 (SMPP 5.0): on success only.
    if (wanted === 0 || (wanted === 2 && success) || (wanted === 3 && !success)) return;
    const id = this.#formatId(message.id, this.#o.receiptIdFormat);
    const text = decodeText(message.shortMessage, encodingFromDataCoding(message.dataCoding).encoding);
    const pdu = this.#deliverSm(message.to, message.from, 0);
    pdu.esmClass = EsmClass.DELIVERY_RECEIPT;
    pdu.shortMessage = Buffer.from(
      formatReceipt({
        id,
        sub: 1,
        dlvrd: success ? 1 : 0,
        submitDate: message.submittedAt,
        doneDate: message.doneAt,
        stat: message.stat,
        err: message.err,
        text: text.slice(0, 20),
      }),
      'latin1',
    );
    if (this.#o.receiptTlvs)
      pdu.tlvs = {
        receiptedMessageId: this.#formatId(message.id, this.#o.messageIdFormat),
        messageState: message.state,
        ...(success
          ? {}
          : {
              networkErrorCode: networkErrorCode(
                NetworkErrorType.GSM,
                (Number.parseInt(message.err, 10) || 0) & 0xffff,
              ),
            }),
      };
    this.stats.receiptsSent++;
    this.emit('receipt', message);
    this.#deliver({ systemId: message.systemId, pdu, preferred: session, attempts: 0 });
  }

  #deliverSm(from: string, to: string, dataCoding: number): PduOf<'deliver_sm'> {
    return shortMessagePdu('deliver_sm', {
      sourceAddrTon: from.startsWith('+') ? 1 : 0,
      sourceAddrNpi: 1,
      sourceAddr: from.replace(/^\+/, ''),
      destAddrTon: to.startsWith('+') ? 1 : 0,
      destAddrNpi: 1,
      destinationAddr: to.replace(/^\+/, ''),
      dataCoding,
    });
  }

  /** Sends a deliver_sm to a receiver bind of its ESME, or holds it until one binds. */
  #deliver(delivery: PendingDelivery): void {
    const session = this.#receiverFor(delivery);
    if (session === null) {
      this.#pending.push(delivery);
      if (this.#pending.length > this.#o.maxPendingDeliveries) {
        this.#pending.shift();
        this.stats.deliveriesDropped++;
      }
      return;
    }
    session.request(delivery.pdu).then(
      (resp) => {
        // An ESME that answers with an error asked us to try again (or refused for good).
        if (resp.commandStatus === 0) return;
        if (anotherTry(delivery, this.stats))
          setTimeout(() => this.#deliver(delivery), redeliveryDelayMs(delivery.attempts)).unref();
      },
      () => {
        delivery.preferred = null;
        if (anotherTry(delivery, this.stats)) this.#deliver(delivery);
      },
    );
  }

  #receiverFor(delivery: PendingDelivery): SmppSession | null {
    const preferred = delivery.preferred;
    if (preferred && preferred.state === 'bound' && preferred.bindType === 'transceiver') return preferred;
    const candidates: SmppSession[] = [];
    for (const b of this.server.bound) {
      if (b.bindType === 'transmitter' || b.session.state !== 'bound') continue;
      if (delivery.systemId !== '' && b.systemId !== delivery.systemId) continue;
      candidates.push(b.session);
    }
    if (candidates.length === 0) return null;
    return candidates[this.#roundRobin++ % candidates.length]!;
  }

  #flushPending(): void {
    const waiting = this.#pending.splice(0);
    for (const delivery of waiting) this.#deliver(delivery);
  }
}

/** The first outcome whose pattern matches the destination; delivered when none does. */
export function outcomeFor(outcomes: readonly SimulatorOutcome[], to: string): SimulatorOutcome {
  const bare = to.replace(/^\+/, '');
  for (const outcome of outcomes) {
    const pattern = outcome.to.replace(/^\+/, '');
    const hit = pattern.endsWith('*') ? bare.startsWith(pattern.slice(0, -1)) : bare === pattern;
    if (hit) return outcome;
  }
  return { to: '*', stat: 'DELIVRD' };
}

/** A small seeded PRNG, so a simulator run with the same seed fails the same submits. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
