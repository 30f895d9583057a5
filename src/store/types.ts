// What the gateway keeps durably, behind one interface so SQLite (embedded) and PostgreSQL
// (cluster) are interchangeable and pass the same conformance tests. No SQL outside src/store.
import type { Message, MessageEvent, MessageStatus } from '../core/message.ts';

/** Fields of a message that change after it is accepted. */
export type MessagePatch = Partial<
  Pick<
    Message,
    | 'status'
    | 'connectorId'
    | 'submittedAt'
    | 'doneAt'
    | 'attempts'
    | 'nextAttemptAt'
    | 'error'
    | 'segments'
    | 'text'
    | 'binary'
    | 'encoding'
    | 'meta'
    | 'sendAt'
    | 'validUntil'
  >
>;

export interface MessageFilter {
  /** Every account's messages when undefined (an admin's search). */
  accountId?: string;
  status?: MessageStatus;
  to?: string;
  direction?: 'mt' | 'mo';
  groupId?: string;
  /** Messages either way between two numbers (a conversation): to one and from the other. */
  between?: [string, string];
  /**
   * Messages whose id, client reference or recipient is one of these, or inbound ones whose
   * sender is (a search: an outbound message's sender is the account's own).
   */
  anyOf?: string[];
  /** Created at or after this time (ms). */
  createdSince?: number;
  /** Created before this time (ms). */
  createdUntil?: number;
}

export interface Page<T> {
  data: T[];
  /** Opaque; pass back to get the next page. Null on the last page. */
  nextCursor: string | null;
}

/** The answer given to the first request with an Idempotency-Key, returned again for 24 h. */
export interface IdempotencyRecord {
  accountId: string;
  key: string;
  /** Hash of the request body: the same key with a different body is a 409. */
  requestHash: string;
  statusCode: number;
  response: unknown;
  expiresAt: number;
}

/** Where a connector's SMSC id points: one message, one of its parts. */
export interface SmscIdLink {
  connectorId: string;
  /** Normalised (see normaliseMessageId in src/smpp) so hex and decimal forms meet. */
  smscId: string;
  messageId: string;
  part: number;
  parts: number;
}

/** The final outcome one part of a long message got from its receipt. */
export type PartOutcome = 'delivered' | 'failed';

/**
 * The outcomes a long message's parts have, as recordPartOutcome saw them in its
 * transaction (its own part's included).
 */
export interface PartTally {
  /** This part had no outcome before: this call gave it one (the first outcome stands). */
  recorded: boolean;
  /** Parts delivered. */
  delivered: number;
  /** Parts failed for good. */
  failed: number;
  /** The message was already in a final status. */
  settled: boolean;
}

/** A delivery receipt that arrived before (or without) its submit response. */
export interface StoredReceipt {
  id: number;
  connectorId: string;
  smscId: string;
  receivedAt: number;
  /** The receipt as the connector reported it (stat, err, doneAt...). */
  receipt: Record<string, unknown>;
}

export interface StoredAccount {
  id: string;
  /** SHA-256 hex of each API key: keys are high-entropy secrets, so a plain hash suffices. */
  apiKeyHashes: string[];
  /** Everything else from the config (webhook, smpp with a scrypt password hash, mps...). */
  settings: Record<string, unknown>;
}

export interface WebhookDelivery {
  id: number;
  accountId: string;
  url: string;
  /** Signing secret, or null for an unsigned hook. */
  secret: string | null;
  /** The exact body to POST (signed as sent). */
  body: string;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  lastError: string | null;
  /** GET (the body is then empty) or POST; a compat API's callback may be either. */
  method: 'GET' | 'POST';
  /** Of the body; null is the gateway's own JSON event. */
  contentType: string | null;
  /** Extra headers sent as stored (a signature computed at enqueue time). */
  headers: Record<string, string> | null;
  /** A reply handler registered with the sender by this name reads the 2xx answer (TwiML). */
  reply: string | null;
}

/**
 * Whose deliveries dueWebhooks reads. A receiver is a URL's scheme and authority as written
 * (`https://hooks.example.com:8443`): the URL up to its path, query or fragment.
 */
export interface WebhookReceivers {
  /** This receiver's only. */
  only?: string;
  /** None of these receivers'. */
  skip?: string[];
  /**
   * Only those whose next attempt is after this time (ms): what came due since an earlier
   * read at that time, without scanning again what waits from before it.
   */
  dueAfter?: number;
}

/** What enqueueWebhook takes: the request fields default to a JSON POST. */
export type NewWebhookDelivery = Omit<
  WebhookDelivery,
  'id' | 'attempts' | 'lastError' | 'method' | 'contentType' | 'headers' | 'reply'
> &
  Partial<Pick<WebhookDelivery, 'method' | 'contentType' | 'headers' | 'reply'>>;

/** A deliver_sm (receipt or MO) waiting for one of the account's receiver binds. */
export interface EsmeDelivery {
  id: number;
  accountId: string;
  createdAt: number;
  payload: Record<string, unknown>;
}

/**
 * A feature's durable record (a suppression, verification, batch, reminder, contact...):
 * a JSON document under (kind, id) with the few fields it is looked up by. Features keep
 * their own shapes in `data`; the store indexes only these columns.
 */
export interface StoredRecord<T = Record<string, unknown>> {
  kind: string;
  id: string;
  /** Owner: lists are per account, and one account never sees another's records. */
  accountId: string;
  /** Secondary lookup key: a phone number, a parent's id. */
  ref: string | null;
  status: string | null;
  /** When the record wants attention (a reminder's send time, an expiry); null: never. */
  dueAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** 1 on creation, bumped by every put: a put naming an older version is refused. */
  version: number;
  data: T;
}

export type NewRecord<T = Record<string, unknown>> = Omit<StoredRecord<T>, 'version'>;

export interface RecordFilter {
  accountId?: string;
  ref?: string;
  status?: string;
}

/**
 * A store may be shared by several gateway processes (PostgreSQL, cluster mode); each
 * opened store is then one instance of the cluster, alive while its lease runs. Queued
 * messages and webhook deliveries are *claimed* by one instance at a time, so no two send
 * the same one; the claims of an instance that stops or dies pass to the others once its
 * lease ends. A store of one process (SQLite) has nobody to share with: every claim is its own.
 */
/**
 * A change that another process of the cluster holds a copy of in memory: messages queued
 * for sending (a group paused, canceled or resumed, a message canceled or replaced), the
 * MO rules an admin set, an account's suppression list, a connector an admin started or
 * stopped.
 */
export type StoreNotice =
  | { kind: 'group'; groupId: string; hold: 'paused' | 'canceled' | 'resumed' }
  | { kind: 'message'; id: string; change: 'canceled' | 'replaced' }
  | { kind: 'moRoutes' }
  | { kind: 'suppressions'; accountId: string }
  | { kind: 'connector'; id: string; action: 'start' | 'stop' }
  /** Accounts, keys or MT routes changed through the admin API (see src/manage). */
  | { kind: 'managed' };

/** A gateway process on the store (one for SQLite; the cluster's for PostgreSQL). */
export interface StoreNode {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  /** Until when its lease runs (PostgreSQL), or null (SQLite: the only process there is). */
  leaseUntil: number | null;
  /** Its lease runs: it is alive, and its claims are its own. */
  alive: boolean;
  /** Queued messages it has claimed (a dead one's pass to the others when its lease ends). */
  backlog: number;
  /** What it last said of itself (see describeNode). */
  info: Record<string, unknown> | null;
}

/**
 * What accepting messages takes from their account, in the transaction that stores them:
 * money (micro-units of the account's currency) and message quotas. Either all of it is
 * taken, or nothing is stored (StoreLimitError).
 */
export interface AccountCharge {
  accountId: string;
  currency: string;
  /** Per message (its ledger entry): the amount debited, micro-units; 0 debits nothing. */
  debits: Array<{ messageId: string; amount: number }>;
  /** The lowest balance the debits may leave (prepaid 0, postpaid minus the credit limit); null: any. */
  floor: number | null;
  /** Counters of messages per period (`d2026-12-05`, `m2026-12`), each refused past its limit. */
  quotas: Array<{ period: string; limit: number }>;
  at: number;
}

/** The balance after a charge's debits (micro-units), or null when it debited nothing. */
export interface ChargeOutcome {
  balance: number | null;
}

/** An account's money: micro-units of its currency. */
export interface StoredBalance {
  balance: number;
  currency: string;
}

/** One movement of an account's balance. */
export interface LedgerEntry {
  id: number;
  accountId: string;
  at: number;
  kind: 'debit' | 'refund' | 'credit';
  /** Signed micro-units: debits are negative. */
  amount: number;
  /** The balance after the movement, micro-units. */
  balance: number;
  currency: string;
  messageId: string | null;
  reference: string | null;
}

/** What outbound messages are grouped by in usage: the UTC day, connector or destination. */
export type UsageGrouping = 'day' | 'connector' | 'to';

/** Outbound messages accepted in a period, in one group (see UsageGrouping) and currency. */
export interface UsageRow {
  /** The day's start (epoch ms), the connector's id (null: none yet), or the number. */
  group: number | string | null;
  currency: string | null;
  messages: number;
  parts: number;
  /** Micro-units: the messages' prices, and what was kept of them (refunds left out). */
  price: number;
  cost: number;
}

/** Messages counted in one minute, by what happened to them (see src/stats), account and connector. */
export interface StatsCount {
  /** The unix second at which the minute starts. */
  minute: number;
  metric: string;
  /** '' for none (inbound no rule took). */
  accountId: string;
  /** '' for none (accepted messages, not routed yet). */
  connectorId: string;
  n: number;
}

/** Which counts a series sums: some metrics, minutes in [from, to), optionally one account or connector. */
export interface StatsQuery {
  metrics: readonly string[];
  from: number;
  to: number;
  accountId?: string;
  connectorId?: string;
}

/** An account's webhook deliveries still in the store: waiting, failing (tried and waiting again), given up. */
export interface WebhookBacklog {
  accountId: string;
  pending: number;
  failing: number;
  abandoned: number;
  /** The error of its most recently failed delivery, or null. */
  lastError: string | null;
}

/** A batch recipient as uploaded: its place in the batch (from 1), number and template values. */
export interface StagedRecipient {
  seq: number;
  to: string;
  vars: Record<string, string> | null;
}

/**
 * A batch's recipients kept compactly, in upload order, until each is made a message as
 * the batch sends (src/bulk): storing a row costs a fraction of storing a message.
 */
export interface RecipientStaging {
  /** Appends rows numbered from `firstSeq` on; resolves once durable. */
  stage(
    batchId: string,
    firstSeq: number,
    recipients: ReadonlyArray<Omit<StagedRecipient, 'seq'>>,
  ): Promise<void>;
  /** Up to `limit` rows after `afterSeq`, in order. */
  read(batchId: string, afterSeq: number, limit: number): Promise<StagedRecipient[]>;
  /** Forgets the rows up to `throughSeq` (all of them when undefined); resolves with how many. */
  drop(batchId: string, throughSeq?: number): Promise<number>;
}

/** Where an embedded store's commits run from now on, and why. */
export interface WriterChange {
  onThread: boolean;
  reason: string;
}

export interface Store {
  /** Batches' recipients, staged until they are made messages. */
  readonly staging: RecipientStaging;
  /** This process's id on the store: what it claims rows under, and its name among nodes. */
  readonly instanceId: string;
  /** What this process says of itself to the others (its connectors' binds), read when asked. */
  describeNode(describe: () => Record<string, unknown>): void;
  /** Every gateway process on the store, this one included, oldest first. */
  nodes(): Promise<StoreNode[]>;
  /** The ids of the processes whose lease runs, oldest first (a store of one process: this one). */
  liveInstances(): Promise<string[]>;
  /**
   * A connector's `total` binds are a budget the processes on the store share (the SMSC
   * allows so many): its bind slots are held by one process each. This one gives back what
   * it holds above `want`, and takes free slots (held by nobody, or by a process whose lease
   * ended) up to `want`. Resolves with how many it holds. A store of one process holds
   * them all.
   */
  holdBindSlots(connectorId: string, total: number, want: number): Promise<number>;
  /**
   * Hands queued messages this process claimed back to the others (it cannot send them:
   * it holds no bind of their route's connectors). Their claim ends; nothing else changes.
   */
  releaseMessages(ids: readonly string[]): Promise<void>;
  /**
   * After this process could not reach the store: renews its lease first, then keeps, of
   * these queued messages it holds in memory, those still its own — another process may
   * have taken some while its lease had lapsed — and resolves with their ids. A store of
   * one process keeps them all.
   */
  reclaimMessages(ids: readonly string[]): Promise<string[]>;
  /** Creates tables; safe to call on an existing database. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Answers when the database does (for /health). */
  ping(): Promise<void>;
  /**
   * Asks the store's own threads, if it has any, to give back the memory they hold and no
   * longer use (a memory-reducing collection, where the process exposes `gc`).
   */
  releaseMemory?(): void;
  /** SQLite: whether commits run on a writer thread of its own now (else on the event loop). */
  readonly writingOnThread?: boolean;
  /** Told when the store's commits move to a writer thread of its own, or back (SQLite). */
  watchWriter?(listener: (change: WriterChange) => void): void;
  /**
   * Tells the other processes on this store, once the writes issued before it commit (in
   * the same transaction). A store of one process (SQLite) has nobody to tell.
   */
  announce(notice: StoreNotice): Promise<void>;
  /** Hears what the other processes announce (never this one's own); resolves once listening. */
  onNotice(listener: (notice: StoreNotice) => void): Promise<void>;

  /**
   * Stores accepted messages with their first events, atomically with the idempotency
   * record if one is given. Resolves once durable: only then may the caller answer 202
   * or submit_sm_resp. Concurrent calls in one tick share a transaction. The messages are
   * claimed by this instance (it queues them itself).
   */
  insertMessages(
    messages: Message[],
    idempotency?: IdempotencyRecord,
    charge?: AccountCharge,
  ): Promise<ChargeOutcome | null>;
  /** Applies a patch and records an event, durably (batched per tick like inserts). */
  updateMessage(id: string, patch: MessagePatch, event?: Omit<MessageEvent, 'messageId'>): Promise<void>;
  getMessage(id: string): Promise<Message | null>;
  listMessages(filter: MessageFilter, cursor: string | null, limit: number): Promise<Page<Message>>;
  listEvents(messageId: string): Promise<MessageEvent[]>;
  countByStatus(groupId?: string): Promise<Partial<Record<MessageStatus, number>>>;

  /**
   * Queued messages due at `now` (sendAt and nextAttemptAt passed), in dispatch order:
   * priority, then acceptance; the SQLite store shares `limit` between the accounts that
   * have some and takes them in turns within a priority. `exclude` skips ids the caller
   * already holds. Only messages no other live instance has claimed; those returned are
   * claimed by this one.
   */
  dueMessages(now: number, limit: number, exclude: { has(id: string): boolean }): Promise<Message[]>;
  /** Scheduled messages whose sendAt has come become queued, claimed by nobody; returns how many. */
  releaseScheduled(now: number): Promise<number>;
  /**
   * After a restart: messages left `sending` go back to `queued` (at-least-once); not those
   * another live instance has claimed (they are on its wire).
   */
  requeueInFlight(): Promise<number>;
  /**
   * Queued/scheduled messages whose validity ended become expired; returns their ids.
   * `skip`: ids the caller has on the wire (stored as queued while in flight). Not those
   * another live instance has claimed: that one may have them on the wire, and expires them.
   */
  expireOverdue(now: number, skip?: readonly string[]): Promise<string[]>;

  /**
   * A group's (batch's) queued and scheduled messages become `paused`, each with a `paused`
   * event, in one statement; returns how many. `skip`: ids the caller has on the wire.
   */
  pauseGroup(groupId: string, now: number, skip?: readonly string[]): Promise<number>;
  /**
   * A group's paused messages go back: `scheduled` while their sendAt is still ahead of
   * `now`, `queued` otherwise, each with an event of that status; returns how many.
   */
  resumeGroup(groupId: string, now: number): Promise<number>;
  /**
   * A group's queued, scheduled and paused messages become `canceled` (doneAt `now`), each
   * with a `canceled` event, in one statement; returns how many. `skip` as for pauseGroup.
   */
  cancelGroup(groupId: string, now: number, skip?: readonly string[]): Promise<number>;

  /**
   * Records the final outcome of one part of a long message, with its event, and counts
   * the outcomes of all its parts in the same transaction, serialised per message (across
   * processes on PostgreSQL): parts whose receipts arrive together each see the others.
   * A part keeps the first outcome it gets.
   */
  recordPartOutcome(
    messageId: string,
    part: number,
    outcome: PartOutcome,
    event: Omit<MessageEvent, 'messageId'>,
  ): Promise<PartTally>;

  linkSmscIds(links: SmscIdLink[]): Promise<void>;
  findSmscId(connectorId: string, smscId: string): Promise<SmscIdLink | null>;
  saveUnmatchedReceipt(connectorId: string, smscId: string, receipt: Record<string, unknown>): Promise<void>;
  /** Removes and returns receipts kept for this SMSC id. */
  takeUnmatchedReceipts(connectorId: string, smscId: string): Promise<StoredReceipt[]>;
  /** Oldest first; with `receivedSince` (epoch ms) only those received since. */
  listUnmatchedReceipts(limit: number, receivedSince?: number): Promise<StoredReceipt[]>;
  /** Forgets unmatched receipts received before `before` (epoch ms); returns how many. */
  purgeUnmatchedReceipts(before: number): Promise<number>;

  getIdempotency(accountId: string, key: string, now: number): Promise<IdempotencyRecord | null>;

  /**
   * Gives a message's debit back (its ledger `refund`), once: null when it had none or
   * was refunded already; otherwise the balance after.
   */
  refundMessage(accountId: string, messageId: string, at: number): Promise<number | null>;
  /**
   * Refunds every message of a group (a canceled batch) that ended without a carrier taking
   * it and still holds its debit, as refundMessage does each; resolves with how many.
   */
  refundGroup(groupId: string, at: number): Promise<number>;
  /** Adds `amount` (micro-units, may be negative) to the balance, with a `credit` entry; the balance after. */
  creditAccount(
    accountId: string,
    amount: number,
    currency: string,
    at: number,
    reference: string | null,
  ): Promise<number>;
  /** Null before the first movement. */
  getBalance(accountId: string): Promise<StoredBalance | null>;
  /** Newest first; the cursor is the last entry's id. */
  listLedger(accountId: string, before: number | null, limit: number): Promise<LedgerEntry[]>;
  /** The account's outbound messages created in [from, to), grouped (see UsageRow). */
  usage(accountId: string, from: number, to: number, by: UsageGrouping): Promise<UsageRow[]>;

  upsertAccount(account: StoredAccount): Promise<void>;
  getAccount(id: string): Promise<StoredAccount | null>;
  findAccountByApiKeyHash(hash: string): Promise<StoredAccount | null>;
  listAccounts(): Promise<StoredAccount[]>;

  /** Stores a delivery, held by this instance (it sends it without reading it back); its id. */
  enqueueWebhook(delivery: NewWebhookDelivery): Promise<number>;
  /**
   * Due deliveries no other live instance has claimed (of the `receivers` given, else of
   * all), oldest first; those returned are claimed by this one.
   */
  dueWebhooks(now: number, limit: number, receivers?: WebhookReceivers): Promise<WebhookDelivery[]>;
  /** Records a failed attempt and when to try again. */
  rescheduleWebhook(id: number, nextAttemptAt: number, lastError: string): Promise<void>;
  /** Delivered, or given up on (kept out of the way, for inspection). */
  finishWebhook(id: number, outcome: 'delivered' | 'abandoned'): Promise<void>;

  /**
   * Stores a deliver_sm for the account's receiver binds; its id. `claim`: held by this
   * instance, which sends it at once (it has a receiver bind); otherwise any instance may.
   */
  enqueueEsmeDelivery(accountId: string, payload: Record<string, unknown>, claim?: boolean): Promise<number>;
  /** The account's deliveries no other live instance holds, oldest first; now held by this one. */
  pendingEsmeDeliveries(accountId: string, limit: number): Promise<EsmeDelivery[]>;
  /** How many binds the account's ESMEs hold on this instance now (for the others' maxBinds check). */
  setEsmeBinds(accountId: string, binds: number): Promise<void>;
  /** The binds the account's ESMEs hold on the other live instances (0 for a store of one process). */
  esmeBindsElsewhere(accountId: string): Promise<number>;
  /** Lets go of this instance's deliveries for the account (its receivers unbound). */
  releaseEsmeDeliveries(accountId: string): Promise<void>;
  deleteEsmeDelivery(id: number): Promise<void>;

  /**
   * Creates or replaces a record; resolves with it as stored (its new version). With
   * `expectedVersion` the write is a compare-and-set: 0 means "must not exist yet", n means
   * "must still be at version n"; otherwise StoreConflictError and nothing is written.
   */
  putRecord<T>(record: NewRecord<T>, expectedVersion?: number): Promise<StoredRecord<T>>;
  /** Creates or replaces many records in one transaction (imports). */
  putRecords<T>(records: NewRecord<T>[]): Promise<void>;
  getRecord<T>(kind: string, id: string): Promise<StoredRecord<T> | null>;
  /** Which of `ids` are records of `kind`: one read for many (a batch's chunk of opt-out checks). */
  existingRecordIds(kind: string, ids: readonly string[]): Promise<Set<string>>;
  /** The account's records of `kind` whose ref is one of `refs`: one read for many (an import's chunk). */
  recordsByRef<T>(kind: string, accountId: string, refs: readonly string[]): Promise<StoredRecord<T>[]>;
  /** Newest first, like messages. */
  listRecords<T>(
    kind: string,
    filter: RecordFilter,
    cursor: string | null,
    limit: number,
  ): Promise<Page<StoredRecord<T>>>;
  countRecords(kind: string, filter: RecordFilter): Promise<number>;
  /** Records of a kind whose dueAt has come, earliest first. */
  dueRecords<T>(kind: string, now: number, limit: number): Promise<StoredRecord<T>[]>;
  /** Resolves true if there was one to delete. */
  deleteRecord(kind: string, id: string): Promise<boolean>;

  /** Adds the counts to those stored (every node adds its own: the sum is the cluster's). */
  addStatsCounts(counts: readonly StatsCount[]): Promise<void>;
  /** The stored counts summed per metric and minute, those with none left out, in time order. */
  statsSeries(query: StatsQuery): Promise<Array<{ metric: string; minute: number; n: number }>>;
  /** Forgets the counts of minutes before `before` (a unix second). */
  purgeStats(before: number): Promise<void>;
  /** Per account, the webhook deliveries waiting or given up (delivered ones are gone). */
  webhookBacklog(): Promise<WebhookBacklog[]>;
}
