// A CIMD2 SMS centre to test against: logs in any credentials (or only those given), takes
// submits (03) and answers each with the destination and a service centre timestamp (060)
// that no other message to that destination shares, sends a status report (23) after the
// delivery delay when the submit asked for one (056), and delivers inbound messages (20),
// long ones in parts with a concatenation UDH. It takes the SMPP simulator's options for
// accounts, delivery delay and outcomes, and counts in the same stats.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Cimd2Packet } from '../cimd2/index.ts';
import {
  Cimd2Session,
  cimd2ToSeptets,
  ErrorCode,
  intParam,
  Operation,
  Param,
  param,
  StatusCode,
  StatusReportRequest,
  septetsToCimd2,
} from '../cimd2/index.ts';
import { splitMessage } from '../sms/index.ts';
import { anotherTry, redeliveryDelayMs } from './redelivery.ts';
import type { InboundMessage, SimulatorOutcome, SimulatorStats, SmscSimulatorOptions } from './smsc.ts';
import { zeroStats } from './smsc.ts';
import { SimulatorTimers } from './timers.ts';

export interface Cimd2SimulatorOptions
  extends Pick<SmscSimulatorOptions, 'accounts' | 'deliveryDelayMs' | 'outcomes'> {
  /** Requests the simulator has outstanding towards one application. */
  window?: number;
  requestTimeoutMs?: number;
}

export interface Cimd2SimulatedMessage {
  /** `destination:timestamp`, as a status report names it. */
  id: string;
  user: string;
  from: string;
  to: string;
  timestamp: string;
  dataCoding: number;
  /** User data header (032) and user data as septets (033) or octets (034). */
  udh: Buffer | null;
  userData: Buffer;
  /** The 033 value as received, when text came. */
  text: string | null;
  statusReportRequest: number;
  submittedAt: Date;
  stat: string;
  err: string;
}

export interface Cimd2SimulatorEvents {
  submit: [message: Cimd2SimulatedMessage];
  receipt: [message: Cimd2SimulatedMessage];
  login: [user: string];
}

interface Delivery {
  user: string;
  params: Cimd2Packet['params'];
  operation: number;
  preferred: Cimd2Session | null;
  attempts: number;
}

/** Outcome stat → status code (061) and the status report request bit that asks for it. */
const statusOf: Record<string, { code: number; bit: number }> = {
  DELIVRD: { code: StatusCode.DELIVERY_SUCCESSFUL, bit: StatusReportRequest.DELIVERY_SUCCESSFUL },
  UNDELIV: { code: StatusCode.DELIVERY_FAILED, bit: StatusReportRequest.DELIVERY_FAILED },
  REJECTD: { code: StatusCode.DELIVERY_FAILED, bit: StatusReportRequest.DELIVERY_FAILED },
  EXPIRED: { code: StatusCode.VALIDITY_EXPIRED, bit: StatusReportRequest.VALIDITY_EXPIRED },
  DELETED: { code: StatusCode.DELETED, bit: StatusReportRequest.DELETED },
  UNKNOWN: { code: StatusCode.DELIVERY_FAILED, bit: StatusReportRequest.DELIVERY_FAILED },
};

export class Cimd2Simulator extends EventEmitter<Cimd2SimulatorEvents> {
  readonly stats: SimulatorStats = zeroStats();
  readonly messages = new Map<string, Cimd2SimulatedMessage>();
  /** Alive (40) packets answered. */
  alives = 0;
  readonly #server: net.Server;
  readonly #options: Cimd2SimulatorOptions;
  /** Logged-in sessions and their user. */
  readonly #sessions = new Map<Cimd2Session, string>();
  readonly #pending: Delivery[] = [];
  /** The last timestamp (epoch seconds) given per destination, so each is unique. */
  readonly #lastStamp = new Map<string, number>();
  readonly #timers = new SimulatorTimers();
  #roundRobin = 0;

  constructor(options: Cimd2SimulatorOptions = {}) {
    super();
    this.#options = options;
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  listen(port: number, host = '127.0.0.1'): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as net.AddressInfo);
      });
    });
  }

  async close(): Promise<void> {
    this.#timers.clear();
    for (const session of this.#sessions.keys()) session.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Drops every connection (the applications reconnect). */
  dropAll(): void {
    for (const session of this.#sessions.keys()) session.close();
  }

  /** Sends an inbound message to a logged-in application, in parts when long. */
  injectInbound(message: InboundMessage): number {
    const split = splitMessage(message.text, {
      encoding: 'auto',
      mode: 'udh',
      maxParts: 255,
    });
    for (const part of split.parts) {
      const params: Cimd2Packet['params'] = [
        [Param.DESTINATION_ADDRESS, message.to],
        [Param.ORIGINATING_ADDRESS, message.from],
        [Param.SERVICE_CENTRE_TIMESTAMP, this.#stamp(message.from)],
      ];
      if (split.dataCoding !== 0) params.push([Param.DATA_CODING_SCHEME, String(split.dataCoding)]);
      if (part.udh) params.push([Param.USER_DATA_HEADER, part.udh.toString('hex').toUpperCase()]);
      if (split.encoding === 'gsm7') params.push([Param.USER_DATA, septetsToCimd2(part.payload)]);
      else params.push([Param.USER_DATA_BINARY, part.payload.toString('hex').toUpperCase()]);
      this.#deliver({
        user: message.systemId ?? '',
        operation: Operation.DELIVER_MESSAGE,
        params,
        preferred: null,
        attempts: 0,
      });
      this.stats.inboundSent++;
    }
    return split.parts.length;
  }

  findMessage(id: string): Cimd2SimulatedMessage | undefined {
    return this.messages.get(id);
  }

  #accept(socket: net.Socket): void {
    const session = new Cimd2Session(socket, {
      role: 'server',
      window: this.#options.window ?? 32,
      requestTimeoutMs: this.#options.requestTimeoutMs ?? 10_000,
    });
    session.on('close', () => this.#sessions.delete(session));
    session.on('protocolError', () => {});
    session.on('alive', () => this.alives++);
    session.on('request', (packet) => this.#onRequest(session, packet));
  }

  #onRequest(session: Cimd2Session, packet: Cimd2Packet): void {
    const user = this.#sessions.get(session);
    if (packet.operation === Operation.LOGIN) {
      this.#login(session, packet);
      return;
    }
    if (user === undefined) {
      session.respond(packet, [[Param.ERROR_CODE, String(ErrorCode.UNEXPECTED_OPERATION)]]);
      return;
    }
    switch (packet.operation) {
      case Operation.LOGOUT:
        session.respond(packet);
        this.#sessions.delete(session);
        session.end();
        return;
      case Operation.SUBMIT:
        this.#submit(session, user, packet);
        return;
      default:
        session.respond(packet, [[Param.ERROR_CODE, String(ErrorCode.UNEXPECTED_OPERATION)]]);
    }
  }

  #login(session: Cimd2Session, packet: Cimd2Packet): void {
    const user = param(packet, Param.USER_IDENTITY) ?? '';
    const password = param(packet, Param.PASSWORD) ?? '';
    const accounts = this.#options.accounts ?? [];
    if (accounts.length > 0 && !accounts.some((a) => a.systemId === user && a.password === password)) {
      session.respond(packet, [[Param.ERROR_CODE, String(ErrorCode.INVALID_LOGIN)]]);
      return;
    }
    session.respond(packet);
    this.#sessions.set(session, user);
    this.stats.binds++;
    this.emit('login', user);
    const waiting = this.#pending.splice(0);
    for (const delivery of waiting) this.#deliver(delivery);
  }

  #submit(session: Cimd2Session, user: string, packet: Cimd2Packet): void {
    const to = param(packet, Param.DESTINATION_ADDRESS);
    const text = param(packet, Param.USER_DATA);
    const binary = param(packet, Param.USER_DATA_BINARY);
    const udhHex = param(packet, Param.USER_DATA_HEADER);
    const hex = /^(?:[0-9A-Fa-f]{2})*$/;
    let refusal = 0;
    if (to === undefined || !/^\+?\d{1,20}$/.test(to)) refusal = ErrorCode.INCORRECT_DESTINATION;
    else if (text !== undefined && binary !== undefined) refusal = ErrorCode.USER_DATA_COMBINATION;
    else if ((binary !== undefined && !hex.test(binary)) || (udhHex !== undefined && !hex.test(udhHex)))
      refusal = ErrorCode.USER_DATA_SYNTAX;
    if (refusal !== 0 || to === undefined) {
      this.stats.failed++;
      session.respond(packet, [[Param.ERROR_CODE, String(refusal)]]);
      return;
    }
    const dataCoding = intParam(packet, Param.DATA_CODING_SCHEME) ?? 0;
    const outcome = this.#outcomeFor(to);
    const timestamp = this.#stamp(to);
    const message: Cimd2SimulatedMessage = {
      id: `${to.replace(/^\+/, '')}:${timestamp}`,
      user,
      from:
        param(packet, Param.ORIGINATING_ADDRESS) ??
        param(packet, Param.ALPHANUMERIC_ORIGINATING_ADDRESS) ??
        '',
      to,
      timestamp,
      dataCoding,
      udh: udhHex === undefined || udhHex === '' ? null : Buffer.from(udhHex, 'hex'),
      userData: text !== undefined ? cimd2ToSeptets(text) : Buffer.from(binary ?? '', 'hex'),
      text: text ?? null,
      statusReportRequest: intParam(packet, Param.STATUS_REPORT_REQUEST) ?? 0,
      submittedAt: new Date(),
      stat: outcome.stat,
      err: outcome.err ?? (outcome.stat === 'DELIVRD' ? '000' : '001'),
    };
    this.messages.set(message.id, message);
    this.stats.submits++;
    this.emit('submit', message);
    session.respond(packet, [
      [Param.DESTINATION_ADDRESS, to],
      [Param.SERVICE_CENTRE_TIMESTAMP, timestamp],
    ]);
    this.#timers.after(this.#options.deliveryDelayMs ?? 200, () => this.#report(message, session));
  }

  /** The status report (23), when the submit's 056 asked for this outcome. */
  #report(message: Cimd2SimulatedMessage, session: Cimd2Session): void {
    const status = statusOf[message.stat] ?? statusOf.UNKNOWN!;
    if ((message.statusReportRequest & status.bit) === 0) return;
    const params: Cimd2Packet['params'] = [
      [Param.DESTINATION_ADDRESS, message.to],
      [Param.SERVICE_CENTRE_TIMESTAMP, message.timestamp],
      [Param.STATUS_CODE, String(status.code)],
    ];
    if (status.code !== StatusCode.DELIVERY_SUCCESSFUL)
      params.push([Param.STATUS_ERROR_CODE, String(Number.parseInt(message.err, 10) || 0)]);
    params.push([Param.DISCHARGE_TIME, formatStamp(Math.floor(Date.now() / 1000))]);
    this.stats.receiptsSent++;
    this.emit('receipt', message);
    this.#deliver({
      user: message.user,
      operation: Operation.DELIVER_STATUS_REPORT,
      params,
      preferred: session,
      attempts: 0,
    });
  }

  /** Sends a 20 or 23 to a logged-in session of the user, or holds it until one logs in. */
  #deliver(delivery: Delivery): void {
    const session = this.#sessionFor(delivery);
    if (session === null) {
      this.#pending.push(delivery);
      if (this.#pending.length > 100_000) {
        this.#pending.shift();
        this.stats.deliveriesDropped++;
      }
      return;
    }
    session.request(delivery.operation, delivery.params).then(
      (response) => {
        // An error code in the answer asks for the delivery again later.
        if ((intParam(response, Param.ERROR_CODE) ?? 0) === 0) return;
        if (anotherTry(delivery, this.stats))
          this.#timers.after(redeliveryDelayMs(delivery.attempts), () => this.#deliver(delivery));
      },
      () => {
        delivery.preferred = null;
        if (anotherTry(delivery, this.stats)) this.#deliver(delivery);
      },
    );
  }

  #sessionFor(delivery: Delivery): Cimd2Session | null {
    const preferred = delivery.preferred;
    if (preferred && !preferred.closed && this.#sessions.has(preferred)) return preferred;
    const candidates = [...this.#sessions].filter(
      ([s, user]) => !s.closed && (delivery.user === '' || user === delivery.user),
    );
    if (candidates.length === 0) return null;
    return candidates[this.#roundRobin++ % candidates.length]![0];
  }

  #outcomeFor(to: string): SimulatorOutcome {
    const bare = to.replace(/^\+/, '');
    for (const outcome of this.#options.outcomes ?? []) {
      const pattern = outcome.to.replace(/^\+/, '');
      const hit = pattern.endsWith('*') ? bare.startsWith(pattern.slice(0, -1)) : bare === pattern;
      if (hit) return outcome;
    }
    return { to: '*', stat: 'DELIVRD' };
  }

  /** A service centre timestamp for `address` that it has not had yet (a second later if need be). */
  #stamp(address: string): string {
    const key = address.replace(/^\+/, '');
    const seconds = Math.max(Math.floor(Date.now() / 1000), (this.#lastStamp.get(key) ?? 0) + 1);
    this.#lastStamp.set(key, seconds);
    return formatStamp(seconds);
  }
}

/** yymmddhhmmss in UTC. */
function formatStamp(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}
