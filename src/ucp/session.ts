// One UCP/EMI connection, either side. It owns the TRNs of the operations it sends (00..99,
// the next free one in turn, so a window of up to 100 is outstanding at once), their
// timeouts, and the keep-alive (operation 31 after an idle spell). Operations the peer sends
// are handed up to be answered with `respond`; malformed ones are answered here with a
// NAck (01 checksum error, 02 syntax error).
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { UcpFrame } from './codec.ts';
import { decodeFrame, encodeFrame, maxWindow, UcpDecodeError } from './codec.ts';
import { UcpFramer } from './framer.ts';
import { expectedFieldCount, fieldsOf, Ot, op31Fields, resultFields } from './operations.ts';

export interface UcpSessionOptions {
  /** Operations outstanding before further ones wait (at most 100, the TRNs there are). */
  window?: number;
  /** How long an operation waits for its result. */
  requestTimeoutMs?: number;
  /** Idle time after which an alert (31) is sent; 0 disables it. */
  keepAliveMs?: number;
  /** AdC of the keep-alive alert (the SMT's address or login name). */
  keepAliveAddress?: string;
}

export type UcpSessionErrorCode = 'timeout' | 'closed';

export class UcpSessionError extends Error {
  readonly code: UcpSessionErrorCode;
  constructor(code: UcpSessionErrorCode, message: string) {
    super(message);
    this.name = 'UcpSessionError';
    this.code = code;
  }
}

export interface UcpSessionEvents {
  /** An operation from the peer, to answer with respond(). */
  operation: [frame: UcpFrame];
  /** A frame that could not be read or matched, with why. */
  protocolError: [err: Error];
  /** A slot in the window came free. */
  drain: [];
  close: [err: Error | null];
}

interface Outstanding {
  ot: number;
  resolve: (frame: UcpFrame) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface Waiting {
  ot: number;
  fields: string[];
  resolve: (frame: UcpFrame) => void;
  reject: (err: Error) => void;
}

export class UcpSession extends EventEmitter<UcpSessionEvents> {
  readonly socket: Socket;
  readonly window: number;
  readonly #requestTimeoutMs: number;
  readonly #keepAliveMs: number;
  readonly #keepAliveAddress: string;
  readonly #outstanding = new Map<number, Outstanding>();
  readonly #waiting: Waiting[] = [];
  #nextTrn = 0;
  #closed = false;
  #closeError: Error | null = null;
  #keepAliveTimer: NodeJS.Timeout | null = null;
  #lastSent = Date.now();

  constructor(socket: Socket, options: UcpSessionOptions = {}) {
    super();
    this.socket = socket;
    this.window = Math.max(1, Math.min(maxWindow, options.window ?? 32));
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#keepAliveMs = options.keepAliveMs ?? 0;
    this.#keepAliveAddress = options.keepAliveAddress ?? '';
    const framer = new UcpFramer(
      (body) => this.#onFrame(body),
      () => this.emit('protocolError', new Error('frame longer than LEN allows; skipped')),
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('error', (err) => this.#shut(err));
    socket.on('close', () => this.#shut(null));
    this.#armKeepAlive();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Operations sent and not answered yet. */
  get inFlight(): number {
    return this.#outstanding.size;
  }

  /** Sends an operation; resolves with its result (ACK or NAck alike). */
  request(ot: number, fields: string[]): Promise<UcpFrame> {
    if (this.#closed)
      return Promise.reject(new UcpSessionError('closed', this.#closeError?.message ?? 'connection closed'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ ot, fields, resolve, reject });
      this.#pump();
    });
  }

  /** Answers an operation of the peer. */
  respond(
    operation: UcpFrame,
    result: { ack: true; sm?: string } | { ack: false; ec: string; sm?: string },
  ): void {
    this.#write({
      trn: operation.trn,
      kind: 'R',
      ot: operation.ot,
      fields: resultFields(operation.ot, result),
    });
  }

  /** Closes once every outstanding operation is answered (or timed out). */
  async end(): Promise<void> {
    while (!this.#closed && (this.#outstanding.size > 0 || this.#waiting.length > 0)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.off('drain', done);
          this.off('close', done);
          resolve();
        };
        this.on('drain', done);
        this.on('close', done);
      });
    }
    if (this.#closed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  /** Drops the connection now. */
  destroy(err?: Error): void {
    this.socket.destroy();
    this.#shut(err ?? null);
  }

  #pump(): void {
    while (this.#waiting.length > 0 && this.#outstanding.size < this.window && !this.#closed) {
      const next = this.#waiting.shift()!;
      const trn = this.#freeTrn();
      const timer = setTimeout(() => {
        this.#outstanding.delete(trn);
        next.reject(new UcpSessionError('timeout', `no result to operation ${next.ot} (TRN ${trn}) in time`));
        this.#freed();
      }, this.#requestTimeoutMs);
      this.#outstanding.set(trn, { ot: next.ot, resolve: next.resolve, reject: next.reject, timer });
      try {
        this.#write({ trn, kind: 'O', ot: next.ot, fields: next.fields });
      } catch (err) {
        clearTimeout(timer);
        this.#outstanding.delete(trn);
        next.reject(err as Error);
      }
    }
  }

  /** The next TRN not in use, in turn from the last one given, wrapping 99 → 00. */
  #freeTrn(): number {
    for (;;) {
      const trn = this.#nextTrn;
      this.#nextTrn = (this.#nextTrn + 1) % maxWindow;
      if (!this.#outstanding.has(trn)) return trn;
    }
  }

  #freed(): void {
    this.#pump();
    if (this.#outstanding.size < this.window) this.emit('drain');
  }

  #write(frame: UcpFrame): void {
    const octets = encodeFrame(frame);
    if (this.#closed) return;
    this.#lastSent = Date.now();
    this.socket.write(octets);
  }

  #onFrame(body: Buffer): void {
    let frame: UcpFrame;
    try {
      frame = decodeFrame(body);
    } catch (err) {
      const e = err as UcpDecodeError;
      this.emit('protocolError', e);
      // An operation whose header could be read gets a NAck; a broken result is only logged.
      if (e instanceof UcpDecodeError && e.header?.kind === 'O')
        this.respond({ ...e.header, fields: [] }, { ack: false, ec: e.ec });
      return;
    }
    if (frame.kind === 'R') {
      const waiting = this.#outstanding.get(frame.trn);
      if (!waiting || waiting.ot !== frame.ot) {
        this.emit(
          'protocolError',
          new Error(`result to operation ${frame.ot} with TRN ${frame.trn}, which was not sent`),
        );
        return;
      }
      clearTimeout(waiting.timer);
      this.#outstanding.delete(frame.trn);
      waiting.resolve(frame);
      this.#freed();
      return;
    }
    const expected = expectedFieldCount(frame.ot);
    if (expected !== null && frame.fields.length !== expected) {
      this.emit(
        'protocolError',
        new Error(`operation ${frame.ot} with ${frame.fields.length} fields, not ${expected}`),
      );
      this.respond(frame, { ack: false, ec: '02' });
      return;
    }
    this.emit('operation', frame);
  }

  #armKeepAlive(): void {
    if (this.#keepAliveMs <= 0 || this.#closed) return;
    const due = this.#lastSent + this.#keepAliveMs - Date.now();
    this.#keepAliveTimer = setTimeout(
      () => {
        this.#keepAliveTimer = null;
        if (this.#closed) return;
        if (Date.now() - this.#lastSent >= this.#keepAliveMs) {
          // A peer that does not answer the alert is gone: the timeout drops the link.
          this.request(Ot.ALERT, fieldsOf(op31Fields, { AdC: this.#keepAliveAddress, PID: '0539' })).catch(
            (err: Error) => {
              if (err instanceof UcpSessionError && err.code === 'timeout') this.destroy(err);
            },
          );
        }
        this.#armKeepAlive();
      },
      Math.max(0, due),
    );
    this.#keepAliveTimer.unref();
  }

  #shut(err: Error | null): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = err;
    if (this.#keepAliveTimer) clearTimeout(this.#keepAliveTimer);
    const reason = new UcpSessionError('closed', err?.message ?? 'connection closed');
    for (const [, o] of this.#outstanding) {
      clearTimeout(o.timer);
      o.reject(reason);
    }
    this.#outstanding.clear();
    for (const w of this.#waiting.splice(0)) w.reject(reason);
    this.socket.destroy();
    this.emit('close', err);
  }
}
