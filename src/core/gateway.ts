// The message pipeline every front door shares (REST, SMPP server, compat APIs): accept
// and store, route and dispatch, follow submit responses and receipts to a final status,
// take inbound messages in. Fronts listen to `status` and `inbound` to tell their clients.
import { EventEmitter } from 'node:events';
import type {
  AccountConfig,
  ConnectorConfig,
  GatewayConfig,
  MoRouteConfig,
  MtRouteConfig,
} from '../config/index.ts';
import type { Connector, InboundReceipt, InboundSms, SubmitResult } from '../connectors/index.ts';
import { normaliseMessageId } from '../smpp/index.ts';
import {
  chooseEncoding,
  countSegments,
  encodeText,
  gsm7Length,
  parseUdh,
  SmsError,
  splitBinary,
} from '../sms/index.ts';
import type {
  AccountCharge,
  ChargeOutcome,
  IdempotencyRecord,
  MessagePatch,
  PartOutcome,
  PartTally,
  SmscIdLink,
  Store,
  StoreNotice,
} from '../store/index.ts';
import { StoreConflictError, StoreLimitError, StoreNotFoundError } from '../store/index.ts';
import { BoundedMap, stringBytes } from './bounded-map.ts';
import { ClusterShares } from './cluster-shares.ts';
import { Dispatcher } from './dispatcher.ts';
import { GatewayError, StoreUnavailableError } from './errors.ts';
import { newId } from './ids.ts';
import { InterceptorRefusal, type Interceptors } from './interceptors.ts';
import { type LinkData, linkRecordKind, type ShortLink, shortenLinks } from './links.ts';
import type { Message, MessageStatus, Priority, TextEncoding } from './message.ts';
import { finalStatuses, priorities } from './message.ts';
import type { NetworkLookup } from './network.ts';
import { type CountryCode, destinationOf, normaliseNumber, normaliseSender, senderOf } from './numbers.ts';
import { needsNetwork } from './route-match.ts';
import { RouteQuality } from './route-quality.ts';
import {
  inboundOwner,
  MoRouter,
  type MtRouteExplanation,
  type MtRouteInput,
  MtRouter,
  tagsOf,
} from './router.ts';
import { SenderPools } from './sender-pools.ts';
import { SenderOwnership } from './senders.ts';
import { Suppressions } from './suppressions.ts';
import { checkedTags } from './tags.ts';

export { checkedTags } from './tags.ts';

export interface SubmitRequest {
  to: string;
  from?: string;
  text?: string;
  binary?: Buffer;
  /** A header to send as it is (then the message must fit in one part). */
  udh?: Buffer;
  encoding?: 'auto' | TextEncoding;
  callbackUrl?: string;
  validitySeconds?: number;
  /** Epoch ms; in the future makes the message `scheduled`. */
  sendAt?: number;
  priority?: Priority;
  clientRef?: string;
  flash?: boolean;
  origin?: 'http' | 'smpp';
  receiptRequested?: boolean;
  groupId?: string;
  /** Kept with the message for the front door or feature that sent it (see Message.meta). */
  meta?: Record<string, unknown>;
  /** Labels the client gives the message, for routing (`match.tags`); kept as `meta.tags`. */
  tags?: string[];
  /**
   * A sender pool of the account (`accounts[].services`, by id or Twilio sid): without
   * `from`, the sender is chosen from it. Kept as `meta.service`.
   */
  service?: string;
}

export interface SubmitOptions {
  /** Stored atomically with the message; the same key returns the first answer again. */
  idempotency?: Omit<IdempotencyRecord, 'response' | 'statusCode'> & { render(m: Message): unknown };
  /** Account default sender. */
  defaultFrom?: string;
  /**
   * submitMany: the messages' ids in request order, made by the caller from what names each
   * (a batch row: its batch and place). A message made twice — by a gateway that stalled
   * past its lease and by the one that took its work over — is then refused by the store as
   * a conflict instead of sent twice. Never from a client's request.
   */
  ids?: readonly string[];
  /**
   * The account's defaultCountry: numbers written without `+` are read in it; with none,
   * such a destination is refused (never given a `+` it does not have).
   */
  country?: CountryCode | null;
  /**
   * Sent even to a suppressed number: the confirmation of an opt-out itself, or an
   * emergency alert. Never set from a client's request.
   */
  optOutExempt?: boolean;
  /**
   * An answer from the number an inbound message came to (two-way): the gateway chose the
   * sender, so it is not held to other accounts' senders.
   */
  replying?: boolean;
}

export interface GatewayEvents {
  /** A message changed status (the message after the change); the change is durable. */
  status: [message: Message];
  /**
   * The same, emitted as the status write is issued, before it is durable: what a listener
   * writes now shares that write's store transaction (or commits after it), so an event
   * about the status is stored neither without it nor a commit later. For writes only.
   */
  statusWrite: [message: Message];
  /**
   * An inbound message was stored: for the account of the MO rule that took it (with that
   * rule; `systemAccountId` for a rule naming none), or for no account ('' and null) when
   * no rule did.
   */
  inbound: [message: Message, route: MoRouteConfig | null];
  /** A group cancel (cancelGroup, or its replay) canceled this many unsent messages at once. */
  groupCanceled: [groupId: string, count: number];
}

/** Whether the store takes the gateway's writes (see Gateway.storeHealth). */
export interface StoreHealth {
  /** False from a failed write until a write succeeds again. */
  ok: boolean;
  /** Epoch ms at which `ok` took its current value (the gateway's start at first). */
  since: number;
  /** Why the latest failed write failed; null if none has. */
  lastError: string | null;
}

/** Billing and account policies (src/billing), asked on every accept whatever the front door. */
export interface AcceptHooks {
  /** Refuses (GatewayError) what the account may not send, and fixes the message's price. */
  admit(message: Message): void;
  /** What storing these messages of one account takes from it, in the same transaction. */
  charge(accountId: string, messages: readonly Message[]): AccountCharge | undefined;
  /** A charge was stored: what it left. */
  charged(accountId: string, charge: AccountCharge, outcome: ChargeOutcome): void;
  /** The messages charge was asked for were not stored after all: what it counted comes back. */
  uncharged(accountId: string, messages: readonly Message[]): void;
}

export interface GatewayOptions {
  store: Store;
  accept?: AcceptHooks;
  config: GatewayConfig;
  connectors: ReadonlyMap<string, Connector>;
  /** Most parts one message may have; more is refused with `too_many_parts`. */
  maxParts?: number;
  /** Attempts before a message that keeps failing temporarily is failed. */
  maxAttempts?: number;
  /** The online number lookup (`lookup` in the config), for `network` matches. */
  networkLookup?: NetworkLookup;
  now?: () => number;
  /** Runs the rules' interceptors (none: rules with one are applied without it). */
  interceptors?: Interceptors;
  /** Where short links point by default (`http.publicUrl`, known once HTTP listens). */
  publicUrl?: () => string;
}

const maxValiditySeconds = 7 * 24 * 3600;
/** The furthest ahead a message may be scheduled: further is a typo, or an attempt to park rows forever. */
export const maxScheduleAheadMs = 10 * 365.25 * 24 * 3600_000;

export function refuseFarFuture(sendAt: number | undefined, now: number): void {
  if (sendAt !== undefined && sendAt > now + maxScheduleAheadMs)
    throw new GatewayError('invalid_send_at', 'sendAt must be within 10 years from now', 'sendAt');
}
/** A receipt kept unmatched this long is looked up by the sweep (before, the process that kept it may still). */
const strayAfterMs = 2_000;
/** How far back the sweep looks: a submit answered later than this is not waited for. */
const strayWindowMs = 15 * 60_000;
/** A message handed to the other gateways is not claimed back by this one for so long. */
const handedOverForMs = 10_000;
/** While the store refuses writes, how often one is tried again. */
const storeProbeMs = 500;
/** The record written to learn whether the store writes again, when no outcome waits to be. */
const storeProbe = { kind: 'store_probe', id: 'write' } as const;

export class Gateway extends EventEmitter<GatewayEvents> {
  readonly store: Store;
  /** The opt-out list every outbound message is checked against. */
  readonly suppressions: Suppressions;
  readonly connectors: ReadonlyMap<string, Connector>;
  /** This gateway's share of what a cluster shares: carrier binds and tps, accounts' rates. */
  readonly shares: ClusterShares;
  /** Delivery ratio and receipt latency per connector and country, from this gateway's receipts. */
  readonly routeQuality = new RouteQuality();
  /** The online number lookup, when one is configured. */
  readonly networkLookup: NetworkLookup | undefined;
  /** Whether some MT rule, or some MO rule, matches on `network` (only then is a number looked up online). */
  readonly #mtNeedsNetwork: boolean;
  #moNeedsNetwork: boolean;
  readonly #router: MtRouter;
  #moRouter: MoRouter;
  #moRoutes: readonly MoRouteConfig[];
  #accounts: readonly AccountConfig[];
  /** The accounts' sender pools (`services`). */
  readonly #pools: SenderPools;
  /** Who may send from which sender: rebuilt with the MO rules, which give numbers owners. */
  #senders: SenderOwnership;
  readonly #dispatcher: Dispatcher;
  readonly #maxParts: number;
  readonly #maxAttempts: number;
  readonly #acceptHooks: AcceptHooks | undefined;
  readonly #now: () => number;
  /** Messages in flight to a connector, to settle them without a read. */
  readonly #inFlight = new Map<string, { message: Message; since: number }>();
  /**
   * Recently submitted messages and their SMSC ids, so most receipts are matched without a
   * read: a hot cache in front of the store, which has them all (linkSmscIds). Bounded by
   * bytes, as a message's size varies: 8 + 4 MB keep the last ~7,000 messages of 60
   * characters at least, where receipts that come within seconds find them (200,000 entries
   * each held ~300 MB; a receipt for an older message costs two indexed reads). Keys of
   * links: `<connector>\0<smsc id>`.
   */
  readonly #awaiting = new BoundedMap<string, Message>(8 * 2 ** 20, (_, message) => messageBytes(message));
  readonly #links = new BoundedMap<string, SmscIdLink>(
    4 * 2 ** 20,
    (key, link) => 96 + stringBytes(key) + stringBytes(link.smscId),
  );
  /**
   * Receipts this process stored unmatched; only these can be waiting for a submit response.
   * Most are never matched (a receipt for a message the carrier got elsewhere) and their
   * ids are the carrier's to choose, so they are held by size: one forgotten here is still
   * found by the sweep (#matchStrays) while its submit may come.
   */
  readonly #unmatched = new BoundedMap<string, Promise<void>>(4 * 2 ** 20, (key) => 160 + stringBytes(key));
  /** Per connector: answered by the SMSC, outcome not yet committed (see Dispatcher). */
  readonly #unrecorded = new Map<string, number>();
  /**
   * Messages answered by their SMSC whose outcome is not stored yet (the store may be
   * down): on disk they are still `queued`, so memory tells what they are (see `live`).
   */
  readonly #recording = new Map<string, Message>();
  #storeHealth: StoreHealth;
  #storeProbe: NodeJS.Timeout | null = null;
  /** Outcome writes waiting for the store to write again, oldest first (see #durably). */
  #storeWaiters: Array<() => void> = [];
  /** Submit responses being stored; a receipt for one of them waits for it. */
  readonly #submitting = new Map<string, Promise<unknown>>();
  /** Groups held back (paused) or canceled: none of their messages may leave. */
  readonly #groupHolds = new Map<string, 'paused' | 'canceled'>();
  /** Groups whose store operation runs again for messages that slipped past it (see #withheld). */
  readonly #reholding = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #purgedAt = 0;
  /**
   * Messages handed to the other gateways (no bind of their route here), and until when
   * this one leaves them to those: it does not claim them back at once.
   */
  readonly #handedOver = new Map<string, number>();
  /** The store writes again: what this gateway holds is being claimed anew (see #storeWrote). */
  #reclaiming = false;
  /** Store failures seen so far: a reclaim that began before the latest one must not say the store is back. */
  #storeFailures = 0;
  readonly #interceptors: Interceptors | undefined;
  /** Per account that shortens links: the base URL of its short links. */
  readonly #linkBases = new Map<string, () => string>();
  /** The base URL at which clients reach this gateway (`http.publicUrl`). */
  readonly #publicUrl: () => string;
  /** The short links of messages built and not yet stored (stored with them, see #insert). */
  readonly #shortLinks = new WeakMap<Message, ShortLink[]>();

  constructor(options: GatewayOptions) {
    super();
    this.store = options.store;
    this.connectors = options.connectors;
    this.#now = options.now ?? Date.now;
    this.#router = new MtRouter(options.config.routes.mt, [...options.connectors.keys()], {
      costs: Object.fromEntries(options.config.connectors.map((c) => [c.id, c.costs])),
      quality: this.routeQuality,
      now: this.#now,
    });
    this.on('status', (m) => {
      // A receipt's verdict on the connector that sent the message (not a refusal at submit).
      if (m.direction !== 'mt' || m.connectorId === null || m.submittedAt === null) return;
      if (m.status === 'delivered' || m.status === 'undelivered' || m.status === 'expired')
        this.routeQuality.record(m.connectorId, m.to, m.status === 'delivered', this.#now() - m.submittedAt);
    });
    this.#moRouter = new MoRouter(options.config.routes.mo, this.#now);
    this.#moRoutes = options.config.routes.mo;
    this.networkLookup = options.networkLookup;
    this.#mtNeedsNetwork = options.config.routes.mt.some((r) => needsNetwork(r.match));
    this.#moNeedsNetwork = options.config.routes.mo.some((r) => needsNetwork(r.match));
    this.#accounts = options.config.accounts;
    this.#senders = new SenderOwnership(this.#accounts, this.#moRoutes);
    this.#pools = new SenderPools(this.#accounts, this.store, this.#now);
    this.#maxParts = options.maxParts ?? 10;
    this.#acceptHooks = options.accept;
    this.#interceptors = options.interceptors;
    this.#publicUrl =
      options.publicUrl ?? (() => options.config.http.publicUrl ?? `http://${options.config.http.listen}`);
    this.#setLinkBases(this.#accounts);
    this.#maxAttempts = options.maxAttempts ?? 12;
    this.#storeHealth = { ok: true, since: this.#now(), lastError: null };
    this.suppressions = new Suppressions(this.store, this.#now);
    this.shares = new ClusterShares(this.store, this.connectors);
    this.store.onNotice((notice) => this.#heard(notice)).catch(() => {});
    // What the other gateways (and GET /v1/admin/nodes) see of this one.
    this.store.describeNode(() => ({
      connectors: Object.fromEntries(
        [...this.connectors.values()].map((c) => {
          const binds = c.state().binds;
          return [c.id, { bound: binds.filter((b) => b.state === 'bound').length, binds: binds.length }];
        }),
      ),
      queued: this.queued,
      inFlight: this.inFlight,
      share: this.shares.fraction,
    }));
    this.#dispatcher = new Dispatcher({
      router: this.#router,
      connectors: this.connectors,
      unrecorded: (id) => this.#unrecorded.get(id) ?? 0,
      loadDue: (limit, exclude) => this.#loadDue(limit, exclude),
      send: (m, c) => this.#send(m, c),
      sendable: () => this.#storeHealth.ok,
      withheld: (m) => this.#withheld(m),
      serves: (id) => this.shares.serves(id),
      handOver: (m) => this.#handOver(m),
      unroutable: (m) => {
        this.#finish(m, 'failed', { code: 'no_route', message: 'no route matches this message' }).catch(
          () => {},
        );
      },
    });
  }

  /**
   * Which MT rule a message would take (now, or at `input.at`), the connectors in the order
   * they would be tried and why (GET /v1/admin/routes/mt/explain): the very evaluation
   * sending runs.
   */
  async explainRoute(input: MtRouteInput): Promise<MtRouteExplanation> {
    const network = await this.#networkOf(input.to, this.#mtNeedsNetwork);
    const explained = this.#router.explain(network ? { ...input, meta: { ...input.meta, network } } : input);
    return network === undefined ? explained : { ...explained, network };
  }

  /**
   * The number's network (MCC+MNC digits) from the online lookup, when `needed` (some rule
   * matches on it) and one is configured; null when the lookup failed and fails open.
   */
  async #networkOf(number: string | undefined, needed: boolean): Promise<string | null | undefined> {
    if (!needed || !this.networkLookup || number === undefined || !number.startsWith('+')) return undefined;
    const found = await this.networkLookup.lookup(number);
    if (found === null && this.networkLookup.onError === 'refuse')
      throw new GatewayError(
        'lookup_unavailable',
        `the number lookup for ${number} failed; try again later`,
        'to',
        503,
      );
    return found?.info.network ?? null;
  }

  /**
   * A request naming a sender pool (`service`) without `from` gets its sender from the
   * pool (sticky, geomatch, alphanumeric: SenderPools); either way the service is kept as
   * `meta.service`.
   */
  async #fromService(
    accountId: string,
    req: SubmitRequest,
    name: string,
    options: SubmitOptions,
  ): Promise<SubmitRequest> {
    const service = this.#pools.find(accountId, name);
    if (!service)
      throw new GatewayError('unknown_service', `account ${accountId} has no service '${name}'`, 'service');
    const meta = { ...req.meta, service: service.id };
    const to = normaliseNumber(req.to ?? '', options.country);
    // A number that cannot be read is #build's to refuse.
    if (req.from !== undefined || to === undefined) return { ...req, meta };
    return { ...req, from: await this.#pools.senderFor(accountId, service.id, to), meta };
  }

  /** The network of a destination a client wrote, read as #build reads it (see #networkOf). */
  #destinationNetwork(to: string | undefined, options: SubmitOptions): Promise<string | null | undefined> {
    return this.#networkOf(normaliseNumber(to ?? '', options.country), this.#mtNeedsNetwork);
  }

  /** Whether the account has this sender pool (`services`, by id or Twilio sid). */
  hasService(accountId: string, name: string): boolean {
    return this.#pools.find(accountId, name) !== undefined;
  }

  /** Whether the account may send through this connector by name (see MtRouter.accountMayUse). */
  accountMayUse(accountId: string, connectorId: string): boolean {
    return this.#router.accountMayUse(accountId, connectorId);
  }

  /** Messages waiting in memory for a connector. */
  get queued(): number {
    return this.#dispatcher.queued;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Whether the store takes writes: false from a failed write until one succeeds again.
   * Meanwhile nothing is accepted (`store_unavailable`) and nothing is sent.
   */
  storeHealth(): StoreHealth {
    return { ...this.#storeHealth };
  }

  /**
   * The message as it is now: one on the wire is `sending`, and one whose outcome is not
   * stored yet is what its outcome made it; only memory knows either.
   */
  live(stored: Message): Message {
    const recording = this.#recording.get(stored.id);
    if (recording) return { ...recording };
    const flying = this.#inFlight.get(stored.id);
    return flying
      ? {
          ...stored,
          status: 'sending',
          connectorId: flying.message.connectorId,
          attempts: flying.message.attempts,
        }
      : stored;
  }

  async start(): Promise<void> {
    // Before any connector binds: in a cluster each opens only its share of the binds.
    await this.shares.update();
    await this.store.requeueInFlight();
    this.#dispatcher.start();
    this.#timer = setInterval(() => void this.#tick(), 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#storeProbe) clearTimeout(this.#storeProbe);
    this.#storeProbe = null;
    this.#dispatcher.stop();
  }

  /** Due messages from the store; none while no connector may send from here. */
  async #loadDue(limit: number, exclude: { has(id: string): boolean }): Promise<Message[]> {
    if (![...this.connectors.keys()].some((id) => this.shares.serves(id))) return [];
    const now = this.#now();
    for (const [id, until] of this.#handedOver) if (until <= now) this.#handedOver.delete(id);
    const excluded =
      this.#handedOver.size === 0
        ? exclude
        : { has: (id: string) => exclude.has(id) || this.#handedOver.has(id) };
    return this.store.dueMessages(now, limit, excluded);
  }

  #handOver(message: Message): void {
    this.#handedOver.set(message.id, this.#now() + handedOverForMs);
    this.store.releaseMessages([message.id]).catch(() => {}); // held until the lease ends, then
  }

  /** Takes this gateway's share of the cluster's binds anew; hands over what it can no longer send. */
  async #reshare(): Promise<void> {
    await this.shares.update();
    this.#dispatcher.handOverUnserved();
  }

  /** Validates, stores durably, queues. Resolves with the stored message (the 202). */
  async submit(accountId: string, asked: SubmitRequest, options: SubmitOptions = {}): Promise<Message> {
    try {
      return await this.#submit(accountId, asked, options);
    } catch (err) {
      await this.#checkStoreAfterRefusal(err);
      throw err;
    }
  }

  async #submit(accountId: string, asked: SubmitRequest, options: SubmitOptions): Promise<Message> {
    const now = this.#now();
    // Most messages name no pool and no rule asks the online lookup: they wait for neither.
    const req =
      asked.service === undefined ? asked : await this.#fromService(accountId, asked, asked.service, options);
    const network = this.#mtNeedsNetwork ? await this.#destinationNetwork(req.to, options) : undefined;
    // No promise to wait for where no interceptor or suppression applies (most messages).
    const prepared = this.#prepare(accountId, req, options, now, network);
    const message = prepared instanceof Promise ? await prepared : prepared;
    this.#refuseWhileStoreDown();
    if (!options.optOutExempt && !this.suppressions.knownEmpty(message.accountId))
      await this.#refuseOptedOut(message);
    let idempotency: IdempotencyRecord | undefined;
    if (options.idempotency) {
      const { render, ...rest } = options.idempotency;
      idempotency = { ...rest, statusCode: 202, response: render(message) };
    }
    await this.#insert([message], idempotency);
    return this.#accept(message);
  }

  /** A stored message goes out: announced, queued; the caller gets it as accepted. */
  #accept(message: Message): Message {
    this.emit('statusWrite', message);
    this.emit('status', message);
    // A copy for the caller: the dispatcher's moves on at once.
    const accepted = { ...message };
    if (message.status === 'queued') this.#dispatcher.enqueue(message);
    return accepted;
  }

  /**
   * A message refused because the store could not be read (an opt-out or a sender pool's
   * lookup) while no write had failed: a probe write tells whether the store is down, and
   * marks it so, before the refusal is answered, so that /ready and the requests that follow
   * agree with it.
   */
  async #checkStoreAfterRefusal(err: unknown): Promise<void> {
    if (err instanceof StoreUnavailableError && this.#storeHealth.ok) await this.checkStore();
  }

  /** Nothing is accepted while the store is known not to write: the client tries again later. */
  #refuseWhileStoreDown(): void {
    if (!this.#storeHealth.ok) throw new StoreUnavailableError();
  }

  /** Stores accepted messages; when the store cannot, it is marked down and they are refused. */
  async #insert(messages: Message[], idempotency?: IdempotencyRecord): Promise<void> {
    const accountId = messages[0]!.accountId;
    const charge = this.#acceptHooks?.charge(accountId, messages);
    let charged: ChargeOutcome | null;
    const issuedAfter = this.#storeFailures;
    try {
      // Before their messages: a link whose message was not stored leads nowhere harmful,
      // a message sent with a link not stored would.
      if (messages.some((m) => this.#shortLinks.has(m))) await this.#storeShortLinks(messages);
      charged = await this.store.insertMessages(messages, idempotency, charge);
    } catch (err) {
      this.#acceptHooks?.uncharged(accountId, messages);
      if (err instanceof StoreConflictError) throw err;
      if (err instanceof StoreLimitError) throw limitRefusal(err);
      this.#storeFailed(err);
      throw new StoreUnavailableError();
    }
    this.#storeWrote(issuedAfter);
    if (charge && charged) this.#acceptHooks?.charged(accountId, charge, charged);
  }

  /**
   * Stores messages together; when their account cannot take them all (balance, quota),
   * one at a time, so as many go as it can pay for. Returns those refused, with why.
   */
  async #insertAffordable(messages: Message[]): Promise<Map<Message, GatewayError>> {
    const refused = new Map<Message, GatewayError>();
    try {
      await this.#insert(messages);
      return refused;
    } catch (err) {
      if (!(err instanceof GatewayError && limitCodes.has(err.code)) || messages.length === 1) throw err;
    }
    for (const m of messages) {
      try {
        await this.#insert([m]);
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        refused.set(m, err);
      }
    }
    return refused;
  }

  /**
   * Issues an outcome's writes (`write` issues them anew each call) until they are stored.
   * A failure marks the store down, which stops all sending; the writes are issued again
   * once the store writes again. The caller holds the message meanwhile: it is neither sent
   * again (the store still says `queued`) nor lost.
   */
  async #durably(write: () => Promise<unknown>): Promise<void> {
    for (;;) {
      const issuedAfter = this.#storeFailures;
      try {
        await write();
        this.#storeWrote(issuedAfter);
        return;
      } catch (err) {
        // Refused for what it says, not for the store's state: it would fail again.
        if (err instanceof StoreConflictError || err instanceof StoreNotFoundError) throw err;
        this.#storeFailed(err);
        await new Promise<void>((resolve) => this.#storeWaiters.push(resolve));
      }
    }
  }

  #storeFailed(err: unknown): void {
    const lastError = err instanceof Error ? err.message : String(err);
    this.#storeFailures++;
    this.#storeHealth = this.#storeHealth.ok
      ? { ok: false, since: this.#now(), lastError }
      : { ...this.#storeHealth, lastError };
    this.#storeProbe ??= setTimeout(() => this.#probeStore(), storeProbeMs).unref();
  }

  /**
   * A write succeeded; `issuedAfter` is the failure count when it was issued. One issued
   * before the latest failure tells nothing of the store now (it may have committed just
   * before the store went down, and answered after another write failed): only a write
   * issued since brings the store back up.
   */
  #storeWrote(issuedAfter: number): void {
    if (this.#storeHealth.ok || issuedAfter !== this.#storeFailures) return;
    const waiting = this.#storeWaiters;
    this.#storeWaiters = [];
    for (const retry of waiting) retry();
    if (this.#reclaiming) return;
    this.#reclaiming = true;
    const failuresBefore = this.#storeFailures;
    // Sending waits until what is held here is known to be still this gateway's: in a
    // cluster, another one may have taken it over while this one's lease had lapsed.
    const held = this.#dispatcher
      .heldIds()
      .filter((id) => !this.#inFlight.has(id) && !this.#recording.has(id));
    this.store
      .reclaimMessages(held)
      .then(
        (kept) => {
          const mine = new Set(kept);
          const lost = new Set(held.filter((id) => !mine.has(id)));
          if (lost.size > 0) this.#dispatcher.evict((m) => lost.has(m.id));
          // A write failed while this reclaim ran (it may not have needed the store at all):
          // that failure stands, and its probe tries again.
          if (this.#storeFailures !== failuresBefore) return;
          this.#storeHealth = { ok: true, since: this.#now(), lastError: this.#storeHealth.lastError };
          // What waited in the store meanwhile goes now.
          this.#dispatcher.markSpilled();
          this.#dispatcher.pump();
        },
        (err: unknown) => this.#storeFailed(err),
      )
      .finally(() => {
        this.#reclaiming = false;
      });
  }

  /**
   * A write tried while the store is down: the oldest waiting outcome's own, or a probe
   * record when none waits. It reports back (#storeWrote or #storeFailed, which tries again).
   */
  #probeStore(): void {
    this.#storeProbe = null;
    if (this.#storeHealth.ok) return;
    const oldest = this.#storeWaiters.shift();
    if (oldest) {
      oldest();
      return;
    }
    void this.checkStore();
  }

  /**
   * Tries a write now (a probe record) and notes the outcome in storeHealth: false when the
   * store cannot write. For a caller that met an error it cannot place, to tell the store's
   * failure (the client may try again) from its own.
   */
  async checkStore(): Promise<boolean> {
    const now = this.#now();
    const issuedAfter = this.#storeFailures;
    try {
      await this.store.putRecord({
        ...storeProbe,
        accountId: '',
        ref: null,
        status: null,
        dueAt: null,
        createdAt: now,
        updatedAt: now,
        data: { at: now },
      });
    } catch (err) {
      this.#storeFailed(err);
      return false;
    }
    this.#storeWrote(issuedAfter);
    return true;
  }

  /**
   * Several messages accepted together: those that pass are stored in one transaction (all
   * or none), those that do not come back with their error, in request order.
   */
  async submitMany(
    accountId: string,
    requests: SubmitRequest[],
    options: Omit<SubmitOptions, 'idempotency'> = {},
  ): Promise<Array<{ message: Message } | { error: GatewayError }>> {
    this.#refuseWhileStoreDown();
    const results = await this.#buildMany(accountId, requests, options);
    const unread = results.find((r) => 'error' in r && r.error instanceof StoreUnavailableError);
    if (unread && 'error' in unread) await this.#checkStoreAfterRefusal(unread.error);
    const accepted = results.flatMap((r) => ('message' in r ? [r.message] : []));
    const refused = accepted.length > 0 ? await this.#insertAffordable(accepted) : new Map();
    return results.map((r) => {
      if (!('message' in r)) return r;
      const error = refused.get(r.message);
      return error ? { error } : { message: this.#accept(r.message) };
    });
  }

  /**
   * What submitMany would accept (priced, with the connectors of its route) or refuse,
   * storing nothing: a batch's dry run.
   */
  async checkMany(
    accountId: string,
    requests: SubmitRequest[],
    options: Omit<SubmitOptions, 'idempotency'> = {},
  ): Promise<Array<{ message: Message; connectors: readonly string[] } | { error: GatewayError }>> {
    const results = await this.#buildMany(accountId, requests, options);
    return results.map((r) =>
      'message' in r
        ? {
            ...r,
            // As it will be routed: when it is due.
            connectors: this.#router.connectorsOf(
              this.#router.match({ ...r.message, at: r.message.sendAt ?? undefined }),
            ),
          }
        : r,
    );
  }

  async #buildMany(
    accountId: string,
    requests: SubmitRequest[],
    options: Omit<SubmitOptions, 'idempotency'>,
  ): Promise<Array<{ message: Message } | { error: GatewayError }>> {
    const now = this.#now();
    return Promise.all(
      requests.map(async (asked, i): Promise<{ message: Message } | { error: GatewayError }> => {
        try {
          const req =
            asked.service === undefined
              ? asked
              : await this.#fromService(accountId, asked, asked.service, options);
          const network = this.#mtNeedsNetwork ? await this.#destinationNetwork(req.to, options) : undefined;
          const message = await this.#prepare(accountId, req, options, now, network, options.ids?.[i]);
          if (!options.optOutExempt && !this.suppressions.knownEmpty(message.accountId))
            await this.#refuseOptedOut(message);
          return { message };
        } catch (err) {
          if (err instanceof GatewayError) return { error: err };
          throw err;
        }
      }),
    );
  }

  /**
   * Holds back a group's unsent messages (a paused batch) until resumeGroup: those queued
   * in memory are dropped, those on disk become `paused`; those on the wire go on. Returns
   * how many were paused.
   */
  async pauseGroup(groupId: string): Promise<number> {
    this.#hold(groupId, 'paused');
    const pausing = this.store.pauseGroup(groupId, this.#now(), this.#flyingIn(groupId));
    this.#tellOthers({ kind: 'group', groupId, hold: 'paused' });
    const paused = await pausing;
    await this.#landed(groupId);
    return paused;
  }

  /** Lets a paused group's messages go again (or wait for their sendAt); returns how many. */
  async resumeGroup(groupId: string): Promise<number> {
    if (this.#groupHolds.get(groupId) === 'canceled') return 0;
    this.#groupHolds.delete(groupId);
    const resuming = this.store.resumeGroup(groupId, this.#now());
    this.#tellOthers({ kind: 'group', groupId, hold: 'resumed' });
    const resumed = await resuming;
    this.#dispatcher.markSpilled();
    return resumed;
  }

  /**
   * Cancels a group's unsent messages (queued, scheduled, paused) in one store operation;
   * those on the wire go on. Returns how many were canceled. No status event is emitted per
   * message: the group's owner reports the cancel as a whole.
   */
  async cancelGroup(groupId: string): Promise<number> {
    this.#hold(groupId, 'canceled');
    const canceling = this.store.cancelGroup(groupId, this.#now(), this.#flyingIn(groupId));
    this.#tellOthers({ kind: 'group', groupId, hold: 'canceled' });
    const canceled = await canceling;
    this.#groupCanceled(groupId, canceled);
    await this.#landed(groupId);
    return canceled;
  }

  /**
   * Waits (up to 5 s) until none of the group's messages is on the wire or being recorded.
   * Until its answer is on disk such a message still reads `queued`: once a pause or cancel
   * has answered, a read of the group's counts shows none queued unless a carrier is slower.
   */
  async #landed(groupId: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (this.#flyingIn(groupId).length > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
  }

  #groupCanceled(groupId: string, count: number): void {
    if (count > 0) this.emit('groupCanceled', groupId, count);
  }

  #hold(groupId: string, hold: 'paused' | 'canceled'): void {
    this.#groupHolds.set(groupId, hold);
    this.#dispatcher.evict((m) => m.groupId === groupId);
  }

  /**
   * Tells the other gateways on the store (cluster mode), in the transaction of the writes
   * just issued, so they drop or refresh the copies they hold in memory (#heard).
   */
  #tellOthers(notice: StoreNotice): void {
    this.store.announce(notice).catch(() => {});
  }

  /**
   * An admin started or stopped a connector: the same connector of every other gateway on
   * the store follows.
   */
  async controlConnector(connector: Connector, action: 'start' | 'stop'): Promise<void> {
    await (action === 'start' ? connector.start() : connector.stop());
    this.#tellOthers({ kind: 'connector', id: connector.id, action });
  }

  /** Another gateway changed what this one holds in memory: the copies follow it. */
  #heard(notice: StoreNotice): void {
    if (notice.kind === 'group') {
      if (notice.hold === 'paused' || notice.hold === 'canceled') this.#hold(notice.groupId, notice.hold);
      else if (notice.hold === 'resumed' && this.#groupHolds.get(notice.groupId) === 'paused') {
        this.#groupHolds.delete(notice.groupId);
        this.#dispatcher.markSpilled();
      }
      return;
    }
    if (notice.kind === 'connector') {
      const connector = this.connectors.get(notice.id);
      if (connector) (notice.action === 'start' ? connector.start() : connector.stop()).catch(() => {});
      return;
    }
    if (notice.kind !== 'message') return; // heard by those who keep that copy
    // Canceled: gone. Replaced: the store's version is read again with the next refill.
    if (this.#dispatcher.held(notice.id)) {
      this.#dispatcher.cancel(notice.id);
      if (notice.change === 'replaced') this.#dispatcher.markSpilled();
    }
  }

  /** Ids of the group's messages on the wire or answered and not yet recorded. */
  #flyingIn(groupId: string): string[] {
    return [...this.#inFlight.values()]
      .map((f) => f.message)
      .concat([...this.#recording.values()])
      .filter((m) => m.groupId === groupId)
      .map((m) => m.id);
  }

  /**
   * Whether a message the dispatcher is about to queue or send belongs to a held group. It
   * was then read before the group's store operation, or was on the wire then and came back
   * for a retry: the operation runs again (once per tick) so the store catches up with it.
   */
  #withheld(m: Message): boolean {
    const hold = m.groupId === null ? undefined : this.#groupHolds.get(m.groupId);
    if (hold === undefined) return false;
    const groupId = m.groupId!;
    if (!this.#reholding.has(groupId)) {
      this.#reholding.add(groupId);
      setImmediate(() => {
        this.#reholding.delete(groupId);
        const skip = this.#flyingIn(groupId);
        const now = this.#now();
        const op =
          this.#groupHolds.get(groupId) === 'canceled'
            ? this.store.cancelGroup(groupId, now, skip).then((n) => this.#groupCanceled(groupId, n))
            : this.#groupHolds.get(groupId) === 'paused'
              ? this.store.pauseGroup(groupId, now, skip)
              : null;
        op?.catch(() => {});
      });
    }
    return true;
  }

  async #refuseOptedOut(m: Message): Promise<void> {
    const suppressed = await this.suppressions.isSuppressed(m.accountId, m.to, m.from).catch(() => {
      throw new StoreUnavailableError();
    });
    if (suppressed) {
      throw new GatewayError('recipient_opted_out', `${m.to} has opted out of messages from ${m.from}`, 'to');
    }
  }

  /**
   * #build, then the interceptor of the MT rule the message takes, if it has one: a message
   * it changed is built again as changed (checked, routed and priced anew, keeping its id).
   * `network`: the destination's from the online lookup, kept as `meta.network` so the
   * message is routed by it whenever and wherever it is sent. Without interceptors, the
   * message itself, not a promise of it.
   */
  #prepare(
    accountId: string,
    req: SubmitRequest,
    options: SubmitOptions,
    now: number,
    network?: string | null,
    id?: string,
  ): Message | Promise<Message> {
    const message = this.#build(accountId, req, options, now, network, id);
    if (!this.#interceptors || !this.#router.intercepts) return message;
    return this.#intercepted(this.#interceptors, message, req, options, now, network);
  }

  async #intercepted(
    interceptors: Interceptors,
    message: Message,
    req: SubmitRequest,
    options: SubmitOptions,
    now: number,
    network?: string | null,
  ): Promise<Message> {
    const accountId = message.accountId;
    const scheduled = req.sendAt !== undefined && req.sendAt > now;
    const route = this.#router.match({ ...message, at: scheduled ? req.sendAt : now });
    const interceptor = this.#router.interceptorOf(route);
    if (!interceptor) return message;
    const change = await interceptors.run(
      interceptor,
      `routes.mt[${route}]`,
      {
        direction: 'mt',
        accountId,
        to: message.to,
        from: message.from,
        // As the client wrote it: links are shortened after.
        text: req.text ?? null,
        tags: [...tagsOf(message.meta)],
      },
      message.id,
    );
    if (!change) return message;
    // A new destination is looked up again when rules route by network.
    const changedNetwork =
      change.to !== undefined && this.#mtNeedsNetwork
        ? await this.#destinationNetwork(change.to, options)
        : network;
    const changed = this.#build(
      accountId,
      {
        ...req,
        to: change.to ?? message.to,
        from: change.from ?? message.from,
        ...(change.text !== undefined ? { text: change.text } : {}),
        ...(change.tags !== undefined ? { tags: change.tags } : {}),
      },
      options,
      now,
      changedNetwork,
    );
    changed.id = message.id;
    return changed;
  }

  /** Stores the short links made for these messages (see #build). */
  async #storeShortLinks(messages: readonly Message[]): Promise<void> {
    const records = messages.flatMap((m) =>
      (this.#shortLinks.get(m) ?? []).map((link) => ({
        kind: linkRecordKind,
        id: link.code,
        accountId: m.accountId,
        ref: m.id,
        status: null,
        dueAt: null,
        createdAt: m.createdAt,
        updatedAt: m.createdAt,
        data: { url: link.url, clicks: 0, firstClickAt: null, lastClickAt: null } satisfies LinkData,
      })),
    );
    if (records.length > 0) await this.store.putRecords(records);
  }

  /** Checks a request and prices it (encoding, segments) without storing anything. */
  #build(
    accountId: string,
    asked: SubmitRequest,
    options: SubmitOptions,
    now: number,
    network?: string | null,
    id = newId(now),
  ): Message {
    // An account that shortens links has its URLs replaced first: what is routed (match.text),
    // priced and sent is the short text.
    const linkBase = asked.text === undefined ? undefined : this.#linkBases.get(accountId);
    const shortened = linkBase ? shortenLinks(asked.text!, linkBase()) : undefined;
    const req = shortened ? { ...asked, text: shortened.text } : asked;
    const to = destinationOf(req.to ?? '', options.country);
    const from = senderOf(req.from, options.defaultFrom, options.country);
    if (!options.replying) this.#senders.check(accountId, from);
    if (req.text === undefined && req.binary === undefined)
      throw new GatewayError('missing_field', 'text is required', 'text');
    if (req.text !== undefined && req.text.length === 0)
      throw new GatewayError('empty_text', 'text must not be empty', 'text');
    const priority = req.priority ?? 'transactional';
    if (!priorities.includes(priority))
      throw new GatewayError(
        'invalid_priority',
        `priority must be one of ${priorities.join(', ')}`,
        'priority',
      );
    if (
      req.validitySeconds !== undefined &&
      !(
        Number.isInteger(req.validitySeconds) &&
        req.validitySeconds > 0 &&
        req.validitySeconds <= maxValiditySeconds
      )
    ) {
      throw new GatewayError(
        'invalid_validity',
        `validitySeconds must be an integer 1..${maxValiditySeconds}`,
        'validitySeconds',
      );
    }
    if (req.sendAt !== undefined && !Number.isFinite(req.sendAt))
      throw new GatewayError('invalid_send_at', 'sendAt must be an ISO 8601 time', 'sendAt');
    refuseFarFuture(req.sendAt, now);
    let meta = req.tags === undefined ? (req.meta ?? null) : { ...req.meta, tags: checkedTags(req.tags) };
    if (network) meta = { ...meta, network };
    const scheduled = req.sendAt !== undefined && req.sendAt > now;
    // A message pinned to a connector (`meta.via`: a reply) is routed by that pin alone; a
    // scheduled one by the rules as they stand when it is due.
    const routed = { to, from, accountId, text: req.text ?? null, meta, at: scheduled ? req.sendAt : now };
    if (this.#router.match(routed) < 0) throw new GatewayError('no_route', `no route for ${to}`, 'to');

    const { encoding, segments } = this.#price(req, req.udh);
    const message: Message = {
      id,
      accountId,
      direction: 'mt',
      status: scheduled ? 'scheduled' : 'queued',
      to,
      from,
      text: req.text ?? null,
      binary: req.binary ?? null,
      udh: req.udh ?? null,
      encoding,
      segments,
      priority,
      clientRef: req.clientRef ?? null,
      callbackUrl: req.callbackUrl ?? null,
      flash: req.flash ?? false,
      origin: req.origin ?? 'http',
      receiptRequested: req.receiptRequested ?? true,
      connectorId: null,
      createdAt: now,
      sendAt: req.sendAt ?? null,
      validUntil: req.validitySeconds ? (scheduled ? req.sendAt! : now) + req.validitySeconds * 1000 : null,
      submittedAt: null,
      doneAt: null,
      attempts: 0,
      nextAttemptAt: null,
      error: null,
      groupId: req.groupId ?? null,
      meta,
    };
    this.#acceptHooks?.admit(message);
    if (shortened?.links.length) this.#shortLinks.set(message, shortened.links);
    return message;
  }

  /** Encoding and parts of the content; what the text layer refuses is a GatewayError. */
  #price(req: SubmitRequest, udh: Buffer | null | undefined): { encoding: TextEncoding; segments: number } {
    try {
      return udh ? this.#priceWithHeader(req, udh) : this.#priceSplit(req);
    } catch (err) {
      if (err instanceof SmsError)
        throw new GatewayError(err.code, err.message, req.binary ? 'binaryHex' : 'text');
      throw err;
    }
  }

  /** A message the gateway splits itself. */
  #priceSplit(req: SubmitRequest): { encoding: TextEncoding; segments: number } {
    const options = { maxParts: this.#maxParts };
    if (req.binary === undefined)
      return countSegments(req.text!, { ...options, encoding: req.encoding ?? 'auto' });
    const split = splitBinary(req.binary, options);
    return { encoding: split.encoding, segments: split.parts.length };
  }

  /** A message with its own header is one part, sent as it is: it must fit in one. */
  #priceWithHeader(req: SubmitRequest, udh: Buffer): { encoding: TextEncoding; segments: number } {
    if (!parseUdh(udh) || udh.length !== udh[0]! + 1)
      throw new GatewayError('invalid_udh', 'the user data header is malformed', 'udh');
    const encoding =
      req.binary !== undefined
        ? 'binary'
        : req.encoding && req.encoding !== 'auto'
          ? req.encoding
          : chooseEncoding(req.text!).encoding;
    const room = 140 - udh.length;
    const fits =
      req.binary !== undefined
        ? req.binary.length <= room
        : encoding === 'gsm7'
          ? gsm7Length(req.text!) <= Math.floor((room * 8) / 7)
          : encodeText(req.text!, encoding).length <= room;
    if (!fits)
      throw new SmsError(
        'too_many_parts',
        `with a ${udh.length}-octet header the message must fit in one part`,
      );
    return { encoding, segments: 1 };
  }

  /** Cancels a queued or scheduled message of this account; false when it is past that. */
  async cancel(accountId: string, id: string): Promise<Message | null> {
    const message = await this.store.getMessage(id);
    if (!message || message.accountId !== accountId) return null;
    // On disk a message on the wire is still `queued`: `live` tells.
    const status = this.live(message).status;
    if (status !== 'queued' && status !== 'scheduled' && status !== 'paused') {
      throw new GatewayError('not_cancelable', `message is ${status}`, undefined, 409);
    }
    this.#dispatcher.cancel(id);
    const finished = this.#finish(message, 'canceled', null);
    this.#tellOthers({ kind: 'message', id, change: 'canceled' });
    await finished;
    return message;
  }

  /**
   * Replaces what a message that has not left yet will be (SMPP replace_sm): its content,
   * when and until when it may go; null when the account has no such message. Its header,
   * if it has one, stays; what `change` leaves out stays too.
   */
  async replace(
    accountId: string,
    id: string,
    change: { text?: string; binary?: Buffer; sendAt?: number; validUntil?: number },
  ): Promise<Message | null> {
    const message = await this.store.getMessage(id);
    if (!message || message.accountId !== accountId) return null;
    const status = this.live(message).status;
    if (status !== 'queued' && status !== 'scheduled' && status !== 'paused') {
      throw new GatewayError('not_replaceable', `message is ${status}`, undefined, 409);
    }
    const patch: MessagePatch = {};
    if (change.text !== undefined || change.binary !== undefined) {
      const req: SubmitRequest = {
        to: message.to,
        ...(change.binary !== undefined ? { binary: change.binary } : { text: change.text ?? '' }),
        encoding: message.udh ? message.encoding : 'auto',
      };
      if (req.text === '') throw new GatewayError('empty_text', 'text must not be empty', 'text');
      const priced = this.#price(req, message.udh);
      Object.assign(patch, {
        text: req.text ?? null,
        binary: req.binary ?? null,
        encoding: priced.encoding,
        segments: priced.segments,
      });
    }
    const now = this.#now();
    if (change.validUntil !== undefined) {
      if (change.validUntil <= now)
        throw new GatewayError('invalid_validity', 'the new validity has already ended', 'validitySeconds');
      patch.validUntil = change.validUntil;
    }
    if (change.sendAt !== undefined) {
      refuseFarFuture(change.sendAt, now);
      patch.sendAt = change.sendAt;
      patch.status = change.sendAt > now ? 'scheduled' : 'queued';
    }
    // The dispatcher's copy changes at once (it is what gets sent); the store's follows.
    // Rescheduled for later, the copy is dropped; brought forward, the message is queued.
    const held = this.#dispatcher.held(id);
    if (held && patch.status === 'scheduled') this.#dispatcher.cancel(id);
    else if (held) Object.assign(held, patch);
    Object.assign(message, patch);
    const stored = this.store.updateMessage(id, patch, {
      at: now,
      type: 'replaced',
      detail: {
        segments: message.segments,
        ...(change.sendAt !== undefined ? { sendAt: change.sendAt } : {}),
      },
    });
    this.#tellOthers({ kind: 'message', id, change: 'replaced' });
    await stored;
    if (status === 'scheduled' && patch.status === 'queued') this.#dispatcher.enqueue(message);
    return message;
  }

  #send(message: Message, connector: Connector): void {
    if (message.validUntil !== null && message.validUntil <= this.#now()) {
      this.#finish(message, 'expired', {
        code: 'validity_expired',
        message: 'validity ended before it could be sent',
      })
        .catch(() => {})
        .finally(() => this.#dispatcher.done(message.id));
      return;
    }
    message.status = 'sending';
    message.connectorId = connector.id;
    message.attempts++;
    this.#noteCost(message, connector.id);
    this.#inFlight.set(message.id, { message, since: this.#now() });
    // `sending` lives in memory only (see `live`): on disk the message stays `queued` until
    // the SMSC answers, so a crash now means it is sent again after the restart
    // (at-least-once), and a message costs one write less.
    connector
      .send({
        messageId: message.id,
        to: message.to,
        from: message.from,
        text: message.text,
        binary: message.binary,
        udh: message.udh,
        encoding: message.encoding,
        receipt: true,
        flash: message.flash,
        validUntil: message.validUntil,
        priorityFlag: 3 - Math.max(0, priorities.indexOf(message.priority)),
      })
      .then(
        (result) => this.#sent(message, connector.id, result),
        (err: Error) =>
          this.#sent(message, connector.id, {
            ok: false,
            temporary: true,
            code: 'connector_error',
            message: err.message,
          }),
      )
      .catch(() => {});
  }

  /**
   * Keeps on the message (`meta.cost`) what sending it through this connector costs: the
   * connector's cost per part for its destination × its parts; none when the connector has
   * no cost for it.
   */
  #noteCost(message: Message, connectorId: string): void {
    const perPart = this.#router.costOf(connectorId, message.to);
    if (perPart === undefined && message.meta?.cost === undefined) return;
    const { cost: _, ...rest } = message.meta ?? {};
    // Rounded to millionths: parts × a decimal price picks up binary noise (0.1 × 3).
    message.meta =
      perPart === undefined ? rest : { ...rest, cost: Math.round(perPart * message.segments * 1e6) / 1e6 };
  }

  async #sent(message: Message, connectorId: string, result: SubmitResult): Promise<void> {
    const sentAt = this.#inFlight.get(message.id)?.since ?? null;
    this.#inFlight.delete(message.id);
    this.#recording.set(message.id, message);
    this.#unrecorded.set(connectorId, (this.#unrecorded.get(connectorId) ?? 0) + 1);
    try {
      await this.#record(message, connectorId, result, sentAt);
    } finally {
      this.#recording.delete(message.id);
      this.#unrecorded.set(connectorId, this.#unrecorded.get(connectorId)! - 1);
      // Held until its outcome is on disk: until then the store still says `queued`, and a
      // refill must not hand it out again. A retry stays held through its back-off.
      if (message.status !== 'queued') this.#dispatcher.done(message.id);
      this.#dispatcher.pump();
    }
  }

  async #record(
    message: Message,
    connectorId: string,
    result: SubmitResult,
    sentAt: number | null,
  ): Promise<void> {
    const now = this.#now();
    if (result.ok) {
      message.status = 'submitted';
      message.submittedAt = now;
      const links = result.smscIds.map((smscId, part) => ({
        connectorId,
        smscId: normaliseMessageId(smscId),
        messageId: message.id,
        part,
        parts: result.smscIds.length,
      }));
      // Known in memory at once, so a receipt that overtakes the store write matches its own
      // message exactly (not another one under a hex/decimal reading); it waits for the write,
      // however long the store takes to come back.
      this.#awaiting.set(message.id, message);
      for (const link of links) this.#links.set(linkKey(connectorId, link.smscId), link);
      const stored = this.#durably(() => {
        const written = Promise.all([
          this.store.linkSmscIds(links),
          this.store.updateMessage(
            message.id,
            {
              status: 'submitted',
              submittedAt: now,
              connectorId,
              attempts: message.attempts,
              ...(message.meta?.cost !== undefined ? { meta: message.meta } : {}),
            },
            {
              at: now,
              type: 'submitted',
              detail: { connector: connectorId, attempt: message.attempts, sentAt, smscIds: result.smscIds },
            },
          ),
        ]);
        // Again with each try: what listeners write with the status (its webhook) shares the
        // try's transaction, and failed with it.
        this.emit('statusWrite', message);
        return written;
      });
      this.#submitting.set(message.id, stored);
      try {
        await stored;
        this.emit('status', message);
      } finally {
        this.#submitting.delete(message.id);
      }
      // A receipt may have come before the submit response was stored: it waits here.
      if (this.#unmatched.size > 0) for (const link of links) await this.#applyKept(link.smscId, link);
      return;
    }
    const error = { code: result.code, message: result.message };
    const expired = message.validUntil !== null && message.validUntil <= now;
    if (!result.temporary) {
      // A least-cost rule falls back in cost order: the next connector may take what this
      // one's SMSC refused (not when it took some parts: those would go twice).
      if (
        result.status !== undefined &&
        !result.smscIds?.length &&
        !expired &&
        message.attempts < this.#maxAttempts &&
        this.#anotherMayTake(message, connectorId)
      ) {
        await this.#retry(message, connectorId, error, now, 0);
        return;
      }
      const status = result.status !== undefined ? 'rejected' : 'failed';
      await this.#durably(() => this.#finish(message, status, error, now, { connector: connectorId }));
      return;
    }
    if (message.attempts >= this.#maxAttempts || expired) {
      await this.#durably(() => this.#finish(message, expired ? 'expired' : 'failed', error, now));
      return;
    }
    // Back-off: 1 s, 2 s, 4 s ... up to a minute; another connector of the route goes first.
    await this.#retry(
      message,
      connectorId,
      error,
      now,
      Math.min(60_000, 1000 * 2 ** Math.min(6, message.attempts - 1)),
    );
  }

  /**
   * Whether a message the connector's SMSC refused goes to another connector: its rule is
   * least-cost and has one that has not failed it yet.
   */
  #anotherMayTake(message: Message, refusedBy: string): boolean {
    const route = this.#router.match(message);
    if (route < 0 || this.#router.strategyOf(route) !== 'least-cost') return false;
    const failed = this.#dispatcher.failedConnectors(message.id);
    return this.#router.connectorsOf(route).some((id) => id !== refusedBy && !failed.has(id));
  }

  /** Queues the message again after `delay` ms; the connector that failed it goes last. */
  async #retry(
    message: Message,
    connectorId: string,
    error: { code: string; message: string },
    now: number,
    delay: number,
  ): Promise<void> {
    message.status = 'queued';
    message.nextAttemptAt = now + delay;
    await this.#durably(() =>
      this.store.updateMessage(
        message.id,
        { status: 'queued', nextAttemptAt: message.nextAttemptAt, connectorId, attempts: message.attempts },
        { at: now, type: 'retry', detail: { connector: connectorId, error, delayMs: delay } },
      ),
    );
    this.#dispatcher.retryLater(message, connectorId, delay);
  }

  /** Connector sink: a delivery receipt. Resolves once it is stored (then it is acked). */
  async receipt(r: InboundReceipt): Promise<void> {
    const smscId = normaliseMessageId(r.smscId);
    // Most receipts find their link in memory: no wait, no promise for the lookup.
    const link =
      this.#links.get(linkKey(r.connectorId, smscId)) ?? (await this.#findLink(r.connectorId, smscId));
    if (link) return this.#applyReceipt(link.messageId, link.part, link.parts, r);
    // Marked with its write before it is stored, and the link looked up again after:
    // whichever side comes second sees the other, waits for the write, and
    // takeUnmatchedReceipts hands a receipt out once.
    const key = linkKey(r.connectorId, smscId);
    const saved = this.store.saveUnmatchedReceipt(
      r.connectorId,
      smscId,
      r as unknown as Record<string, unknown>,
    );
    this.#unmatched.set(
      key,
      saved.catch(() => {}),
    );
    await saved;
    // Looked up again as it is: the turn's pending callbacks had their wait above.
    const late = await this.#linkOf(r.connectorId, smscId);
    if (late) await this.#applyKept(smscId, late);
  }

  /** Applies the receipts stored unmatched under this id (as the link's connector gave it). */
  async #applyKept(smscId: string, link: SmscIdLink): Promise<void> {
    const key = linkKey(link.connectorId, smscId);
    const saving = this.#unmatched.get(key);
    if (!saving) return;
    this.#unmatched.delete(key);
    await saving;
    for (const kept of await this.store.takeUnmatchedReceipts(link.connectorId, smscId)) {
      await this.#applyReceipt(
        link.messageId,
        link.part,
        link.parts,
        kept.receipt as unknown as InboundReceipt,
      );
    }
  }

  /**
   * The message a receipt names when memory has no link for it (`id` normalised as the
   * submit response's was: connectors hand receipts over in that form): from the store.
   */
  async #findLink(connectorId: string, id: string): Promise<SmscIdLink | null> {
    // A receipt read in the same packet as its submit response can come before the
    // response's outcome is known here; once pending callbacks have run, it is. Only then
    // the store is read (a sending that is not in memory any more): one read, not two.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return this.#linkOf(connectorId, id);
  }

  async #linkOf(connectorId: string, smscId: string): Promise<SmscIdLink | null> {
    return (
      this.#links.get(linkKey(connectorId, smscId)) ?? (await this.store.findSmscId(connectorId, smscId))
    );
  }

  async #applyReceipt(messageId: string, part: number, parts: number, r: InboundReceipt): Promise<void> {
    const message =
      this.#inFlight.get(messageId)?.message ??
      this.#awaiting.get(messageId) ??
      (await this.store.getMessage(messageId));
    if (!message) return;
    // The receipt overtook the store write of the submit: settle after it, in order.
    const submitting = this.#submitting.get(messageId);
    if (submitting) await submitting;
    const now = this.#now();
    const detail = { part, parts, stat: r.stat, err: r.err, connector: r.connectorId };
    const final = receiptStatus[r.status];
    if (!final || finalStatuses.has(message.status)) {
      await this.store.updateMessage(messageId, {}, { at: now, type: 'receipt', detail });
      return;
    }
    const receipt = { ...detail, status: final };
    // An SMSC's done date has minutes or seconds and a clock of its own: never before the
    // submission, never ahead of us.
    const doneAt = Math.min(now, Math.max(r.doneAt ?? now, message.submittedAt ?? 0));
    if (parts > 1) {
      // Settled from every part's outcome, counted by the store in one transaction per
      // receipt, so parts whose receipts arrive together (or on other gateways) see each other.
      const outcome = final === 'delivered' ? 'delivered' : 'failed';
      const tally = await this.store.recordPartOutcome(messageId, part, outcome, {
        at: now,
        type: 'receipt',
        detail: receipt,
      });
      if (!settles(tally, outcome, parts)) return;
      const error =
        outcome === 'delivered'
          ? null
          : { code: r.err || final, message: `SMSC reported ${r.stat} for part ${part + 1} of ${parts}` };
      await this.#finish(message, final, error, doneAt, { parts });
      return;
    }
    const error = final === 'delivered' ? null : { code: r.err || final, message: `SMSC reported ${r.stat}` };
    // The final status event carries the receipt: one write, not two.
    await this.#finish(message, final, error, doneAt, { receipt });
  }

  async #finish(
    message: Message,
    status: MessageStatus,
    error: Message['error'],
    doneAt = this.#now(),
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    message.status = status;
    message.error = error;
    message.doneAt = doneAt;
    this.#awaiting.delete(message.id);
    const eventDetail = error ? { ...error, ...detail } : detail;
    await this.#announce(
      message,
      this.store.updateMessage(
        message.id,
        // The connector of its last attempt (a retry may have gone to another).
        {
          status,
          error,
          doneAt,
          ...(message.connectorId !== null ? { connectorId: message.connectorId } : {}),
        },
        { at: this.#now(), type: status, detail: Object.keys(eventDetail).length > 0 ? eventDetail : null },
      ),
    );
  }

  /** A status whose write was issued in this turn: `statusWrite` now, `status` once durable. */
  async #announce(message: Message, written: Promise<unknown>): Promise<void> {
    this.emit('statusWrite', message);
    await written;
    this.emit('status', message);
  }

  /** Connector sink: an inbound message. Resolves once it is stored (then it is acked). */
  async inbound(sms: InboundSms): Promise<void> {
    // Carriers write international numbers without the `+` (SMPP TON unknown among them).
    let to = normaliseNumber(sms.to, 'international') ?? sms.to;
    let from = normaliseSender(sms.from) ?? sms.from;
    let text = sms.text;
    // Routed on the normalised numbers, as MO rules are written (`+15550100`).
    // `network` rules look the sender up; a failed lookup leaves the message to the other rules.
    const network = await this.#networkOf(from, this.#moNeedsNetwork).catch(() => null);
    let route =
      this.#moRouter.match({ to, from, connectorId: sms.connectorId, text: sms.text, network }) ?? null;
    let error: Message['error'] = sms.complete
      ? null
      : { code: 'incomplete', message: 'some parts of this long message never arrived' };
    let meta: Message['meta'] = null;
    if (route?.interceptor && this.#interceptors) {
      // The rule stays the one that took the message as it came; a refused message is kept
      // for no account (the unrouted list), with the refusal as its error.
      try {
        const change = await this.#interceptors.run(
          route.interceptor,
          `routes.mo[${this.#moRoutes.indexOf(route)}]`,
          { direction: 'mo', accountId: inboundOwner(route), to, from, text, tags: [] },
        );
        if (change?.to !== undefined) to = normaliseNumber(change.to, 'international') ?? change.to;
        if (change?.from !== undefined) from = normaliseSender(change.from) ?? change.from;
        if (change?.text !== undefined) text = change.text;
        if (change?.tags !== undefined) meta = { tags: checkedTags(change.tags) };
      } catch (err) {
        if (!(err instanceof InterceptorRefusal)) throw err;
        route = null;
        error = { code: err.code, message: err.message };
      }
    }
    const accountId = inboundOwner(route);
    const message: Message = {
      id: newId(sms.receivedAt),
      accountId,
      direction: 'mo',
      status: 'received',
      to,
      from,
      text,
      binary: sms.binary,
      udh: null,
      encoding: sms.encoding,
      segments: sms.segments,
      priority: 'transactional',
      clientRef: null,
      callbackUrl: null,
      flash: false,
      origin: 'smpp',
      receiptRequested: false,
      connectorId: sms.connectorId,
      createdAt: sms.receivedAt,
      sendAt: null,
      validUntil: null,
      submittedAt: null,
      doneAt: sms.receivedAt,
      attempts: 0,
      nextAttemptAt: null,
      error,
      groupId: null,
      meta,
    };
    await this.store.insertMessages([message]);
    this.emit('inbound', message, route);
  }

  /**
   * Refuses (400 `sender_not_allowed`, naming `from`) a sender the account may not use; one
   * that is no sender at all is left to submit's own refusal.
   */
  checkSender(accountId: string, asked: string): void {
    const from = normaliseSender(asked);
    if (from !== undefined) this.#senders.check(accountId, from);
  }

  /** Replaces the MO rules in force (the admin API); messages already stored keep their owner. */
  setMoRoutes(routes: readonly MoRouteConfig[]): void {
    this.#moRouter = new MoRouter(routes, this.#now);
    this.#moRoutes = routes;
    this.#moNeedsNetwork = routes.some((r) => needsNetwork(r.match));
    this.#senders = new SenderOwnership(this.#accounts, routes);
  }

  /** Replaces the accounts' settings in force (the admin API, a reload): who owns which sender. */
  setAccounts(accounts: readonly AccountConfig[]): void {
    this.#accounts = accounts;
    this.#senders = new SenderOwnership(accounts, this.#moRoutes);
    this.#pools.setAccounts(accounts);
    this.#setLinkBases(accounts);
  }

  /** Where each account that shortens links has them served. */
  #setLinkBases(accounts: readonly AccountConfig[]): void {
    this.#linkBases.clear();
    for (const a of accounts) {
      if (!a.links?.shorten) continue;
      const base = a.links.baseUrl;
      this.#linkBases.set(a.id, () => (base ?? this.#publicUrl()).replace(/\/+$/, ''));
    }
  }

  /**
   * Replaces the MT rules and connector costs in force (the admin API, a reload); messages
   * already on a connector go on, the next ones are routed by these.
   */
  setMtRoutes(routes: readonly MtRouteConfig[], connectors: readonly ConnectorConfig[]): void {
    this.#router.replace(
      routes,
      [...this.connectors.keys()],
      Object.fromEntries(connectors.map((c) => [c.id, c.costs])),
    );
    // Queued by the index of their old rule: routed again.
    this.#dispatcher.reroute();
  }

  /**
   * Connectors the caller put into or took out of the map at run time (the admin API, a
   * reload): the dispatcher follows the windows of those put in, the cluster its shares.
   */
  async connectorsChanged(removed: readonly Connector[], added: readonly Connector[]): Promise<void> {
    for (const c of removed) {
      this.#dispatcher.unwatch(c);
      await this.shares.release(c);
    }
    for (const c of added) this.#dispatcher.watch(c);
    await this.shares.update();
    this.#dispatcher.markSpilled();
  }

  /** The MO rules in force. */
  get moRoutes(): readonly MoRouteConfig[] {
    return this.#moRoutes;
  }

  /**
   * Receipts kept unmatched that this process will not be told about: another gateway on
   * the same store kept them (cluster mode, where an SMSC may send a receipt down any
   * bind), or they lost a race here. Looked up again while their submit may still be
   * recorded; taking them from the store hands each out once, whoever takes it.
   */
  async #matchStrays(now: number): Promise<void> {
    const strays = await this.store.listUnmatchedReceipts(200, now - strayWindowMs);
    const looked = new Set<string>();
    for (const r of strays) {
      const key = linkKey(r.connectorId, r.smscId);
      if (now - r.receivedAt < strayAfterMs || looked.has(key)) continue;
      looked.add(key);
      const link = await this.#linkOf(r.connectorId, r.smscId);
      if (!link) continue;
      this.#unmatched.delete(key);
      for (const kept of await this.store.takeUnmatchedReceipts(r.connectorId, r.smscId)) {
        await this.#applyReceipt(
          link.messageId,
          link.part,
          link.parts,
          kept.receipt as unknown as InboundReceipt,
        );
      }
    }
  }

  async #tick(): Promise<void> {
    const now = this.#now();
    try {
      // A receipt still unmatched after a day will not be matched: its submit never came.
      if (now - this.#purgedAt >= 3600_000) {
        this.#purgedAt = now;
        await this.store.purgeUnmatchedReceipts(now - 24 * 3600_000);
      }
      await this.#reshare();
      await this.#matchStrays(now);
      await this.store.releaseScheduled(now);
      for (const id of await this.store.expireOverdue(now, [
        ...this.#inFlight.keys(),
        ...this.#recording.keys(),
      ])) {
        // Expired on disk: the copy held for sending must not go (nor expire a second time).
        this.#dispatcher.cancel(id);
        const m = await this.store.getMessage(id);
        if (m) {
          this.emit('statusWrite', m);
          this.emit('status', m);
        }
      }
      // Released schedules and ended back-offs are in the store: let the dispatcher look.
      this.#dispatcher.markSpilled();
    } catch {
      // The store is unavailable; the next tick tries again.
    }
  }
}

/** The refusals of a charge the account cannot take (in full: its messages may go one by one). */
const limitCodes = new Set(['insufficient_balance', 'quota_exceeded', 'destination_rate_limited']);

function limitRefusal(err: StoreLimitError): GatewayError {
  return err.limit === 'quota'
    ? new GatewayError(
        'quota_exceeded',
        `the account's message quota is used up (${err.message})`,
        undefined,
        429,
      )
    : new GatewayError(
        'insufficient_balance',
        "the account's balance does not cover this message",
        undefined,
        402,
      );
}

/**
 * Whether a part's outcome settles its long message: the first failed part does (with its
 * status), or the last part delivered. Exactly one receipt's tally decides; a receipt seen
 * again after the decision was counted but not written (a crash between them) decides too.
 */
function settles(tally: PartTally, outcome: PartOutcome, parts: number): boolean {
  if (tally.settled) return false;
  if (!tally.recorded) return tally.failed > 0 || tally.delivered >= parts;
  return outcome === 'failed' ? tally.failed === 1 : tally.failed === 0 && tally.delivered === parts;
}

/**
 * About what a cached message keeps alive (measured: ~480 bytes for a bench message of 37
 * characters): its object, its own strings and octets, and its meta as JSON would spell it.
 */
function messageBytes(message: Message): number {
  return (
    320 +
    stringBytes(message.id) +
    stringBytes(message.to) +
    stringBytes(message.from) +
    stringBytes(message.text) +
    (message.binary?.length ?? 0) +
    (message.udh?.length ?? 0) +
    (message.meta == null ? 0 : 2 * JSON.stringify(message.meta).length)
  );
}

/** Key of the in-memory maps of SMSC ids, per connector. */
function linkKey(connectorId: string, smscId: string): string {
  return `${connectorId}\0${smscId}`;
}

const receiptStatus: Partial<Record<InboundReceipt['status'], MessageStatus>> = {
  delivered: 'delivered',
  undelivered: 'undelivered',
  expired: 'expired',
  rejected: 'rejected',
  failed: 'undelivered',
};
