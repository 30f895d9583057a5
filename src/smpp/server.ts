// The SMSC role: accepts ESME connections (plain TCP and TLS), authenticates binds
// through a pluggable authenticator, enforces per-bind limits, and hands bound sessions
// to the application. Bind-state rules (what may be sent before a bind, and on which
// bind type) are enforced here so the application only sees requests it may act on.
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import { ConnectionsPerAddress } from '../net/index.ts';
import { CommandStatus, InterfaceVersion } from './constants.ts';
import type { BindPdu, Pdu } from './pdu.ts';
import type { BindType, SessionOptions } from './session.ts';
import { SmppSession } from './session.ts';

export interface BindRequest {
  systemId: string;
  password: string;
  systemType: string;
  bindType: BindType;
  interfaceVersion: number;
  addressRange: string;
  remoteAddress: string;
}

/** ESME_ROK with an optional context (e.g. the account) attached to the session, or a refusal. */
export type BindDecision = { status: 0; context?: unknown } | { status: number };

export type Authenticator = (request: BindRequest) => BindDecision | Promise<BindDecision>;

export interface SmppServerOptions extends SessionOptions {
  authenticate: Authenticator;
  /** system_id the server answers binds with. */
  systemId?: string;
  /** Binds allowed at once per system_id (0 = no limit). */
  maxBindsPerSystemId?: number;
  /** Connections allowed at once, bound or not (default 1,000); more are closed at once. */
  maxConnections?: number;
  /** Connections allowed at once from one remote address (default 100). */
  maxConnectionsPerAddress?: number;
  /** A connection that has not bound within this time is closed (default 10 s). */
  bindTimeoutMs?: number;
  /** Inbound requests per second per bind; above it ESME_RTHROTTLED (0 = no limit). */
  maxRequestsPerSecond?: number;
  tls?: tls.TlsOptions;
}

/** A bound ESME. `context` is what the authenticator returned (the account). */
export interface BoundSession {
  session: SmppSession;
  systemId: string;
  bindType: BindType;
  interfaceVersion: number;
  context: unknown;
}

export interface SmppServerEvents {
  bound: [bound: BoundSession];
  /** A request the application must answer (submit_sm, data_sm, query_sm, …). */
  request: [pdu: Pdu, bound: BoundSession];
  unbound: [bound: BoundSession];
  bindRefused: [request: BindRequest, status: number];
  protocolError: [err: Error, remoteAddress: string];
}

const bindTypeOf = {
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
  bind_transceiver: 'transceiver',
} as const;

/** Requests an ESME may send on a transmitter (or transceiver) bind. */
const transmitterRequests = new Set([
  'submit_sm',
  'submit_multi',
  'data_sm',
  'query_sm',
  'cancel_sm',
  'replace_sm',
  'broadcast_sm',
  'query_broadcast_sm',
  'cancel_broadcast_sm',
]);

export const serverLimitDefaults = {
  maxConnections: 1_000,
  maxConnectionsPerAddress: 100,
  bindTimeoutMs: 10_000,
};

export class SmppServer extends EventEmitter<SmppServerEvents> {
  readonly #options: SmppServerOptions;
  readonly #servers: net.Server[] = [];
  readonly #sessions = new Set<SmppSession>();
  readonly #connectionsByAddress: ConnectionsPerAddress;
  readonly #bindsBySystemId = new Map<string, number>();
  readonly bound = new Set<BoundSession>();

  constructor(options: SmppServerOptions) {
    super();
    this.#options = options;
    this.#connectionsByAddress = new ConnectionsPerAddress(
      options.maxConnectionsPerAddress ?? serverLimitDefaults.maxConnectionsPerAddress,
    );
  }

  get connections(): number {
    return this.#sessions.size;
  }

  /** Listens on plain TCP; with `secure`, on TLS using the `tls` options. */
  listen(port: number, host = '127.0.0.1', secure = false): Promise<AddressInfo> {
    const onSocket = (socket: net.Socket) => this.#accept(socket);
    let server: net.Server;
    if (secure) {
      if (!this.#options.tls) throw new Error('TLS listener needs the tls option (key, cert)');
      server = tls.createServer(this.#options.tls, onSocket);
    } else {
      server = net.createServer(onSocket);
    }
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  /** Stops listening, unbinds every ESME in order, and closes what is left. */
  async close(): Promise<void> {
    const closing = this.#servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    // A connection that never bound is closed at once: there is no bind to end in order.
    await Promise.all([...this.#sessions].map((s) => (s.bindType === null ? s.close() : s.unbind())));
    for (const s of this.#sessions) s.close();
    await Promise.all(closing);
  }

  #accept(socket: net.Socket): void {
    const o = this.#options;
    if (
      this.#sessions.size >= (o.maxConnections ?? serverLimitDefaults.maxConnections) ||
      !this.#connectionsByAddress.admit(socket)
    ) {
      socket.destroy();
      return;
    }
    const session = new SmppSession(socket, o);
    this.#sessions.add(session);
    const bindTimer = setTimeout(() => {
      if (session.bindType === null) session.close();
    }, o.bindTimeoutMs ?? serverLimitDefaults.bindTimeoutMs);
    bindTimer.unref();
    let bound: BoundSession | null = null;
    let binding = false;
    const limiter = rateLimiter(o.maxRequestsPerSecond ?? 0);

    session.on('protocolError', (err) => this.emit('protocolError', err, session.remoteAddress));
    session.on('close', () => {
      clearTimeout(bindTimer);
      this.#sessions.delete(session);
      if (bound) {
        this.bound.delete(bound);
        const n = (this.#bindsBySystemId.get(bound.systemId) ?? 1) - 1;
        if (n > 0) this.#bindsBySystemId.set(bound.systemId, n);
        else this.#bindsBySystemId.delete(bound.systemId);
        this.emit('unbound', bound);
      }
    });
    session.on('request', (pdu) => {
      if (
        pdu.command === 'bind_transmitter' ||
        pdu.command === 'bind_receiver' ||
        pdu.command === 'bind_transceiver'
      ) {
        if (bound || binding) {
          session.respond(pdu, CommandStatus.ESME_RALYBND);
          return;
        }
        binding = true;
        // Taken as bound before anyone hears of it, so a close from then on releases it.
        this.#bind(session, pdu, (result) => {
          bound = result;
          clearTimeout(bindTimer);
        }).finally(() => {
          binding = false;
        });
        return;
      }
      if (bound === null) {
        session.respond(pdu, CommandStatus.ESME_RINVBNDSTS);
        return;
      }
      if (transmitterRequests.has(pdu.command) && bound.bindType === 'receiver') {
        session.respond(pdu, CommandStatus.ESME_RINVBNDSTS);
        return;
      }
      if (!transmitterRequests.has(pdu.command)) {
        // deliver_sm, outbind, alert_notification are the SMSC's to send, not to receive.
        session.respond(pdu, CommandStatus.ESME_RINVCMDID);
        return;
      }
      if (!limiter()) {
        session.respond(pdu, CommandStatus.ESME_RTHROTTLED);
        return;
      }
      this.emit('request', pdu, bound);
    });
  }

  async #bind(session: SmppSession, pdu: BindPdu, onBound: (bound: BoundSession) => void): Promise<void> {
    const o = this.#options;
    const request: BindRequest = {
      systemId: pdu.systemId,
      password: pdu.password,
      systemType: pdu.systemType,
      bindType: bindTypeOf[pdu.command],
      interfaceVersion: pdu.interfaceVersion,
      addressRange: pdu.addressRange,
      remoteAddress: session.remoteAddress,
    };
    let decision: BindDecision;
    try {
      decision = await o.authenticate(request);
    } catch {
      decision = { status: CommandStatus.ESME_RSYSERR };
    }
    // The peer may have gone while the bind was checked: its close has already been
    // handled, so counting the bind now would keep it (and its maxBinds slot) for good.
    if (session.closed) return;
    const limit = o.maxBindsPerSystemId ?? 0;
    if (decision.status === 0 && limit > 0 && (this.#bindsBySystemId.get(pdu.systemId) ?? 0) >= limit) {
      decision = { status: CommandStatus.ESME_RBINDFAIL };
    }
    const systemId = o.systemId ?? 'smsgw';
    if (decision.status !== 0) {
      this.emit('bindRefused', request, decision.status);
      session.respond(pdu, decision.status, { systemId });
      return;
    }
    // An ESME that speaks 3.4 or later is told our version (sc_interface_version).
    const interfaceVersion = Math.min(pdu.interfaceVersion, InterfaceVersion.V50);
    session.respond(pdu, 0, {
      systemId,
      ...(pdu.interfaceVersion >= InterfaceVersion.V34
        ? { tlvs: { scInterfaceVersion: interfaceVersion } }
        : {}),
    });
    // Answering may itself have dropped a peer that does not read.
    if (session.closed) return;
    session.state = 'bound';
    session.bindType = request.bindType;
    session.peerSystemId = pdu.systemId;
    this.#bindsBySystemId.set(pdu.systemId, (this.#bindsBySystemId.get(pdu.systemId) ?? 0) + 1);
    const bound: BoundSession = {
      session,
      systemId: pdu.systemId,
      bindType: request.bindType,
      interfaceVersion: pdu.interfaceVersion,
      context: 'context' in decision ? decision.context : undefined,
    };
    this.bound.add(bound);
    onBound(bound);
    this.emit('bound', bound);
  }
}

/** A one-second fixed-window counter; returns false when the request is over the rate. */
function rateLimiter(perSecond: number): () => boolean {
  if (perSecond <= 0) return () => true;
  let windowStart = 0;
  let count = 0;
  return () => {
    const now = Date.now();
    if (now - windowStart >= 1_000) {
      windowStart = now;
      count = 0;
    }
    return ++count <= perSecond;
  };
}
