// One SMPP connection, either role. Sits on top of the sans-I/O codec: the framer turns
// bytes into PDUs, the writer turns PDUs into one buffer per tick. The session owns
// sequence numbers, the window of outstanding requests and their timeouts, keepalive and
// dead-peer detection, back-pressure (ESME_RTHROTTLED / ESME_RMSGQFUL, socket drain) and
// orderly unbind. What a PDU means (binds, submits) is for the client and server above.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { SmppDecodeError } from './codec.ts';
import { PduWriter } from './codec.ts';
import { CommandId, CommandStatus, commandNameOf, isResponseId, responseOf } from './constants.ts';
import { SmppError } from './errors.ts';
import { PduFramer } from './framer.ts';
import type { CommandName, Pdu } from './pdu.ts';

export type BindType = 'transmitter' | 'receiver' | 'transceiver';
export type SessionState = 'open' | 'bound' | 'unbinding' | 'closed';

/** A PDU to send as a new request: the session assigns its sequence number. */
export type OutgoingPdu = Pdu extends infer P
  ? P extends Pdu
    ? Omit<P, 'sequenceNumber' | 'commandStatus'> & { sequenceNumber?: number; commandStatus?: number }
    : never
  : never;

export interface SessionOptions {
  /** Outstanding requests allowed before further ones wait in the session's queue. */
  window?: number;
  /** How long a request waits for its response once on the wire. */
  requestTimeoutMs?: number;
  /** Idle time after which an enquire_link is sent; 0 disables keepalive. */
  enquireLinkMs?: number;
  /** Requests (beyond the window) the session will queue before refusing new ones. */
  maxQueued?: number;
  /** Unanswered inbound requests after which the session stops reading the socket. */
  maxPendingInbound?: number;
  maxPduLength?: number;
  /** Pause after ESME_RTHROTTLED / ESME_RMSGQFUL, doubled on each repeat up to the max. */
  throttleBackoffMs?: { min: number; max: number };
  /**
   * A peer that does not read: while our writes to it are blocked the session stops reading
   * its requests, and closes the connection once it has taken nothing for this long…
   */
  writeStallMs?: number;
  /** …or once this many octets wait to be written to it. */
  maxWriteQueueBytes?: number;
}

const defaults = {
  window: 64,
  requestTimeoutMs: 10_000,
  enquireLinkMs: 30_000,
  maxQueued: 100_000,
  maxPendingInbound: 1_000,
  throttleBackoffMs: { min: 100, max: 5_000 },
  writeStallMs: 30_000,
  maxWriteQueueBytes: 8 * 1024 * 1024,
};

interface PendingRequest {
  sequenceNumber: number;
  command: CommandName;
  deadline: number;
  resolve: (pdu: Pdu) => void;
  reject: (err: Error) => void;
}

interface QueuedRequest {
  pdu: OutgoingPdu;
  resolve: (pdu: Pdu) => void;
  reject: (err: Error) => void;
}

const backPressureStatuses = new Set<number>([CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RMSGQFUL]);
const maxSequence = 0x7fffffff;

export interface SmppSessionEvents {
  /** An inbound request; answer it with `respond`. enquire_link and unbind are answered here. */
  request: [pdu: Pdu];
  /** ESME_RTHROTTLED or ESME_RMSGQFUL came back: sending pauses for `pauseMs`. */
  throttled: [status: number, pauseMs: number];
  /** The window has room again. */
  drain: [];
  /** The peer sent something we could not take; it was answered with an error status. */
  protocolError: [err: Error];
  close: [err?: Error];
}

export class SmppSession extends EventEmitter<SmppSessionEvents> {
  state: SessionState = 'open';
  bindType: BindType | null = null;
  /** Who is at the other end, once bound (the ESME's or SMSC's system_id). */
  peerSystemId = '';
  readonly remoteAddress: string;

  readonly #socket: Socket;
  readonly #framer: PduFramer;
  readonly #writer = new PduWriter();
  readonly #window: number;
  readonly #requestTimeoutMs: number;
  readonly #enquireLinkMs: number;
  readonly #maxQueued: number;
  readonly #maxPendingInbound: number;
  readonly #throttleBackoff: { min: number; max: number };
  readonly #writeStallMs: number;
  readonly #maxWriteQueueBytes: number;

  #nextSequence = 1;
  // Map keeps insertion order, and every request has the same timeout, so the oldest
  // deadlines come first: the sweep stops at the first one not yet due.
  readonly #outstanding = new Map<number, PendingRequest>();
  readonly #queue: QueuedRequest[] = [];
  #queueHead = 0;
  #pendingInbound = 0;
  /** Reading stopped because too many inbound requests await their answer. */
  #readPaused = false;
  #flushScheduled = false;
  /** The socket refused more (write returned false) and has not drained since then. */
  #socketBlocked = false;
  /** Since when the blocked socket has sent nothing (octets still waiting: `#blockedOctets`). */
  #blockedSince = 0;
  #blockedOctets = 0;
  #pausedUntil = 0;
  #throttlePause = 0;
  #resumeTimer: NodeJS.Timeout | null = null;
  #lastReceivedAt = Date.now();
  #enquirePending = false;
  readonly #ticker: NodeJS.Timeout;
  #closeError: Error | undefined;

  constructor(socket: Socket, options: SessionOptions = {}) {
    super();
    this.#socket = socket;
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.#window = options.window ?? defaults.window;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? defaults.requestTimeoutMs;
    this.#enquireLinkMs = options.enquireLinkMs ?? defaults.enquireLinkMs;
    this.#maxQueued = options.maxQueued ?? defaults.maxQueued;
    this.#maxPendingInbound = options.maxPendingInbound ?? defaults.maxPendingInbound;
    this.#throttleBackoff = options.throttleBackoffMs ?? defaults.throttleBackoffMs;
    this.#writeStallMs = options.writeStallMs ?? defaults.writeStallMs;
    this.#maxWriteQueueBytes = options.maxWriteQueueBytes ?? defaults.maxWriteQueueBytes;
    this.#framer = new PduFramer(
      {
        pdu: (pdu) => this.#onPdu(pdu),
        invalid: (err) => this.#onInvalid(err),
        fatal: (err) => this.close(err),
      },
      options.maxPduLength === undefined ? undefined : { maxPduLength: options.maxPduLength },
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#lastReceivedAt = Date.now();
      this.#framer.push(chunk);
    });
    socket.on('drain', () => {
      this.#socketBlocked = false;
      this.#updateReading();
      this.#scheduleFlush();
    });
    socket.on('error', (err) => {
      this.#closeError ??= err;
    });
    socket.on('close', () => this.#onClosed());
    const tickMs = Math.max(50, Math.min(1_000, this.#requestTimeoutMs / 4));
    this.#ticker = setInterval(() => this.#tick(), tickMs);
    this.#ticker.unref();
  }

  /** The connection is gone. (A getter: TypeScript keeps no stale narrowing of it across a call.) */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Requests on the wire awaiting their response. */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  /** Requests waiting for room in the window (or for a throttle pause to end). */
  get queued(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** True when a new request would go on the wire at once rather than wait. */
  get hasWindowRoom(): boolean {
    return this.#outstanding.size < this.#window && this.queued === 0 && !this.#isPaused();
  }

  get window(): number {
    return this.#window;
  }

  /**
   * Sends a request and resolves with its response, whatever its command_status (the
   * caller decides what an error status means). Rejects on timeout or a lost connection.
   */
  request(pdu: OutgoingPdu): Promise<Pdu> {
    return new Promise<Pdu>((resolve, reject) => {
      if (this.state === 'closed' || (this.state === 'unbinding' && pdu.command !== 'unbind')) {
        reject(new SmppError('not_connected', `session is ${this.state}`));
        return;
      }
      if (this.#outstanding.size < this.#window && this.queued === 0 && !this.#isPaused()) {
        this.#transmit(pdu, resolve, reject);
      } else if (this.queued >= this.#maxQueued) {
        reject(new SmppError('queue_full', `session queue is full (${this.#maxQueued})`));
      } else {
        this.#queue.push({ pdu, resolve, reject });
      }
    });
  }

  /** Answers an inbound request. `fields` fill the response body (e.g. messageId). */
  respond(request: Pdu, commandStatus = 0, fields: Record<string, unknown> = {}): void {
    const command = responseOf(request.command);
    if (command === undefined) return;
    this.#pendingInbound--;
    if (this.#readPaused && this.#pendingInbound < this.#maxPendingInbound / 2) {
      this.#readPaused = false;
      this.#updateReading();
    }
    this.send({
      ...defaultResponseBody(command),
      ...fields,
      command,
      commandStatus,
      sequenceNumber: request.sequenceNumber,
    } as Pdu);
  }

  /** Writes a PDU as it is (responses, generic_nack, outbind). Coalesced per tick. */
  send(pdu: Pdu): void {
    if (this.state === 'closed') return;
    this.#writer.write(pdu);
    if (this.#writer.length + this.#socket.writableLength > this.#maxWriteQueueBytes) {
      this.#dropSlowPeer(`more than ${this.#maxWriteQueueBytes} octets wait to be written to it`);
      return;
    }
    this.#scheduleFlush();
  }

  /**
   * Orderly unbind: waits (up to the request timeout) for outstanding requests to be
   * answered, sends unbind, waits for unbind_resp, then closes the connection.
   */
  async unbind(): Promise<void> {
    if (this.state === 'closed' || this.state === 'unbinding') return;
    this.state = 'unbinding';
    this.#rejectQueued(new SmppError('not_connected', 'session is unbinding'));
    const deadline = Date.now() + this.#requestTimeoutMs;
    while (this.#outstanding.size > 0 && Date.now() < deadline && this.#socket.readyState === 'open') {
      await new Promise((r) => setTimeout(r, 10));
    }
    try {
      await this.request({ command: 'unbind' });
    } catch {
      // The peer did not answer in time; closing is all that is left to do.
    }
    this.#socket.end();
    this.close();
  }

  /** Drops the connection at once; everything outstanding is rejected. */
  close(err?: Error): void {
    if (err) this.#closeError ??= err;
    if (this.state === 'closed') return;
    this.#flush();
    this.#socket.destroy();
    this.#onClosed();
  }

  /** Drops the connection as a failing link would: PDUs not yet written are lost. */
  abort(): void {
    if (this.state === 'closed') return;
    this.#socket.destroy();
    this.#onClosed();
  }

  #isPaused(): boolean {
    return this.#pausedUntil > 0 && Date.now() < this.#pausedUntil;
  }

  #transmit(pdu: OutgoingPdu, resolve: (pdu: Pdu) => void, reject: (err: Error) => void): void {
    const sequenceNumber = this.#nextSequence;
    this.#nextSequence = sequenceNumber >= maxSequence ? 1 : sequenceNumber + 1;
    const full = pdu as Pdu;
    full.sequenceNumber = sequenceNumber;
    full.commandStatus = 0;
    try {
      this.#writer.write(full);
    } catch (err) {
      reject(err as Error);
      return;
    }
    this.#outstanding.set(sequenceNumber, {
      sequenceNumber,
      command: full.command,
      deadline: Date.now() + this.#requestTimeoutMs,
      resolve,
      reject,
    });
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#socketBlocked) return;
    this.#flushScheduled = true;
    // setImmediate rather than a microtask: it runs after the whole I/O phase, so the
    // responses to one read and the requests they release leave in a single write.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#writer.length === 0 || this.#socket.destroyed) return;
    if (this.#socket.write(this.#writer.take()) || this.#socketBlocked) return;
    this.#socketBlocked = true;
    this.#blockedSince = Date.now();
    this.#blockedOctets = this.#socket.writableLength;
    this.#updateReading();
  }

  /**
   * Reads only while the peer takes what we write and its requests are being answered:
   * a peer that sends without reading cannot make us queue answers without end.
   */
  #updateReading(): void {
    if (this.state === 'closed') return;
    if (this.#readPaused || this.#socketBlocked) this.#socket.pause();
    else this.#socket.resume();
  }

  /** Drops a peer that does not read what we write (PDUs still queued for it are lost). */
  #dropSlowPeer(why: string): void {
    this.#closeError ??= new SmppError('slow_peer', `peer does not read: ${why}`);
    this.abort();
  }

  #pump(): void {
    let sent = false;
    while (this.queued > 0 && this.#outstanding.size < this.#window && !this.#isPaused()) {
      const next = this.#queue[this.#queueHead]!;
      this.#queue[this.#queueHead] = undefined as unknown as QueuedRequest;
      this.#queueHead++;
      this.#transmit(next.pdu, next.resolve, next.reject);
      sent = true;
    }
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    if (!sent && this.queued === 0 && this.#outstanding.size < this.#window && !this.#isPaused()) {
      this.emit('drain');
    }
  }

  #onPdu(pdu: Pdu): void {
    if (isResponseId(CommandId[pdu.command])) {
      this.#onResponse(pdu);
      return;
    }
    switch (pdu.command) {
      case 'enquire_link':
        this.#pendingInbound++;
        this.respond(pdu);
        return;
      case 'unbind':
        this.#pendingInbound++;
        this.respond(pdu);
        this.state = 'unbinding';
        this.#rejectQueued(new SmppError('not_connected', 'peer unbound'));
        this.#flush();
        this.#socket.end();
        return;
      default:
        // Requests without a response (alert_notification) are never answered, so they
        // must not count towards the backlog that pauses reading.
        if (responseOf(pdu.command) !== undefined) this.#pendingInbound++;
        if (this.#pendingInbound >= this.#maxPendingInbound && !this.#readPaused) {
          this.#readPaused = true;
          this.#updateReading();
        }
        this.emit('request', pdu);
    }
  }

  #onResponse(pdu: Pdu): void {
    const pending = this.#outstanding.get(pdu.sequenceNumber);
    if (pending === undefined) {
      if (pdu.command !== 'generic_nack') {
        this.emit('protocolError', new SmppError('unexpected_response', `no request for ${describe(pdu)}`));
      }
      return;
    }
    this.#outstanding.delete(pdu.sequenceNumber);
    if (pending.command === 'enquire_link') this.#enquirePending = false;
    if (backPressureStatuses.has(pdu.commandStatus)) {
      // Answers to requests sent before the pause began are the same refusal again: they
      // extend nothing. Only a refusal after the pause ended doubles it.
      if (Date.now() < this.#pausedUntil) {
        pending.resolve(pdu);
        return;
      }
      this.#throttlePause = Math.min(
        this.#throttleBackoff.max,
        this.#throttlePause === 0 ? this.#throttleBackoff.min : this.#throttlePause * 2,
      );
      this.#pausedUntil = Date.now() + this.#throttlePause;
      this.#scheduleResume();
      this.emit('throttled', pdu.commandStatus, this.#throttlePause);
    } else if (this.#throttlePause !== 0 && pdu.commandStatus === 0) {
      this.#throttlePause = 0;
    }
    pending.resolve(pdu);
    this.#pump();
  }

  #scheduleResume(): void {
    if (this.#resumeTimer) clearTimeout(this.#resumeTimer);
    this.#resumeTimer = setTimeout(() => {
      this.#resumeTimer = null;
      this.#pump();
    }, this.#throttlePause);
    this.#resumeTimer.unref();
  }

  #onInvalid(err: SmppDecodeError): void {
    this.emit('protocolError', err);
    const name = commandNameOf(err.commandId);
    const responseName = name === undefined || isResponseId(err.commandId) ? undefined : responseOf(name);
    if (responseName === undefined) {
      // Unknown commands, and broken responses, are answered with generic_nack.
      if (!isResponseId(err.commandId) || name === undefined) {
        this.send({
          command: 'generic_nack',
          commandStatus: err.status,
          sequenceNumber: err.sequenceNumber,
        } as Pdu);
      }
      return;
    }
    this.send({
      ...defaultResponseBody(responseName),
      command: responseName,
      commandStatus: err.status,
      sequenceNumber: err.sequenceNumber,
    } as Pdu);
  }

  #tick(): void {
    const now = Date.now();
    if (this.#socketBlocked) {
      // A slow peer that takes some of it is making progress; only one that takes none stalls.
      if (this.#socket.writableLength < this.#blockedOctets) {
        this.#blockedOctets = this.#socket.writableLength;
        this.#blockedSince = now;
      } else if (now - this.#blockedSince >= this.#writeStallMs) {
        this.#dropSlowPeer(`nothing written to it for ${this.#writeStallMs} ms`);
        return;
      }
    }
    for (const pending of this.#outstanding.values()) {
      if (pending.deadline > now) break;
      this.#outstanding.delete(pending.sequenceNumber);
      pending.reject(
        new SmppError(
          'timeout',
          `no response to ${pending.command} #${pending.sequenceNumber} in ${this.#requestTimeoutMs} ms`,
        ),
      );
      if (pending.command === 'enquire_link') {
        this.close(new SmppError('dead_peer', 'no answer to enquire_link'));
        return;
      }
    }
    this.#pump();
    if (
      this.#enquireLinkMs > 0 &&
      this.state === 'bound' &&
      !this.#enquirePending &&
      now - this.#lastReceivedAt >= this.#enquireLinkMs
    ) {
      this.#enquirePending = true;
      // A failure here is handled in the sweep above (dead peer) or by the close.
      this.request({ command: 'enquire_link' }).catch(() => {});
    }
  }

  #rejectQueued(err: Error): void {
    while (this.queued > 0) {
      const next = this.#queue[this.#queueHead++]!;
      next.reject(err);
    }
    this.#queue.length = 0;
    this.#queueHead = 0;
  }

  #onClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.#ticker);
    if (this.#resumeTimer) clearTimeout(this.#resumeTimer);
    const err = new SmppError('connection_lost', 'connection closed', this.#closeError);
    for (const pending of this.#outstanding.values()) pending.reject(err);
    this.#outstanding.clear();
    this.#rejectQueued(err);
    this.emit('close', this.#closeError);
  }
}

function describe(pdu: Pdu): string {
  return `${pdu.command} #${pdu.sequenceNumber}`;
}

/** The mandatory body of a response, for answers that carry no data of their own. */
function defaultResponseBody(command: CommandName): Record<string, unknown> {
  switch (command) {
    case 'bind_receiver_resp':
    case 'bind_transmitter_resp':
    case 'bind_transceiver_resp':
      return { systemId: '' };
    case 'submit_sm_resp':
    case 'deliver_sm_resp':
    case 'data_sm_resp':
    case 'broadcast_sm_resp':
      return { messageId: '' };
    case 'submit_multi_resp':
      return { messageId: '', unsuccess: [] };
    case 'query_sm_resp':
      return { messageId: '', finalDate: '', messageState: 0, errorCode: 0 };
    case 'query_broadcast_sm_resp':
      return { messageId: '' };
    default:
      return {};
  }
}
