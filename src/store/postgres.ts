// The cluster store: PostgreSQL through a small `pg` pool, shared by several gateway
// processes. Writes are queued like the SQLite store's: those made in one tick, and those
// made while a batch commits, go together as the next batch, one statement (smsgw_apply,
// see postgres-schema.ts) and one COMMIT; each caller's promise resolves only after it.
// Reads are plain queries and see committed data only.
//
// Sharing: each store is an instance with a lease it renews in smsgw_instances. Queued
// messages and webhook deliveries are claimed by the instance that handles them
// (claimed_by): what a live instance holds no other is handed, and once its lease runs
// out (it stopped or died) the others take its claims over. A resolved write is durable
// as PostgreSQL's COMMIT is (synchronous_commit).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Message, MessageEvent, MessageStatus } from '../core/message.ts';
import { finalStatuses, priorities } from '../core/message.ts';
import { priceOf, usageSql } from './billing.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { StoreConflictError, StoreLimitError, StoreNotFoundError } from './errors.ts';
import { type DueCandidate, fairOrder } from './fair.ts';
import { type BulkAnswer, BulkWrite, gatherBulks, type Outcome, type PgWrite } from './postgres-bulk.ts';
import { migrationLock, schemaFunctions, schemaTables, schemaVersion } from './postgres-schema.ts';
import type {
  AccountCharge,
  ChargeOutcome,
  EsmeDelivery,
  IdempotencyRecord,
  LedgerEntry,
  MessageFilter,
  MessagePatch,
  NewRecord,
  NewWebhookDelivery,
  Page,
  PartOutcome,
  PartTally,
  RecipientStaging,
  RecordFilter,
  SmscIdLink,
  StatsCount,
  StatsQuery,
  Store,
  StoredAccount,
  StoredBalance,
  StoredReceipt,
  StoredRecord,
  StoreNode,
  StoreNotice,
  UsageGrouping,
  UsageRow,
  WebhookBacklog,
  WebhookDelivery,
  WebhookReceivers,
} from './types.ts';

export interface PostgresStoreOptions {
  /** A `postgres://` connection string, as `pg` reads it. */
  connectionString: string;
  /** Connections: one writes batches, the others read and claim. */
  poolSize?: number;
  /**
   * How long this instance's claims outlive its last heartbeat (renewed every third of it).
   * A crashed instance's messages wait this long before another instance sends them.
   */
  leaseMs?: number;
}

interface PendingWrite {
  write: PgWrite;
  resolve: (value: never) => void;
  reject: (error: Error) => void;
}

type Row = Record<string, unknown>;

/** Expired Idempotency-Keys are swept at most this often, in the time its callers pass. */
const idempotencySweepMs = 60_000;
/** Most writes in one statement; more wait for the next. */
const maxBatch = 2_000;
/** Rows read at a time while looking for messages to claim. */
const claimPage = 2_000;
/** Instances whose lease ended this long ago are forgotten. */
const forgetInstancesMs = 24 * 3600_000;

const priorityRank = new Map(priorities.map((p, rank) => [p, rank]));

/** The fields smsgw_update_message sets (postgres-schema.ts): a field added to MessagePatch fails typechecking here until it does too. */
const patchFields: Record<keyof MessagePatch, true> = {
  status: true,
  connectorId: true,
  submittedAt: true,
  doneAt: true,
  attempts: true,
  nextAttemptAt: true,
  error: true,
  segments: true,
  text: true,
  binary: true,
  encoding: true,
  meta: true,
  sendAt: true,
  validUntil: true,
};

/** bigint (epoch ms, ids, counts) as numbers: every one of ours fits in 2^53. */
const int8Oid = 20;
// The driver is loaded by the first PostgreSQL store: a SQLite gateway never holds it.
const requireDriver = createRequire(import.meta.url);
let loadedDriver: typeof pg | undefined;
function driver(): typeof pg {
  loadedDriver ??= requireDriver('pg') as typeof pg;
  return loadedDriver;
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8Oid
      ? Number
      : driver().types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export class PostgresStore implements Store {
  /** This process's name in smsgw_instances and in the claims it makes. */
  readonly instanceId = randomUUID();
  readonly #pool: pg.Pool;
  readonly #leaseMs: number;
  readonly #startedAt = Date.now();
  #describe: () => Record<string, unknown> = () => ({});
  #heartbeat: NodeJS.Timeout | null = null;
  #pending: PendingWrite[] = [];
  /** The batch being applied, if any: one at a time, so writes apply in call order. */
  #writing: Promise<void> | null = null;
  #flushTimer: NodeJS.Immediate | null = null;
  #nextIdempotencySweep = 0;
  #closing: Promise<void> | null = null;
  readonly #connectionString: string | undefined;
  readonly #noticeListeners: Array<(notice: StoreNotice) => void> = [];
  /** The connection that LISTENs for the other instances' notices (opened by onNotice). */
  #listener: pg.Client | null = null;
  #listening: Promise<void> | null = null;

  constructor(options: PostgresStoreOptions) {
    this.#connectionString = options.connectionString;
    this.#leaseMs = options.leaseMs ?? 10_000;
    if (!(this.#leaseMs >= 1_000)) throw new Error('the PostgreSQL claim lease must be at least 1000 ms');
    this.#pool = new (driver().Pool)({
      connectionString: options.connectionString,
      max: options.poolSize ?? 4,
      // A database out of reach fails requests (503) rather than holding them for minutes.
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      // A process stalled inside a transaction (stopped, frozen) keeps its connection, and
      // with it the transaction's row locks, for as long as its kernel answers: the others,
      // which take its work over once its lease lapses, would wait on those locks for ever.
      // The server ends such a session once it has sat idle in a transaction for a lease.
      idle_in_transaction_session_timeout: this.#leaseMs,
      types,
    });
    // A connection that breaks while idle is replaced; the query that needs it reports the error.
    this.#pool.on('error', () => {});
  }

  /** Creates or upgrades the schema (one instance at a time), then joins the cluster. */
  async migrate(): Promise<void> {
    await this.#transaction(async (client) => {
      await client.query("SET LOCAL client_min_messages = 'warning'");
      await client.query('SELECT pg_advisory_xact_lock($1)', [migrationLock]);
      await client.query('CREATE TABLE IF NOT EXISTS smsgw_schema (version integer NOT NULL)');
      const found = (await client.query('SELECT max(version) AS version FROM smsgw_schema')).rows[0]?.version;
      const version = (found as number | null) ?? 0;
      if (version > schemaVersion) {
        throw new Error(
          `database was written by a newer smsgw (schema version ${version}; this one knows up to ${schemaVersion}): run that version, or restore a backup taken before it`,
        );
      }
      // The tables only when they change: even a DDL that finds its work done (ADD COLUMN IF
      // NOT EXISTS, CREATE INDEX IF NOT EXISTS) locks its table, and a gateway starting beside
      // busy ones would deadlock with them.
      if (version < schemaVersion) {
        await client.query(schemaTables);
        await client.query('DELETE FROM smsgw_schema');
        await client.query('INSERT INTO smsgw_schema (version) VALUES ($1)', [schemaVersion]);
      }
      await client.query(schemaFunctions);
    });
    // Alive before the first claim, so no other instance takes this one's claims for a dead one's.
    await this.#beat();
    this.#heartbeat ??= setInterval(() => this.#beat().catch(() => {}), Math.floor(this.#leaseMs / 3));
    this.#heartbeat.unref();
  }

  describeNode(describe: () => Record<string, unknown>): void {
    this.#describe = describe;
  }

  async nodes(): Promise<StoreNode[]> {
    const { rows } = await this.#pool.query(
      `SELECT i.id, i.host, i.pid, i.started_at, i.lease_until, i.info, i.lease_until > smsgw_now_ms() AS alive,
         (SELECT count(*) FROM messages m WHERE m.status = 'queued' AND m.claimed_by = i.id) AS backlog
       FROM smsgw_instances i ORDER BY i.started_at NULLS FIRST, i.id`,
    );
    return rows.map((r) => ({
      id: r.id,
      host: r.host ?? '',
      pid: r.pid ?? 0,
      startedAt: r.started_at ?? 0,
      leaseUntil: r.lease_until,
      alive: r.alive,
      backlog: r.backlog,
      // This one's as it is now; the others' as of their last heartbeat.
      info: r.id === this.instanceId ? this.#describe() : r.info,
    }));
  }

  async liveInstances(): Promise<string[]> {
    const { rows } = await this.#pool.query(
      // In the order they started: one that joins ranks last, so the others keep their binds.
      'SELECT id FROM smsgw_instances WHERE lease_until > smsgw_now_ms() ORDER BY started_at NULLS FIRST, id',
    );
    return rows.map((r) => r.id as string);
  }

  async holdBindSlots(connectorId: string, total: number, want: number): Promise<number> {
    const { rows } = await this.#pool.query('SELECT smsgw_hold_bind_slots($1, $2, $3, $4) AS held', [
      connectorId,
      total,
      want,
      this.instanceId,
    ]);
    return rows[0].held as number;
  }

  async setEsmeBinds(accountId: string, binds: number): Promise<void> {
    await this.#pool.query(
      binds > 0
        ? `INSERT INTO smsgw_esme_binds (instance, account_id, binds) VALUES ($1, $2, $3)
           ON CONFLICT (instance, account_id) DO UPDATE SET binds = excluded.binds`
        : 'DELETE FROM smsgw_esme_binds WHERE instance = $1 AND account_id = $2',
      binds > 0 ? [this.instanceId, accountId, binds] : [this.instanceId, accountId],
    );
  }

  async esmeBindsElsewhere(accountId: string): Promise<number> {
    const { rows } = await this.#pool.query(
      `SELECT coalesce(sum(b.binds), 0) AS n FROM smsgw_esme_binds b
       JOIN smsgw_instances i ON i.id = b.instance AND i.lease_until > smsgw_now_ms()
       WHERE b.account_id = $1 AND b.instance <> $2`,
      [accountId, this.instanceId],
    );
    return Number(rows[0].n);
  }

  async reclaimMessages(ids: readonly string[]): Promise<string[]> {
    // Renewed (and committed) first: from then on no other instance takes what this one holds.
    await this.#beat();
    if (ids.length === 0) return [];
    const { rows } = await this.#pool.query(
      `UPDATE messages SET claimed_by = $1
       WHERE id = ANY($2::text[]) AND status = 'queued' AND smsgw_claimable(claimed_by, $1) RETURNING id`,
      [this.instanceId, ids],
    );
    return rows.map((r) => r.id as string);
  }

  releaseMessages(ids: readonly string[]): Promise<void> {
    return this.#write({ op: 'releaseMessages', ids, instance: this.instanceId });
  }

  /** Sends the writes still waiting, waits for them, gives the claims up, then closes. */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1');
  }

  announce(notice: StoreNotice): Promise<void> {
    return this.#write({ op: 'announce', notice: JSON.stringify({ ...notice, from: this.instanceId }) });
  }

  onNotice(listener: (notice: StoreNotice) => void): Promise<void> {
    this.#noticeListeners.push(listener);
    this.#listening ??= this.#listen();
    return this.#listening;
  }

  /** LISTENs on a connection of its own; reconnects (after a second) while the store is open. */
  async #listen(): Promise<void> {
    if (this.#closing) return;
    const client = new (driver().Client)({
      connectionString: this.#connectionString,
      keepAlive: true,
      types,
    });
    this.#listener = client;
    let again = false;
    const reconnect = () => {
      if (again) return;
      again = true;
      client.end().catch(() => {});
      if (!this.#closing) setTimeout(() => void this.#listen(), 1_000).unref();
    };
    client.on('error', reconnect);
    client.on('end', reconnect);
    client.on('notification', (n) => {
      if (n.channel !== 'smsgw_notices' || !n.payload) return;
      let heard: StoreNotice & { from: string };
      try {
        heard = JSON.parse(n.payload);
      } catch {
        return; // not one of ours (anyone may NOTIFY on the channel)
      }
      const { from, ...notice } = heard;
      if (from === this.instanceId) return;
      for (const listener of this.#noticeListeners) listener(notice as StoreNotice);
    });
    try {
      await client.connect();
      await client.query('LISTEN smsgw_notices');
    } catch {
      reconnect();
    }
  }

  async insertMessages(
    messages: Message[],
    idempotency?: IdempotencyRecord,
    charge?: AccountCharge,
  ): Promise<ChargeOutcome | null> {
    const charged = await this.#write<[number | null] | null>({
      op: 'insertMessages',
      messages: messages.map(encodeMessage),
      idempotency: idempotency
        ? { ...idempotency, response: JSON.stringify(idempotency.response ?? null) }
        : null,
      charge: charge ?? null,
      instance: this.instanceId,
    });
    return charged ? { balance: charged[0] } : null;
  }

  refundMessage(accountId: string, messageId: string, at: number): Promise<number | null> {
    return this.#write({ op: 'move', kind: 'refund', accountId, messageId, at });
  }

  refundGroup(groupId: string, at: number): Promise<number> {
    return this.#write({ op: 'refundGroup', groupId, at });
  }

  creditAccount(
    accountId: string,
    amount: number,
    currency: string,
    at: number,
    reference: string | null,
  ): Promise<number> {
    return this.#write({ op: 'move', kind: 'credit', accountId, amount, currency, at, reference });
  }

  async getBalance(accountId: string): Promise<StoredBalance | null> {
    const { rows } = await this.#pool.query('SELECT balance, currency FROM balances WHERE account_id = $1', [
      accountId,
    ]);
    return rows[0] ? { balance: rows[0].balance, currency: rows[0].currency } : null;
  }

  async listLedger(accountId: string, before: number | null, limit: number): Promise<LedgerEntry[]> {
    const { rows } = await this.#pool.query(
      'SELECT * FROM ledger WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3',
      [accountId, before ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      accountId: r.account_id,
      at: r.at,
      kind: r.kind,
      amount: r.amount,
      balance: r.balance,
      currency: r.currency,
      messageId: r.message_id,
      reference: r.reference,
    }));
  }

  async usage(accountId: string, from: number, to: number, by: UsageGrouping): Promise<UsageRow[]> {
    const { rows } = await this.#pool.query(usageSql(by, ['$1', '$2', '$3']), [accountId, from, to]);
    // Sums of bigint are numeric, which pg hands over as strings.
    return rows.map((r) => ({
      group: r.grouped,
      currency: r.currency,
      messages: r.messages,
      parts: Number(r.parts),
      price: Number(r.price),
      cost: Number(r.cost),
    }));
  }

  updateMessage(id: string, patch: MessagePatch, event?: Omit<MessageEvent, 'messageId'>): Promise<void> {
    const encoded: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (!Object.hasOwn(patchFields, field)) throw new Error(`unknown message field ${field}`);
      encoded[field] =
        field === 'binary'
          ? base64(value as Buffer | null)
          : field === 'meta'
            ? json(value as Record<string, unknown> | null)
            : value;
    }
    return this.#write({
      op: 'updateMessage',
      id,
      patch: encoded,
      event: event ? { at: event.at, type: event.type, detail: json(event.detail) } : null,
    });
  }

  async getMessage(id: string): Promise<Message | null> {
    const { rows } = await this.#pool.query('SELECT * FROM messages WHERE id = $1', [id]);
    return rows[0] ? toMessage(rows[0]) : null;
  }

  async listMessages(filter: MessageFilter, cursor: string | null, limit: number): Promise<Page<Message>> {
    const query = new Where();
    query.equal('account_id', filter.accountId);
    query.equal('status', filter.status);
    query.equal('to_addr', filter.to);
    query.equal('direction', filter.direction);
    query.equal('group_id', filter.groupId);
    if (filter.between) {
      const [a, b] = filter.between.map((n) => query.param(n));
      query.add(`((to_addr = ${a} AND from_addr = ${b}) OR (to_addr = ${b} AND from_addr = ${a}))`);
    }
    if (filter.anyOf) {
      const terms = query.param(filter.anyOf);
      // The account in each term lets each use its own index (a BitmapOr).
      const mine = filter.accountId === undefined ? '' : `account_id = ${query.param(filter.accountId)} AND `;
      query.add(
        `(id = ANY(${terms}) OR (${mine}client_ref = ANY(${terms})) OR (${mine}to_addr = ANY(${terms})) OR (direction = 'mo' AND ${mine}from_addr = ANY(${terms})))`,
      );
    }
    if (filter.createdSince !== undefined) query.add(`created_at >= ${query.param(filter.createdSince)}`);
    if (filter.createdUntil !== undefined) query.add(`created_at < ${query.param(filter.createdUntil)}`);
    return this.#page(query, 'messages', cursor, limit, toMessage);
  }

  async listEvents(messageId: string): Promise<MessageEvent[]> {
    const { rows } = await this.#pool.query(
      'SELECT at, type, detail FROM message_events WHERE message_id = $1 ORDER BY seq',
      [messageId],
    );
    return rows.map((r) => ({ messageId, at: r.at, type: r.type, detail: r.detail }));
  }

  async countByStatus(groupId?: string): Promise<Partial<Record<MessageStatus, number>>> {
    const { rows } =
      groupId === undefined
        ? await this.#pool.query('SELECT status, count(*) AS n FROM messages GROUP BY status')
        : await this.#pool.query(
            'SELECT status, count(*) AS n FROM messages WHERE group_id = $1 GROUP BY status',
            [groupId],
          );
    return Object.fromEntries(rows.map((r) => [r.status as MessageStatus, r.n as number]));
  }

  /**
   * Claims due messages for this instance in dispatch order: rows no live instance holds,
   * or rows this one holds already but not in `exclude` (accepted here but not taken into
   * memory). Rows another transaction is claiming are skipped, not waited for, so two
   * instances claiming at once get disjoint sets.
   */
  /**
   * Claims due messages for this instance, at most `limit`. With several accounts queued
   * they take turns (fairOrder), as in the SQLite store; claimed rows are locked (SKIP
   * LOCKED) so instances looking at once get disjoint sets.
   */
  async dueMessages(now: number, limit: number, exclude: { has(id: string): boolean }): Promise<Message[]> {
    if (limit <= 0) return [];
    return this.#transaction(async (client) => {
      // The accounts with queued messages, one index seek each (a loose index scan).
      const { rows: accounts } = await client.query<{ account: string }>(
        `WITH RECURSIVE queued(account) AS (
           (SELECT account_id FROM messages WHERE status = 'queued' ORDER BY account_id LIMIT 1)
           UNION ALL
           SELECT (SELECT account_id FROM messages WHERE status = 'queued' AND account_id > queued.account
                   ORDER BY account_id LIMIT 1)
           FROM queued WHERE queued.account IS NOT NULL)
         SELECT account FROM queued WHERE account IS NOT NULL`,
      );
      const chosen =
        accounts.length <= 1
          ? (await this.#dueSeqs(client, now, limit, exclude, null)).map((c) => c.seq)
          : fairOrder(
              await Promise.all(
                accounts.map(({ account }) => this.#dueSeqs(client, now, limit, exclude, account)),
              ),
              limit,
            );
      const claimed =
        chosen.length === 0
          ? []
          : (
              await client.query(
                'UPDATE messages SET claimed_by = $1 WHERE seq = ANY($2::bigint[]) RETURNING *',
                [this.instanceId, chosen],
              )
            ).rows;
      const order = new Map(chosen.map((seq, i) => [seq, i]));
      return claimed.sort((a, b) => order.get(a.seq)! - order.get(b.seq)!).map(toMessage);
    });
  }

  /**
   * `work` in a transaction on a client of its own. A connection that breaks meanwhile fails
   * the queries waiting on it, and the client also emits 'error': while checked out nothing
   * else listens, so unheard that event would be thrown and end the process (a database
   * restart under a claim did). The broken client is let go, not pooled again.
   */
  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (!broken) await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      // A broken client keeps the listener: it may still report its end before it is gone.
      if (!broken) client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /**
   * Due messages this instance may claim (of one account, or of all), in dispatch order, at
   * most `limit`, locked; read a page at a time, as excluded ones (held here) are skipped.
   */
  async #dueSeqs(
    client: pg.PoolClient,
    now: number,
    limit: number,
    exclude: { has(id: string): boolean },
    accountId: string | null,
  ): Promise<DueCandidate[]> {
    const chosen: DueCandidate[] = [];
    let after: Row | null = null;
    for (;;) {
      const params: unknown[] = [now, this.instanceId, claimPage, accountId];
      if (after) params.push(after.priority, after.created_at, after.seq);
      const { rows }: pg.QueryResult<Row> = await client.query(
        `SELECT seq, id, priority, created_at FROM messages
         WHERE status = 'queued' AND (send_at IS NULL OR send_at <= $1)
           AND (next_attempt_at IS NULL OR next_attempt_at <= $1) AND smsgw_claimable(claimed_by, $2)
           AND ($4::text IS NULL OR account_id = $4)
           ${after ? 'AND (priority, created_at, seq) > ($5, $6, $7)' : ''}
         ORDER BY priority, created_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED`,
        params,
      );
      for (const row of rows) {
        if (exclude.has(row.id as string)) continue;
        chosen.push({ seq: row.seq as number, priority: row.priority as number });
        if (chosen.length >= limit) return chosen;
      }
      if (rows.length < claimPage) return chosen;
      after = rows[rows.length - 1]!;
    }
  }

  releaseScheduled(now: number): Promise<number> {
    return this.#write({ op: 'releaseScheduled', now });
  }

  requeueInFlight(): Promise<number> {
    return this.#write({ op: 'requeueInFlight', at: Date.now(), instance: this.instanceId });
  }

  expireOverdue(now: number, skip: readonly string[] = []): Promise<string[]> {
    return this.#write({ op: 'expireOverdue', now, skip, instance: this.instanceId });
  }

  pauseGroup(groupId: string, now: number, skip: readonly string[] = []): Promise<number> {
    return this.#write({ op: 'pauseGroup', groupId, now, skip });
  }

  resumeGroup(groupId: string, now: number): Promise<number> {
    return this.#write({ op: 'resumeGroup', groupId, now });
  }

  cancelGroup(groupId: string, now: number, skip: readonly string[] = []): Promise<number> {
    return this.#write({ op: 'cancelGroup', groupId, now, skip });
  }

  async recordPartOutcome(
    messageId: string,
    part: number,
    outcome: PartOutcome,
    event: Omit<MessageEvent, 'messageId'>,
  ): Promise<PartTally> {
    const [recorded, delivered, failed, settled] = await this.#write<[boolean, number, number, boolean]>({
      op: 'recordPartOutcome',
      messageId,
      part,
      outcome,
      event: { at: event.at, type: event.type, detail: json(event.detail) },
      finalStatuses: [...finalStatuses],
    });
    return { recorded, delivered, failed, settled };
  }

  linkSmscIds(links: SmscIdLink[]): Promise<void> {
    return this.#write({ op: 'linkSmscIds', links });
  }

  async findSmscId(connectorId: string, smscId: string): Promise<SmscIdLink | null> {
    const { rows } = await this.#pool.query(
      'SELECT * FROM smsc_links WHERE connector_id = $1 AND smsc_id = $2',
      [connectorId, smscId],
    );
    const r = rows[0];
    return r
      ? {
          connectorId: r.connector_id,
          smscId: r.smsc_id,
          messageId: r.message_id,
          part: r.part,
          parts: r.parts,
        }
      : null;
  }

  saveUnmatchedReceipt(connectorId: string, smscId: string, receipt: Record<string, unknown>): Promise<void> {
    return this.#write({
      op: 'saveUnmatchedReceipt',
      connectorId,
      smscId,
      receivedAt: Date.now(),
      receipt: JSON.stringify(receipt),
    });
  }

  async takeUnmatchedReceipts(connectorId: string, smscId: string): Promise<StoredReceipt[]> {
    const taken = await this.#write<Array<Omit<StoredReceipt, 'receipt'> & { receipt: string }>>({
      op: 'takeUnmatchedReceipts',
      connectorId,
      smscId,
    });
    return taken.map((r) => ({ ...r, receipt: JSON.parse(r.receipt) }));
  }

  async addStatsCounts(counts: readonly StatsCount[]): Promise<void> {
    if (counts.length === 0) return;
    // One row per key (one statement may not update a row twice), in one key order on every
    // gateway (code units, not the locale's): gateways adding to the same minutes at once wait
    // for each other, never deadlock.
    const byKey = new Map<string, StatsCount>();
    for (const c of counts) {
      const key = `${c.metric}\0${c.minute}\0${c.accountId}\0${c.connectorId}`;
      const same = byKey.get(key);
      byKey.set(key, same ? { ...same, n: same.n + c.n } : c);
    }
    const sorted = [...byKey.keys()].sort().map((key) => byKey.get(key)!);
    await this.#pool.query(
      `INSERT INTO stats_minutes AS s (metric, minute, account_id, connector_id, n)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])
       ON CONFLICT (metric, minute, account_id, connector_id) DO UPDATE SET n = s.n + excluded.n`,
      [
        sorted.map((c) => c.metric),
        sorted.map((c) => c.minute),
        sorted.map((c) => c.accountId),
        sorted.map((c) => c.connectorId),
        sorted.map((c) => c.n),
      ],
    );
  }

  async purgeStats(before: number): Promise<void> {
    await this.#pool.query('DELETE FROM stats_minutes WHERE minute < $1', [before]);
  }

  async statsSeries(query: StatsQuery): Promise<Array<{ metric: string; minute: number; n: number }>> {
    const { rows } = await this.#pool.query(
      `SELECT metric, minute, sum(n)::bigint AS n FROM stats_minutes
       WHERE metric = ANY($1::text[]) AND minute >= $2 AND minute < $3
         AND ($4::text IS NULL OR account_id = $4) AND ($5::text IS NULL OR connector_id = $5)
       GROUP BY metric, minute ORDER BY minute, metric`,
      [query.metrics, query.from, query.to, query.accountId ?? null, query.connectorId ?? null],
    );
    return rows.map((r) => ({ metric: r.metric, minute: r.minute, n: r.n }));
  }

  async webhookBacklog(): Promise<WebhookBacklog[]> {
    const { rows } = await this.#pool.query(
      `SELECT account_id, count(*) FILTER (WHERE abandoned_at IS NULL)::bigint AS pending,
         count(*) FILTER (WHERE abandoned_at IS NULL AND attempts > 0)::bigint AS failing,
         count(*) FILTER (WHERE abandoned_at IS NOT NULL)::bigint AS abandoned,
         (SELECT last_error FROM webhook_deliveries l WHERE l.account_id = w.account_id
            AND l.last_error IS NOT NULL ORDER BY l.id DESC LIMIT 1) AS last_error
       FROM webhook_deliveries w GROUP BY account_id ORDER BY account_id`,
    );
    return rows.map((r) => ({
      accountId: r.account_id,
      pending: r.pending,
      failing: r.failing,
      abandoned: r.abandoned,
      lastError: r.last_error,
    }));
  }

  async listUnmatchedReceipts(limit: number, receivedSince = 0): Promise<StoredReceipt[]> {
    const { rows } = await this.#pool.query(
      'SELECT * FROM unmatched_receipts WHERE received_at >= $2 ORDER BY id LIMIT $1',
      [limit, receivedSince],
    );
    return rows.map((r) => ({
      id: r.id,
      connectorId: r.connector_id,
      smscId: r.smsc_id,
      receivedAt: r.received_at,
      receipt: r.receipt,
    }));
  }

  purgeUnmatchedReceipts(before: number): Promise<number> {
    return this.#write({ op: 'purgeUnmatchedReceipts', before });
  }

  async getIdempotency(accountId: string, key: string, now: number): Promise<IdempotencyRecord | null> {
    // The store has no clock of its own: expiry follows the `now` its callers pass.
    if (now >= this.#nextIdempotencySweep) {
      this.#nextIdempotencySweep = now + idempotencySweepMs;
      // Housekeeping nobody waits for: if it fails, so do the writes that matter.
      this.#write({ op: 'sweepIdempotency', before: now }).catch(() => {});
    }
    const { rows } = await this.#pool.query('SELECT * FROM idempotency WHERE account_id = $1 AND key = $2', [
      accountId,
      key,
    ]);
    const r = rows[0];
    if (!r) return null;
    if (r.expires_at <= now) {
      // Forgotten before answering, so the request that follows may use the key again.
      await this.#write({ op: 'forgetIdempotency', accountId, key, now });
      return null;
    }
    return {
      accountId: r.account_id,
      key: r.key,
      requestHash: r.request_hash,
      statusCode: r.status_code,
      response: r.response,
      expiresAt: r.expires_at,
    };
  }

  upsertAccount(account: StoredAccount): Promise<void> {
    return this.#write({
      op: 'upsertAccount',
      id: account.id,
      apiKeyHashes: account.apiKeyHashes,
      settings: JSON.stringify(account.settings),
    });
  }

  async getAccount(id: string): Promise<StoredAccount | null> {
    return (await this.#accounts('WHERE a.id = $1', [id]))[0] ?? null;
  }

  async findAccountByApiKeyHash(hash: string): Promise<StoredAccount | null> {
    const where = 'WHERE a.id = (SELECT account_id FROM account_api_keys WHERE hash = $1)';
    return (await this.#accounts(where, [hash]))[0] ?? null;
  }

  listAccounts(): Promise<StoredAccount[]> {
    return this.#accounts('', []);
  }

  enqueueWebhook(delivery: NewWebhookDelivery): Promise<number> {
    return this.#write({
      op: 'enqueueWebhook',
      ...delivery,
      method: delivery.method ?? 'POST',
      headers: json(delivery.headers ?? null),
      instance: this.instanceId,
    });
  }

  /** Claims the due deliveries for this instance, as dueMessages does messages. */
  async dueWebhooks(now: number, limit: number, receivers?: WebhookReceivers): Promise<WebhookDelivery[]> {
    // A receiver's URLs: those that start with it and go on with a path, query, fragment or nothing.
    const of = (key: string) =>
      `left(url, length(${key})) = ${key} AND substr(url, length(${key}) + 1, 1) IN ('', '/', '?', '#')`;
    const params: unknown[] = [now, limit, this.instanceId];
    const filters: string[] = [];
    if (receivers?.only) {
      params.push(receivers.only);
      filters.push(of(`$${params.length}::text`));
    } else if (receivers?.skip?.length) {
      params.push(receivers.skip);
      filters.push(
        `NOT EXISTS (SELECT 1 FROM unnest($${params.length}::text[]) AS k(key) WHERE ${of('k.key')})`,
      );
    }
    // A range of the due index that starts there: what waits from before it is not scanned.
    if (receivers?.dueAfter !== undefined) {
      params.push(receivers.dueAfter);
      filters.push(`next_attempt_at > $${params.length}`);
    }
    const { rows } = await this.#pool.query(
      `UPDATE webhook_deliveries SET claimed_by = $3 WHERE id IN (
         SELECT id FROM webhook_deliveries
         WHERE abandoned_at IS NULL AND next_attempt_at <= $1 AND smsgw_claimable(claimed_by, $3)
           ${filters.map((f) => `AND ${f}`).join(' ')}
         ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      params,
    );
    return rows
      .sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.id - b.id)
      .map((r) => ({
        id: r.id,
        accountId: r.account_id,
        url: r.url,
        secret: r.secret,
        body: r.body,
        attempts: r.attempts,
        nextAttemptAt: r.next_attempt_at,
        createdAt: r.created_at,
        lastError: r.last_error,
        method: r.method,
        contentType: r.content_type,
        headers: r.headers,
        reply: r.reply,
      }));
  }

  rescheduleWebhook(id: number, nextAttemptAt: number, lastError: string): Promise<void> {
    return this.#write({ op: 'rescheduleWebhook', id, nextAttemptAt, lastError });
  }

  finishWebhook(id: number, outcome: 'delivered' | 'abandoned'): Promise<void> {
    return this.#write({ op: 'finishWebhook', id, outcome, at: Date.now() });
  }

  enqueueEsmeDelivery(accountId: string, payload: Record<string, unknown>, claim = false): Promise<number> {
    return this.#write({
      op: 'enqueueEsmeDelivery',
      accountId,
      createdAt: Date.now(),
      payload: JSON.stringify(payload),
      instance: claim ? this.instanceId : null,
    });
  }

  /** Claims the account's deliveries for this instance, as dueWebhooks does webhooks. */
  async pendingEsmeDeliveries(accountId: string, limit: number): Promise<EsmeDelivery[]> {
    const { rows } = await this.#pool.query(
      `UPDATE esme_deliveries SET claimed_by = $3 WHERE id IN (
         SELECT id FROM esme_deliveries
         WHERE account_id = $1 AND smsgw_claimable(claimed_by, $3)
         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [accountId, limit, this.instanceId],
    );
    rows.sort((a, b) => Number(a.id) - Number(b.id));
    return rows.map((r) => ({
      id: r.id,
      accountId: r.account_id,
      createdAt: r.created_at,
      payload: r.payload,
    }));
  }

  deleteEsmeDelivery(id: number): Promise<void> {
    return this.#write({ op: 'deleteEsmeDelivery', id });
  }

  releaseEsmeDeliveries(accountId: string): Promise<void> {
    return this.#write({ op: 'releaseEsmeDeliveries', accountId, instance: this.instanceId });
  }

  async putRecord<T>(record: NewRecord<T>, expectedVersion?: number): Promise<StoredRecord<T>> {
    const version = await this.#write<number>({
      op: 'putRecord',
      record: encodeRecord(record),
      expectedVersion: expectedVersion ?? null,
    });
    return { ...record, version };
  }

  putRecords<T>(records: NewRecord<T>[]): Promise<void> {
    return this.#write({ op: 'putRecords', records: records.map(encodeRecord) });
  }

  async getRecord<T>(kind: string, id: string): Promise<StoredRecord<T> | null> {
    const { rows } = await this.#pool.query('SELECT * FROM records WHERE kind = $1 AND id = $2', [
      kind,
      recordKey(id),
    ]);
    return rows[0] ? toRecord<T>(rows[0]) : null;
  }

  async existingRecordIds(kind: string, ids: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.#pool.query(
      'SELECT id FROM records WHERE kind = $1 AND id = ANY($2::bytea[])',
      [kind, ids.map(recordKey)],
    );
    return new Set(rows.map((r) => (r.id as Buffer).toString('utf8')));
  }

  async recordsByRef<T>(
    kind: string,
    accountId: string,
    refs: readonly string[],
  ): Promise<StoredRecord<T>[]> {
    const { rows } = await this.#pool.query(
      'SELECT * FROM records WHERE kind = $1 AND account_id = $2 AND ref = ANY($3::text[])',
      [kind, accountId, refs],
    );
    return rows.map((r) => toRecord<T>(r));
  }

  listRecords<T>(
    kind: string,
    filter: RecordFilter,
    cursor: string | null,
    limit: number,
  ): Promise<Page<StoredRecord<T>>> {
    return this.#page(recordWhere(kind, filter), 'records', cursor, limit, (r) => toRecord<T>(r), recordKey);
  }

  async countRecords(kind: string, filter: RecordFilter): Promise<number> {
    const where = recordWhere(kind, filter);
    const { rows } = await this.#pool.query(
      `SELECT count(*) AS n FROM records WHERE ${where.sql()}`,
      where.params,
    );
    return rows[0].n;
  }

  async dueRecords<T>(kind: string, now: number, limit: number): Promise<StoredRecord<T>[]> {
    const { rows } = await this.#pool.query(
      'SELECT * FROM records WHERE kind = $1 AND due_at IS NOT NULL AND due_at <= $2 ORDER BY due_at, id LIMIT $3',
      [kind, now, limit],
    );
    return rows.map((r) => toRecord<T>(r));
  }

  readonly staging: RecipientStaging = {
    stage: (batchId, firstSeq, recipients) =>
      this.#write({
        op: 'stageRecipients',
        batchId,
        firstSeq,
        to: recipients.map((r) => r.to),
        vars: recipients.map((r) => (r.vars === null ? null : JSON.stringify(r.vars))),
      }),
    read: async (batchId, afterSeq, limit) => {
      const { rows } = await this.#pool.query(
        'SELECT seq, to_addr, vars FROM batch_recipients WHERE batch_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
        [batchId, afterSeq, limit],
      );
      return rows.map((r) => ({
        seq: Number(r.seq),
        to: r.to_addr as string,
        vars: r.vars === null ? null : (JSON.parse(r.vars as string) as Record<string, string>),
      }));
    },
    drop: (batchId, throughSeq) =>
      this.#write({ op: 'dropStagedRecipients', batchId, throughSeq: throughSeq ?? null }),
  };

  deleteRecord(kind: string, id: string): Promise<boolean> {
    return this.#write({ op: 'deleteRecord', kind, id: recordKey(id).toString('hex') });
  }

  /** Renews this instance's lease, and forgets instances long gone. */
  async #beat(): Promise<void> {
    await this.#pool.query(
      `INSERT INTO smsgw_instances (id, lease_until, host, pid, started_at, info)
         VALUES ($1, smsgw_now_ms() + $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until, info = excluded.info`,
      [this.instanceId, this.#leaseMs, hostname(), process.pid, this.#startedAt, json(this.#describe())],
    );
    await this.#pool.query('DELETE FROM smsgw_instances WHERE lease_until < smsgw_now_ms() - $1', [
      forgetInstancesMs,
    ]);
    await this.#pool.query(
      'DELETE FROM smsgw_esme_binds b WHERE NOT EXISTS (SELECT 1 FROM smsgw_instances i WHERE i.id = b.instance)',
    );
  }

  /** Newest first in pages of `limit`; the cursor is the last row's (created_at, id). */
  async #page<T>(
    where: Where,
    table: 'messages' | 'records',
    cursor: string | null,
    limit: number,
    convert: (row: Row) => T & { createdAt: number; id: string },
    key: (id: string) => unknown = (id) => id,
  ): Promise<Page<T>> {
    if (cursor !== null) {
      const after = decodeCursor(cursor);
      where.add(`(created_at, id) < (${where.param(after.createdAt)}, ${where.param(key(after.id))})`);
    }
    const size = Math.max(1, Math.floor(limit));
    // One row more than asked tells whether another page exists without a second query.
    const { rows } = await this.#pool.query(
      `SELECT * FROM ${table} WHERE ${where.sql()} ORDER BY created_at DESC, id DESC LIMIT ${where.param(size + 1)}`,
      where.params,
    );
    const data = rows.slice(0, size).map(convert);
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > size && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  async #accounts(where: string, params: unknown[]): Promise<StoredAccount[]> {
    const { rows } = await this.#pool.query(
      `SELECT a.id, a.settings,
         coalesce((SELECT array_agg(k.hash ORDER BY k.position) FROM account_api_keys k WHERE k.account_id = a.id),
           '{}') AS hashes
       FROM accounts a ${where} ORDER BY a.id`,
      params,
    );
    return rows.map((r) => ({ id: r.id, apiKeyHashes: r.hashes, settings: r.settings }));
  }

  /** Queues a write for this tick's batch; settles after the COMMIT of its statement. */
  #write<T>(write: PgWrite): Promise<T> {
    if (this.#closing) return Promise.reject(new Error('the PostgreSQL store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ write, resolve: resolve as (value: never) => void, reject });
      this.#flushTimer ??= setImmediate(() => this.#flush());
    });
  }

  /** Sends the waiting writes as one batch, unless one is being applied (they go next). */
  #flush(): void {
    this.#flushTimer = null;
    if (this.#writing || this.#pending.length === 0) return;
    const batch = this.#pending.splice(0, maxBatch);
    this.#writing = this.#apply(batch).finally(() => {
      this.#writing = null;
      // On setImmediate, so writes that the settled callers make straight away go too.
      if (this.#pending.length > 0) this.#flushTimer ??= setImmediate(() => this.#flush());
    });
  }

  async #apply(batch: PendingWrite[]): Promise<void> {
    const writes = batch.map((p) => p.write);
    let outcomes: Outcome[];
    try {
      outcomes = await this.#runGathered(writes);
    } catch (error) {
      // PostgreSQL refused the statement, so nothing of it is stored: again, each write on its own.
      // Anything else (the connection broke) leaves the outcome unknown.
      try {
        if (!(error instanceof driver().DatabaseError)) throw error;
        outcomes = await this.#run(JSON.stringify(writes), true);
      } catch (failure) {
        const reason = new Error(
          `PostgreSQL store: a batch of writes failed and may or may not be stored: ${(failure as Error).message}`,
        );
        for (const p of batch) p.reject(reason);
        return;
      }
    }
    for (const [i, p] of batch.entries()) {
      const outcome = outcomes[i]!;
      if (outcome.ok) p.resolve(outcome.value as never);
      else p.reject(toError(outcome));
    }
  }

  /** The batch with its runs of message writes applied as sets (see postgres-bulk.ts). */
  async #runGathered(writes: PgWrite[]): Promise<Outcome[]> {
    const parts = gatherBulks(writes);
    const sent = parts.map((part) => (part instanceof BulkWrite ? part.write(this.instanceId) : part));
    const answers = await this.#run(JSON.stringify(sent), false);
    return parts.flatMap((part, i) => {
      const answer = answers[i]!;
      if (!(part instanceof BulkWrite)) return [answer];
      if (!answer.ok) return part.writes.map(() => answer);
      return part.outcomes(answer.value as BulkAnswer);
    });
  }

  async #run(writes: string, isolate: boolean): Promise<Outcome[]> {
    const { rows } = await this.#pool.query('SELECT smsgw_apply($1::jsonb, $2) AS outcomes', [
      writes,
      isolate,
    ]);
    return rows[0].outcomes;
  }

  async #shutDown(): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#flushTimer) clearImmediate(this.#flushTimer);
    this.#flushTimer = null;
    while (this.#writing || this.#pending.length > 0) {
      this.#flush();
      await this.#writing;
    }
    await this.#listener?.end().catch(() => {});
    // Gone from the cluster: what this instance claimed is the others' to take at once.
    await this.#pool.query('DELETE FROM smsgw_instances WHERE id = $1', [this.instanceId]).catch(() => {});
    await this.#pool.end();
  }
}

/** A WHERE clause and its parameters, numbered as they are added. */
class Where {
  readonly params: unknown[] = [];
  readonly #terms: string[] = [];

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(term: string): void {
    this.#terms.push(term);
  }

  /** column = value, unless the value is undefined (no filter). */
  equal(column: string, value: unknown): void {
    if (value !== undefined) this.add(`${column} = ${this.param(value)}`);
  }

  sql(): string {
    return this.#terms.length > 0 ? this.#terms.join(' AND ') : 'TRUE';
  }
}

function recordWhere(kind: string, filter: RecordFilter): Where {
  const where = new Where();
  where.equal('kind', kind);
  where.equal('account_id', filter.accountId);
  where.equal('ref', filter.ref);
  where.equal('status', filter.status);
  return where;
}

function toError(outcome: Extract<Outcome, { ok: false }>): Error {
  if (outcome.name === StoreConflictError.name) return new StoreConflictError(outcome.message);
  if (outcome.name === StoreNotFoundError.name) return new StoreNotFoundError(outcome.message);
  if (outcome.name === StoreLimitError.name) return new StoreLimitError(outcome.message);
  return Object.assign(new Error(outcome.message), outcome.code ? { code: outcome.code } : {});
}

function base64(value: Buffer | null): string | null {
  return value === null ? null : value.toString('base64');
}

function json(value: Record<string, unknown> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function encodeMessage(m: Message): Record<string, unknown> {
  return {
    ...m,
    binary: base64(m.binary),
    udh: base64(m.udh),
    priority: priorityRank.get(m.priority)!,
    meta: json(m.meta),
  };
}

/**
 * A record's id as stored: its UTF-8 bytes (bytea), since features build ids with U+0000
 * separators, which PostgreSQL text cannot hold. Bytes order as SQLite's text does.
 */
function recordKey(id: string): Buffer {
  return Buffer.from(id, 'utf8');
}

function encodeRecord<T>(r: NewRecord<T>): Record<string, unknown> {
  // The id as hex (JSON text cannot carry U+0000 into PostgreSQL either), and as JSON for messages.
  return {
    ...r,
    id: recordKey(r.id).toString('hex'),
    label: JSON.stringify(r.id),
    data: JSON.stringify(r.data),
  };
}

function toMessage(r: Row): Message {
  const errorCode = r.error_code as string | null;
  return {
    id: r.id as string,
    accountId: r.account_id as string,
    direction: r.direction as Message['direction'],
    status: r.status as MessageStatus,
    to: r.to_addr as string,
    from: r.from_addr as string,
    text: r.text as string | null,
    binary: r.binary_data as Buffer | null,
    udh: r.udh as Buffer | null,
    encoding: r.encoding as Message['encoding'],
    segments: r.segments as number,
    priority: priorities[r.priority as number]!,
    clientRef: r.client_ref as string | null,
    callbackUrl: r.callback_url as string | null,
    flash: r.flash as boolean,
    origin: r.origin as Message['origin'],
    receiptRequested: r.receipt_requested as boolean,
    connectorId: r.connector_id as string | null,
    createdAt: r.created_at as number,
    sendAt: r.send_at as number | null,
    validUntil: r.valid_until as number | null,
    submittedAt: r.submitted_at as number | null,
    doneAt: r.done_at as number | null,
    attempts: r.attempts as number,
    nextAttemptAt: r.next_attempt_at as number | null,
    error: errorCode === null ? null : { code: errorCode, message: r.error_message as string },
    groupId: r.group_id as string | null,
    meta: r.meta as Record<string, unknown> | null,
    ...priceOf(r.price as number | null, r.currency as string | null),
  };
}

function toRecord<T>(r: Row): StoredRecord<T> {
  return {
    kind: r.kind as string,
    id: (r.id as Buffer).toString('utf8'),
    accountId: r.account_id as string,
    ref: r.ref as string | null,
    status: r.status as string | null,
    dueAt: r.due_at as number | null,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
    version: r.version as number,
    data: r.data as T,
  };
}
