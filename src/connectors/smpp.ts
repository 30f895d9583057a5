// The SMPP carrier connector: a few binds to one SMSC, each with its window, sharing one
// tps budget. Sends split text into parts (UDH, SAR or message_payload) and put every part
// of a message on the same bind; inbound receipts and MO messages go to the sink, and the
// SMSC gets its deliver_sm_resp only once the sink has kept them.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SmppConnectorConfig } from '../config/index.ts';
import type { Pdu, PduOf, ReceiptStat, SmppAddress, SmppSession } from '../smpp/index.ts';
import {
  CommandStatus,
  EsmClass,
  formatSmppTime,
  fromSmppAddress,
  InterfaceVersion,
  normaliseMessageId,
  RegisteredDelivery,
  receiptFromPdu,
  SmppClient,
  SmppEncodeError,
  SmppError,
  statusName,
  submittedIdOf,
  toSmppAddress,
} from '../smpp/index.ts';
import type { SplitResult } from '../sms/index.ts';
import { chooseEncoding, dataCodingFor, encodeText, splitBinary, splitMessage } from '../sms/index.ts';
import { BindPool, type PooledBind } from './bind-pool.ts';
import type { ConnectorLogger } from './logger.ts';
import { silentLogger } from './logger.ts';
import { type PartOutcome, submitResultOf, withOwnHeader } from './parts.ts';
import { SendTracker } from './sends.ts';
import type {
  BroadcastRequest,
  BroadcastResult,
  Connector,
  ConnectorEvents,
  ConnectorSink,
  ConnectorState,
  OutboundSms,
  ReceiptStatus,
  SubmitResult,
} from './types.ts';

/** Tuning that is not in the config file (tests shorten the waits). */
export interface SmppConnectorOptions {
  /** Back-off between reconnect attempts of a bind. */
  reconnect?: { minMs: number; maxMs: number };
  /** How long the parts of a long inbound message are waited for before it goes on incomplete. */
  reassemblyTimeoutMs?: number;
}

type SubmitPdu = PduOf<'submit_sm'>;

type Bind = PooledBind<SmppClient>;

/** Statuses after which the SMSC wants the same message again later. */
const temporaryStatuses = new Set<number>([
  CommandStatus.ESME_RTHROTTLED,
  CommandStatus.ESME_RMSGQFUL,
  CommandStatus.ESME_RX_T_APPN,
]);
const backPressureStatuses = new Set<number>([CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RMSGQFUL]);
/**
 * A throttled part of a message whose other parts got through is sent again (after the
 * session's pause, which doubles each time from 100 ms) this many times: giving up would
 * leave the handset with a fragment. Five cover an SMSC that counts per whole second.
 */
const throttledPartRetries = 5;

const receiptStatusOf: Record<ReceiptStat, ReceiptStatus> = {
  DELIVRD: 'delivered',
  UNDELIV: 'undelivered',
  EXPIRED: 'expired',
  REJECTD: 'rejected',
  DELETED: 'failed',
  SKIPPED: 'failed',
  ACCEPTD: 'accepted',
  ENROUTE: 'accepted',
  UNKNOWN: 'unknown',
};

/** esm_class message types that make a deliver_sm / data_sm a receipt rather than an MO. */
const receiptTypes = new Set<number>([
  EsmClass.DELIVERY_RECEIPT,
  EsmClass.DELIVERY_ACK,
  EsmClass.INTERMEDIATE_NOTIFICATION,
]);

export class SmppConnector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly id: string;
  readonly type = 'smpp';

  readonly #config: SmppConnectorConfig;
  readonly #sink: ConnectorSink;
  readonly #log: ConnectorLogger;
  readonly #options: SmppConnectorOptions;
  readonly #pool: BindPool<SmppClient>;
  readonly budget: { binds: number; tps: number };
  readonly #sends = new SendTracker();
  #throttledUntil = 0;

  constructor(
    config: SmppConnectorConfig,
    sink: ConnectorSink,
    logger: ConnectorLogger = silentLogger,
    options: SmppConnectorOptions = {},
  ) {
    super();
    this.id = config.id;
    this.#config = config;
    this.#sink = sink;
    this.#log = logger;
    this.#options = options;
    this.#pool = new BindPool({
      connector: this,
      config,
      log: logger,
      sink,
      sends: this.#sends,
      reassemblyTimeoutMs: options.reassemblyTimeoutMs,
      peer: 'SMSC',
      client: () => this.#newClient(),
      watch: (bind) => this.#watch(bind),
      canSend,
      tried: (client) => client.stats.binds + client.stats.failures > 0,
    });
    this.budget = { binds: config.binds, tps: config.tps };
    if (config.broadcast) this.broadcast = (request) => this.#broadcast(request);
  }

  readonly broadcast?: (request: BroadcastRequest) => Promise<BroadcastResult>;

  /** broadcast_sm: the text in message_payload, as an emergency broadcast to the named areas. */
  async #broadcast(request: BroadcastRequest): Promise<BroadcastResult> {
    const session = this.#pool.leastLoaded()?.client.session;
    if (!session || this.#pool.stopping) return { ok: false, code: 'not_bound', message: 'no bind is up' };
    const { encoding } = chooseEncoding(request.text);
    const source = sourceAddress(request.from, this.#config);
    const interval = Math.min(0xffff, Math.max(0, Math.round(request.frequencySeconds)));
    try {
      const response = await session.request({
        command: 'broadcast_sm',
        commandStatus: 0,
        sequenceNumber: 0,
        serviceType: '',
        sourceAddrTon: source.ton,
        sourceAddrNpi: source.npi,
        sourceAddr: source.address,
        messageId: '',
        priorityFlag: 3,
        scheduleDeliveryTime: '',
        validityPeriod: request.validUntil === null ? '' : formatSmppTime(new Date(request.validUntil)),
        replaceIfPresentFlag: 0,
        dataCoding: dataCodingFor(encoding),
        smDefaultMsgId: 0,
        tlvs: {
          messagePayload: encodeText(request.text, encoding),
          // Format 0x00: the area by its alias/name (SMPP 5.0 §4.8.4.7).
          broadcastAreaIdentifier: request.areas.map((a) =>
            Buffer.concat([Buffer.of(0), Buffer.from(a, 'latin1')]),
          ),
          // GSM network (0x01), content type Emergency Broadcasts (0x0001).
          broadcastContentType: Buffer.of(0x01, 0x00, 0x01),
          broadcastRepNum: Math.min(0xffff, Math.max(1, request.repetitions)),
          // Unit 0x08 = seconds, then the count (0x00 would mean "as often as possible").
          broadcastFrequencyInterval: Buffer.of(interval === 0 ? 0x00 : 0x08, interval >> 8, interval & 0xff),
        },
      });
      if (response.commandStatus !== CommandStatus.ESME_ROK) {
        const name = statusName(response.commandStatus);
        return { ok: false, code: `smpp_${name}`, message: `the SMSC answered ${name}` };
      }
      const failed = response.tlvs?.broadcastAreaIdentifier ?? [];
      return {
        ok: true,
        broadcastId: 'messageId' in response ? response.messageId : '',
        failedAreas: failed.map((b) => b.subarray(1).toString('latin1')),
      };
    } catch (err) {
      const code = err instanceof SmppError ? `smpp_${err.code}` : 'smpp_error';
      return { ok: false, code, message: (err as Error).message };
    }
  }

  /** Binds; after a stop (an operator's, say) it binds afresh. */
  start(): Promise<void> {
    return this.#pool.start();
  }

  share(binds: number, tps: number): Promise<void> {
    return this.#pool.share(binds, tps);
  }

  #newClient(): SmppClient {
    const c = this.#config;
    return new SmppClient({
      host: c.host,
      port: c.port,
      tls: tlsOptions(c.tls),
      systemId: c.systemId,
      password: c.password,
      systemType: c.systemType,
      bindType: c.bindType,
      interfaceVersion: c.interfaceVersion === '5.0' ? InterfaceVersion.V50 : InterfaceVersion.V34,
      window: c.window,
      requestTimeoutMs: c.requestTimeoutSeconds * 1000,
      enquireLinkMs: c.enquireLinkSeconds * 1000,
      ...(this.#options.reconnect ? { reconnect: this.#options.reconnect } : {}),
    });
  }

  stop(): Promise<void> {
    return this.#pool.stop();
  }

  capacity(): number {
    if (this.#pool.stopping) return 0;
    const now = Date.now();
    if (this.#throttledUntil > now) {
      this.#pool.wakeIn(this.#throttledUntil - now);
      return 0;
    }
    return this.#pool.capacity(now);
  }

  send(sms: OutboundSms): Promise<SubmitResult> {
    return this.#sends.track(this.#send(sms), () => this.emit('ready'));
  }

  state(): ConnectorState {
    return this.#pool.state();
  }

  // ---- binds ----

  #watch(bind: Bind): void {
    const client = bind.client;
    const where = { connector: this.id, bind: bind.index };
    client.on('state', (state) => this.#pool.bindState(bind, state));
    client.on('unbound', (err) => this.#pool.bindDown(bind, err?.message ?? 'unbound by the SMSC'));
    client.on('bindFailed', (status) => {
      const reason = statusName(status);
      this.#log.error({ ...where, status: reason }, 'connector bind refused');
      this.#pool.failed(`bind refused: ${reason}`);
    });
    // A refused bind is told by bindFailed above; this is the rest (socket errors, timeouts).
    client.on('connectFailed', (err) => {
      if (err instanceof SmppError && err.code === 'bind_failed') return;
      this.#pool.connectFailed(bind, err);
    });
    client.on('protocolError', (err) => this.#log.warn({ ...where, err }, 'protocol error from the SMSC'));
    client.on('throttled', (status, pauseMs) => {
      this.#log.debug({ ...where, status: statusName(status), pauseMs }, 'throttled by the SMSC');
      this.#throttledUntil = Math.max(this.#throttledUntil, Date.now() + pauseMs);
      this.#pool.wakeIn(pauseMs);
    });
    client.on('drain', () => {
      if (this.#throttledUntil !== 0 && this.#throttledUntil <= Date.now()) {
        this.#throttledUntil = 0;
        this.emit('ready');
      }
    });
    client.on('request', (pdu, session) => this.#onRequest(pdu, session));
  }

  // ---- sending ----

  async #send(sms: OutboundSms): Promise<SubmitResult> {
    if (this.#pool.stopping) {
      return { ok: false, temporary: true, code: 'stopped', message: 'connector is stopping' };
    }
    if (this.#config.bindType === 'receiver') {
      return {
        ok: false,
        temporary: false,
        code: 'receive_only',
        message: 'connector binds as a receiver only',
      };
    }
    let pdus: SubmitPdu[];
    try {
      pdus = this.#submitPdus(sms);
    } catch (err) {
      return { ok: false, temporary: false, code: 'invalid_message', message: (err as Error).message };
    }
    const bind = this.#pool.leastLoaded();
    const session = bind?.client.session;
    if (!bind || !session) return { ok: false, temporary: true, code: 'not_bound', message: 'no bind is up' };
    // Most messages are one part: awaited alone, without Promise.all's promise and array.
    const outcomes =
      pdus.length === 1
        ? [await this.#submit(bind, session, pdus[0]!)]
        : await Promise.all(pdus.map((pdu) => this.#submit(bind, session, pdu)));
    for (let round = 0; round < throttledPartRetries; round++) {
      const throttled = outcomes.flatMap((o, i) =>
        !o.ok && o.status !== undefined && backPressureStatuses.has(o.status) ? [i] : [],
      );
      if (throttled.length === 0 || !outcomes.some((o) => o.ok)) break;
      await Promise.all(
        throttled.map(async (i) => {
          outcomes[i] = await this.#submit(bind, session, pdus[i]!);
        }),
      );
    }
    return submitResultOf(outcomes);
  }

  async #submit(bind: Bind, session: SmppSession, pdu: SubmitPdu): Promise<PartOutcome> {
    bind.inFlight++;
    try {
      const owed = this.#pool.paced();
      if (owed) await owed;
      // A fresh object per attempt: the session stamps its sequence number on what it sends.
      const response = await session.request({ ...pdu });
      if (response.commandStatus === CommandStatus.ESME_ROK) {
        return { ok: true, smscId: normaliseMessageId('messageId' in response ? response.messageId : '') };
      }
      const name = statusName(response.commandStatus);
      return {
        ok: false,
        temporary: temporaryStatuses.has(response.commandStatus),
        code: `smpp_${name}`,
        message: `the SMSC answered ${name}`,
        status: response.commandStatus,
      };
    } catch (err) {
      if (err instanceof SmppEncodeError) {
        return { ok: false, temporary: false, code: 'invalid_message', message: err.message };
      }
      const code = err instanceof SmppError ? `smpp_${err.code}` : 'smpp_error';
      return { ok: false, temporary: true, code, message: (err as Error).message };
    } finally {
      bind.inFlight--;
    }
  }

  #submitPdus(sms: OutboundSms): SubmitPdu[] {
    const c = this.#config;
    const mode = c.longMessages;
    const referenceBits = mode === 'udh' ? 8 : 16;
    const options = {
      mode,
      referenceBits,
      maxParts: 255,
      flash: sms.flash,
    } as const;
    let split: SplitResult;
    if (sms.udh !== null) split = withOwnHeader(sms);
    else if (sms.text !== null) split = splitMessage(sms.text, { ...options, encoding: sms.encoding });
    else if (sms.binary !== null) split = splitBinary(sms.binary, options);
    else throw new Error('a message needs text or binary content');
    const source = sourceAddress(sms.from, c);
    let validityPeriod = '';
    if (sms.validUntil !== null) validityPeriod = formatSmppTime(new Date(sms.validUntil));
    return split.parts.map((part) => {
      const pdu: SubmitPdu = {
        command: 'submit_sm',
        commandStatus: 0,
        sequenceNumber: 0,
        serviceType: '',
        sourceAddrTon: source.ton,
        sourceAddrNpi: source.npi,
        sourceAddr: source.address,
        destAddrTon: c.destTon,
        destAddrNpi: c.destNpi,
        destinationAddr: sms.to.replace(/^\+(?=\d)/, ''),
        esmClass: EsmClass.DEFAULT,
        protocolId: 0,
        priorityFlag: sms.priorityFlag,
        scheduleDeliveryTime: '',
        validityPeriod,
        registeredDelivery: sms.receipt ? RegisteredDelivery.RECEIPT : RegisteredDelivery.NONE,
        replaceIfPresentFlag: 0,
        dataCoding: split.dataCoding,
        smDefaultMsgId: 0,
        shortMessage: part.payload,
      };
      if (part.udh) {
        pdu.esmClass |= EsmClass.UDHI;
        pdu.shortMessage = Buffer.concat([part.udh, part.payload]);
      }
      if (mode === 'payload' && sms.udh === null) {
        pdu.shortMessage = Buffer.alloc(0);
        pdu.tlvs = { messagePayload: part.payload };
      }
      if (part.sar) {
        pdu.tlvs = {
          ...pdu.tlvs,
          sarMsgRefNum: part.sar.reference,
          sarTotalSegments: part.sar.total,
          sarSegmentSeqnum: part.sar.sequence,
        };
      }
      return pdu;
    });
  }

  // ---- receiving ----

  #onRequest(pdu: Pdu, session: SmppSession): void {
    if (pdu.command !== 'deliver_sm' && pdu.command !== 'data_sm') {
      // alert_notification has no response; anything else is not for an ESME to answer.
      if (pdu.command !== 'alert_notification') session.respond(pdu, CommandStatus.ESME_RINVCMDID);
      return;
    }
    const handling = this.#handleDelivery(pdu).then(
      (status) => session.respond(pdu, status),
      (err: unknown) => {
        this.#log.error({ connector: this.id, err }, 'inbound message could not be handled');
        session.respond(pdu, CommandStatus.ESME_RX_T_APPN);
      },
    );
    this.#pool.inbound.track(handling);
  }

  /** The command_status to answer the SMSC with. */
  async #handleDelivery(pdu: PduOf<'deliver_sm'> | PduOf<'data_sm'>): Promise<number> {
    const tlvs = pdu.tlvs ?? {};
    if (receiptTypes.has(pdu.esmClass & EsmClass.TYPE_MASK) || tlvs.receiptedMessageId !== undefined) {
      return this.#handleReceipt(pdu);
    }
    return this.#handleMo(pdu);
  }

  async #handleReceipt(pdu: PduOf<'deliver_sm'> | PduOf<'data_sm'>): Promise<number> {
    const parsed = receiptFromPdu(pdu);
    if (parsed === null) {
      this.#log.warn(
        { connector: this.id, from: pdu.sourceAddr },
        'receipt without a message id or state refused',
      );
      return CommandStatus.ESME_RX_P_APPN;
    }
    try {
      await this.#sink.receipt({
        connectorId: this.id,
        smscId:
          parsed.idFrom === 'tlv'
            ? normaliseMessageId(parsed.id)
            : submittedIdOf(parsed.id, this.#config.receiptIds ?? 'as-submitted'),
        status: receiptStatusOf[parsed.stat],
        stat: parsed.rawStat || parsed.stat,
        err: parsed.err ?? '',
        doneAt: parsed.doneDate?.getTime() ?? null,
        networkErrorCode: parsed.errorCode ?? null,
      });
      return CommandStatus.ESME_ROK;
    } catch (err) {
      this.#log.warn(
        { connector: this.id, smscId: parsed.id, err },
        'sink refused a receipt; the SMSC will retry',
      );
      return CommandStatus.ESME_RX_T_APPN;
    }
  }

  async #handleMo(pdu: PduOf<'deliver_sm'> | PduOf<'data_sm'>): Promise<number> {
    const tlvs = pdu.tlvs ?? {};
    const shortMessage = pdu.command === 'deliver_sm' ? pdu.shortMessage : Buffer.alloc(0);
    // Copied: the decoded PDU may be a view of a socket buffer, and the reassembler keeps parts.
    const body = Buffer.from(shortMessage.length > 0 ? shortMessage : (tlvs.messagePayload ?? shortMessage));
    const key = `${fromSmppAddress(pdu.sourceAddr, pdu.sourceAddrTon)}\u0000${fromSmppAddress(pdu.destinationAddr, pdu.destAddrTon)}`;
    const udh = (pdu.esmClass & EsmClass.UDHI) !== 0;
    const sar =
      tlvs.sarMsgRefNum !== undefined &&
      tlvs.sarTotalSegments !== undefined &&
      tlvs.sarSegmentSeqnum !== undefined
        ? { reference: tlvs.sarMsgRefNum, total: tlvs.sarTotalSegments, sequence: tlvs.sarSegmentSeqnum }
        : null;
    const kept = await this.#pool.inbound.receive({
      key,
      id: `${key}\u0000${pdu.dataCoding}\u0000${udh}\u0000${sar?.reference}/${sar?.sequence}\u0000${body.toString('hex')}`,
      body,
      dataCoding: pdu.dataCoding,
      udh,
      sar,
    });
    return kept ? CommandStatus.ESME_ROK : CommandStatus.ESME_RX_T_APPN;
  }
}

function canSend(client: SmppClient): boolean {
  return client.state === 'bound' && client.session?.state === 'bound' && client.bindType !== 'receiver';
}

/**
 * TON and NPI of the sender: the config's when given, else from its form — `+digits`
 * international, up to 8 digits a short code, a leading 0 national, other digits
 * international without the `+`, anything else alphanumeric.
 */
/** The sender as SMPP writes it; the connector's sourceTon/sourceNpi override the guess. */
function sourceAddress(from: string, c: SmppConnectorConfig): SmppAddress {
  const guessed = toSmppAddress(from);
  return { ton: c.sourceTon ?? guessed.ton, npi: c.sourceNpi ?? guessed.npi, address: guessed.address };
}

/** The connector's `tls` setting as node:tls takes it: the CA file read (each time a bind is opened, so a renewed one is picked up). */
function tlsOptions(setting: SmppConnectorConfig['tls']): boolean | ConnectionOptions {
  if (typeof setting === 'boolean') return setting;
  const { ca, ...rest } = setting;
  return { ...rest, ...(ca === undefined ? {} : { ca: readFileSync(ca) }) };
}
