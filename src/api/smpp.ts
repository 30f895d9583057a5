// The SMPP front door (CONTRACT §5): ESME accounts bind, submit into the same pipeline as
// the REST API, and get receipts and inbound messages as deliver_sm. What an ESME is owed
// is stored first and deleted only on its deliver_sm_resp, so it waits out a missing bind.
import { setTimeout as sleep } from 'node:timers/promises';
import type { TlsOptions } from 'node:tls';
import type { ConnectorLogger } from '../connectors/index.ts';
import type { Account, AccountLimits, AccountRegistry, Gateway, Message } from '../core/index.ts';
import {
  AuthGuard,
  GatewayError,
  InterceptorRefusal,
  internationalDigits,
  newId,
  verifyPassword,
} from '../core/index.ts';
import type { BoundSession, Pdu, PduOf, SmppServerOptions } from '../smpp/index.ts';
import {
  buildReceiptTlvs,
  CommandStatus,
  EsmClass,
  formatReceipt,
  MessageState,
  parseSmppTime,
  SmppServer,
  shortMessagePdu,
  statusName,
  Ton,
  toSmppAddress,
} from '../smpp/index.ts';
import {
  buildUdh,
  concatIe,
  decodeText,
  encodingFromDataCoding,
  parseUdh,
  splitMessage,
} from '../sms/index.ts';
import { isStoreUnreachable } from '../store/index.ts';

export interface SmppFrontOptions {
  gateway: Gateway;
  accounts: AccountRegistry;
  /** Each account's messages-per-second limit, shared with the other front doors. */
  limits: AccountLimits;
  /** Whether the account's SMPP credential may bind from this address (`smpp.allowIps`). */
  allowsAddress?: (accountId: string, address: string) => boolean;
  tls?: TlsOptions;
  /** Submits per second per bind above which ESME_RTHROTTLED is answered (0 = none). */
  maxRequestsPerSecond?: number;
  /** Failed binds, counted per address and system_id (shared with the other front doors). */
  authGuard?: AuthGuard;
  /** Limits on connections and on peers that do not read (the server's defaults otherwise). */
  connectionLimits?: Pick<
    SmppServerOptions,
    'maxConnections' | 'maxConnectionsPerAddress' | 'bindTimeoutMs' | 'writeStallMs' | 'maxWriteQueueBytes'
  >;
  /** Binds, unbinds and refused binds are logged here (never a password). */
  log?: ConnectorLogger;
}

/** A bound ESME as GET /v1/admin/smpp/sessions shows it. */
export interface EsmeSessionView {
  id: string;
  account: string;
  systemId: string;
  bindType: BoundSession['bindType'];
  /** The peer's `address:port`. */
  address: string;
  /** When it bound (ISO 8601). */
  since: string;
  /** Requests it may have outstanding with us, and ours with it, at once. */
  window: number;
  /** Messages it submitted (submit_sm, data_sm, each address of a submit_multi). */
  submitted: number;
  /** Receipts and inbound messages it acknowledged. */
  delivered: number;
}

type Delivery =
  | {
      kind: 'receipt';
      messageId: string;
      from: string;
      to: string;
      status: Message['status'];
      err: string;
      submittedAt: number;
      doneAt: number;
      text: string;
    }
  | { kind: 'inbound'; from: string; to: string; text: string };

const receiptWords: Partial<Record<Message['status'], [stat: string, state: number]>> = {
  delivered: ['DELIVRD', MessageState.DELIVERED],
  undelivered: ['UNDELIV', MessageState.UNDELIVERABLE],
  expired: ['EXPIRED', MessageState.EXPIRED],
  rejected: ['REJECTD', MessageState.REJECTED],
  failed: ['UNDELIV', MessageState.UNDELIVERABLE],
  canceled: ['DELETED', MessageState.DELETED],
};

/** How often stored deliveries are looked for, for accounts with a receiver bound here. */
const pollMs = 1000;

export class SmppFront {
  readonly server: SmppServer;
  readonly #o: SmppFrontOptions;
  /** Receiver-capable binds per account. */
  readonly #receivers = new Map<string, Set<BoundSession>>();
  /** Deliveries sent and not yet answered, so a flush does not send them twice. */
  readonly #sending = new Set<number>();
  readonly #retrying = new Set<string>();
  /** Accounts whose stored deliveries are being read (one read each at a time). */
  readonly #flushing = new Set<string>();
  /** Looks for deliveries stored by other gateways (cluster mode) or let go by them. */
  #poll: NodeJS.Timeout | null = null;
  /** Each bound ESME's id, bind time and counts (for the console's health page). */
  readonly #sessions = new Map<
    BoundSession,
    { id: string; since: number; submitted: number; delivered: number }
  >();

  constructor(options: SmppFrontOptions) {
    this.#o = options;
    const authGuard = options.authGuard ?? new AuthGuard();
    this.server = new SmppServer({
      systemId: 'smsgw',
      tls: options.tls,
      maxRequestsPerSecond: options.maxRequestsPerSecond ?? 0,
      ...options.connectionLimits,
      authenticate: async (req) => {
        // Failed binds are limited per address and system_id: a locked-out one is refused
        // before its password is looked at; a wrong password is answered after a delay.
        const named = `smpp:${req.systemId}`;
        // The session names its peer `address:port`; the guard counts per address.
        const address = req.remoteAddress.slice(0, req.remoteAddress.lastIndexOf(':'));
        if (authGuard.lockedFor(address, named) > 0) return { status: CommandStatus.ESME_RBINDFAIL };
        const account = options.accounts.bySystemId(req.systemId);
        // Verify even for an unknown system_id, so timing does not tell which ids exist.
        const ok = await verifyPassword(req.password, account?.smpp?.passwordHash ?? unknownHash);
        if (!account?.smpp || !ok) {
          await sleep(authGuard.failed(address, named));
          return { status: CommandStatus.ESME_RINVPASWD };
        }
        authGuard.succeeded(address, named);
        if (options.allowsAddress && !options.allowsAddress(account.id, address))
          return { status: CommandStatus.ESME_RBINDFAIL };
        // maxBinds counts the account's binds on every gateway of a cluster (a store out of
        // reach counts none elsewhere: binding goes on).
        const elsewhere = await options.gateway.store.esmeBindsElsewhere(account.id).catch(() => 0);
        if (this.#bindsOf(account) + elsewhere >= account.smpp.maxBinds)
          return { status: CommandStatus.ESME_RBINDFAIL };
        return { status: 0, context: account };
      },
    });
    this.server.on('bound', (b) => this.#onBound(b));
    this.server.on('unbound', (b) => this.#onUnbound(b));
    this.server.on('bound', (b) =>
      this.#sessions.set(b, { id: newId(Date.now()), since: Date.now(), submitted: 0, delivered: 0 }),
    );
    this.server.on('unbound', (b) => this.#sessions.delete(b));
    // What the other gateways of a cluster count against the account's maxBinds: one write
    // after another per account, each with the count as it is when it goes.
    const telling = new Map<string, Promise<void>>();
    const tellBinds = (b: BoundSession) => {
      const account = b.context as Account;
      const told = (telling.get(account.id) ?? Promise.resolve())
        .then(() => options.gateway.store.setEsmeBinds(account.id, this.#bindsOf(account)))
        .catch(() => {});
      telling.set(account.id, told);
      void told.then(() => {
        if (telling.get(account.id) === told) telling.delete(account.id);
      });
    };
    this.server.on('bound', tellBinds);
    this.server.on('unbound', tellBinds);
    const log = options.log;
    if (log) {
      const who = (b: BoundSession) => ({
        account: (b.context as Account).id,
        systemId: b.systemId,
        bindType: b.bindType,
        remote: b.session.remoteAddress,
      });
      this.server.on('bound', (b) => log.info(who(b), 'ESME bound'));
      this.server.on('unbound', (b) => log.info(who(b), 'ESME unbound'));
      this.server.on('bindRefused', (req, status) =>
        log.warn(
          {
            account: options.accounts.bySystemId(req.systemId)?.id ?? null,
            systemId: req.systemId,
            remote: req.remoteAddress,
            status: statusName(status),
          },
          'ESME bind refused',
        ),
      );
    }
    this.server.on('request', (pdu, b) => {
      // A refusal thrown through (the store unavailable to submit_multi) keeps its status.
      this.#onRequest(pdu, b).catch((err: unknown) => b.session.respond(pdu, statusOf(err)));
    });
    // The receipt for the ESME is stored in the transaction of the status it reports.
    options.gateway.on('statusWrite', (m) => this.#onStatus(m));
    options.gateway.on('inbound', (m) => this.#onInbound(m));
  }

  listen(port: number, host: string, secure = false) {
    this.#poll ??= setInterval(() => {
      for (const accountId of this.#receivers.keys()) void this.#flush(accountId).catch(() => {});
    }, pollMs).unref();
    return this.server.listen(port, host, secure);
  }

  close(): Promise<void> {
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
    return this.server.close();
  }

  /**
   * Accounts changed at run time (the admin API, a reload): a bind goes on with its
   * account's settings as they are now, and is unbound when the account is gone or binds
   * with other credentials now.
   */
  accountsChanged(): void {
    for (const b of this.server.bound) {
      const before = b.context as Account;
      const now = this.#o.accounts.get(before.id);
      if (
        now?.smpp &&
        now.smpp.systemId === b.systemId &&
        now.smpp.passwordHash === before.smpp?.passwordHash
      )
        b.context = now;
      else void b.session.unbind().catch(() => b.session.close());
    }
  }

  /** The ESMEs bound to this gateway, oldest bind first. */
  sessions(): EsmeSessionView[] {
    return [...this.#sessions].map(([b, s]) => ({
      id: s.id,
      account: (b.context as Account).id,
      systemId: b.systemId,
      bindType: b.bindType,
      address: b.session.remoteAddress,
      since: new Date(s.since).toISOString(),
      window: b.session.window,
      submitted: s.submitted,
      delivered: s.delivered,
    }));
  }

  /** Closes the bound session with this id; false when there is none here. */
  disconnect(id: string): boolean {
    for (const [b, s] of this.#sessions) {
      if (s.id !== id) continue;
      b.session.close();
      return true;
    }
    return false;
  }

  /** Bound ESMEs per account (for /metrics). */
  bindsByAccount(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const b of this.server.bound) {
      const id = (b.context as Account).id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  #counted(b: BoundSession, what: 'submitted' | 'delivered', n: number): void {
    const counts = this.#sessions.get(b);
    if (counts) counts[what] += n;
  }

  #bindsOf(account: Account): number {
    let n = 0;
    for (const b of this.server.bound) if ((b.context as Account).id === account.id) n++;
    return n;
  }

  #onBound(b: BoundSession): void {
    const account = b.context as Account;
    if (b.bindType === 'transmitter') return;
    let set = this.#receivers.get(account.id);
    if (!set) {
      set = new Set();
      this.#receivers.set(account.id, set);
    }
    set.add(b);
    void this.#flush(account.id).catch(() => {});
  }

  #onUnbound(b: BoundSession): void {
    const accountId = (b.context as Account).id;
    const binds = this.#receivers.get(accountId);
    if (!binds?.delete(b) || binds.size > 0) return;
    // No receiver left here: what this gateway held may go out through another one.
    this.#receivers.delete(accountId);
    this.#o.gateway.store.releaseEsmeDeliveries(accountId).catch(() => {});
  }

  async #onRequest(pdu: Pdu, b: BoundSession): Promise<void> {
    const account = b.context as Account;
    const session = b.session;
    switch (pdu.command) {
      case 'submit_sm':
      case 'data_sm': {
        // An address that cannot be read is refused before the account's rate is touched.
        const to = smppNumber(pdu.destinationAddr, pdu.destAddrTon, account);
        if (to === undefined) return session.respond(pdu, CommandStatus.ESME_RINVDSTADR);
        if (this.#o.limits.take(account) > 0) return session.respond(pdu, CommandStatus.ESME_RTHROTTLED);
        try {
          const message = await this.#o.gateway.submit(
            account.id,
            { ...this.#requestOf(pdu), to },
            { defaultFrom: account.defaultFrom ?? undefined, country: account.defaultCountry },
          );
          session.respond(pdu, 0, { messageId: message.id });
          this.#counted(b, 'submitted', 1);
        } catch (err) {
          this.#o.limits.giveBack(account);
          session.respond(pdu, statusOf(err));
        }
        return;
      }
      case 'submit_multi': {
        const base = this.#requestOf(pdu);
        if (this.#o.limits.take(account, pdu.destinations.length) > 0) {
          return session.respond(pdu, CommandStatus.ESME_RTHROTTLED);
        }
        // One id for the ESME (as an SMSC gives); each destination is its own message in
        // the group, all stored together, and each receipt carries that one id.
        const multiId = newId();
        // Destinations that cannot be read (a distribution list, a national number with no
        // country to read it in) are refused without reaching the pipeline.
        const readable = pdu.destinations.flatMap((d) => {
          const to = d.kind === 'sme' ? smppNumber(d.address, d.ton, account) : undefined;
          return to === undefined ? [] : [{ d, to }];
        });
        const results = await this.#o.gateway
          .submitMany(
            account.id,
            readable.map(({ to }) => ({ ...base, to, groupId: `${multiGroup}${multiId}` })),
            { defaultFrom: account.defaultFrom ?? undefined, country: account.defaultCountry },
          )
          .catch((err: unknown) => {
            this.#o.limits.giveBack(account, pdu.destinations.length);
            throw err;
          });
        const refused = new Map(
          readable.flatMap(({ d }, i) => {
            const r = results[i]!;
            return 'error' in r ? [[d, statusOf(r.error)] as const] : [];
          }),
        );
        const unsuccess = pdu.destinations.flatMap((d) => {
          if (readable.some((r) => r.d === d) && !refused.has(d)) return [];
          const errorStatus = refused.get(d) ?? CommandStatus.ESME_RINVDSTADR;
          return [
            d.kind === 'sme'
              ? { ton: d.ton, npi: d.npi, address: d.address, errorStatus }
              : { ton: 0, npi: 0, address: d.name, errorStatus },
          ];
        });
        // Only accepted messages use the account's rate: the refused give their share back.
        this.#o.limits.giveBack(account, unsuccess.length);
        if (unsuccess.length === pdu.destinations.length)
          return session.respond(pdu, unsuccess[0]?.errorStatus ?? CommandStatus.ESME_RINVNUMDESTS);
        session.respond(pdu, 0, { messageId: multiId, unsuccess });
        this.#counted(b, 'submitted', pdu.destinations.length - unsuccess.length);
        return;
      }
      case 'replace_sm': {
        // The new short_message is in the message's own alphabet (replace_sm has no data_coding).
        const stored = await this.#o.gateway.store.getMessage(pdu.messageId);
        if (!stored || stored.accountId !== account.id)
          return session.respond(pdu, CommandStatus.ESME_RREPLACEFAIL);
        try {
          const sendAt = pdu.scheduleDeliveryTime ? parseSmppTime(pdu.scheduleDeliveryTime) : null;
          const validUntil = pdu.validityPeriod ? parseSmppTime(pdu.validityPeriod) : null;
          // An empty short_message with a new time changes the time only.
          const content =
            pdu.shortMessage.length === 0 && (sendAt || validUntil)
              ? {}
              : stored.encoding === 'binary'
                ? { binary: Buffer.from(pdu.shortMessage) }
                : { text: decodeText(pdu.shortMessage, stored.encoding) };
          await this.#o.gateway.replace(account.id, pdu.messageId, {
            ...content,
            ...(sendAt ? { sendAt: sendAt.getTime() } : {}),
            ...(validUntil ? { validUntil: validUntil.getTime() } : {}),
          });
          session.respond(pdu);
        } catch (err) {
          session.respond(
            pdu,
            err instanceof GatewayError && err.field ? statusOf(err) : CommandStatus.ESME_RREPLACEFAIL,
          );
        }
        return;
      }
      case 'query_sm': {
        const message = await this.#o.gateway.store.getMessage(pdu.messageId);
        if (!message || message.accountId !== account.id)
          return session.respond(pdu, CommandStatus.ESME_RQUERYFAIL);
        session.respond(pdu, 0, {
          messageId: message.id,
          finalDate: '',
          messageState: stateOf(message.status),
          errorCode: 0,
        });
        return;
      }
      case 'cancel_sm': {
        try {
          const canceled = await this.#o.gateway.cancel(account.id, pdu.messageId);
          session.respond(pdu, canceled ? 0 : CommandStatus.ESME_RCANCELFAIL);
        } catch {
          session.respond(pdu, CommandStatus.ESME_RCANCELFAIL);
        }
        return;
      }
      default:
        session.respond(pdu, CommandStatus.ESME_RINVCMDID);
    }
  }

  #requestOf(pdu: PduOf<'submit_sm'> | PduOf<'data_sm'> | PduOf<'submit_multi'>) {
    let body: Buffer =
      'shortMessage' in pdu && pdu.shortMessage.length > 0
        ? pdu.shortMessage
        : (pdu.tlvs?.messagePayload ?? Buffer.alloc(0));
    // A part of a long message the ESME split itself travels on as it is, header included
    // (SAR TLVs become the equivalent concatenation header), so each part keeps its id and
    // its receipt. A header that does not parse is refused.
    let udh: Buffer | undefined;
    if (pdu.esmClass & EsmClass.UDHI) {
      const parsed = parseUdh(body);
      if (!parsed) throw new GatewayError('invalid_udh', 'the user data header is malformed', 'udh');
      udh = Buffer.from(body.subarray(0, parsed.headerLength));
      body = body.subarray(parsed.headerLength);
    } else if (pdu.tlvs?.sarMsgRefNum !== undefined) {
      const { sarMsgRefNum, sarTotalSegments, sarSegmentSeqnum } = pdu.tlvs;
      try {
        udh = buildUdh([concatIe(sarMsgRefNum, sarTotalSegments ?? 1, sarSegmentSeqnum ?? 1, 16)]);
      } catch {
        throw new GatewayError('invalid_udh', 'the SAR TLVs do not describe a part', 'udh');
      }
    }
    const encoding = textEncodingOf(pdu.dataCoding, body);
    const registered = 'registeredDelivery' in pdu ? pdu.registeredDelivery : 0;
    const validity = 'validityPeriod' in pdu && pdu.validityPeriod ? parseSmppTime(pdu.validityPeriod) : null;
    const scheduled =
      'scheduleDeliveryTime' in pdu && pdu.scheduleDeliveryTime
        ? parseSmppTime(pdu.scheduleDeliveryTime)
        : null;
    const now = Date.now();
    return {
      // A sender's TON is read as a destination's: TON international digits are not national.
      from: (pdu.sourceAddr && smppNumber(pdu.sourceAddr, pdu.sourceAddrTon, null)) || undefined,
      ...(encoding === 'binary'
        ? { binary: Buffer.from(body) }
        : { text: decodeText(body, encoding), encoding: udh ? encoding : ('auto' as const) }),
      udh,
      validitySeconds: validity ? Math.max(1, Math.round((validity.getTime() - now) / 1000)) : undefined,
      sendAt: scheduled ? scheduled.getTime() : undefined,
      priority: ('priorityFlag' in pdu && pdu.priorityFlag >= 2 ? 'otp' : 'transactional') as
        | 'otp'
        | 'transactional',
      origin: 'smpp' as const,
      receiptRequested: (registered & 0x03) !== 0,
    };
  }

  #onStatus(m: Message): void {
    if (m.origin !== 'smpp' || !m.receiptRequested || m.direction !== 'mt' || !receiptWords[m.status]) return;
    this.#enqueue(m.accountId, {
      kind: 'receipt',
      messageId: m.groupId?.startsWith(multiGroup) ? m.groupId.slice(multiGroup.length) : m.id,
      from: m.from,
      to: m.to,
      status: m.status,
      err:
        m.error?.code && /^\d{1,3}$/.test(m.error.code)
          ? m.error.code.padStart(3, '0')
          : m.status === 'delivered'
            ? '000'
            : '001',
      submittedAt: m.submittedAt ?? m.createdAt,
      doneAt: m.doneAt ?? Date.now(),
      text: (m.text ?? '').slice(0, 20),
    }).catch(() => {});
  }

  #onInbound(m: Message): void {
    if (!m.accountId || m.text === null) return;
    const account = this.#o.accounts.get(m.accountId);
    if (!account?.smpp) return;
    this.#enqueue(m.accountId, { kind: 'inbound', from: m.from, to: m.to, text: m.text }).catch(() => {});
  }

  /** Stored, then sent at once if a receiver is bound here (held by this gateway meanwhile). */
  async #enqueue(accountId: string, delivery: Delivery): Promise<void> {
    const here = (this.#receivers.get(accountId)?.size ?? 0) > 0;
    const id = await this.#o.gateway.store.enqueueEsmeDelivery(accountId, delivery, here);
    if (here) this.#deliver(accountId, id, delivery);
  }

  /** Everything stored for the account (on bind, each poll, and to retry what failed). */
  async #flush(accountId: string): Promise<void> {
    if (this.#flushing.has(accountId)) return;
    this.#flushing.add(accountId);
    try {
      for (;;) {
        const binds = this.#receivers.get(accountId);
        if (!binds || binds.size === 0) return;
        const stored = await this.#o.gateway.store.pendingEsmeDeliveries(accountId, 1000);
        const pending = stored.filter((d) => !this.#sending.has(d.id));
        await Promise.all(pending.map((d) => this.#deliver(accountId, d.id, d.payload as Delivery)));
        // A full page may hide more; anything that failed waits for #retryLater.
        if (stored.length < 1000 || pending.length === 0) return;
      }
    } finally {
      this.#flushing.delete(accountId);
    }
  }

  /** Sends on one of the account's receiver binds; deleted from the store once answered. */
  #deliver(accountId: string, id: number, delivery: Delivery): Promise<void> {
    const binds = this.#receivers.get(accountId);
    if (!binds || binds.size === 0 || this.#sending.has(id)) return Promise.resolve();
    const list = [...binds];
    const bound = list[id % list.length]!;
    this.#sending.add(id);
    return Promise.all(pdusOf(delivery).map((pdu) => bound.session.request(pdu)))
      .then(async (responses) => {
        if (responses.every((r) => r.commandStatus === 0)) {
          this.#counted(bound, 'delivered', 1);
          await this.#o.gateway.store.deleteEsmeDelivery(id);
        } else this.#retryLater(accountId);
      })
      .catch(() => this.#retryLater(accountId))
      .finally(() => this.#sending.delete(id));
  }

  /** A delivery failed on a live bind: try the stored ones again in a while. */
  #retryLater(accountId: string): void {
    if (this.#retrying.has(accountId)) return;
    this.#retrying.add(accountId);
    setTimeout(() => {
      this.#retrying.delete(accountId);
      void this.#flush(accountId).catch(() => {});
    }, 5000).unref();
  }
}

/**
 * The alphabet a submit's octets are in. data_coding 1 claims IA5 (ASCII), but some ESMEs
 * (the npm `smpp` package among them) send GSM 03.38 octets under it; control octets other
 * than CR/LF never occur in real IA5 text and are GSM letters (`@` is 0x00), so they tell.
 */
function textEncodingOf(dataCoding: number, body: Buffer) {
  const { encoding } = encodingFromDataCoding(dataCoding);
  if (encoding === 'ascii' && body.some((b) => b < 0x20 && b !== 0x0a && b !== 0x0d)) return 'gsm7';
  return encoding;
}

/** groupId prefix of the messages of one submit_multi; the rest is the id the ESME got. */
const multiGroup = 'smpp-multi:';

const unknownHash =
  'scrypt$00000000000000000000000000000000$0000000000000000000000000000000000000000000000000000000000000000';

/**
 * command_status for a recipient on the account's suppression list: from the range SMPP 3.4
 * §5.1.3 reserves for SMSC vendors, so an ESME can tell it from a bad address (0x0B).
 */
export const optedOutStatus = 0x00000401;

function statusOf(err: unknown): number {
  if (isStoreUnreachable(err)) return CommandStatus.ESME_RMSGQFUL;
  if (!(err instanceof GatewayError)) return CommandStatus.ESME_RSYSERR;
  if (err.code === 'recipient_opted_out') return optedOutStatus;
  // A temporary refusal ESMEs wait out and retry (as they do ESME_RTHROTTLED), where
  // ESME_RSYSERR reads as a fault of the SMSC that many report and give up on.
  if (err.code === 'store_unavailable' || err.code === 'lookup_unavailable')
    return CommandStatus.ESME_RMSGQFUL;
  // Billing: refused until the account is credited or its quota period turns.
  if (err.code === 'insufficient_balance' || err.code === 'quota_exceeded')
    return CommandStatus.ESME_RSUBMITFAIL;
  if (err.code === 'destination_rate_limited') return CommandStatus.ESME_RTHROTTLED;
  // Refused by a rule's interceptor (or its failure, with onError: refuse).
  if (err instanceof InterceptorRefusal) return CommandStatus.ESME_RSUBMITFAIL;
  switch (err.field) {
    case 'to':
      return CommandStatus.ESME_RINVDSTADR;
    case 'from':
      return CommandStatus.ESME_RINVSRCADR;
    case 'text':
    case 'binaryHex':
      return CommandStatus.ESME_RINVMSGLEN;
    case 'udh':
      return CommandStatus.ESME_RINVESMCLASS;
    case 'validitySeconds':
      return CommandStatus.ESME_RINVEXPIRY;
    case 'sendAt':
      return CommandStatus.ESME_RINVSCHED;
    default:
      return err.httpStatus === 429 ? CommandStatus.ESME_RTHROTTLED : CommandStatus.ESME_RSYSERR;
  }
}

/**
 * A number as the ESME wrote it, in the gateway's terms, or undefined when it cannot be
 * read. TON international: the digits are international (`+` added). TON national or
 * subscriber: a number of the account's defaultCountry (a destination is refused without
 * one; `account` null, for a sender, leaves it to the sender rules). TON unknown,
 * under which ESMEs commonly send full international numbers: read as internationalDigits
 * does (7–15 digits not starting with 0 are international, as before; a leading 0 makes
 * them national, read in the account's defaultCountry). Other TONs (network-specific,
 * abbreviated) and short digit strings are short codes, sent as written.
 */
function smppNumber(address: string, ton: number, account: Account | null): string | undefined {
  if (!/^\d+$/.test(address)) return address;
  if (ton === Ton.INTERNATIONAL) return `+${address}`;
  // Read in the account's country; without one, as TON unknown: Kannel (among others) sends
  // every number written without `+` as national, `447700900123` included.
  if (ton === Ton.NATIONAL || ton === Ton.SUBSCRIBER_NUMBER)
    return !account || account.defaultCountry ? address : internationalDigits(address);
  return ton === Ton.UNKNOWN ? internationalDigits(address) : address;
}

function stateOf(status: Message['status']): number {
  return (
    receiptWords[status]?.[1] ??
    (status === 'submitted' || status === 'sending' || status === 'queued'
      ? MessageState.ENROUTE
      : MessageState.SCHEDULED)
  );
}

function deliverSm(from: string, to: string, dataCoding: number, esmClass: number, shortMessage: Buffer) {
  const src = toSmppAddress(from);
  const dst = toSmppAddress(to);
  return shortMessagePdu('deliver_sm', {
    sourceAddrTon: src.ton,
    sourceAddrNpi: src.npi,
    sourceAddr: src.address,
    destAddrTon: dst.ton,
    destAddrNpi: dst.npi,
    destinationAddr: dst.address,
    esmClass,
    dataCoding,
    shortMessage,
  });
}

function pdusOf(d: Delivery): PduOf<'deliver_sm'>[] {
  if (d.kind === 'receipt') {
    const [stat, state] = receiptWords[d.status] ?? ['UNKNOWN', MessageState.UNKNOWN];
    // The receipt travels back: from the handset (to) to the ESME's sender (from).
    const pdu = deliverSm(
      d.to,
      d.from,
      0,
      EsmClass.DELIVERY_RECEIPT,
      Buffer.from(
        formatReceipt({
          id: d.messageId,
          submitDate: new Date(d.submittedAt),
          doneDate: new Date(d.doneAt),
          stat,
          err: d.err,
          text: d.text,
        }),
        'latin1',
      ),
    );
    pdu.tlvs = buildReceiptTlvs({ messageId: d.messageId, messageState: state });
    return [pdu];
  }
  const split = splitMessage(d.text, {
    encoding: 'auto',
    mode: 'udh',
    reference: Math.floor(Math.random() * 255) + 1,
    maxParts: 255,
  });
  return split.parts.map((part) =>
    deliverSm(
      d.from,
      d.to,
      split.dataCoding,
      part.udh ? EsmClass.UDHI : 0,
      part.udh ? Buffer.concat([part.udh, part.payload]) : part.payload,
    ),
  );
}
