// The ESME role: connects to an SMSC, binds, keeps the bind up (reconnecting with
// exponential back-off and jitter), and hands inbound deliver_sm / data_sm upwards.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { Backoff, defaultReconnect } from '../net/index.ts';
import { CommandStatus, InterfaceVersion, statusName } from './constants.ts';
import { SmppError } from './errors.ts';
import type { Pdu } from './pdu.ts';
import type { BindType, OutgoingPdu, SessionOptions } from './session.ts';
import { SmppSession } from './session.ts';

export interface SmppClientOptions extends SessionOptions {
  host: string;
  port: number;
  /** TLS towards the SMSC: `true` for defaults, or node:tls options (ca, servername…). */
  tls?: boolean | tls.ConnectionOptions;
  systemId: string;
  password: string;
  systemType?: string;
  bindType?: BindType;
  interfaceVersion?: number;
  addrTon?: number;
  addrNpi?: number;
  addressRange?: string;
  connectTimeoutMs?: number;
  /** Reconnect back-off; `false` makes a lost or refused bind final. */
  reconnect?: { minMs: number; maxMs: number } | false;
}

export type SmppClientState = 'idle' | 'connecting' | 'binding' | 'bound' | 'backoff' | 'stopped';

export interface SmppClientEvents {
  state: [state: SmppClientState];
  bound: [session: SmppSession];
  /** The bind is gone (the client reconnects unless stopped). */
  unbound: [err?: Error];
  /** The SMSC refused the bind; `status` is its command_status. */
  bindFailed: [status: number];
  /** A connection or bind attempt ended before the bind was up (refused, timed out, closed). */
  connectFailed: [err: Error];
  /** An inbound request (deliver_sm, data_sm, alert_notification): answer with session.respond. */
  request: [pdu: Pdu, session: SmppSession];
  throttled: [status: number, pauseMs: number];
  drain: [];
  protocolError: [err: Error];
}

const bindCommand = {
  transmitter: 'bind_transmitter',
  receiver: 'bind_receiver',
  transceiver: 'bind_transceiver',
} as const;

export class SmppClient extends EventEmitter<SmppClientEvents> {
  state: SmppClientState = 'idle';
  session: SmppSession | null = null;
  /** Binds that succeeded since start, and connection attempts that failed. */
  readonly stats = { binds: 0, failures: 0 };

  readonly #options: SmppClientOptions;
  readonly #backoff: Backoff;
  #retryTimer: NodeJS.Timeout | null = null;

  constructor(options: SmppClientOptions) {
    super();
    this.#options = options;
    this.#backoff = new Backoff(options.reconnect || defaultReconnect);
  }

  get bindType(): BindType {
    return this.#options.bindType ?? 'transceiver';
  }

  start(): void {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    this.#connect();
  }

  /** Unbinds in order and stops reconnecting. */
  async stop(): Promise<void> {
    this.#setState('stopped');
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const session = this.session;
    if (session) await session.unbind();
  }

  /** Resolves once bound (rejects after `timeoutMs`, or when the client is stopped). */
  waitBound(timeoutMs = 10_000): Promise<SmppSession> {
    if (this.state === 'bound' && this.session) return Promise.resolve(this.session);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('bound', onBound);
        reject(new SmppError('not_bound', `not bound within ${timeoutMs} ms`));
      }, timeoutMs);
      const onBound = (session: SmppSession) => {
        clearTimeout(timer);
        resolve(session);
      };
      this.once('bound', onBound);
    });
  }

  /** Sends a request over the current bind; rejects at once when not bound. */
  request(pdu: OutgoingPdu): Promise<Pdu> {
    const session = this.session;
    if (this.state !== 'bound' || session === null) {
      return Promise.reject(new SmppError('not_bound', `client is ${this.state}`));
    }
    return session.request(pdu);
  }

  #setState(state: SmppClientState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  #connect(): void {
    const o = this.#options;
    this.#setState('connecting');
    const socket =
      o.tls === undefined || o.tls === false
        ? net.connect({ host: o.host, port: o.port })
        : tls.connect({
            host: o.host,
            port: o.port,
            servername: net.isIP(o.host) ? undefined : o.host,
            ...(o.tls === true ? {} : o.tls),
          });
    const connectEvent = o.tls ? 'secureConnect' : 'connect';
    socket.setTimeout(o.connectTimeoutMs ?? 10_000, () => socket.destroy(new Error('connect timeout')));
    const onEarlyError = (err: Error) => {
      if (this.state !== 'stopped') this.emit('connectFailed', err);
      this.#onLost(err);
    };
    socket.once('error', onEarlyError);
    socket.once('close', () => {
      if (this.session === null)
        this.#onLost(new SmppError('connection_lost', 'connection closed before bind'));
    });
    socket.once(connectEvent, () => {
      socket.setTimeout(0);
      socket.off('error', onEarlyError);
      this.#bind(new SmppSession(socket, o));
    });
  }

  async #bind(session: SmppSession): Promise<void> {
    const o = this.#options;
    this.session = session;
    this.#setState('binding');
    session.on('close', (err) => {
      if (this.session === session) this.session = null;
      const wasBound = session.bindType !== null;
      if (wasBound) this.emit('unbound', err);
      else if (this.state !== 'stopped')
        this.emit('connectFailed', err ?? new SmppError('connection_lost', 'connection closed before bind'));
      this.#onLost(err);
    });
    session.on('request', (pdu) => this.emit('request', pdu, session));
    session.on('throttled', (status, pauseMs) => this.emit('throttled', status, pauseMs));
    session.on('drain', () => this.emit('drain'));
    session.on('protocolError', (err) => this.emit('protocolError', err));
    let response: Pdu;
    try {
      response = await session.request({
        command: bindCommand[this.bindType],
        systemId: o.systemId,
        password: o.password,
        systemType: o.systemType ?? '',
        interfaceVersion: o.interfaceVersion ?? InterfaceVersion.V34,
        addrTon: o.addrTon ?? 0,
        addrNpi: o.addrNpi ?? 0,
        addressRange: o.addressRange ?? '',
      });
    } catch (err) {
      session.close(err as Error);
      return;
    }
    if (response.commandStatus !== CommandStatus.ESME_ROK) {
      this.emit('bindFailed', response.commandStatus);
      session.close(
        new SmppError(
          'bind_failed',
          `bind refused: ${statusName(response.commandStatus)}`,
          undefined,
          response.commandStatus,
        ),
      );
      return;
    }
    if (this.state === 'stopped') {
      await session.unbind();
      return;
    }
    session.state = 'bound';
    session.bindType = this.bindType;
    session.peerSystemId = 'systemId' in response ? response.systemId : '';
    this.#backoff.reset();
    this.stats.binds++;
    this.#setState('bound');
    this.emit('bound', session);
  }

  #onLost(_err?: Error): void {
    if (this.state === 'stopped' || this.state === 'backoff') return;
    if (this.session !== null && this.session.state !== 'closed') return;
    this.stats.failures++;
    if (this.#options.reconnect === false) {
      this.#setState('stopped');
      return;
    }
    const delay = this.#backoff.next();
    this.#setState('backoff');
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.state === 'backoff') this.#connect();
    }, delay);
  }
}
