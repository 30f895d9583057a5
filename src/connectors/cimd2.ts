// The CIMD2 carrier connector (Nokia SMS centres): a few logged-in sessions, each with its
// window, sharing one tps budget. Long text goes in parts with a concatenation UDH (032),
// every part on the same session and each asking for a status report when the message wants
// a receipt. CIMD2 names a message by its destination and the service centre timestamp (060)
// of the submit's answer, so a part's smscId is `destination:timestamp`, and a status report
// (23) carrying the same two finds it. Inbound messages (20) are reassembled, kept by the
// sink, and only then acknowledged (70).
import { EventEmitter } from 'node:events';
import type { Cimd2Packet } from '../cimd2/index.ts';
import {
  Cimd2Client,
  Cimd2EncodeError,
  Cimd2Error,
  type Cimd2Session,
  cimd2ToSeptets,
  ErrorCode,
  errorName,
  intParam,
  loginFailure,
  Operation,
  Param,
  param,
  StatusCode,
  StatusReportRequest,
  septetsToCimd2,
  temporaryErrors,
  textToCimd2,
} from '../cimd2/index.ts';
import type { Cimd2ConnectorConfig } from '../config/index.ts';
import type { SplitResult } from '../sms/index.ts';
import { encodingFromDataCoding, splitBinary, splitMessage } from '../sms/index.ts';
import { BindPool, type PooledBind } from './bind-pool.ts';
import type { ConnectorLogger } from './logger.ts';
import { silentLogger } from './logger.ts';
import { type PartOutcome, submitResultOf, withOwnHeader } from './parts.ts';
import { SendTracker } from './sends.ts';
import type {
  Connector,
  ConnectorEvents,
  ConnectorSink,
  ConnectorState,
  OutboundSms,
  ReceiptStatus,
  SubmitResult,
} from './types.ts';

/** Tuning that is not in the config file (tests shorten the waits). */
export interface Cimd2ConnectorOptions {
  reconnect?: { minMs: number; maxMs: number };
  /** How long the parts of a long inbound message are waited for before it goes on incomplete. */
  reassemblyTimeoutMs?: number;
  /** Alive interval in ms, overriding aliveSeconds. */
  aliveMs?: number;
}

/** A request of the SMS centre: what it held, and the error code it is (or was) answered with. */
interface HandledRequest {
  content: string;
  errorCode: Promise<number>;
  result?: number;
}

type Bind = PooledBind<Cimd2Client>;

/** Status report status codes (061) as receipt statuses and the SMPP-style stat word. */
const receiptOf: Record<number, { status: ReceiptStatus; stat: string }> = {
  [StatusCode.NO_STATUS]: { status: 'unknown', stat: 'UNKNOWN' },
  [StatusCode.IN_PROCESS]: { status: 'accepted', stat: 'ENROUTE' },
  [StatusCode.VALIDITY_EXPIRED]: { status: 'expired', stat: 'EXPIRED' },
  [StatusCode.DELIVERY_FAILED]: { status: 'undelivered', stat: 'UNDELIV' },
  [StatusCode.DELIVERY_SUCCESSFUL]: { status: 'delivered', stat: 'DELIVRD' },
  [StatusCode.NO_RESPONSE]: { status: 'accepted', stat: 'ENROUTE' },
  [StatusCode.LAST_NO_RESPONSE]: { status: 'undelivered', stat: 'UNDELIV' },
  [StatusCode.CANCELLED]: { status: 'failed', stat: 'DELETED' },
  [StatusCode.DELETED]: { status: 'failed', stat: 'DELETED' },
  [StatusCode.DELETED_BY_CANCEL]: { status: 'failed', stat: 'DELETED' },
};

export class Cimd2Connector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly id: string;
  readonly type = 'cimd2';
  readonly budget: { binds: number; tps: number };

  readonly #config: Cimd2ConnectorConfig;
  readonly #sink: ConnectorSink;
  readonly #log: ConnectorLogger;
  readonly #options: Cimd2ConnectorOptions;
  readonly #pool: BindPool<Cimd2Client>;
  readonly #sends = new SendTracker();
  /** Per session, the last request under each packet number and the error code it was answered with. */
  readonly #handled = new WeakMap<Cimd2Session, Map<number, HandledRequest>>();

  constructor(
    config: Cimd2ConnectorConfig,
    sink: ConnectorSink,
    logger: ConnectorLogger = silentLogger,
    options: Cimd2ConnectorOptions = {},
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
      peer: 'SMS centre',
      client: () => this.#newClient(),
      watch: (bind) => this.#watch(bind),
      canSend: (client) => client.state === 'bound',
      tried: (client) => client.stats.logins + client.stats.failures > 0,
    });
    this.budget = { binds: config.binds, tps: config.tps };
  }

  start(): Promise<void> {
    return this.#pool.start();
  }

  share(binds: number, tps: number): Promise<void> {
    return this.#pool.share(binds, tps);
  }

  #newClient(): Cimd2Client {
    const c = this.#config;
    return new Cimd2Client({
      host: c.host,
      port: c.port,
      username: c.username,
      password: c.password,
      window: c.window,
      requestTimeoutMs: c.requestTimeoutSeconds * 1000,
      aliveMs: this.#options.aliveMs ?? c.aliveSeconds * 1000,
      checksum: c.checksum,
      ...(this.#options.reconnect ? { reconnect: this.#options.reconnect } : {}),
    });
  }

  stop(): Promise<void> {
    return this.#pool.stop();
  }

  capacity(): number {
    return this.#pool.capacity();
  }

  send(sms: OutboundSms): Promise<SubmitResult> {
    return this.#sends.track(this.#send(sms), () => this.emit('ready'));
  }

  state(): ConnectorState {
    return this.#pool.state();
  }

  // ---- sessions ----

  #watch(bind: Bind): void {
    const client = bind.client;
    const where = { connector: this.id, bind: bind.index };
    client.on('state', (state) => this.#pool.bindState(bind, state));
    client.on('down', (err) =>
      this.#pool.bindDown(bind, err?.message ?? 'connection closed by the SMS centre'),
    );
    client.on('loginFailed', (errorCode) => {
      const reason = loginFailure(errorCode);
      this.#log.error({ ...where, errorCode }, 'connector login refused');
      this.#pool.failed(reason);
    });
    client.on('connectFailed', (err) => this.#pool.connectFailed(bind, err));
    client.on('protocolError', (err) =>
      this.#log.warn({ ...where, err }, 'protocol error from the SMS centre'),
    );
    client.on('request', (packet, session) => this.#onRequest(packet, session));
  }

  // ---- sending ----

  async #send(sms: OutboundSms): Promise<SubmitResult> {
    if (this.#pool.stopping) {
      return { ok: false, temporary: true, code: 'stopped', message: 'connector is stopping' };
    }
    let submits: Cimd2Packet['params'][];
    try {
      submits = this.#submits(sms);
    } catch (err) {
      return { ok: false, temporary: false, code: 'invalid_message', message: (err as Error).message };
    }
    const bind = this.#pool.leastLoaded();
    const session = bind?.client.session;
    if (!bind || !session) return { ok: false, temporary: true, code: 'not_bound', message: 'no bind is up' };
    const to = sms.to.trim();
    const outcomes = await Promise.all(submits.map((params) => this.#submit(bind, session, to, params)));
    return submitResultOf(outcomes);
  }

  async #submit(
    bind: Bind,
    session: Cimd2Session,
    to: string,
    params: Cimd2Packet['params'],
  ): Promise<PartOutcome> {
    bind.inFlight++;
    try {
      await this.#pool.paced();
      const response = await session.request(Operation.SUBMIT, params);
      const errorCode = intParam(response, Param.ERROR_CODE) ?? 0;
      if (response.operation === Operation.NACK) {
        return { ok: false, temporary: true, code: 'cimd2_nack', message: 'the SMS centre answered NACK' };
      }
      if (errorCode !== 0 || response.operation === Operation.GENERAL_ERROR) {
        return {
          ok: false,
          temporary: temporaryErrors.has(errorCode),
          code: `cimd2_${errorCode}`,
          message: `the SMS centre answered ${errorName(errorCode)}`,
        };
      }
      const destination = param(response, Param.DESTINATION_ADDRESS) ?? to;
      const timestamp = param(response, Param.SERVICE_CENTRE_TIMESTAMP) ?? '';
      return { ok: true, smscId: cimd2MessageId(destination, timestamp) };
    } catch (err) {
      if (err instanceof Cimd2EncodeError) {
        return { ok: false, temporary: false, code: 'invalid_message', message: err.message };
      }
      const code = err instanceof Cimd2Error ? `cimd2_${err.code}` : 'cimd2_error';
      return { ok: false, temporary: true, code, message: (err as Error).message };
    } finally {
      bind.inFlight--;
    }
  }

  /** The parameters of each part's submit (03). */
  #submits(sms: OutboundSms): Cimd2Packet['params'][] {
    const options = {
      mode: 'udh',
      referenceBits: 8,
      maxParts: 255,
      flash: sms.flash,
    } as const;
    let split: SplitResult;
    if (sms.udh !== null) split = withOwnHeader(sms);
    else if (sms.text !== null) split = splitMessage(sms.text, { ...options, encoding: sms.encoding });
    else if (sms.binary !== null) split = splitBinary(sms.binary, options);
    else throw new Error('a message needs text or binary content');
    const to = sms.to.trim();
    if (!/^\+?\d{1,20}$/.test(to))
      throw new Error(`destination '${sms.to}' is not a number CIMD2 can address`);
    const head: Cimd2Packet['params'] = [[Param.DESTINATION_ADDRESS, to]];
    if (/^\+?\d{1,20}$/.test(sms.from)) head.push([Param.ORIGINATING_ADDRESS, sms.from]);
    else if (sms.from !== '') {
      const alpha = textToCimd2(sms.from);
      if (alpha === undefined || sms.from.length > 11)
        throw new Error(
          `sender '${sms.from}' is not an alphanumeric address CIMD2 can carry (11 GSM characters)`,
        );
      head.push([Param.ALPHANUMERIC_ORIGINATING_ADDRESS, alpha]);
    }
    // GSM text travels as text (033) and the SMS centre packs it; everything else as octets (034).
    const gsmText = split.encoding === 'gsm7';
    if (split.dataCoding !== 0) head.push([Param.DATA_CODING_SCHEME, String(split.dataCoding)]);
    if (sms.validUntil !== null) {
      head.push([Param.VALIDITY_PERIOD_RELATIVE, String(relativeValidity(sms.validUntil - Date.now()))]);
    }
    if (sms.receipt) head.push([Param.STATUS_REPORT_REQUEST, String(StatusReportRequest.FINAL)]);
    return split.parts.map((part) => {
      const params: Cimd2Packet['params'] = [...head];
      if (part.udh) params.push([Param.USER_DATA_HEADER, part.udh.toString('hex').toUpperCase()]);
      if (gsmText) params.push([Param.USER_DATA, septetsToCimd2(part.payload)]);
      else params.push([Param.USER_DATA_BINARY, part.payload.toString('hex').toUpperCase()]);
      return params;
    });
  }

  // ---- receiving ----

  #onRequest(packet: Cimd2Packet, session: Cimd2Session): void {
    if (
      packet.operation !== Operation.DELIVER_MESSAGE &&
      packet.operation !== Operation.DELIVER_STATUS_REPORT
    ) {
      session.respond(packet, [[Param.ERROR_CODE, String(ErrorCode.UNEXPECTED_OPERATION)]]);
      return;
    }
    // The SMS centre sends a request again under its number when our answer was late or
    // lost: the same packet gets the first one's answer and is not handled twice (unless
    // that answer was an error, which asked for it again).
    let handled = this.#handled.get(session);
    if (handled === undefined) {
      handled = new Map();
      this.#handled.set(session, handled);
    }
    const content = JSON.stringify([packet.operation, packet.params]);
    const earlier = handled.get(packet.packetNumber);
    if (earlier?.content === content && (earlier.result ?? 0) === 0) {
      void earlier.errorCode.then((errorCode) => session.respond(packet, answerOf(errorCode)));
      return;
    }
    const errorCode = (
      packet.operation === Operation.DELIVER_STATUS_REPORT
        ? this.#handleReport(packet)
        : this.#handleMo(packet)
    ).catch((err: unknown) => {
      this.#log.error({ connector: this.id, err }, 'inbound message could not be handled');
      return ErrorCode.GENERAL_SYSTEM_ERROR as number;
    });
    const entry: HandledRequest = { content, errorCode };
    void errorCode.then((code) => {
      entry.result = code;
    });
    handled.set(packet.packetNumber, entry);
    this.#pool.inbound.track(errorCode.then((code) => session.respond(packet, answerOf(code))));
  }

  /** A status report (23): 0, or the error code to answer with so the SMS centre tries again. */
  async #handleReport(packet: Cimd2Packet): Promise<number> {
    const destination = param(packet, Param.DESTINATION_ADDRESS);
    const timestamp = param(packet, Param.SERVICE_CENTRE_TIMESTAMP);
    const statusCode = intParam(packet, Param.STATUS_CODE);
    if (destination === undefined || timestamp === undefined || statusCode === undefined) {
      this.#log.warn(
        { connector: this.id },
        'status report without destination, timestamp or status refused',
      );
      return ErrorCode.SYNTAX_ERROR;
    }
    const outcome = receiptOf[statusCode] ?? { status: 'unknown' as const, stat: 'UNKNOWN' };
    const errorCode = intParam(packet, Param.STATUS_ERROR_CODE);
    const discharge = param(packet, Param.DISCHARGE_TIME);
    try {
      await this.#sink.receipt({
        connectorId: this.id,
        smscId: cimd2MessageId(destination, timestamp),
        status: outcome.status,
        stat: outcome.stat,
        err: errorCode === undefined ? '' : String(errorCode).padStart(3, '0'),
        doneAt: discharge === undefined ? null : (parseCimd2Time(discharge)?.getTime() ?? null),
        networkErrorCode: errorCode ?? null,
      });
      return 0;
    } catch (err) {
      this.#log.warn({ connector: this.id, err }, 'sink refused a status report; the SMS centre will retry');
      return ErrorCode.TEMPORARY_CONGESTION;
    }
  }

  /** A message from a handset (20): kept (reassembled when long), then acknowledged. */
  async #handleMo(packet: Cimd2Packet): Promise<number> {
    const from = inboundAddress(
      param(packet, Param.ORIGINATING_ADDRESS) ?? param(packet, Param.ALPHANUMERIC_ORIGINATING_ADDRESS) ?? '',
    );
    const to = inboundAddress(param(packet, Param.DESTINATION_ADDRESS) ?? '');
    const dcs = intParam(packet, Param.DATA_CODING_SCHEME) ?? 0;
    const udhHex = param(packet, Param.USER_DATA_HEADER);
    const text = param(packet, Param.USER_DATA);
    const binaryHex = param(packet, Param.USER_DATA_BINARY);
    if ((udhHex !== undefined && !isHex(udhHex)) || (binaryHex !== undefined && !isHex(binaryHex))) {
      return ErrorCode.PARAMETER_FORMATTING;
    }
    // Text (033) arrives in the character conversion: as septets it reads as GSM default text.
    const dataCoding = text !== undefined && encodingFromDataCoding(dcs).encoding !== 'gsm7' ? 0 : dcs;
    const userData = text !== undefined ? cimd2ToSeptets(text) : Buffer.from(binaryHex ?? '', 'hex');
    const udh = udhHex === undefined || udhHex === '' ? null : Buffer.from(udhHex, 'hex');
    const body = udh === null ? userData : Buffer.concat([udh, userData]);
    const key = `${from}\u0000${to}`;
    const kept = await this.#pool.inbound.receive({
      key,
      id: `${key}\u0000${dataCoding}\u0000${body.toString('hex')}`,
      body,
      dataCoding,
      udh: udh !== null,
      sar: null,
    });
    return kept ? 0 : ErrorCode.TEMPORARY_CONGESTION;
  }
}

/** A 70/73 answer: empty, or the error code that makes the SMS centre try again. */
function answerOf(errorCode: number): Cimd2Packet['params'] {
  return errorCode === 0 ? [] : [[Param.ERROR_CODE, String(errorCode)]];
}

/** A part's smscId: its destination (without `+`) and the service centre timestamp. */
export function cimd2MessageId(destination: string, timestamp: string): string {
  return `${destination.replace(/^\+/, '')}:${timestamp}`;
}

/** yymmddhhmmss (the SMS centre's local time, read as UTC) → a Date, or null. */
function parseCimd2Time(value: string): Date | null {
  const m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return new Date(Date.UTC(2000 + y, mo - 1, d, h, mi, s));
}

/** GSM 03.40 relative validity (0..255) covering at least `ms`, capped at 63 weeks. */
function relativeValidity(ms: number): number {
  const minutes = Math.max(5, Math.ceil(ms / 60_000));
  if (minutes <= 720) return Math.ceil(minutes / 5) - 1;
  if (minutes <= 1440) return 143 + Math.ceil((minutes - 720) / 30);
  const days = Math.ceil(minutes / 1440);
  if (days <= 30) return 166 + days;
  return Math.min(255, 192 + Math.ceil(days / 7));
}

/** A number as the gateway writes it: `00` international prefix as `+`, else as it came. */
function inboundAddress(address: string): string {
  return address.startsWith('00') && /^\d+$/.test(address) ? `+${address.slice(2)}` : address;
}

function isHex(value: string): boolean {
  return value.length % 2 === 0 && /^[0-9A-Fa-f]*$/.test(value);
}
