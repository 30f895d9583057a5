// The embedded store: one SQLite file in WAL mode through node:sqlite. Every write made in
// one tick joins one transaction committed on setImmediate, so a burst of HTTP requests
// costs one fsync, and each caller's promise resolves only after that COMMIT: with
// synchronous=FULL a resolved write survives kill -9 and power loss. Reads run synchronously
// on the same connection and see committed data only.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from 'node:sqlite';
import type { Message, MessageEvent, MessageStatus } from '../core/message.ts';
import { priorities } from '../core/message.ts';
import { StoreConflictError, StoreNotFoundError } from './errors.ts';
import type {
  EsmeDelivery,
  IdempotencyRecord,
  MessageFilter,
  MessagePatch,
  Page,
  SmscIdLink,
  Store,
  StoredAccount,
  StoredReceipt,
  WebhookDelivery,
} from './types.ts';

export const synchronousModes = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;
export type SynchronousMode = (typeof synchronousModes)[number];

export interface SqliteStoreOptions {
  /**
   * SQLite `synchronous`. FULL (default) fsyncs the WAL on every commit: a resolved write
   * survives a crash of the machine. NORMAL survives a crash of the process only.
   */
  synchronous?: SynchronousMode;
  /** How long a write waits for another connection's lock before failing, in ms. */
  busyTimeoutMs?: number;
}

const schemaVersion = 1;

const schema = `
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  account_id TEXT NOT NULL,
  direction TEXT NOT NULL,
  status TEXT NOT NULL,
  to_addr TEXT NOT NULL,
  from_addr TEXT NOT NULL,
  text TEXT,
  binary BLOB,
  encoding TEXT NOT NULL,
  segments INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  client_ref TEXT,
  callback_url TEXT,
  flash INTEGER NOT NULL,
  origin TEXT NOT NULL,
  receipt_requested INTEGER NOT NULL,
  connector_id TEXT,
  created_at INTEGER NOT NULL,
  send_at INTEGER,
  valid_until INTEGER,
  submitted_at INTEGER,
  done_at INTEGER,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER,
  error_code TEXT,
  error_message TEXT,
  group_id TEXT
) STRICT;
-- Dispatch order (priority rank, then acceptance) with the times the due query filters on.
CREATE INDEX IF NOT EXISTS messages_due
  ON messages (priority, created_at, seq, send_at, next_attempt_at) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS messages_account ON messages (account_id, created_at, id);
CREATE INDEX IF NOT EXISTS messages_status ON messages (status, send_at);
CREATE INDEX IF NOT EXISTS messages_validity
  ON messages (valid_until) WHERE status IN ('queued', 'scheduled') AND valid_until IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_group ON messages (group_id, status) WHERE group_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS message_events (
  seq INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  detail TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS message_events_message ON message_events (message_id, seq);

CREATE TABLE IF NOT EXISTS smsc_links (
  connector_id TEXT NOT NULL,
  smsc_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  part INTEGER NOT NULL,
  parts INTEGER NOT NULL,
  PRIMARY KEY (connector_id, smsc_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS unmatched_receipts (
  id INTEGER PRIMARY KEY,
  connector_id TEXT NOT NULL,
  smsc_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  receipt TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS unmatched_receipts_smsc ON unmatched_receipts (connector_id, smsc_id);

CREATE TABLE IF NOT EXISTS idempotency (
  account_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  response TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency (expires_at);

CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  settings TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_api_keys (
  hash TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  position INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS account_api_keys_account ON account_api_keys (account_id, position);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_error TEXT,
  abandoned_at INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS webhook_deliveries_due
  ON webhook_deliveries (next_attempt_at, id) WHERE abandoned_at IS NULL;

CREATE TABLE IF NOT EXISTS esme_deliveries (
  id INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  payload TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS esme_deliveries_account ON esme_deliveries (account_id, id);
`;

type Row = Record<string, SQLOutputValue>;

interface PendingWrite {
  apply: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const priorityRank = new Map(priorities.map((p, rank) => [p, rank]));

/** Patchable message fields and the columns they live in (error spans two). */
const patchColumns: Record<keyof MessagePatch, string[]> = {
  status: ['status'],
  connectorId: ['connector_id'],
  submittedAt: ['submitted_at'],
  doneAt: ['done_at'],
  attempts: ['attempts'],
  nextAttemptAt: ['next_attempt_at'],
  error: ['error_code', 'error_message'],
  segments: ['segments'],
};

const insertMessageSql = `INSERT INTO messages (id, account_id, direction, status, to_addr, from_addr, text, binary,
  encoding, segments, priority, client_ref, callback_url, flash, origin, receipt_requested, connector_id, created_at,
  send_at, valid_until, submitted_at, done_at, attempts, next_attempt_at, error_code, error_message, group_id)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO NOTHING`;
const insertEventSql = 'INSERT INTO message_events (message_id, at, type, detail) VALUES (?, ?, ?, ?)';

/** Expired Idempotency-Keys are swept at most this often (in the caller's time), inside a write batch. */
const idempotencySweepMs = 60_000;

export class SqliteStore implements Store {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private pending: PendingWrite[] = [];
  private flushTimer: NodeJS.Immediate | null = null;
  private nextIdempotencySweep = 0;
  private idempotencySweepBefore: number | null = null;
  private closed = false;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    const synchronous = options.synchronous ?? 'FULL';
    if (!synchronousModes.includes(synchronous))
      throw new Error(`unknown SQLite synchronous mode: ${synchronous}`);
    this.path = path;
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5_000 });
    this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous};`);
  }

  async migrate(): Promise<void> {
    const version = this.statement('PRAGMA user_version').get()!['user_version'] as number;
    if (version > schemaVersion) {
      throw new Error(
        `database ${this.path} has schema version ${version}; this smsgw knows up to ${schemaVersion}`,
      );
    }
    try {
      this.db.exec(`BEGIN IMMEDIATE; ${schema} PRAGMA user_version = ${schemaVersion}; COMMIT;`);
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flush();
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }

  async ping(): Promise<void> {
    this.statement('SELECT 1').get();
  }

  insertMessages(messages: Message[], idempotency?: IdempotencyRecord): Promise<void> {
    return this.write(() => {
      if (idempotency) this.insertIdempotency(idempotency);
      const insert = this.statement(insertMessageSql);
      const insertEvent = this.statement(insertEventSql);
      for (const m of messages) {
        const { changes } = insert.run(
          m.id,
          m.accountId,
          m.direction,
          m.status,
          m.to,
          m.from,
          m.text,
          m.binary,
          m.encoding,
          m.segments,
          priorityRank.get(m.priority)!,
          m.clientRef,
          m.callbackUrl,
          m.flash ? 1 : 0,
          m.origin,
          m.receiptRequested ? 1 : 0,
          m.connectorId,
          m.createdAt,
          m.sendAt,
          m.validUntil,
          m.submittedAt,
          m.doneAt,
          m.attempts,
          m.nextAttemptAt,
          m.error?.code ?? null,
          m.error?.message ?? null,
          m.groupId,
        );
        if (changes === 0) throw new StoreConflictError(`message ${m.id} is already stored`);
        insertEvent.run(m.id, m.createdAt, m.status, null);
      }
    });
  }

  updateMessage(id: string, patch: MessagePatch, event?: Omit<MessageEvent, 'messageId'>): Promise<void> {
    return this.write(() => {
      const fields = (Object.keys(patch) as Array<keyof MessagePatch>)
        .filter((f) => patch[f] !== undefined)
        .sort();
      let found: boolean;
      if (fields.length === 0) {
        found = this.statement('SELECT 1 FROM messages WHERE id = ?').get(id) !== undefined;
      } else {
        const columns = fields.flatMap((f) => patchColumns[f]);
        const sql = `UPDATE messages SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`;
        const values = fields.flatMap((f): SQLInputValue[] =>
          f === 'error'
            ? [patch.error?.code ?? null, patch.error?.message ?? null]
            : [patch[f] as SQLInputValue],
        );
        found = this.statement(sql).run(...values, id).changes > 0;
      }
      if (!found) throw new StoreNotFoundError(`no message ${id}`);
      if (event) this.statement(insertEventSql).run(id, event.at, event.type, json(event.detail));
    });
  }

  async getMessage(id: string): Promise<Message | null> {
    const row = this.statement('SELECT * FROM messages WHERE id = ?').get(id);
    return row ? toMessage(row) : null;
  }

  async listMessages(filter: MessageFilter, cursor: string | null, limit: number): Promise<Page<Message>> {
    const where = ['account_id = ?'];
    const params: SQLInputValue[] = [filter.accountId];
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
    if (cursor !== null) {
      const after = decodeCursor(cursor);
      where.push('(created_at, id) < (?, ?)');
      params.push(after.createdAt, after.id);
    }
    const size = Math.max(1, Math.floor(limit));
    // One row more than asked tells whether another page exists without a second query.
    const rows = this.statement(
      `SELECT * FROM messages WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
    ).all(...params, size + 1);
    const data = rows.slice(0, size).map(toMessage);
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > size && last ? encodeCursor(last.createdAt, last.id) : null };
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

  async dueMessages(now: number, limit: number, exclude: ReadonlySet<string>): Promise<Message[]> {
    const due: Message[] = [];
    if (limit <= 0) return due;
    // Walks messages_due in dispatch order and stops at `limit` (named: without statistics the
    // planner prefers messages_status and sorts every queued row). Excluded ids are skipped
    // here rather than bound as SQL parameters, since the caller may hold thousands.
    const rows = this.statement(
      `SELECT * FROM messages INDEXED BY messages_due WHERE status = 'queued'
         AND (send_at IS NULL OR send_at <= ?) AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
       ORDER BY priority, created_at, seq`,
    ).iterate(now, now);
    for (const row of rows) {
      if (exclude.has(row['id'] as string)) continue;
      due.push(toMessage(row));
      if (due.length >= limit) break;
    }
    return due;
  }

  releaseScheduled(now: number): Promise<number> {
    return this.write(() => {
      const ids = this.statement(
        `UPDATE messages SET status = 'queued' WHERE status = 'scheduled' AND send_at <= ? RETURNING id`,
      ).all(now);
      this.recordEvents(ids, now, 'queued', null);
      return ids.length;
    });
  }

  requeueInFlight(): Promise<number> {
    return this.write(() => {
      const ids = this.statement(
        `UPDATE messages SET status = 'queued' WHERE status = 'sending' RETURNING id`,
      ).all();
      this.recordEvents(ids, Date.now(), 'queued', { reason: 'restart' });
      return ids.length;
    });
  }

  expireOverdue(now: number): Promise<string[]> {
    return this.write(() => {
      const ids = this.statement(
        `UPDATE messages INDEXED BY messages_validity SET status = 'expired', done_at = ?
         WHERE status IN ('queued', 'scheduled') AND valid_until IS NOT NULL AND valid_until <= ? RETURNING id`,
      ).all(now, now);
      this.recordEvents(ids, now, 'expired', null);
      return ids.map((r) => r['id'] as string);
    });
  }

  linkSmscIds(links: SmscIdLink[]): Promise<void> {
    return this.write(() => {
      const upsert = this.statement(
        `INSERT INTO smsc_links (connector_id, smsc_id, message_id, part, parts) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (connector_id, smsc_id) DO UPDATE
           SET message_id = excluded.message_id, part = excluded.part, parts = excluded.parts`,
      );
      for (const l of links) upsert.run(l.connectorId, l.smscId, l.messageId, l.part, l.parts);
    });
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
    return this.write(() => {
      this.statement(
        'INSERT INTO unmatched_receipts (connector_id, smsc_id, received_at, receipt) VALUES (?, ?, ?, ?)',
      ).run(connectorId, smscId, Date.now(), JSON.stringify(receipt));
    });
  }

  takeUnmatchedReceipts(connectorId: string, smscId: string): Promise<StoredReceipt[]> {
    return this.write(() =>
      this.statement('DELETE FROM unmatched_receipts WHERE connector_id = ? AND smsc_id = ? RETURNING *')
        .all(connectorId, smscId)
        .map(toReceipt)
        .sort((a, b) => a.id - b.id),
    );
  }

  async listUnmatchedReceipts(limit: number): Promise<StoredReceipt[]> {
    return this.statement('SELECT * FROM unmatched_receipts ORDER BY id LIMIT ?').all(limit).map(toReceipt);
  }

  async getIdempotency(accountId: string, key: string, now: number): Promise<IdempotencyRecord | null> {
    // The store has no clock of its own: expiry follows the `now` its callers pass.
    if (now >= this.nextIdempotencySweep) {
      this.nextIdempotencySweep = now + idempotencySweepMs;
      this.idempotencySweepBefore = now;
    }
    const row = this.statement('SELECT * FROM idempotency WHERE account_id = ? AND key = ?').get(
      accountId,
      key,
    );
    if (!row) return null;
    if ((row['expires_at'] as number) <= now) {
      // Forgotten before answering, so the request that follows may use the key again.
      await this.write(() => {
        this.statement('DELETE FROM idempotency WHERE account_id = ? AND key = ? AND expires_at <= ?').run(
          accountId,
          key,
          now,
        );
      });
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
    return this.write(() => {
      this.statement(
        'INSERT INTO accounts (id, settings) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET settings = excluded.settings',
      ).run(account.id, JSON.stringify(account.settings));
      this.statement('DELETE FROM account_api_keys WHERE account_id = ?').run(account.id);
      // A key moved to another account in the config follows it there.
      const insertKey = this.statement(
        `INSERT INTO account_api_keys (hash, account_id, position) VALUES (?, ?, ?)
         ON CONFLICT (hash) DO UPDATE SET account_id = excluded.account_id, position = excluded.position`,
      );
      for (const [position, hash] of account.apiKeyHashes.entries())
        insertKey.run(hash, account.id, position);
    });
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

  enqueueWebhook(delivery: Omit<WebhookDelivery, 'id' | 'attempts' | 'lastError'>): Promise<void> {
    return this.write(() => {
      this.statement(
        `INSERT INTO webhook_deliveries (account_id, url, secret, body, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(
        delivery.accountId,
        delivery.url,
        delivery.secret,
        delivery.body,
        delivery.nextAttemptAt,
        delivery.createdAt,
      );
    });
  }

  async dueWebhooks(now: number, limit: number): Promise<WebhookDelivery[]> {
    return this.statement(
      `SELECT * FROM webhook_deliveries WHERE abandoned_at IS NULL AND next_attempt_at <= ?
       ORDER BY next_attempt_at, id LIMIT ?`,
    )
      .all(now, limit)
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
      }));
  }

  rescheduleWebhook(id: number, nextAttemptAt: number, lastError: string): Promise<void> {
    return this.write(() => {
      const { changes } = this.statement(
        'UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?',
      ).run(nextAttemptAt, lastError, id);
      if (changes === 0) throw new StoreNotFoundError(`no webhook delivery ${id}`);
    });
  }

  finishWebhook(id: number, outcome: 'delivered' | 'abandoned'): Promise<void> {
    // Delivered ones are done with; abandoned ones stay (out of the due index) for inspection.
    return this.write(() => {
      const { changes } =
        outcome === 'delivered'
          ? this.statement('DELETE FROM webhook_deliveries WHERE id = ?').run(id)
          : this.statement('UPDATE webhook_deliveries SET abandoned_at = ? WHERE id = ?').run(Date.now(), id);
      if (changes === 0) throw new StoreNotFoundError(`no webhook delivery ${id}`);
    });
  }

  enqueueEsmeDelivery(accountId: string, payload: Record<string, unknown>): Promise<number> {
    return this.write(() => {
      const { lastInsertRowid } = this.statement(
        'INSERT INTO esme_deliveries (account_id, created_at, payload) VALUES (?, ?, ?)',
      ).run(accountId, Date.now(), JSON.stringify(payload));
      return Number(lastInsertRowid);
    });
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
    return this.write(() => {
      this.statement('DELETE FROM esme_deliveries WHERE id = ?').run(id);
    });
  }

  /** Prepared once per SQL text, for the life of the connection. */
  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Queues a write for this tick's transaction; settles after its COMMIT. */
  private write<T>(apply: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`store ${this.path} is closed`));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ apply, resolve: resolve as (value: unknown) => void, reject });
      this.flushTimer ??= setImmediate(() => this.flush());
    });
  }

  /**
   * Commits every queued write in one transaction. Each write runs in its own savepoint, so
   * one that fails (a duplicate id) is undone and rejected alone; if the COMMIT itself
   * fails, every write in the batch is rejected.
   */
  private flush(): void {
    this.flushTimer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.statement('BEGIN IMMEDIATE').run();
      for (const write of batch) {
        this.statement('SAVEPOINT write').run();
        try {
          outcomes.push({ ok: true, value: write.apply() });
        } catch (error) {
          this.statement('ROLLBACK TO write').run();
          outcomes.push({ ok: false, error });
        }
        this.statement('RELEASE write').run();
      }
      if (this.idempotencySweepBefore !== null) {
        this.statement('DELETE FROM idempotency WHERE expires_at <= ?').run(this.idempotencySweepBefore);
        this.idempotencySweepBefore = null;
      }
      this.statement('COMMIT').run();
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      for (const write of batch) write.reject(error);
      return;
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }

  /**
   * Stores the answer to an Idempotency-Key. Any record still kept for the key is a conflict:
   * an expired one is gone once getIdempotency has reported it so.
   */
  private insertIdempotency(record: IdempotencyRecord): void {
    const { changes } = this.statement(
      `INSERT INTO idempotency (account_id, key, request_hash, status_code, response, expires_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(
      record.accountId,
      record.key,
      record.requestHash,
      record.statusCode,
      JSON.stringify(record.response ?? null),
      record.expiresAt,
    );
    if (changes === 0) throw new StoreConflictError(`idempotency key ${record.key} is already in use`);
  }

  private recordEvents(
    rows: Row[],
    at: number,
    type: MessageEvent['type'],
    detail: Record<string, unknown> | null,
  ) {
    const insertEvent = this.statement(insertEventSql);
    const detailJson = json(detail);
    for (const row of rows) insertEvent.run(row['id'] as string, at, type, detailJson);
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
  };
}

function toReceipt(r: Row): StoredReceipt {
  return {
    id: r['id'] as number,
    connectorId: r['connector_id'] as string,
    smscId: r['smsc_id'] as string,
    receivedAt: r['received_at'] as number,
    receipt: parse(r['receipt']) as Record<string, unknown>,
  };
}

function json(value: Record<string, unknown> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function parse(value: SQLOutputValue): unknown {
  return value === null ? null : JSON.parse(value as string);
}

function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = null;
  }
  if (!Array.isArray(decoded) || typeof decoded[0] !== 'number' || typeof decoded[1] !== 'string') {
    throw new RangeError('invalid cursor');
  }
  return { createdAt: decoded[0], id: decoded[1] };
}
