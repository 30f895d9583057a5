// One CIMD2 connection, either end: packet numbers (odd from the application, even from the
// SMS centre, each wrapping within 0..255), a window of requests awaiting their responses
// (more wait their turn), a timeout per request, and the alive (40) keep-alive. What the
// peer asks comes out as 'request' events, answered with respond().
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Cimd2Packet } from './codec.ts';
import { type Cimd2DecodeError, Cimd2Framer, decodePacket, encodePacket } from './codec.ts';
import { ErrorCode, Operation, Param } from './constants.ts';

export type Cimd2ErrorCode = 'timeout' | 'connection_lost' | 'closed' | 'dead_peer' | 'login_failed';

export class Cimd2Error extends Error {
  readonly code: Cimd2ErrorCode;
  /** Parameter 900 of the answer, when the peer answered with an error. */
  readonly errorCode: number | undefined;

  constructor(code: Cimd2ErrorCode, message: string, errorCode?: number) {
    super(message);
    this.name = 'Cimd2Error';
    this.code = code;
    this.errorCode = errorCode;
  }
}

export interface Cimd2SessionOptions {
  /** 'client' numbers its packets odd (the application), 'server' even (the SMS centre). */
  role: 'client' | 'server';
  /** Requests sent and not yet answered, at most (CIMD2 allows up to 128). */
  window?: number;
  requestTimeoutMs?: number;
  /** After this long without a packet from the peer an alive (40) is sent; 0: never. */
  aliveMs?: number;
  /** Put a checksum on every packet sent. */
  checksum?: boolean;
}

export interface Cimd2SessionEvents {
  request: [packet: Cimd2Packet];
  /** The peer's alive (40), answered already. */
  alive: [];
  /** A packet that could not be read, or a response that matched nothing. */
  protocolError: [err: Error];
  close: [err: Error | null];
}

interface Pending {
  operation: number;
  params: Cimd2Packet['params'];
  /** Times it was sent again after a NACK. */
  resent: number;
  resolve: (packet: Cimd2Packet) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface Waiting {
  operation: number;
  params: Cimd2Packet['params'];
  resent: number;
  resolve: (packet: Cimd2Packet) => void;
  reject: (err: Error) => void;
}

/** A request the peer answers with NACK (99) is sent again this many times, then given up. */
const maxResends = 2;

/** Window size at most: the odd (or even) packet numbers 0..255 hold 128. */
export const maxWindow = 128;

export class Cimd2Session extends EventEmitter<Cimd2SessionEvents> {
  readonly socket: Socket;
  readonly #window: number;
  readonly #timeoutMs: number;
  readonly #checksum: boolean;
  readonly #framer = new Cimd2Framer();
  readonly #pending = new Map<number, Pending>();
  readonly #waiting: Waiting[] = [];
  #next: number;
  #lastHeard = Date.now();
  #aliveTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(socket: Socket, options: Cimd2SessionOptions) {
    super();
    this.socket = socket;
    this.#window = Math.max(1, Math.min(maxWindow, options.window ?? 1));
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#checksum = options.checksum ?? false;
    this.#next = options.role === 'client' ? 1 : 0;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#close(err));
    socket.on('close', () => this.#close(null));
    const aliveMs = options.aliveMs ?? 0;
    if (aliveMs > 0) {
      this.#aliveTimer = setInterval(() => {
        if (Date.now() - this.#lastHeard < aliveMs || this.#pending.size > 0) return;
        this.request(Operation.ALIVE).catch(() => {
          this.#close(new Cimd2Error('dead_peer', 'no answer to alive'));
        });
      }, aliveMs);
      this.#aliveTimer.unref();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Requests awaiting their responses. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Sends a request when the window has room (else it waits its turn); resolves with the response. */
  request(operation: number, params: Cimd2Packet['params'] = []): Promise<Cimd2Packet> {
    if (this.#closed) return Promise.reject(new Cimd2Error('closed', 'the session is closed'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ operation, params, resent: 0, resolve, reject });
      this.#pump();
    });
  }

  /** Answers a request of the peer: its operation + 50, its packet number. */
  respond(request: Cimd2Packet, params: Cimd2Packet['params'] = []): void {
    this.#send({
      operation: request.operation + Operation.RESPONSE,
      packetNumber: request.packetNumber,
      params,
    });
  }

  /** Ends the connection; what is pending fails. */
  close(): void {
    this.socket.destroy();
    this.#close(null);
  }

  /** Ends the connection once what was written has gone. */
  end(): void {
    this.socket.end();
  }

  #pump(): void {
    while (this.#waiting.length > 0 && this.#pending.size < this.#window) {
      const w = this.#waiting.shift()!;
      const packetNumber = this.#nextNumber();
      const timer = setTimeout(() => {
        this.#pending.delete(packetNumber);
        w.reject(
          new Cimd2Error('timeout', `no response to operation ${w.operation} in ${this.#timeoutMs} ms`),
        );
        this.#pump();
      }, this.#timeoutMs);
      this.#pending.set(packetNumber, { ...w, timer });
      try {
        this.#send({ operation: w.operation, packetNumber, params: w.params });
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(packetNumber);
        w.reject(err as Error);
      }
    }
  }

  /** The next free number of our parity, wrapping past 255. */
  #nextNumber(): number {
    for (;;) {
      const n = this.#next;
      this.#next = (this.#next + 2) % 256;
      if (!this.#pending.has(n)) return n;
    }
  }

  #send(packet: Cimd2Packet): void {
    if (this.#closed) return;
    this.socket.write(encodePacket(packet, { checksum: this.#checksum }));
  }

  #onData(chunk: Buffer): void {
    this.#lastHeard = Date.now();
    let frames: Buffer[];
    try {
      frames = this.#framer.push(chunk);
    } catch (err) {
      this.emit('protocolError', err as Error);
      this.close();
      return;
    }
    for (const frame of frames) {
      if (this.#closed) return;
      let packet: Cimd2Packet;
      try {
        packet = decodePacket(frame);
      } catch (err) {
        this.#onUnreadable(err as Cimd2DecodeError);
        continue;
      }
      this.#onPacket(packet);
    }
  }

  #onUnreadable(err: Cimd2DecodeError): void {
    this.emit('protocolError', err);
    if (err.packetNumber === undefined || err.operation === undefined) return;
    if (err.operation >= Operation.RESPONSE) return; // a response: nothing to answer
    if (err.badChecksum) {
      this.#send({ operation: Operation.NACK, packetNumber: err.packetNumber, params: [] });
    } else {
      this.#send({
        operation: Operation.GENERAL_ERROR,
        packetNumber: err.packetNumber,
        params: [[Param.ERROR_CODE, String(ErrorCode.SYNTAX_ERROR)]],
      });
    }
  }

  #onPacket(packet: Cimd2Packet): void {
    if (packet.operation < Operation.RESPONSE) {
      if (packet.operation === Operation.ALIVE) {
        this.respond(packet);
        this.emit('alive');
        return;
      }
      this.emit('request', packet);
      return;
    }
    const pending = this.#pending.get(packet.packetNumber);
    const answers =
      pending !== undefined &&
      (packet.operation === pending.operation + Operation.RESPONSE ||
        packet.operation === Operation.GENERAL_ERROR ||
        packet.operation === Operation.NACK);
    if (!answers) {
      this.emit(
        'protocolError',
        new Error(`response ${packet.operation} to packet ${packet.packetNumber} matches no request`),
      );
      return;
    }
    clearTimeout(pending.timer);
    this.#pending.delete(packet.packetNumber);
    if (packet.operation === Operation.NACK && pending.resent < maxResends) {
      // The peer could not read it (a checksum, say): sent again, first in line.
      const { timer: _, ...request } = pending;
      this.#waiting.unshift({ ...request, resent: pending.resent + 1 });
    } else {
      pending.resolve(packet);
    }
    this.#pump();
  }

  #close(err: Error | null): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#aliveTimer !== null) clearInterval(this.#aliveTimer);
    if (!this.socket.destroyed) this.socket.destroy();
    const lost =
      err instanceof Cimd2Error
        ? err
        : new Cimd2Error('connection_lost', err?.message ?? 'connection closed');
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(lost);
    }
    this.#pending.clear();
    for (const w of this.#waiting.splice(0)) w.reject(lost);
    this.emit('close', err);
  }
}
