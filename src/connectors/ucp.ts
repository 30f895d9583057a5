// The UCP/EMI carrier connector: a few logged-in sessions to one SMSC, each with its window
// of TRNs, sharing one tps budget. A long text goes as parts with a concatenation UDH (in
// XSer), each asking for a delivery notification (NRq 1, NT 3), all parts on one session.
// The SMSC's ACK names a part as `AdC:SCTS`, and its notification (operation 53) carries
// the same recipient and SCTS, so that is the part's SMSC id. Deliveries (operation 52) are
// reassembled, and the SMSC gets its ACK only once the sink has kept what came.
import { EventEmitter } from 'node:events';
import type { UcpConnectorConfig } from '../config/index.ts';
import { dataCodingFor, encodeText } from '../sms/index.ts';
import type { Op5x, UcpFrame, UcpSession } from '../ucp/index.ts';
import {
  binaryBodies,
  dataBody,
  errorName,
  fieldsOf,
  formatUcpTime,
  fromUcpAddress,
  isIraText,
  namedFields,
  Ot,
  op5xFields,
  parseUcpTime,
  readBody,
  readResult,
  textBodies,
  textBody,
  toUcpOriginator,
  toUcpRecipient,
  UcpClient,
  UcpSessionError,
} from '../ucp/index.ts';
import { BindPool, type PooledBind } from './bind-pool.ts';
import type { ConnectorLogger } from './logger.ts';
import { silentLogger } from './logger.ts';
import { type PartOutcome, submitResultOf } from './parts.ts';
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
export interface UcpConnectorOptions {
  reconnect?: { minMs: number; maxMs: number };
  /** How long the parts of a long inbound message are waited for before it goes on incomplete. */
  reassemblyTimeoutMs?: number;
}

type Bind = PooledBind<UcpClient>;

/** NAck codes after which the same message may go through later: the SMSC's trouble, not the message's. */
const temporaryCodes = new Set(['04', '50', '55']);

/** Dst of a delivery notification → receipt status and the SMPP-style stat word the core reports. */
const notificationStatus = new Map<string, { status: ReceiptStatus; stat: string }>(
  Object.entries({
    '0': { status: 'delivered', stat: 'DELIVRD' },
    '1': { status: 'accepted', stat: 'ACCEPTD' },
    '2': { status: 'undelivered', stat: 'UNDELIV' },
  }),
);

export class UcpConnector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly id: string;
  readonly type = 'ucp';
  readonly budget: { binds: number; tps: number };

  readonly #config: UcpConnectorConfig;
  readonly #sink: ConnectorSink;
  readonly #log: ConnectorLogger;
  readonly #options: UcpConnectorOptions;
  readonly #pool: BindPool<UcpClient>;
  readonly #sends = new SendTracker();

  constructor(
    config: UcpConnectorConfig,
    sink: ConnectorSink,
    logger: ConnectorLogger = silentLogger,
    options: UcpConnectorOptions = {},
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
      canSend: (client) => client.session !== null,
      tried: (client) => client.stats.binds + client.stats.failures > 0,
    });
    this.budget = { binds: config.binds, tps: config.tps };
  }

  start(): Promise<void> {
    return this.#pool.start();
  }

  share(binds: number, tps: number): Promise<void> {
    return this.#pool.share(binds, tps);
  }

  #newClient(): UcpClient {
    const c = this.#config;
    return new UcpClient({
      host: c.host,
      port: c.port,
      username: c.username,
      password: c.password,
      window: c.window,
      requestTimeoutMs: c.requestTimeoutSeconds * 1000,
      keepAliveMs: c.keepAliveSeconds * 1000,
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

  #watch(bind: Bind): void {
    const client = bind.client;
    const where = { connector: this.id, bind: bind.index };
    client.on('state', (state) => this.#pool.bindState(bind, state));
    client.on('unbound', (err) => this.#pool.bindDown(bind, err?.message ?? 'connection closed by the SMSC'));
    client.on('loginFailed', (ec, reason) => {
      this.#log.error({ ...where, ec, reason }, 'connector bind refused');
      this.#pool.failed(`login refused: ${ec} ${reason}`);
    });
    client.on('connectFailed', (err) => this.#pool.connectFailed(bind, err));
    client.on('protocolError', (err) => this.#log.warn({ ...where, err }, 'protocol error from the SMSC'));
    client.on('operation', (frame, session) => this.#onOperation(frame, session));
  }

  // ---- sending ----

  async #send(sms: OutboundSms): Promise<SubmitResult> {
    if (this.#pool.stopping) {
      return { ok: false, temporary: true, code: 'stopped', message: 'connector is stopping' };
    }
    let operations: Op5x[];
    try {
      operations = this.#submits(sms);
    } catch (err) {
      return { ok: false, temporary: false, code: 'invalid_message', message: (err as Error).message };
    }
    const bind = this.#pool.leastLoaded();
    const session = bind?.client.session;
    if (!bind || !session) return { ok: false, temporary: true, code: 'not_bound', message: 'no bind is up' };
    const outcomes = await Promise.all(operations.map((op) => this.#submit(bind, session, op)));
    return submitResultOf(outcomes);
  }

  async #submit(bind: Bind, session: UcpSession, op: Op5x): Promise<PartOutcome> {
    bind.inFlight++;
    try {
      await this.#pool.paced();
      const answer = readResult(await session.request(Ot.SUBMIT, fieldsOf(op5xFields, op)));
      if (answer.ack) return { ok: true, smscId: partId(answer.sm) };
      return {
        ok: false,
        temporary: temporaryCodes.has(answer.ec),
        code: `ucp_${answer.ec}`,
        message: `the SMSC answered NAck ${answer.ec} (${errorName(answer.ec)})${answer.sm ? `: ${answer.sm}` : ''}`,
      };
    } catch (err) {
      const code = err instanceof UcpSessionError ? `ucp_${err.code}` : 'ucp_error';
      // A submit left unanswered may be lost or stuck: the link is dropped and made again.
      if (err instanceof UcpSessionError && err.code === 'timeout') session.destroy(err);
      return { ok: false, temporary: true, code, message: (err as Error).message };
    } finally {
      bind.inFlight--;
    }
  }

  /** One operation 51 per part, each asking for a notification when the message does. */
  #submits(sms: OutboundSms): Op5x[] {
    const options = { flash: sms.flash };
    let bodies: Op5x[];
    if (sms.udh !== null) bodies = [ownHeaderBody(sms)];
    else if (sms.text !== null) bodies = textBodies(sms.text, sms.encoding, options);
    else if (sms.binary !== null) bodies = binaryBodies(sms.binary, options);
    else throw new Error('a message needs text or binary content');
    const originator = toUcpOriginator(sms.from);
    const common: Op5x = {
      AdC: toUcpRecipient(sms.to),
      OAdC: originator.OAdC,
      ...(originator.OTOA ? { OTOA: originator.OTOA } : {}),
      ...(sms.receipt ? { NRq: '1', NT: '3' } : {}),
      ...(sms.validUntil === null ? {} : { VP: formatUcpTime(new Date(sms.validUntil), false) }),
      ...(sms.flash ? { MCLs: '0' } : {}),
    };
    return bodies.map((body) => ({ ...common, ...body }));
  }

  // ---- receiving ----

  #onOperation(frame: UcpFrame, session: UcpSession): void {
    if (frame.ot === Ot.ALERT) {
      session.respond(frame, { ack: true });
      return;
    }
    if (frame.ot !== Ot.DELIVER && frame.ot !== Ot.NOTIFICATION) {
      session.respond(frame, { ack: false, ec: '03' });
      return;
    }
    const handling = (
      frame.ot === Ot.DELIVER ? this.#handleDeliver(frame) : this.#handleNotification(frame)
    ).then(
      (ec) => session.respond(frame, ec === null ? { ack: true } : { ack: false, ec }),
      (err: unknown) => {
        this.#log.error({ connector: this.id, err }, 'inbound operation could not be handled');
        session.respond(frame, { ack: false, ec: '55' });
      },
    );
    this.#pool.inbound.track(handling);
  }

  /** A delivery notification; resolves to null (ACK) or a NAck's error code. */
  async #handleNotification(frame: UcpFrame): Promise<string | null> {
    const op = namedFields(op5xFields, frame.fields);
    const outcome = notificationStatus.get(op.Dst ?? '');
    if (!outcome || !op.OAdC || !op.SCTS) {
      this.#log.warn({ connector: this.id, dst: op.Dst }, 'notification without Dst, OAdC or SCTS refused');
      return '02';
    }
    try {
      await this.#sink.receipt({
        connectorId: this.id,
        // The notification's OAdC is the recipient of the message it is about.
        smscId: partId(`${op.OAdC}:${op.SCTS}`),
        status: outcome.status,
        stat: outcome.stat,
        err: op.Rsn ?? (outcome.status === 'delivered' ? '000' : ''),
        doneAt: parseUcpTime(op.DSCTS ?? '')?.getTime() ?? null,
        networkErrorCode: op.Rsn === undefined ? null : Number(op.Rsn),
      });
      return null;
    } catch (err) {
      this.#log.warn({ connector: this.id, err }, 'sink refused a notification; the SMSC will retry');
      return '55';
    }
  }

  async #handleDeliver(frame: UcpFrame): Promise<string | null> {
    const op = namedFields(op5xFields, frame.fields);
    let body: ReturnType<typeof readBody>;
    let from: string;
    try {
      body = readBody(op);
      from = fromUcpAddress(op.OAdC ?? '', op.OTOA);
    } catch (err) {
      this.#log.warn({ connector: this.id, err }, 'deliver with an unreadable body refused');
      return '02';
    }
    const to = fromUcpAddress(op.AdC ?? '');
    const key = `${from}\u0000${to}`;
    const message = body.udh === null ? body.payload : Buffer.concat([body.udh, body.payload]);
    const kept = await this.#pool.inbound.receive({
      key,
      id: `${key}\u0000${body.dataCoding}\u0000${message.toString('hex')}`,
      body: message,
      dataCoding: body.dataCoding,
      udh: body.udh !== null,
      sar: null,
    });
    return kept ? null : '55';
  }
}

/** One part carrying the message's own header as it is (an ESME's part of a long message). */
function ownHeaderBody(sms: OutboundSms): Op5x {
  if (sms.text !== null && sms.encoding !== 'ucs2' && isIraText(sms.text)) return textBody(sms.text, sms.udh);
  const octets = sms.binary ?? encodeText(sms.text ?? '', sms.encoding);
  return dataBody(octets, dataCodingFor(sms.encoding, { flash: sms.flash }), sms.udh);
}

/**
 * A part's SMSC id from `AdC:SCTS` (an ACK's SM, or a notification's OAdC and SCTS): the
 * recipient's digits without a leading `+` or zeros, so `0044…`, `+44…` and `44…` meet.
 */
function partId(adcScts: string): string {
  const colon = adcScts.lastIndexOf(':');
  if (colon < 0) return adcScts;
  return `${adcScts.slice(0, colon).replace(/^\+/, '').replace(/^0+/, '')}:${adcScts.slice(colon + 1)}`;
}
