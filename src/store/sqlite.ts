// The embedded store: one SQLite file in WAL mode through node:sqlite. The writes made in
// one tick are committed together, in one transaction. While traffic is light that happens
// here, on setImmediate; once the commits take more than a twentieth of the event loop's
// time, they move to a writer thread with a connection of its own (sqlite-writer.ts), as
// plain data: those made while it commits gather and go together as the next, so a burst
// of HTTP requests costs one fsync and the main thread never waits for SQLite to write.
// After a light minute the thread stops (its isolate is ~9 MB resident). Each caller's
// promise resolves only after its COMMIT: with synchronous=FULL a resolved write survives
// kill -9 and power loss. Reads run synchronously on this thread's own connection and see
// committed data only. `:memory:` cannot be shared by two connections, so its writes
// always run here.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type { Message, MessageEvent, MessageStatus } from '../core/message.ts';
import { priorities } from '../core/message.ts';
import { priceOf, usageSql } from './billing.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { type DueCandidate, fairOrder } from './fair.ts';
import {
  type ConnectionSettings,
  encodeBatch,
  messageRow,
  openConnection,
  parse,
  type Row,
  SqliteWrites,
  StatementCache,
  toError,
  toReceipt,
  toRecord,
  type WriteArgs,
  type WriteOp,
  type WriteOperation,
  type WriteOutcome,
  type WriteResult,
} from './sqlite-writes.ts';
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
  UsageGrouping,
  UsageRow,
  WebhookBacklog,
  WebhookDelivery,
  WebhookReceivers,
  WriterChange,
} from './types.ts';

export const synchronousModes = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;
export type SynchronousMode = (typeof synchronousModes)[number];
export const writerModes = ['auto', 'thread', 'main'] as const;
export type WriterMode = (typeof writerModes)[number];

export interface SqliteStoreOptions {
  /**
   * SQLite `synchronous`. FULL (default) fsyncs the WAL on every commit: a resolved write
   * survives a crash of the machine. NORMAL survives a crash of the process only.
   */
  synchronous?: SynchronousMode;
  /** How long a write waits for another connection's lock before failing, in ms. */
  busyTimeoutMs?: number;
  /**
   * Where commits run. `auto` (default, for a file): here while they take little of the
   * event loop, on a writer thread once they take more (see defaultLoopCommitBudgetMs), here again
   * after a `writerWindowMs` in which they took little of the thread. `thread`: always on
   * the writer thread. `main`: always here, as `:memory:` must; the event loop then waits
   * for every fsync.
   */
  writer?: WriterMode;
  /** How often a writer thread that `auto` started is checked for whether it is still needed. */
  writerWindowMs?: number;
  /** `auto`: commit time a second on the event loop past which the writer thread starts. */
  loopCommitBudgetMs?: number;
}

/** A batch sent to the writer thread, and when (performance.now()). */
interface PostedBatch {
  writes: PendingWrite[];
  at: number;
}

/** A writer thread; `ready` once its connection is open, `retiring` once asked to stop. */
interface WriterThread {
  worker: Worker;
  ready: boolean;
  retiring: boolean;
}

interface PendingWrite {
  op: WriteOp;
  /** Its work grows with the data, not the call: with `auto`, never committed on the event loop. */
  offLoop: boolean;
  resolve: (value: never) => void;
  reject: (error: Error) => void;
}

/** Writes over a group's messages or a bulk upload's recipients: any number of rows. */
const unboundedWrites: ReadonlySet<WriteOperation> = new Set([
  'refundGroup',
  'pauseGroup',
  'resumeGroup',
  'cancelGroup',
  'stageRecipients',
  'dropStagedRecipients',
]);
/** More rows than this in one write (messages inserted, due messages a sweep moves) go off the loop. */
const rowsOnLoop = 100;

/** Batches sent to the writer thread and not yet answered, at most (see flush). */
const writerBatchesInFlight = 2;
/**
 * `auto` starts the writer thread once commits on the event loop took more than this in a
 * window (5% of its time: what requests and PDUs may wait behind fsyncs). On this VM's disk a
 * commit takes 0.3–1 ms: some 50–150 commits a second stay here, without a thread's memory or
 * its hand-over's CPU (docs/PERFORMANCE.md, "thirteenth").
 */
const defaultLoopCommitBudgetMs = 50;
const commitWindowMs = 1_000;
/**
 * The writer thread stops once its batches took, from post to answer, under half that budget
 * over a window: the load would fit on the event loop with room to spare, so it does not
 * come and go with a load near the budget.
 */
const threadRetireShare = 0.5;
const defaultWriterWindowMs = 60_000;
/** Expired Idempotency-Keys are swept at most this often, in the time its callers pass. */
const idempotencySweepMs = 60_000;
/** Values looked up per statement by rowsWhereIn. */
const idsPerRead = 200;

export class SqliteStore implements Store {
  readonly instanceId = randomUUID();
  readonly path: string;
  readonly #startedAt = Date.now();
  #describe: () => Record<string, unknown> = () => ({});
  #onWriterChange: (change: WriterChange) => void = () => {};
  /** Reads; and writes too when they run in-process. */
  private readonly db: DatabaseSync;
  private readonly statements: StatementCache;
  private readonly settings: ConnectionSettings;
  private readonly writerMode: WriterMode;
  private readonly writerWindowMs: number;
  private readonly loopCommitBudgetMs: number;
  /** Writes committed on this thread: all of them with `main`, none with `thread`. */
  private readonly local: SqliteWrites;
  private thread: WriterThread | null = null;
  /** Settles once every writer thread started has stopped, for whatever reason. */
  private threadsStopped: Promise<void> = Promise.resolve();
  /** Post-to-answer time of the writer thread's batches since its load was last checked. */
  private threadBatchMs = 0;
  private retireTimer: NodeJS.Timeout | null = null;
  /** The load was found light: the thread stops once nothing posted is unanswered. */
  private retireWanted = false;
  /** Time spent committing on this thread in the current window (see defaultLoopCommitBudgetMs). */
  private windowStart = 0;
  private windowCommitMs = 0;
  /** Writes not yet applied or sent: this tick's, or those made while a batch commits. */
  private pending: PendingWrite[] = [];
  /** Batches posted to the writer thread whose outcomes have not come back, oldest first. */
  private readonly posted: PostedBatch[] = [];
  private flushTimer: NodeJS.Immediate | null = null;
  private nextIdempotencySweep = 0;
  /** Why writes are refused: the writer thread died. */
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    const synchronous = options.synchronous ?? 'FULL';
    if (!synchronousModes.includes(synchronous))
      throw new Error(`unknown SQLite synchronous mode: ${synchronous}`);
    this.path = path;
    const inMemory = path === ':memory:' || path === '';
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    const writer = options.writer ?? 'auto';
    if (!writerModes.includes(writer)) throw new Error(`unknown SQLite writer: ${writer}`);
    this.settings = { path, synchronous, busyTimeoutMs: options.busyTimeoutMs ?? 5_000 };
    this.writerMode = inMemory ? 'main' : writer;
    this.writerWindowMs = options.writerWindowMs ?? defaultWriterWindowMs;
    this.loopCommitBudgetMs = options.loopCommitBudgetMs ?? defaultLoopCommitBudgetMs;
    // Opened (and switched to WAL) here first, so a writer thread finds the file ready.
    this.db = openConnection(this.settings);
    this.statements = new StatementCache(this.db);
    this.local = new SqliteWrites(this.db);
    if (this.writerMode === 'thread') this.startThread('writer=thread');
  }

  watchWriter(listener: (change: WriterChange) => void): void {
    this.#onWriterChange = listener;
  }

  /** Whether commits run on a writer thread now (else on this one). */
  get writingOnThread(): boolean {
    return this.thread?.ready === true;
  }

  private startThread(reason: string): void {
    this.#onWriterChange({ onThread: true, reason });
    // No flags of this process but the CPU profiler's (so that `--cpu-prof` profiles the
    // writer too): others may not fit a worker (--input-type), and it needs none.
    const worker = new Worker(new URL('./sqlite-writer.ts', import.meta.url), {
      workerData: this.settings,
      execArgv: process.execArgv.filter((flag) => flag.startsWith('--cpu-prof')),
    });
    const thread: WriterThread = { worker, ready: false, retiring: false };
    this.thread = thread;
    // Keeps the process alive only while writes wait for it (see post and settlePosted).
    worker.unref();
    worker.on('message', (message: WriteOutcome[] | 'ready') => {
      if (message !== 'ready') return this.settlePosted(worker, message);
      thread.ready = true;
      if (this.writerMode === 'auto') this.checkThreadLoad();
      if (this.pending.length > 0) this.flushTimer ??= setImmediate(() => this.flush());
    });
    // A thread asked to stop has nothing unanswered: how it ends loses nothing.
    worker.on('error', (error) => thread.retiring || this.fail(`failed: ${error.message}`));
    worker.on('messageerror', (error) => this.fail(`could not be answered: ${error.message}`));
    const exited = new Promise<void>((resolve) =>
      worker.on('exit', (code) => {
        if (!thread.retiring && (this.closing === null || this.posted.length > 0))
          this.fail(`stopped (exit code ${code})`);
        resolve();
      }),
    );
    this.threadsStopped = Promise.all([this.threadsStopped, exited]).then(() => {});
  }

  /** `auto`: every writerWindowMs, whether the load still needs the writer thread. */
  private checkThreadLoad(): void {
    this.threadBatchMs = 0;
    this.retireTimer = setTimeout(() => {
      this.retireTimer = null;
      if (this.thread === null || this.closing || this.failure) return;
      const light =
        this.threadBatchMs <
        this.loopCommitBudgetMs * threadRetireShare * (this.writerWindowMs / commitWindowMs);
      if (!light) return this.checkThreadLoad();
      this.retireWanted = true;
      this.#onWriterChange({
        onThread: false,
        reason: `the writer thread's batches took ${Math.round(this.threadBatchMs)} ms in ${this.writerWindowMs / 1000} s`,
      });
      if (this.posted.length === 0) this.retireThread();
    }, this.writerWindowMs);
    this.retireTimer.unref();
  }

  /** Nothing posted is unanswered, so the thread holds no transaction: commits go on here at once. */
  private retireThread(): void {
    const thread = this.thread!;
    thread.retiring = true;
    this.thread = null;
    this.retireWanted = false;
    this.windowStart = performance.now();
    this.windowCommitMs = 0;
    // It closes its connection and ends.
    thread.worker.postMessage(null);
  }

  migrate(): Promise<void> {
    return this.write('migrate');
  }

  describeNode(describe: () => Record<string, unknown>): void {
    this.#describe = describe;
  }

  async liveInstances(): Promise<string[]> {
    return [this.instanceId];
  }

  async holdBindSlots(_connectorId: string, total: number, want: number): Promise<number> {
    return Math.min(total, want);
  }

  /** One process: the ESME front counts its own binds. */
  async setEsmeBinds(_accountId: string, _binds: number): Promise<void> {}

  async esmeBindsElsewhere(_accountId: string): Promise<number> {
    return 0;
  }

  /** Nobody could have taken them. */
  async reclaimMessages(ids: readonly string[]): Promise<string[]> {
    return [...ids];
  }

  /** Nobody to hand them to: this process sends every message. */
  async releaseMessages(_ids: readonly string[]): Promise<void> {}

  /** One process has the file: this one, which holds every queued message. */
  async nodes(): Promise<StoreNode[]> {
    const backlog = this.statement("SELECT count(*) AS n FROM messages WHERE status = 'queued'").get()!;
    return [
      {
        id: this.instanceId,
        host: hostname(),
        pid: process.pid,
        startedAt: this.#startedAt,
        leaseUntil: null,
        alive: true,
        backlog: backlog['n'] as number,
        info: this.#describe(),
      },
    ];
  }

  /** Sends the writes still waiting for their tick, waits for their outcomes, then closes. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  async ping(): Promise<void> {
    if (this.failure) throw this.failure;
    this.statement('SELECT 1').get();
  }

  releaseMemory(): void {
    if (this.thread !== null && this.failure === null && this.closing === null)
      this.thread.worker.postMessage('release-memory');
  }

  insertMessages(
    messages: Message[],
    idempotency?: IdempotencyRecord,
    charge?: AccountCharge,
  ): Promise<ChargeOutcome | null> {
    return this.enqueue(messages.length > rowsOnLoop, {
      op: 'insertMessages',
      args: [messages.map(messageRow), idempotency, charge],
    }) as Promise<ChargeOutcome | null>;
  }

  refundMessage(accountId: string, messageId: string, at: number): Promise<number | null> {
    return this.write('refundMessage', accountId, messageId, at);
  }

  refundGroup(groupId: string, at: number): Promise<number> {
    return this.write('refundGroup', groupId, at);
  }

  creditAccount(
    accountId: string,
    amount: number,
    currency: string,
    at: number,
    reference: string | null,
  ): Promise<number> {
    return this.write('creditAccount', accountId, amount, currency, at, reference);
  }

  async getBalance(accountId: string): Promise<StoredBalance | null> {
    const row = this.statement('SELECT balance, currency FROM balances WHERE account_id = ?').get(accountId);
    return row ? { balance: row['balance'] as number, currency: row['currency'] as string } : null;
  }

  async listLedger(accountId: string, before: number | null, limit: number): Promise<LedgerEntry[]> {
    return this.statement('SELECT * FROM ledger WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?')
      .all(accountId, before ?? Number.MAX_SAFE_INTEGER, limit)
      .map((r) => ({
        id: r['id'] as number,
        accountId: r['account_id'] as string,
        at: r['at'] as number,
        kind: r['kind'] as LedgerEntry['kind'],
        amount: r['amount'] as number,
        balance: r['balance'] as number,
        currency: r['currency'] as string,
        messageId: r['message_id'] as string | null,
        reference: r['reference'] as string | null,
      }));
  }

  async usage(accountId: string, from: number, to: number, by: UsageGrouping): Promise<UsageRow[]> {
    return this.statement(usageSql(by, ['?', '?', '?']))
      .all(accountId, from, to)
      .map((r) => ({
        group: r['grouped'] as number | string | null,
        currency: r['currency'] as string | null,
        messages: r['messages'] as number,
        parts: r['parts'] as number,
        price: r['price'] as number,
        cost: r['cost'] as number,
      }));
  }

  updateMessage(id: string, patch: MessagePatch, event?: Omit<MessageEvent, 'messageId'>): Promise<void> {
    return this.write('updateMessage', id, patch, event);
  }

  async getMessage(id: string): Promise<Message | null> {
    const row = this.statement('SELECT * FROM messages WHERE id = ?').get(id);
    return row ? toMessage(row) : null;
  }

  async listMessages(filter: MessageFilter, cursor: string | null, limit: number): Promise<Page<Message>> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (filter.accountId !== undefined) {
      // A search is led by the indexes of what it looks for (a MULTI-INDEX OR), not by a walk
      // of all the account's messages: the `+` keeps the planner off messages_account.
      where.push(filter.anyOf ? '+account_id = ?' : 'account_id = ?');
      params.push(filter.accountId);
    }
    const optional: Array<[string, string | undefined]> = [
      ['status', filter.status],
      ['to_addr', filter.to],
      ['direction', filter.direction],
      ['group_id', filter.groupId],
    ];
    for (const [column, value] of optional) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    if (filter.between) {
      const [a, b] = filter.between;
      where.push('((to_addr = ? AND from_addr = ?) OR (to_addr = ? AND from_addr = ?))');
      params.push(a, b, b, a);
    }
    if (filter.anyOf) {
      const terms = filter.anyOf.map(() => '?').join(', ');
      const account = filter.accountId === undefined ? [] : [filter.accountId];
      const mine = account.length ? 'account_id = ? AND ' : '';
      where.push(
        `(id IN (${terms}) OR (${mine}client_ref IN (${terms})) OR (${mine}to_addr IN (${terms})) OR (direction = 'mo' AND ${mine}from_addr IN (${terms})))`,
      );
      params.push(...filter.anyOf);
      for (let i = 0; i < 3; i++) params.push(...account, ...filter.anyOf);
    }
    if (filter.createdSince !== undefined) {
      where.push('created_at >= ?');
      params.push(filter.createdSince);
    }
    if (filter.createdUntil !== undefined) {
      where.push('created_at < ?');
      params.push(filter.createdUntil);
    }
    return this.page('messages', where, params, cursor, limit, toMessage);
  }

  async listEvents(messageId: string): Promise<MessageEvent[]> {
    return this.statement('SELECT * FROM message_events WHERE message_id = ? ORDER BY seq')
      .all(messageId)
      .map((r) => ({
        messageId: r['message_id'] as string,
        at: r['at'] as number,
        type: r['type'] as MessageEvent['type'],
        detail: parse(r['detail']) as MessageEvent['detail'],
      }));
  }

  async countByStatus(groupId?: string): Promise<Partial<Record<MessageStatus, number>>> {
    const rows =
      groupId === undefined
        ? this.statement('SELECT status, count(*) AS n FROM messages GROUP BY status').all()
        : this.statement('SELECT status, count(*) AS n FROM messages WHERE group_id = ? GROUP BY status').all(
            groupId,
          );
    return Object.fromEntries(rows.map((r) => [r['status'] as MessageStatus, r['n'] as number]));
  }

  async dueMessages(now: number, limit: number, exclude: { has(id: string): boolean }): Promise<Message[]> {
    if (limit <= 0) return [];
    // The accounts with queued messages, one index seek each (a loose index scan).
    const accounts = this.statement(
      `WITH RECURSIVE queued(account) AS (
         SELECT (SELECT account_id FROM messages INDEXED BY messages_due_account
                 WHERE status = 'queued' ORDER BY account_id LIMIT 1)
         UNION ALL
         SELECT (SELECT account_id FROM messages INDEXED BY messages_due_account
                 WHERE status = 'queued' AND account_id > queued.account ORDER BY account_id LIMIT 1)
         FROM queued WHERE queued.account IS NOT NULL)
       SELECT account FROM queued WHERE account IS NOT NULL`,
    )
      .all()
      .map((r) => r['account'] as string);
    if (accounts.length <= 1) return this.dueInOrder(now, limit, exclude);
    // Several accounts: they take turns (fairOrder). Only ids are walked; rows are read
    // for the messages taken.
    const queues = accounts.map((account) => this.dueSeqs(account, now, limit, exclude));
    const bySeq = this.statement('SELECT * FROM messages WHERE seq = ?');
    return fairOrder(queues, limit).flatMap((seq) => {
      const row = bySeq.get(seq);
      return row ? [toMessage(row)] : [];
    });
  }

  /**
   * Due messages of every account in dispatch order. Walks messages_due and stops at
   * `limit` (named: without statistics the planner may pick another index and sort every
   * queued row). Excluded ids are skipped here rather than bound as SQL parameters, since
   * the caller may hold thousands — and they come first, so the walk reads only their ids:
   * a whole row is read for the rest.
   */
  private dueInOrder(now: number, limit: number, exclude: { has(id: string): boolean }): Message[] {
    const due: Message[] = [];
    const candidates = this.statement(
      `SELECT seq, id FROM messages INDEXED BY messages_due WHERE status = 'queued'
         AND (send_at IS NULL OR send_at <= ?) AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
       ORDER BY priority, created_at, seq`,
    ).iterate(now, now);
    const bySeq = this.statement('SELECT * FROM messages WHERE seq = ?');
    for (const candidate of candidates) {
      if (exclude.has(candidate['id'] as string)) continue;
      const row = bySeq.get(candidate['seq'] as number);
      if (row) due.push(toMessage(row));
      if (due.length >= limit) break;
    }
    return due;
  }

  /** One account's due messages in dispatch order, at most `limit`: their seq and priority rank. */
  private dueSeqs(
    accountId: string,
    now: number,
    limit: number,
    exclude: { has(id: string): boolean },
  ): DueCandidate[] {
    const due: DueCandidate[] = [];
    const candidates = this.statement(
      `SELECT seq, id, priority FROM messages INDEXED BY messages_due_account WHERE status = 'queued'
         AND account_id = ? AND (send_at IS NULL OR send_at <= ?) AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
       ORDER BY priority, created_at, seq`,
    ).iterate(accountId, now, now);
    for (const c of candidates) {
      if (exclude.has(c['id'] as string)) continue;
      due.push({ seq: c['seq'] as number, priority: c['priority'] as number });
      if (due.length >= limit) break;
    }
    return due;
  }

  // The gateway sweeps for these every second: a look on this connection first spares the
  // writer's thread two turns a second (and the process its wake-ups) while nothing is due.
  releaseScheduled(now: number): Promise<number> {
    const due = this.statement(
      `SELECT count(*) AS n FROM (SELECT 1 FROM messages INDEXED BY messages_scheduled
       WHERE status = 'scheduled' AND send_at <= ? LIMIT ${rowsOnLoop + 1})`,
    ).get(now)!['n'] as number;
    if (due === 0) return Promise.resolve(0);
    return this.enqueue(due > rowsOnLoop, { op: 'releaseScheduled', args: [now] }) as Promise<number>;
  }

  requeueInFlight(): Promise<number> {
    return this.write('requeueInFlight');
  }

  expireOverdue(now: number, skip: readonly string[] = []): Promise<string[]> {
    const due = this.statement(
      `SELECT count(*) AS n FROM (SELECT 1 FROM messages INDEXED BY messages_validity
       WHERE status IN ('queued', 'scheduled') AND valid_until IS NOT NULL AND valid_until <= ?
       LIMIT ${rowsOnLoop + 1})`,
    ).get(now)!['n'] as number;
    if (due === 0) return Promise.resolve([]);
    return this.enqueue(due > rowsOnLoop, { op: 'expireOverdue', args: [now, skip] }) as Promise<string[]>;
  }

  pauseGroup(groupId: string, now: number, skip: readonly string[] = []): Promise<number> {
    return this.write('pauseGroup', groupId, now, skip);
  }

  resumeGroup(groupId: string, now: number): Promise<number> {
    return this.write('resumeGroup', groupId, now);
  }

  cancelGroup(groupId: string, now: number, skip: readonly string[] = []): Promise<number> {
    return this.write('cancelGroup', groupId, now, skip);
  }

  recordPartOutcome(
    messageId: string,
    part: number,
    outcome: PartOutcome,
    event: Omit<MessageEvent, 'messageId'>,
  ): Promise<PartTally> {
    return this.write('recordPartOutcome', messageId, part, outcome, event);
  }

  linkSmscIds(links: SmscIdLink[]): Promise<void> {
    return this.write('linkSmscIds', links);
  }

  async findSmscId(connectorId: string, smscId: string): Promise<SmscIdLink | null> {
    const row = this.statement('SELECT * FROM smsc_links WHERE connector_id = ? AND smsc_id = ?').get(
      connectorId,
      smscId,
    );
    if (!row) return null;
    return {
      connectorId: row['connector_id'] as string,
      smscId: row['smsc_id'] as string,
      messageId: row['message_id'] as string,
      part: row['part'] as number,
      parts: row['parts'] as number,
    };
  }

  saveUnmatchedReceipt(connectorId: string, smscId: string, receipt: Record<string, unknown>): Promise<void> {
    return this.write('saveUnmatchedReceipt', connectorId, smscId, receipt);
  }

  takeUnmatchedReceipts(connectorId: string, smscId: string): Promise<StoredReceipt[]> {
    return this.write('takeUnmatchedReceipts', connectorId, smscId);
  }

  addStatsCounts(counts: readonly StatsCount[]): Promise<void> {
    return this.write('addStatsCounts', [...counts]);
  }

  purgeStats(before: number): Promise<void> {
    return this.write('purgeStats', before);
  }

  async statsSeries(query: StatsQuery): Promise<Array<{ metric: string; minute: number; n: number }>> {
    const filters = [
      ...(query.accountId !== undefined ? ['account_id = ?'] : []),
      ...(query.connectorId !== undefined ? ['connector_id = ?'] : []),
    ];
    return this.statement(
      `SELECT metric, minute, sum(n) AS n FROM stats_minutes
       WHERE metric IN (SELECT value FROM json_each(?)) AND minute >= ? AND minute < ?
       ${filters.map((f) => `AND ${f}`).join(' ')} GROUP BY metric, minute ORDER BY minute, metric`,
    )
      .all(
        JSON.stringify(query.metrics),
        query.from,
        query.to,
        ...(query.accountId !== undefined ? [query.accountId] : []),
        ...(query.connectorId !== undefined ? [query.connectorId] : []),
      )
      .map((r) => ({ metric: String(r['metric']), minute: Number(r['minute']), n: Number(r['n']) }));
  }

  async webhookBacklog(): Promise<WebhookBacklog[]> {
    return this.statement(
      `SELECT account_id, sum(abandoned_at IS NULL) AS pending,
         sum(abandoned_at IS NULL AND attempts > 0) AS failing, sum(abandoned_at IS NOT NULL) AS abandoned,
         (SELECT last_error FROM webhook_deliveries l WHERE l.account_id = w.account_id AND l.last_error IS NOT NULL
          ORDER BY l.id DESC LIMIT 1) AS last_error
       FROM webhook_deliveries w GROUP BY account_id ORDER BY account_id`,
    )
      .all()
      .map((r) => ({
        accountId: String(r['account_id']),
        pending: Number(r['pending']),
        failing: Number(r['failing']),
        abandoned: Number(r['abandoned']),
        lastError: r['last_error'] === null ? null : String(r['last_error']),
      }));
  }

  purgeUnmatchedReceipts(before: number): Promise<number> {
    return this.write('purgeUnmatchedReceipts', before);
  }

  async listUnmatchedReceipts(limit: number, receivedSince = 0): Promise<StoredReceipt[]> {
    return this.statement('SELECT * FROM unmatched_receipts WHERE received_at >= ? ORDER BY id LIMIT ?')
      .all(receivedSince, limit)
      .map(toReceipt);
  }

  async getIdempotency(accountId: string, key: string, now: number): Promise<IdempotencyRecord | null> {
    // The store has no clock of its own: expiry follows the `now` its callers pass.
    if (now >= this.nextIdempotencySweep) {
      this.nextIdempotencySweep = now + idempotencySweepMs;
      // Housekeeping nobody waits for: if it fails, so do the writes that matter.
      this.write('sweepIdempotency', now).catch(() => {});
    }
    const row = this.statement('SELECT * FROM idempotency WHERE account_id = ? AND key = ?').get(
      accountId,
      key,
    );
    if (!row) return null;
    if ((row['expires_at'] as number) <= now) {
      // Forgotten before answering, so the request that follows may use the key again.
      await this.write('forgetIdempotency', accountId, key, now);
      return null;
    }
    return {
      accountId: row['account_id'] as string,
      key: row['key'] as string,
      requestHash: row['request_hash'] as string,
      statusCode: row['status_code'] as number,
      response: parse(row['response']),
      expiresAt: row['expires_at'] as number,
    };
  }

  upsertAccount(account: StoredAccount): Promise<void> {
    return this.write('upsertAccount', account);
  }

  async getAccount(id: string): Promise<StoredAccount | null> {
    const row = this.statement('SELECT * FROM accounts WHERE id = ?').get(id);
    return row ? this.toAccount(row) : null;
  }

  async findAccountByApiKeyHash(hash: string): Promise<StoredAccount | null> {
    const row = this.statement(
      'SELECT accounts.* FROM account_api_keys JOIN accounts ON accounts.id = account_api_keys.account_id WHERE hash = ?',
    ).get(hash);
    return row ? this.toAccount(row) : null;
  }

  async listAccounts(): Promise<StoredAccount[]> {
    return this.statement('SELECT * FROM accounts ORDER BY id')
      .all()
      .map((row) => this.toAccount(row));
  }

  enqueueWebhook(delivery: NewWebhookDelivery): Promise<number> {
    return this.write('enqueueWebhook', delivery);
  }

  async dueWebhooks(now: number, limit: number, receivers?: WebhookReceivers): Promise<WebhookDelivery[]> {
    // A receiver's URLs: those that start with it and go on with a path, query, fragment or nothing.
    const of = (key: string) =>
      `substr(url, 1, length(${key})) = ${key} AND substr(url, length(${key}) + 1, 1) IN ('', '/', '?', '#')`;
    const [filter, arg] = receivers?.only
      ? [`AND ${of('?1')}`, receivers.only]
      : receivers?.skip?.length
        ? [
            `AND NOT EXISTS (SELECT 1 FROM json_each(?1) AS k WHERE ${of('k.value')})`,
            JSON.stringify(receivers.skip),
          ]
        : ['', null];
    // A range of the due index that starts there: what waits from before it is not scanned.
    const after = receivers?.dueAfter;
    return this.statement(
      `SELECT * FROM webhook_deliveries WHERE abandoned_at IS NULL AND next_attempt_at <= ?2
         ${after === undefined ? '' : 'AND next_attempt_at > ?4'} ${filter}
       ORDER BY next_attempt_at, id LIMIT ?3`,
    )
      .all(arg, now, limit, ...(after === undefined ? [] : [after]))
      .map((r) => ({
        id: r['id'] as number,
        accountId: r['account_id'] as string,
        url: r['url'] as string,
        secret: r['secret'] as string | null,
        body: r['body'] as string,
        attempts: r['attempts'] as number,
        nextAttemptAt: r['next_attempt_at'] as number,
        createdAt: r['created_at'] as number,
        lastError: r['last_error'] as string | null,
        method: r['method'] as 'GET' | 'POST',
        contentType: r['content_type'] as string | null,
        headers: parse(r['headers']) as Record<string, string> | null,
        reply: r['reply'] as string | null,
      }));
  }

  rescheduleWebhook(id: number, nextAttemptAt: number, lastError: string): Promise<void> {
    return this.write('rescheduleWebhook', id, nextAttemptAt, lastError);
  }

  finishWebhook(id: number, outcome: 'delivered' | 'abandoned'): Promise<void> {
    return this.write('finishWebhook', id, outcome);
  }

  /** One process: nobody else holds a copy. */
  async announce(): Promise<void> {}

  async onNotice(): Promise<void> {}

  /** One process holds every delivery: nothing to claim. */
  enqueueEsmeDelivery(accountId: string, payload: Record<string, unknown>): Promise<number> {
    return this.write('enqueueEsmeDelivery', accountId, payload);
  }

  async pendingEsmeDeliveries(accountId: string, limit: number): Promise<EsmeDelivery[]> {
    return this.statement('SELECT * FROM esme_deliveries WHERE account_id = ? ORDER BY id LIMIT ?')
      .all(accountId, limit)
      .map((r) => ({
        id: r['id'] as number,
        accountId: r['account_id'] as string,
        createdAt: r['created_at'] as number,
        payload: parse(r['payload']) as Record<string, unknown>,
      }));
  }

  deleteEsmeDelivery(id: number): Promise<void> {
    return this.write('deleteEsmeDelivery', id);
  }

  async releaseEsmeDeliveries(): Promise<void> {}

  putRecord<T>(record: NewRecord<T>, expectedVersion?: number): Promise<StoredRecord<T>> {
    return this.write('putRecord', record, expectedVersion) as Promise<StoredRecord<T>>;
  }

  putRecords<T>(records: NewRecord<T>[]): Promise<void> {
    return this.write('putRecords', records);
  }

  async getRecord<T>(kind: string, id: string): Promise<StoredRecord<T> | null> {
    const row = this.statement('SELECT * FROM records WHERE kind = ? AND id = ?').get(kind, id);
    return row ? toRecord<T>(row) : null;
  }

  async existingRecordIds(kind: string, ids: readonly string[]): Promise<Set<string>> {
    const rows = this.rowsWhereIn('SELECT id FROM records WHERE kind = ? AND id', [kind], ids);
    return new Set(rows.map((row) => row['id'] as string));
  }

  async recordsByRef<T>(
    kind: string,
    accountId: string,
    refs: readonly string[],
  ): Promise<StoredRecord<T>[]> {
    // Named: without statistics the planner reads every record of the kind for an IN list
    // rather than the ref index (a 100,000-contact import slowed threefold).
    const rows = this.rowsWhereIn(
      'SELECT * FROM records INDEXED BY records_ref WHERE kind = ? AND account_id = ? AND ref',
      [kind, accountId],
      refs,
    );
    return rows.map((row) => toRecord<T>(row));
  }

  /**
   * The rows of `query` (which ends with the column) whose column is one of `values`, read
   * by one statement of a fixed width, the last chunk padded with NULL (which matches none).
   */
  private rowsWhereIn(query: string, params: SQLInputValue[], values: readonly string[]) {
    const statement = this.statement(`${query} IN (${Array(idsPerRead).fill('?').join(', ')})`);
    const rows: Record<string, SQLOutputValue>[] = [];
    for (let i = 0; i < values.length; i += idsPerRead) {
      const chunk: Array<string | null> = values.slice(i, i + idsPerRead);
      while (chunk.length < idsPerRead) chunk.push(null);
      rows.push(...statement.all(...params, ...chunk));
    }
    return rows;
  }

  async listRecords<T>(
    kind: string,
    filter: RecordFilter,
    cursor: string | null,
    limit: number,
  ): Promise<Page<StoredRecord<T>>> {
    const [where, params] = recordWhere(kind, filter);
    return this.page('records', where, params, cursor, limit, (r) => toRecord<T>(r));
  }

  async countRecords(kind: string, filter: RecordFilter): Promise<number> {
    const [where, params] = recordWhere(kind, filter);
    return this.statement(`SELECT count(*) AS n FROM records WHERE ${where.join(' AND ')}`).get(...params)![
      'n'
    ] as number;
  }

  async dueRecords<T>(kind: string, now: number, limit: number): Promise<StoredRecord<T>[]> {
    return this.statement(
      'SELECT * FROM records WHERE kind = ? AND due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?',
    )
      .all(kind, now, limit)
      .map((r) => toRecord<T>(r));
  }

  deleteRecord(kind: string, id: string): Promise<boolean> {
    return this.write('deleteRecord', kind, id);
  }

  readonly staging: RecipientStaging = {
    stage: (batchId, firstSeq, recipients) =>
      this.write(
        'stageRecipients',
        batchId,
        firstSeq,
        recipients.map((r) => r.to),
        recipients.map((r) => (r.vars === null ? null : JSON.stringify(r.vars))),
      ),
    read: async (batchId, afterSeq, limit) =>
      this.statement(
        'SELECT seq, to_addr, vars FROM batch_recipients WHERE batch_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
        .all(batchId, afterSeq, limit)
        .map((r) => ({
          seq: r['seq'] as number,
          to: r['to_addr'] as string,
          vars: parse(r['vars']) as Record<string, string> | null,
        })),
    drop: (batchId, throughSeq) => this.write('dropStagedRecipients', batchId, throughSeq ?? null),
  };

  private statement(sql: string): StatementSync {
    return this.statements.get(sql);
  }

  /** A page of a table's rows matching `where`, newest first, after the cursor's row. */
  private page<T extends { createdAt: number; id: string }>(
    table: 'messages' | 'records',
    where: string[],
    params: SQLInputValue[],
    cursor: string | null,
    limit: number,
    toItem: (row: Row) => T,
  ): Page<T> {
    if (cursor !== null) {
      const after = decodeCursor(cursor);
      where.push('(created_at, id) < (?, ?)');
      params.push(after.createdAt, after.id);
    }
    const size = Math.max(1, Math.floor(limit));
    // One row more than asked tells whether another page exists without a second query.
    const rows = this.statement(
      `SELECT * FROM ${table} WHERE ${where.join(' AND ') || 'TRUE'} ORDER BY created_at DESC, id DESC LIMIT ?`,
    ).all(...params, size + 1);
    const data = rows.slice(0, size).map(toItem);
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > size && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  /** Queues a write for this tick's batch; settles after the COMMIT of its transaction. */
  private write<K extends WriteOperation>(op: K, ...args: WriteArgs<K>): Promise<WriteResult<K>> {
    return this.enqueue(unboundedWrites.has(op), { op, args } as WriteOp) as Promise<WriteResult<K>>;
  }

  private enqueue(offLoop: boolean, op: WriteOp): Promise<unknown> {
    if (this.closing) return Promise.reject(new Error(`store ${this.path} is closed`));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ op, offLoop, resolve, reject });
      this.flushTimer ??= setImmediate(() => this.flush());
    });
  }

  /** Applies this tick's writes here, or sends them to the writer thread unless it is busy. */
  private flush(): void {
    this.flushTimer = null;
    const thread = this.thread;
    // A thread `thread` mode started takes writes before it is ready: they wait in its port.
    if (thread && (thread.ready || this.writerMode === 'thread')) {
      // Two batches at a time: the writer starts the next as soon as one commits, while
      // writes made meanwhile gather here and go as the one after (group commit), so a busy
      // main thread sends one message per transaction, not per tick. (One at a time left the
      // writer idle for each round trip: about 9% less throughput end to end.)
      if (this.posted.length < writerBatchesInFlight) this.post(thread.worker);
      return;
    }
    const offLoop = this.writerMode === 'auto' ? this.pending.find((write) => write.offLoop) : undefined;
    if (offLoop) {
      // Committed by the thread once it is ready (its 'ready' flushes): not here, where a
      // group's million rows would hold every request and PDU for seconds.
      if (thread === null) this.startThread(`a write that grows with the data (${offLoop.op.op})`);
      return;
    }
    const started = performance.now();
    if (!this.commitHere()) return;
    if (this.writerMode !== 'auto' || thread !== null) return;
    const now = performance.now();
    if (now - this.windowStart > commitWindowMs) {
      this.windowStart = started;
      this.windowCommitMs = 0;
    }
    this.windowCommitMs += now - started;
    if (this.windowCommitMs > this.loopCommitBudgetMs)
      this.startThread(
        `commits took ${Math.round(this.windowCommitMs)} ms of the event loop within a second`,
      );
  }

  /** Commits the waiting writes on this thread's connection; false if there were none. */
  private commitHere(): boolean {
    const batch = this.pending;
    if (batch.length === 0) return false;
    this.pending = [];
    settle(batch, this.local.apply(batch.map((write) => write.op)));
    return true;
  }

  /** Sends the waiting writes to the writer thread as one message. */
  private post(thread: Worker): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    // As JSON (webhook bodies beside it): V8 stringifies plain data far faster than it
    // structured-clones objects whose shapes vary, and a string crosses as one copy.
    let encoded: ReturnType<typeof encodeBatch>;
    try {
      encoded = encodeBatch(batch.map((write) => write.op));
    } catch (err) {
      // Longer than V8's longest string (writes of hundreds of MB in one tick): those writes
      // fail, as a write the database refused would; thrown here it would end the process.
      for (const write of batch) write.reject(err as Error);
      return;
    }
    this.posted.push({ writes: batch, at: performance.now() });
    thread.ref();
    thread.postMessage(encoded);
  }

  /** The outcomes of the oldest posted batch, in order; then the writes that gathered meanwhile. */
  private settlePosted(worker: Worker, outcomes: WriteOutcome[]): void {
    const { writes, at } = this.posted.shift()!;
    settle(writes, outcomes);
    this.threadBatchMs += performance.now() - at;
    if (this.closing) return;
    if (this.posted.length === 0) {
      worker.unref();
      if (this.retireWanted) this.retireThread();
    }
    // On setImmediate, so writes that the settled callers make straight away go too.
    if (this.pending.length > 0) this.flushTimer ??= setImmediate(() => this.flush());
  }

  /** The writer thread is gone: what it has not answered may or may not be stored. */
  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = new Error(
      `store ${this.path}: the writer thread ${reason}; writes not yet resolved may or may not be stored, and no more are taken`,
    );
    const unanswered = [...this.posted.splice(0).flatMap((batch) => batch.writes), ...this.pending.splice(0)];
    for (const write of unanswered) write.reject(this.failure);
  }

  private async shutDown(): Promise<void> {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    if (this.retireTimer) clearTimeout(this.retireTimer);
    const thread = this.thread;
    // Sent without waiting for the batch out, if any; null asks the thread to close after them.
    if (thread && (thread.ready || this.writerMode === 'thread')) this.post(thread.worker);
    else this.commitHere();
    if (thread) {
      thread.worker.ref();
      thread.worker.postMessage(null);
    }
    await this.threadsStopped;
    this.statements.clear();
    this.db.close();
  }

  private toAccount(row: Row): StoredAccount {
    const id = row['id'] as string;
    return {
      id,
      apiKeyHashes: this.statement('SELECT hash FROM account_api_keys WHERE account_id = ? ORDER BY position')
        .all(id)
        .map((r) => r['hash'] as string),
      settings: parse(row['settings']) as Record<string, unknown>,
    };
  }
}

function toMessage(r: Row): Message {
  const binary = r['binary'] as Uint8Array | null;
  const udh = r['udh'] as Uint8Array | null;
  const errorCode = r['error_code'] as string | null;
  return {
    id: r['id'] as string,
    accountId: r['account_id'] as string,
    direction: r['direction'] as Message['direction'],
    status: r['status'] as MessageStatus,
    to: r['to_addr'] as string,
    from: r['from_addr'] as string,
    text: r['text'] as string | null,
    binary: binary === null ? null : Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength),
    udh: udh === null ? null : Buffer.from(udh.buffer, udh.byteOffset, udh.byteLength),
    encoding: r['encoding'] as Message['encoding'],
    segments: r['segments'] as number,
    priority: priorities[r['priority'] as number]!,
    clientRef: r['client_ref'] as string | null,
    callbackUrl: r['callback_url'] as string | null,
    flash: r['flash'] === 1,
    origin: r['origin'] as Message['origin'],
    receiptRequested: r['receipt_requested'] === 1,
    connectorId: r['connector_id'] as string | null,
    createdAt: r['created_at'] as number,
    sendAt: r['send_at'] as number | null,
    validUntil: r['valid_until'] as number | null,
    submittedAt: r['submitted_at'] as number | null,
    doneAt: r['done_at'] as number | null,
    attempts: r['attempts'] as number,
    nextAttemptAt: r['next_attempt_at'] as number | null,
    error: errorCode === null ? null : { code: errorCode, message: r['error_message'] as string },
    groupId: r['group_id'] as string | null,
    meta: parse(r['meta']) as Record<string, unknown> | null,
    ...priceOf(r['price'] as number | null, r['currency'] as string | null),
  };
}

function recordWhere(kind: string, filter: RecordFilter): [string[], SQLInputValue[]] {
  const where = ['kind = ?'];
  const params: SQLInputValue[] = [kind];
  for (const [column, value] of [
    ['account_id', filter.accountId],
    ['ref', filter.ref],
    ['status', filter.status],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  return [where, params];
}

function settle(batch: PendingWrite[], outcomes: WriteOutcome[]): void {
  for (const [i, write] of batch.entries()) {
    const outcome = outcomes[i]!;
    if (outcome.ok) write.resolve(outcome.value as never);
    else write.reject(toError(outcome.failure));
  }
}
