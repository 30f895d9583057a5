// The application's end of CIMD2: connects to the SMS centre, logs in (01), keeps the
// session alive, logs out (02) when stopped, and reconnects with back-off (and jitter)
// when the link is lost or the login refused.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Backoff, defaultReconnect } from '../net/index.ts';
import type { Cimd2Packet } from './codec.ts';
import { intParam } from './codec.ts';
import { errorName, Operation, Param } from './constants.ts';
import { Cimd2Error, Cimd2Session } from './session.ts';

export interface Cimd2ClientOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  window?: number;
  requestTimeoutMs?: number;
  /** Alive (40) after this long without a packet from the SMS centre; 0: never. */
  aliveMs?: number;
  checksum?: boolean;
  connectTimeoutMs?: number;
  reconnect?: { minMs: number; maxMs: number };
}

export type Cimd2ClientState = 'idle' | 'connecting' | 'login' | 'bound' | 'backoff' | 'stopped';

export interface Cimd2ClientEvents {
  state: [state: Cimd2ClientState];
  /** The session is gone after a login (the client reconnects unless stopped). */
  down: [err: Error | null];
  /** The SMS centre refused the login: parameter 900 of its answer. */
  loginFailed: [errorCode: number];
  /** A connection or login attempt ended before the login (refused, timed out, closed). */
  connectFailed: [err: Error];
  /** A request of the SMS centre (20, 23): answer with session.respond. */
  request: [packet: Cimd2Packet, session: Cimd2Session];
  protocolError: [err: Error];
}

export class Cimd2Client extends EventEmitter<Cimd2ClientEvents> {
  state: Cimd2ClientState = 'idle';
  /** The logged-in session, or null. */
  session: Cimd2Session | null = null;
  /** Logins that succeeded since start, and attempts that failed. */
  readonly stats = { logins: 0, failures: 0 };

  readonly #options: Cimd2ClientOptions;
  readonly #backoff: Backoff;
  #retryTimer: NodeJS.Timeout | null = null;
  #connecting: Cimd2Session | null = null;

  constructor(options: Cimd2ClientOptions) {
    super();
    this.#options = options;
    this.#backoff = new Backoff(options.reconnect ?? defaultReconnect);
  }

  start(): void {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    this.#connect();
  }

  /** Logs out in order (waiting for the answer a while) and stops reconnecting. */
  async stop(): Promise<void> {
    this.#setState('stopped');
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#connecting?.close();
    const session = this.session;
    if (session === null) return;
    try {
      await session.request(Operation.LOGOUT);
    } catch {
      // Gone already, or no answer: closing is all that is left.
    }
    session.close();
  }

  #setState(state: Cimd2ClientState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  #connect(): void {
    const o = this.#options;
    this.#setState('connecting');
    const socket = net.connect({ host: o.host, port: o.port });
    socket.setTimeout(o.connectTimeoutMs ?? 10_000, () => socket.destroy(new Error('connect timeout')));
    const onEarlyError = (err: Error) => {
      if (this.state !== 'stopped') this.emit('connectFailed', err);
      this.#onLost();
    };
    socket.once('error', onEarlyError);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.off('error', onEarlyError);
      void this.#login(
        new Cimd2Session(socket, {
          role: 'client',
          window: o.window ?? 1,
          requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
          aliveMs: o.aliveMs ?? 60_000,
          checksum: o.checksum ?? false,
        }),
      );
    });
  }

  async #login(session: Cimd2Session): Promise<void> {
    const o = this.#options;
    this.#connecting = session;
    this.#setState('login');
    let loggedIn = false;
    session.on('close', (err) => {
      if (this.session === session) this.session = null;
      if (this.#connecting === session) this.#connecting = null;
      if (loggedIn) this.emit('down', err);
      else if (this.state !== 'stopped')
        this.emit(
          'connectFailed',
          err ?? new Cimd2Error('connection_lost', 'connection closed before login'),
        );
      this.#onLost();
    });
    session.on('request', (packet) => this.emit('request', packet, session));
    session.on('protocolError', (err) => this.emit('protocolError', err));
    let response: Cimd2Packet;
    try {
      response = await session.request(Operation.LOGIN, [
        [Param.USER_IDENTITY, o.username],
        [Param.PASSWORD, o.password],
      ]);
    } catch {
      session.close(); // 'close' tells connectFailed
      return;
    }
    const errorCode = intParam(response, Param.ERROR_CODE);
    if (response.operation !== Operation.LOGIN + Operation.RESPONSE || (errorCode ?? 0) !== 0) {
      const code = errorCode ?? 0;
      this.emit('loginFailed', code);
      session.removeAllListeners('close');
      session.on('close', () => this.#onLost());
      this.#connecting = null;
      session.close();
      return;
    }
    this.#connecting = null;
    if (this.state === 'stopped') {
      await session.request(Operation.LOGOUT).catch(() => undefined);
      session.close();
      return;
    }
    loggedIn = true;
    this.session = session;
    this.#backoff.reset();
    this.stats.logins++;
    this.#setState('bound');
  }

  #onLost(): void {
    if (this.state === 'stopped' || this.state === 'backoff') return;
    if (this.session !== null && !this.session.closed) return;
    this.stats.failures++;
    const delay = this.#backoff.next();
    this.#setState('backoff');
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.state === 'backoff') this.#connect();
    }, delay);
  }
}

/** How a refused login reads: `login refused: error 100 (invalid login)`. */
export function loginFailure(errorCode: number): string {
  return `login refused: ${errorName(errorCode)}`;
}
