// An SMT's connection to an SMSC that stays up: connect, log in (operation 60, STYP 1 open
// session, the password IRA-encoded), run the session, and after a failure connect again
// with a growing back-off. A refused login is told apart from a lost connection.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Backoff, defaultReconnect } from '../net/index.ts';
import type { UcpFrame } from './codec.ts';
import { encodeIra } from './fields.ts';
import { errorName, fieldsOf, Ot, op60Fields, readResult } from './operations.ts';
import type { UcpSessionOptions } from './session.ts';
import { UcpSession } from './session.ts';

export interface UcpClientOptions extends UcpSessionOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  /** Back-off between attempts: doubles from min to max, with jitter. */
  reconnect?: { minMs: number; maxMs: number };
  connectTimeoutMs?: number;
}

export type UcpClientState = 'connecting' | 'bound' | 'backoff' | 'stopped';

export interface UcpClientEvents {
  state: [state: UcpClientState];
  /** The SMSC answered the login with a NAck: its error code and what it means. */
  loginFailed: [ec: string, reason: string];
  /** Connecting, or waiting for the login's answer, failed for another reason. */
  connectFailed: [err: Error];
  /** A logged-in session ended (null when we ended it). */
  unbound: [err: Error | null];
  operation: [frame: UcpFrame, session: UcpSession];
  protocolError: [err: Error];
  drain: [];
}

export class UcpClient extends EventEmitter<UcpClientEvents> {
  readonly #o: UcpClientOptions;
  #state: UcpClientState = 'connecting';
  #session: UcpSession | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #backoff: Backoff;
  #stopped = false;
  /** Logins that succeeded, and attempts that failed, since start. */
  readonly stats = { binds: 0, failures: 0 };

  constructor(options: UcpClientOptions) {
    super();
    this.#o = options;
    this.#backoff = new Backoff(options.reconnect ?? defaultReconnect);
  }

  get state(): UcpClientState {
    return this.#state;
  }

  /** The logged-in session, or null. */
  get session(): UcpSession | null {
    return this.#state === 'bound' ? this.#session : null;
  }

  start(): void {
    void this.#connect();
  }

  /** Closes once the operations on the wire are answered; no reconnect after. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const session = this.#session;
    this.#setState('stopped');
    if (session && !session.closed) await session.end();
  }

  #setState(state: UcpClientState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    this.#setState('connecting');
    let socket: net.Socket;
    try {
      socket = await this.#open();
    } catch (err) {
      this.#failed(err as Error);
      return;
    }
    if (this.#stopped) {
      socket.destroy();
      return;
    }
    const session = new UcpSession(socket, {
      ...this.#o,
      keepAliveAddress: this.#o.keepAliveAddress ?? this.#o.username,
    });
    this.#session = session;
    session.on('protocolError', (err) => this.emit('protocolError', err));
    session.on('operation', (frame) => this.emit('operation', frame, session));
    session.on('drain', () => this.emit('drain'));
    let result: ReturnType<typeof readResult>;
    try {
      const answer = await session.request(
        Ot.SESSION,
        fieldsOf(op60Fields, {
          OAdC: this.#o.username,
          OTON: '6',
          ONPI: '5',
          STYP: '1',
          PWD: encodeIra(this.#o.password),
          VERS: '0100',
        }),
      );
      result = readResult(answer);
    } catch (err) {
      session.destroy();
      this.#failed(err as Error);
      return;
    }
    if (!result.ack) {
      session.destroy();
      this.stats.failures++;
      this.emit('loginFailed', result.ec, errorName(result.ec));
      this.#retry();
      return;
    }
    if (this.#stopped) {
      await session.end();
      return;
    }
    this.stats.binds++;
    this.#backoff.reset();
    session.once('close', (err) => {
      if (this.#session === session) this.#session = null;
      if (this.#stopped) return;
      this.emit('unbound', err ?? new Error('connection closed by the SMSC'));
      this.#retry();
    });
    this.#setState('bound');
  }

  #open(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.#o.host, port: this.#o.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${this.#o.host}:${this.#o.port} timed out`));
      }, this.#o.connectTimeoutMs ?? 10_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  #failed(err: Error): void {
    this.stats.failures++;
    this.emit('connectFailed', err);
    this.#retry();
  }

  #retry(): void {
    if (this.#stopped) return;
    this.#setState('backoff');
    const wait = this.#backoff.next();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#connect();
    }, wait);
  }
}
