// The npm `smpp` package (farhadi/node-smpp 0.5.1) as an interop peer, in both roles,
// behind promises. The package has no timeouts of its own: every request here gets one.
// What it does that a peer of it has to cope with (the interop tests assert each):
// - text without data_coding goes out in GSM 03.38 septets but labelled data_coding 1 (IA5);
// - it binds as SMPP 5.0 (interface_version 0x50) unless told otherwise;
// - an error response (a refused bind, a failed query_sm) is the 16-octet header alone;
// - short_message comes back decoded, as {message, udh?: Buffer[]}, the UDH split into its
//   information elements; a time field (query_sm_resp final_date) comes back as a Date.
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import type { ConnectOptions, Session, SmppServer } from 'smpp';
import { connect, createServer, PDU } from 'smpp';

export type { PDU };

/** short_message (or message_payload) as the package decodes it. */
export interface DecodedMessage {
  message: string | Buffer;
  udh?: Buffer[];
}

const requestTimeoutMs = 5_000;

/** Sends a request on a session; resolves with its response or rejects after a timeout. */
function request(session: Session, command: string, fields: Record<string, unknown>): Promise<PDU> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm smpp: no ${command}_resp in ${requestTimeoutMs} ms`)),
      requestTimeoutMs,
    );
    const sent = session.send(new PDU(command, fields), (resp) => {
      clearTimeout(timer);
      resolve(resp);
    });
    if (!sent) {
      clearTimeout(timer);
      reject(new Error(`npm smpp: cannot send ${command}, socket not writable`));
    }
  });
}

async function waitFor<T>(find: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`npm smpp: no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface NpmServerOptions {
  /** Accepted credentials; with none, any bind succeeds. */
  accounts?: Array<{ systemId: string; password: string }>;
  systemId?: string;
  /** key and cert: listen on TLS. */
  tls?: { key: Buffer; cert: Buffer };
}

/**
 * An SMSC on the npm package: answers binds (ESME_RINVSYSID / ESME_RINVPASWD against
 * `accounts`), submit_sm (ids "npm-1", "npm-2" …), query_sm, enquire_link and unbind, and
 * records every PDU it reads with the number of its session.
 */
export class NpmSmppServer {
  readonly received: Array<{ session: number; pdu: PDU }> = [];
  readonly sessions: Session[] = [];
  port = 0;
  readonly #server: SmppServer;
  readonly #options: NpmServerOptions;
  readonly #delivered = new Set<string>();
  #nextId = 1;

  private constructor(options: NpmServerOptions) {
    this.#options = options;
    this.#server = createServer(options.tls ?? {}, (session) => this.#accept(session));
  }

  static async start(t: TestContext, options: NpmServerOptions = {}): Promise<NpmSmppServer> {
    const server = new NpmSmppServer(options);
    server.#server.listen(0, '127.0.0.1');
    await once(server.#server, 'listening');
    server.port = server.#server.address().port;
    t.after(() => server.close());
    return server;
  }

  /** Sends a request to a session (deliver_sm, enquire_link, unbind …); resolves with the response. */
  request(session: number, command: string, fields: Record<string, unknown> = {}): Promise<PDU> {
    const s = this.sessions[session];
    if (!s) return Promise.reject(new Error(`npm smpp server: no session ${session}`));
    return request(s, command, fields);
  }

  /** Sends a receipt (or MO) and remembers the message as delivered for query_sm. */
  deliver(session: number, fields: Record<string, unknown>): Promise<PDU> {
    if (typeof fields.receipted_message_id === 'string') this.#delivered.add(fields.receipted_message_id);
    return this.request(session, 'deliver_sm', fields);
  }

  /** The first PDU read (so far or later) of `command` that `also` accepts. */
  waitPdu(command: string, also: (pdu: PDU) => boolean = () => true): Promise<{ session: number; pdu: PDU }> {
    return waitFor(() => this.received.find((r) => r.pdu.command === command && also(r.pdu)), command);
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(session: Session): void {
    const n = this.sessions.push(session) - 1;
    session.on('error', () => {});
    session.on('pdu', (pdu: PDU) => {
      this.received.push({ session: n, pdu });
      if (!pdu.isResponse()) this.#answer(session, pdu);
    });
  }

  #answer(session: Session, pdu: PDU): void {
    switch (pdu.command) {
      case 'bind_transceiver':
      case 'bind_transmitter':
      case 'bind_receiver': {
        const accounts = this.#options.accounts ?? [];
        const account = accounts.find((a) => a.systemId === pdu.system_id);
        const status =
          accounts.length === 0 ? 0 : !account ? 0x0f : account.password !== pdu.password ? 0x0e : 0;
        session.send(
          pdu.response({ command_status: status, system_id: this.#options.systemId ?? 'npm-smsc' }),
        );
        return;
      }
      case 'submit_sm':
        session.send(pdu.response({ message_id: `npm-${this.#nextId++}` }));
        return;
      case 'query_sm': {
        const id = String(pdu.message_id);
        const known = id.startsWith('npm-') && Number(id.slice(4)) < this.#nextId;
        if (!known) session.send(pdu.response({ command_status: 0x67 }));
        else
          session.send(
            pdu.response({ message_id: id, final_date: '', message_state: this.#delivered.has(id) ? 2 : 1 }),
          );
        return;
      }
      case 'enquire_link':
        session.send(pdu.response());
        return;
      case 'unbind':
        session.send(pdu.response());
        session.close();
        return;
      default:
        session.send(pdu.response({ command_status: 0x03 }));
    }
  }
}

/**
 * An ESME on the npm package: one session; inbound deliver_sm, enquire_link and unbind are
 * answered at once, and the requests kept in `inbound`.
 */
export class NpmSmppClient {
  readonly inbound: PDU[] = [];
  closed = false;
  readonly #session: Session;

  private constructor(session: Session) {
    this.#session = session;
    session.on('error', () => {});
    session.on('close', () => {
      this.closed = true;
    });
    session.on('pdu', (pdu: PDU) => {
      if (pdu.isResponse()) return;
      this.inbound.push(pdu);
      session.send(pdu.response());
      if (pdu.command === 'unbind') session.close();
    });
  }

  /** Connects over TCP, or TLS when `tls` has connection options (ca …). */
  static async connect(t: TestContext, port: number, tls?: ConnectOptions): Promise<NpmSmppClient> {
    const url = `${tls ? 'ssmpp' : 'smpp'}://127.0.0.1:${port}`;
    const session = connect({ ...tls, url });
    const client = new NpmSmppClient(session);
    t.after(() => client.close());
    await new Promise<void>((resolve, reject) => {
      session.once(tls ? 'secureConnect' : 'connect', () => resolve());
      session.once('error', reject);
    });
    return client;
  }

  request(command: string, fields: Record<string, unknown> = {}): Promise<PDU> {
    return request(this.#session, command, fields);
  }

  bind(systemId: string, password: string, mode: 'transceiver' | 'transmitter' | 'receiver' = 'transceiver') {
    return this.request(`bind_${mode}`, { system_id: systemId, password });
  }

  /** The first inbound request (so far or later) of `command` that `also` accepts. */
  waitRequest(command: string, also: (pdu: PDU) => boolean = () => true): Promise<PDU> {
    return waitFor(() => this.inbound.find((p) => p.command === command && also(p)), command);
  }

  /** Resolves once the connection is closed (by us or the peer). */
  waitClosed(): Promise<boolean> {
    return waitFor(() => (this.closed ? true : undefined), 'close');
  }

  close(): void {
    this.#session.destroy();
  }
}
