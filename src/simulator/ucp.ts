// A UCP/EMI SMSC that plays a carrier for SMTs under test (Kannel's `smsc = emi`, our own
// `ucp` connector): logs in any credentials unless accounts are given, answers submits
// (51) with `AdC:SCTS`, sends a delivery notification (53) when the submit asks (NRq 1, by
// NT), delivers inbound messages (52, long ones in UDH parts), and acknowledges alerts (31).
import { EventEmitter } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import type { Op5x, UcpFrame } from '../ucp/index.ts';
import {
  decodeIra,
  encodeIra,
  fieldsOf,
  formatUcpTime,
  namedFields,
  Ot,
  op5xFields,
  op60Fields,
  readBody,
  readResult,
  textBodies,
  toUcpOriginator,
  toUcpRecipient,
  UcpSession,
} from '../ucp/index.ts';
import { anotherTry, redeliveryDelayMs } from './redelivery.ts';
import type { SimulatorOutcome, SimulatorStats } from './smsc.ts';
import { outcomeFor, zeroStats } from './smsc.ts';
import { SimulatorTimers } from './timers.ts';

export interface UcpSimulatorOptions {
  /** Accepted logins (OAdC and password of operation 60); with none, anyone, logged in or not. */
  accounts?: Array<{ systemId: string; password: string }>;
  /** Time from submit to the delivery notification. */
  deliveryDelayMs?: number;
  /** First match wins; everything else is delivered. */
  outcomes?: SimulatorOutcome[];
  /** Operations the simulator has outstanding per connection. */
  window?: number;
  requestTimeoutMs?: number;
}

export interface UcpSimulatedMessage {
  /** `AdC:SCTS`, as the ACK gave it. */
  id: string;
  login: string;
  from: string;
  to: string;
  /** The operation as received, by field name. */
  operation: Op5x;
  /** Text of an MT 3 message (IRA decoded); null for MT 4. */
  text: string | null;
  submittedAt: Date;
  doneAt: Date | null;
  stat: string;
  err: string;
}

export interface UcpInboundMessage {
  from: string;
  to: string;
  text: string;
  /** Deliver to this login; by default to any connection. */
  systemId?: string;
}

interface Connection {
  session: UcpSession;
  /** The OAdC it logged in with; '' when it did not. */
  login: string | null;
}

interface Pending {
  login: string;
  op: Op5x;
  ot: number;
  attempts: number;
}

const maxPending = 100_000;
const maxMessages = 1_000_000;

export class UcpSmscSimulator extends EventEmitter<{ submit: [message: UcpSimulatedMessage] }> {
  /** The SMPP simulator's counts, and the alerts (31) answered. */
  readonly stats: SimulatorStats & { alerts: number } = { alerts: 0, ...zeroStats() };
  readonly messages = new Map<string, UcpSimulatedMessage>();
  readonly #o: UcpSimulatorOptions;
  readonly #servers: net.Server[] = [];
  readonly #connections = new Set<Connection>();
  readonly #timers = new SimulatorTimers();
  readonly #pending: Pending[] = [];
  /** The last SCTS given per recipient, so every message to one has its own. */
  readonly #lastScts = new Map<string, number>();
  #roundRobin = 0;

  constructor(options: UcpSimulatorOptions = {}) {
    super();
    this.#o = options;
  }

  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    const server = net.createServer((socket) => this.#accept(socket));
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server.address() as AddressInfo));
    });
  }

  async close(): Promise<void> {
    this.#timers.clear();
    for (const c of this.#connections) c.session.destroy();
    await Promise.all(this.#servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }

  /** Sends an inbound message as operations 52, in parts when long; returns their number. */
  injectInbound(message: UcpInboundMessage): number {
    const bodies = textBodies(message.text, 'auto', {});
    const originator = toUcpOriginator(message.from);
    const scts = formatUcpTime(new Date());
    for (const body of bodies) {
      const op: Op5x = {
        AdC: toUcpRecipient(message.to),
        OAdC: originator.OAdC,
        ...(originator.OTOA ? { OTOA: originator.OTOA } : {}),
        SCTS: scts,
        ...body,
      };
      this.#deliver({ login: message.systemId ?? '', op, ot: Ot.DELIVER, attempts: 0 });
      this.stats.inboundSent++;
    }
    return bodies.length;
  }

  findMessage(id: string): UcpSimulatedMessage | undefined {
    return this.messages.get(id);
  }

  #accept(socket: net.Socket): void {
    const connection: Connection = {
      session: new UcpSession(socket, {
        window: this.#o.window ?? 32,
        requestTimeoutMs: this.#o.requestTimeoutMs ?? 10_000,
      }),
      login: null,
    };
    this.#connections.add(connection);
    connection.session.on('close', () => this.#connections.delete(connection));
    connection.session.on('protocolError', () => {});
    connection.session.on('operation', (frame) => this.#onOperation(connection, frame));
    // With no logins to check, a connection may take what waits without logging in.
    if (this.#openToAll()) this.#flushPending();
  }

  #openToAll(): boolean {
    return !this.#o.accounts || this.#o.accounts.length === 0;
  }

  #onOperation(connection: Connection, frame: UcpFrame): void {
    const session = connection.session;
    switch (frame.ot) {
      case Ot.SESSION: {
        const op = namedFields(op60Fields, frame.fields);
        let password = '';
        try {
          password = decodeIra(op.PWD ?? '');
        } catch {
          session.respond(frame, { ack: false, ec: '02', sm: 'PWD is not IRA hex' });
          return;
        }
        const login = op.OAdC ?? '';
        const account = this.#o.accounts?.find((a) => a.systemId === login);
        if (!this.#openToAll() && (!account || account.password !== password)) {
          session.respond(frame, { ack: false, ec: '07', sm: 'login refused' });
          return;
        }
        connection.login = login;
        this.stats.binds++;
        session.respond(frame, { ack: true, sm: 'BIND AUTHENTICATED' });
        this.#flushPending();
        return;
      }
      case Ot.ALERT:
        this.stats.alerts++;
        session.respond(frame, { ack: true, sm: '0000' });
        return;
      case Ot.SUBMIT:
        this.#onSubmit(connection, frame);
        return;
      default:
        session.respond(frame, { ack: false, ec: '03' });
    }
  }

  #loggedIn(connection: Connection): boolean {
    return connection.login !== null || this.#openToAll();
  }

  #onSubmit(connection: Connection, frame: UcpFrame): void {
    const session = connection.session;
    if (!this.#loggedIn(connection)) {
      session.respond(frame, { ack: false, ec: '04', sm: 'log in first (operation 60)' });
      return;
    }
    const op = namedFields(op5xFields, frame.fields);
    if (!op.AdC || !/^\d{1,16}$/.test(op.AdC)) {
      session.respond(frame, { ack: false, ec: '06', sm: 'AdC invalid' });
      return;
    }
    let text: string | null;
    try {
      readBody(op);
      text = op.MT === '3' ? decodeIra(op.Msg ?? '') : null;
    } catch (err) {
      // The reason as SM, without the characters a field cannot hold.
      const reason = (err as Error).message.replace(/[^\x20-\x2e\x30-\x7e]/g, ' ').slice(0, 60);
      session.respond(frame, { ack: false, ec: '02', sm: reason });
      return;
    }
    const now = new Date();
    const scts = this.#sctsFor(op.AdC, now);
    const id = `${op.AdC}:${scts}`;
    const outcome = outcomeFor(this.#o.outcomes ?? [], op.AdC);
    const message: UcpSimulatedMessage = {
      id,
      login: connection.login ?? '',
      from: op.OAdC ?? '',
      to: op.AdC,
      operation: op,
      text,
      submittedAt: now,
      doneAt: null,
      stat: outcome.stat,
      err: outcome.err ?? (outcome.stat === 'DELIVRD' ? '000' : '001'),
    };
    this.messages.set(id, message);
    if (this.messages.size > maxMessages) this.messages.delete(this.messages.keys().next().value!);
    this.stats.submits++;
    this.emit('submit', message);
    session.respond(frame, { ack: true, sm: id });
    this.#timers.after(this.#o.deliveryDelayMs ?? 200, () => this.#complete(message, scts));
  }

  /** SCTS to the second, one second on from the last one this recipient got if that is taken. */
  #sctsFor(recipient: string, now: Date): string {
    const second = Math.max(Math.floor(now.getTime() / 1000), (this.#lastScts.get(recipient) ?? 0) + 1);
    this.#lastScts.delete(recipient);
    this.#lastScts.set(recipient, second);
    if (this.#lastScts.size > 100_000) this.#lastScts.delete(this.#lastScts.keys().next().value!);
    return formatUcpTime(new Date(second * 1000));
  }

  /** The message's outcome is final; a notification goes if NRq and NT ask for it. */
  #complete(message: UcpSimulatedMessage, scts: string): void {
    message.doneAt = new Date();
    const delivered = message.stat === 'DELIVRD';
    const op = message.operation;
    if (op.NRq !== '1') return;
    const nt = Number(op.NT ?? '3');
    if (!(delivered ? nt & 1 : nt & 2)) return;
    const rsn = (message.err.replace(/\D/g, '') || '0').padStart(3, '0').slice(-3);
    const when = formatUcpTime(message.doneAt);
    const text = delivered
      ? `Message for ${message.to}, with identification ${scts} has been delivered on ${when}`
      : `Message for ${message.to}, with identification ${scts} could not be delivered (${message.stat})`;
    const notification: Op5x = {
      // Back to the submitter: its own address as AdC, the message's recipient as OAdC.
      AdC: message.from,
      OAdC: message.to,
      SCTS: scts,
      Dst: delivered ? '0' : '2',
      Rsn: rsn,
      DSCTS: when,
      MT: '3',
      Msg: encodeIra(text),
    };
    this.stats.receiptsSent++;
    this.#deliver({ login: message.login, op: notification, ot: Ot.NOTIFICATION, attempts: 0 });
  }

  /** Sends a 52 or 53 to a connection of its login, or holds it until one comes. */
  #deliver(pending: Pending): void {
    const candidates = [...this.#connections].filter(
      (c) => !c.session.closed && this.#loggedIn(c) && (pending.login === '' || c.login === pending.login),
    );
    if (candidates.length === 0) {
      this.#pending.push(pending);
      if (this.#pending.length > maxPending) {
        this.#pending.shift();
        this.stats.deliveriesDropped++;
      }
      return;
    }
    const connection = candidates[this.#roundRobin++ % candidates.length]!;
    connection.session.request(pending.ot, fieldsOf(op5xFields, pending.op)).then(
      (frame) => {
        // A NAck asks for the operation again later.
        if (!readResult(frame).ack) this.#retry(pending, true);
      },
      () => this.#retry(pending, false),
    );
  }

  /** `pause`: refused, so tried again after a growing pause; else (connection lost) at once. */
  #retry(pending: Pending, pause: boolean): void {
    if (!anotherTry(pending, this.stats)) return;
    this.#timers.after(pause ? redeliveryDelayMs(pending.attempts) : 0, () => this.#deliver(pending));
  }

  #flushPending(): void {
    for (const pending of this.#pending.splice(0)) this.#deliver(pending);
  }
}
