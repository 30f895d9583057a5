// The write side of the SQLite store: every statement that changes the database, applied a
// batch at a time in one transaction. SqliteStore runs it on a writer thread of its own
// (sqlite-writer.ts) for a file, and in-process for :memory:, which a second connection
// cannot see. Either way writes come in as plain data (an operation's name and arguments)
// and their outcomes go back as plain data, so both ways run this same code.
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from 'node:sqlite';
// core/message.ts, not core/index.ts: the writer thread loads this file, and needs the
// message's shape without the rest of the gateway.
import type { Message, MessageEvent, MessageStatus } from '../core/message.ts';
import { finalStatuses, priorities } from '../core/message.ts';
import { refundedSql } from './billing.ts';
import { StoreConflictError, StoreLimitError, StoreNotFoundError } from './errors.ts';
import type { SynchronousMode } from './sqlite.ts';
import type {
  AccountCharge,
  ChargeOutcome,
  IdempotencyRecord,
  MessagePatch,
  NewRecord,
  NewWebhookDelivery,
  PartOutcome,
  PartTally,
  SmscIdLink,
  StatsCount,
  StoredAccount,
  StoredReceipt,
  StoredRecord,
} from './types.ts';

/** How each connection to the file is opened: the same for the reader and the writer. */
export interface ConnectionSettings {
  path: string;
  synchronous: SynchronousMode;
  busyTimeoutMs: number;
}

export function openConnection(settings: ConnectionSettings): DatabaseSync {
  const db = new DatabaseSync(settings.path, { timeout: settings.busyTimeoutMs });
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${settings.synchronous};`);
  return db;
}

/** The operations a batch may hold: every public method of SqliteWrites but `apply`. */
export type WriteOperations = Omit<SqliteWrites, 'apply'>;
export type WriteOperation = keyof WriteOperations;
export type WriteArgs<K extends WriteOperation> = Parameters<WriteOperations[K]>;
export type WriteResult<K extends WriteOperation> = ReturnType<WriteOperations[K]>;
/** One write as it crosses to the writer: structured-clonable data only. */
export type WriteOp = { [K in WriteOperation]: { op: K; args: WriteArgs<K> } }[WriteOperation];

/**
 * A batch of writes as it crosses to the writer thread: its JSON first, then the webhook
 * bodies it carries, each a string of its own (see encodeBatch).
 */
export type EncodedBatch = string[];

/**
 * A batch of writes as it crosses to the writer thread: JSON, which V8 writes about twice
 * as fast as it structured-clones the same objects (measured with threadCpuUsage around
 * postMessage in the gateway: 2.1 against 4.2 µs of main-thread CPU per write). Buffers (a
 * message's binary body and header) arrive in Buffer's JSON form, which `bytes` reads back.
 * JSON has no `undefined`: an argument left out arrives as null; every operation takes both.
 * A webhook's body, JSON itself, crosses beside the JSON (its place there holds its index):
 * inside it, every quote would be escaped on the main thread and unescaped on the writer.
 */
export function encodeBatch(batch: readonly WriteOp[]): EncodedBatch {
  const encoded: EncodedBatch = [''];
  const ops = batch.map((write) => {
    if (write.op !== 'enqueueWebhook') return write;
    const [delivery] = write.args;
    return { op: write.op, args: [{ ...delivery, body: encoded.push(delivery.body) - 1 }] };
  });
  encoded[0] = JSON.stringify(ops);
  return encoded;
}

/**
 * Reads the JSON as two-byte text, which JSON.parse reads without internalizing its short
 * values: from one-byte text V8 internalizes every string value under 10 characters, and an
 * SMSC's message ids (and short numbers) are such values, one new one per message. Each then
 * lived in the writer's string table and old space until a full collection, which its small
 * heap seldom needs: over 800,000 messages its V8 malloced memory (the table) grew 2 → 16 MB
 * and its heap 12 → 20 MB (docs/PERFORMANCE.md, memory, third round). The text is widened
 * here, on the writer thread (slice flattens the concatenation into one two-byte string):
 * widened by encodeBatch, it cost the main thread ~11 µs per message whose batch carried a
 * webhook's body (docs/PERFORMANCE.md, issue #21's rows in one run, third round).
 */
export function decodeBatch(encoded: EncodedBatch): WriteOp[] {
  const batch: WriteOp[] = JSON.parse(`\u0100${encoded[0]}`.slice(1));
  for (const write of batch) {
    if (write.op !== 'enqueueWebhook') continue;
    const [delivery] = write.args;
    delivery.body = encoded[delivery.body as unknown as number]!;
  }
  return batch;
}

/** Octets given in-process (a Buffer) or through encodeBatch (Buffer's JSON form). */
function bytes(value: Buffer | { data: number[] } | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return Buffer.isBuffer(value) ? value : Buffer.from(value.data);
}

/** An error as data: name and message, and node:sqlite's code, errcode and errstr if any. */
export interface WriteFailure {
  name: string;
  message: string;
  properties: Record<string, unknown>;
}
export type WriteOutcome = { ok: true; value: unknown } | { ok: false; failure: WriteFailure };

/** Rebuilds a write's error where its caller is, with the class callers tell apart. */
export function toError({ name, message, properties }: WriteFailure): Error {
  if (name === StoreConflictError.name) return new StoreConflictError(message);
  if (name === StoreNotFoundError.name) return new StoreNotFoundError(message);
  if (name === StoreLimitError.name) return new StoreLimitError(message);
  return Object.assign(new Error(message), properties);
}

/**
 * The schema this code writes: an older store is upgraded when opened, a newer one refused.
 * Version 6 added message_parts (the outcomes of long messages' parts), a new table that
 * `schema` creates: no upgrade step. Version 7 added a message's price and currency, and
 * the accounts' balances, ledger and quota counters (billing). Version 8 added stats_minutes
 * (the console's message counts per minute), a new table: no upgrade step. Version 9 added
 * batch_recipients (a batch's recipients staged until they are sent), a new table: no
 * upgrade step.
 */
const schemaVersion = 9;

// The delivery queues' ids are never reused (AUTOINCREMENT): their senders track deliveries
// in flight by id, and a plain rowid comes back as soon as the queue empties.
const webhookDeliveriesTable = `(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_error TEXT,
  abandoned_at INTEGER,
  method TEXT NOT NULL DEFAULT 'POST',
  content_type TEXT,
  headers TEXT,
  reply TEXT
) STRICT`;
const esmeDeliveriesTable = `(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  payload TEXT NOT NULL
) STRICT`;

/**
 * How a store written by an older smsgw is brought up to date, in version order: each step
 * takes it to version `to` and is stamped as it ends. They run in the one transaction that
 * opens the store, so an upgrade that fails leaves the store as it was; and each step looks
 * before it changes, so one that finds its work done does nothing. A table or index new in
 * a version needs no step (`schema` creates what is missing once the steps have run); a
 * change to an existing table does: add a step with the next version and raise schemaVersion.
 */
const upgrades: ReadonlyArray<{ to: number; apply(db: DatabaseSync): void }> = [
  // Version 1 had the delivery queues on plain rowids. Rebuilt in today's definition: the
  // columns later steps add are then there already, with their defaults.
  {
    to: 2,
    apply(db) {
      rebuildWithAutoincrement(db, 'webhook_deliveries', webhookDeliveriesTable);
      rebuildWithAutoincrement(db, 'esme_deliveries', esmeDeliveriesTable);
    },
  },
  // A message's own user data header (an ESME's long-message parts).
  { to: 3, apply: (db) => addColumn(db, 'messages', 'udh', 'BLOB') },
  // A message's meta.
  { to: 4, apply: (db) => addColumn(db, 'messages', 'meta', 'TEXT') },
  // How a webhook is sent (the compat APIs' callbacks).
  {
    to: 5,
    apply(db) {
      addColumn(db, 'webhook_deliveries', 'method', "TEXT NOT NULL DEFAULT 'POST'");
      addColumn(db, 'webhook_deliveries', 'content_type', 'TEXT');
      addColumn(db, 'webhook_deliveries', 'headers', 'TEXT');
      addColumn(db, 'webhook_deliveries', 'reply', 'TEXT');
    },
  },
  // What a message costs its account (billing): micro-units of the currency.
  {
    to: 7,
    apply(db) {
      addColumn(db, 'messages', 'price', 'INTEGER');
      addColumn(db, 'messages', 'currency', 'TEXT');
    },
  },
];

function columnsOf(db: DatabaseSync, table: string): string[] {
  return db
    .prepare(`PRAGMA table_info(${table})`)
    .all()
    .map((c) => c['name'] as string);
}

/** Adds the column unless the table has it (or is yet to be created by `schema`). */
function addColumn(db: DatabaseSync, table: string, column: string, type: string): void {
  const columns = columnsOf(db, table);
  if (columns.length > 0 && !columns.includes(column))
    db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type};`);
}

/** Rebuilds the table in `definition`, its rows kept, unless it is AUTOINCREMENT already (indexes follow in `schema`). */
function rebuildWithAutoincrement(db: DatabaseSync, table: string, definition: string): void {
  const found = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table);
  if (found === undefined || /AUTOINCREMENT/i.test(String(found['sql']))) return;
  const columns = columnsOf(db, table).join(', ');
  db.exec(`CREATE TABLE ${table}_rebuilt ${definition};
INSERT INTO ${table}_rebuilt (${columns}) SELECT ${columns} FROM ${table};
DROP TABLE ${table};
ALTER TABLE ${table}_rebuilt RENAME TO ${table};`);
}

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
  udh BLOB,
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
  group_id TEXT,
  meta TEXT,
  price INTEGER,
  currency TEXT
) STRICT;
-- Dispatch order (priority rank, then acceptance) with the times the due query filters on.
CREATE INDEX IF NOT EXISTS messages_due
  ON messages (priority, created_at, seq, send_at, next_attempt_at) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS messages_account ON messages (account_id, created_at, id);
-- Each account's queued messages in dispatch order: refills take accounts in turn.
CREATE INDEX IF NOT EXISTS messages_due_account
  ON messages (account_id, priority, created_at, seq) WHERE status = 'queued';
-- A number's messages (filter by to, conversations) without walking the whole account.
CREATE INDEX IF NOT EXISTS messages_to ON messages (account_id, to_addr, created_at);
-- A search by an inbound message's sender or by client reference (GET /v1/messages?q=).
CREATE INDEX IF NOT EXISTS messages_from ON messages (account_id, from_addr, created_at) WHERE direction = 'mo';
CREATE INDEX IF NOT EXISTS messages_client_ref ON messages (account_id, client_ref, created_at) WHERE client_ref IS NOT NULL;
-- Only the rows a status sweep looks for (schedules to release, sends a crash left): an
-- index of every status would move on each of a message's status changes.
DROP INDEX IF EXISTS messages_status;
CREATE INDEX IF NOT EXISTS messages_scheduled ON messages (send_at) WHERE status = 'scheduled';
CREATE INDEX IF NOT EXISTS messages_sending ON messages (seq) WHERE status = 'sending';
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

-- The final outcome each part of a long message got from its receipt: the message is
-- settled from all of them.
CREATE TABLE IF NOT EXISTS message_parts (
  message_id TEXT NOT NULL,
  part INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  PRIMARY KEY (message_id, part)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS unmatched_receipts (
  id INTEGER PRIMARY KEY,
  connector_id TEXT NOT NULL,
  smsc_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  receipt TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS unmatched_receipts_smsc ON unmatched_receipts (connector_id, smsc_id);
CREATE INDEX IF NOT EXISTS unmatched_receipts_received ON unmatched_receipts (received_at);

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

CREATE TABLE IF NOT EXISTS webhook_deliveries ${webhookDeliveriesTable};
CREATE INDEX IF NOT EXISTS webhook_deliveries_due
  ON webhook_deliveries (next_attempt_at, id) WHERE abandoned_at IS NULL;

CREATE TABLE IF NOT EXISTS esme_deliveries ${esmeDeliveriesTable};
CREATE INDEX IF NOT EXISTS esme_deliveries_account ON esme_deliveries (account_id, id);

CREATE TABLE IF NOT EXISTS records (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  ref TEXT,
  status TEXT,
  due_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (kind, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_account ON records (kind, account_id, created_at, id);
CREATE INDEX IF NOT EXISTS records_ref ON records (kind, ref, created_at, id) WHERE ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_due ON records (kind, due_at) WHERE due_at IS NOT NULL;

-- A batch's recipients as uploaded, in order, until each becomes a message as the batch
-- sends (src/bulk): compact, and no index beside the key, so a million rows store fast.
CREATE TABLE IF NOT EXISTS batch_recipients (
  batch_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  to_addr TEXT NOT NULL,
  vars TEXT,
  PRIMARY KEY (batch_id, seq)
) STRICT, WITHOUT ROWID;

-- Billing: each account's money (micro-units), every movement of it, and its message counts
-- per quota period.
CREATE TABLE IF NOT EXISTS balances (
  account_id TEXT PRIMARY KEY,
  currency TEXT NOT NULL,
  balance INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  amount INTEGER NOT NULL,
  balance INTEGER NOT NULL,
  currency TEXT NOT NULL,
  message_id TEXT,
  reference TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS ledger_account ON ledger (account_id, id);
CREATE INDEX IF NOT EXISTS ledger_message ON ledger (message_id) WHERE message_id IS NOT NULL;
-- A message's price comes back once.
CREATE UNIQUE INDEX IF NOT EXISTS ledger_refund ON ledger (message_id) WHERE kind = 'refund';
CREATE TABLE IF NOT EXISTS quota_counts (
  account_id TEXT NOT NULL,
  period TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (account_id, period)
) STRICT, WITHOUT ROWID;

-- Messages counted per minute (unix second of its start) by metric, account and connector
-- ('' for none): the console's charts (GET /v1/admin/stats/series).
CREATE TABLE IF NOT EXISTS stats_minutes (
  metric TEXT NOT NULL,
  minute INTEGER NOT NULL,
  account_id TEXT NOT NULL,
  connector_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (metric, minute, account_id, connector_id)
) STRICT, WITHOUT ROWID;
`;

export type Row = Record<string, SQLOutputValue>;

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
  text: ['text'],
  binary: ['binary'],
  encoding: ['encoding'],
  meta: ['meta'],
  sendAt: ['send_at'],
  validUntil: ['valid_until'],
};

const insertMessageSql = `INSERT INTO messages (id, account_id, direction, status, to_addr, from_addr, text, binary, udh,
  encoding, segments, priority, client_ref, callback_url, flash, origin, receipt_requested, connector_id, created_at,
  send_at, valid_until, submitted_at, done_at, attempts, next_attempt_at, error_code, error_message, group_id, meta,
  price, currency)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO NOTHING`;
const insertEventSql = 'INSERT INTO message_events (message_id, at, type, detail) VALUES (?, ?, ?, ?)';

/**
 * A message as the values of insertMessageSql, in its column order: what insertMessages
 * takes, so a batch crosses to the writer as arrays rather than objects with their keys.
 */
export type MessageRow = ReadonlyArray<SQLInputValue | { data: number[] }>;
const binaryColumn = 7;
const udhColumn = 8;
const createdAtColumn = 18;

export function messageRow(m: Message): MessageRow {
  return [
    m.id,
    m.accountId,
    m.direction,
    m.status,
    m.to,
    m.from,
    m.text,
    m.binary,
    m.udh,
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
    json(m.meta),
    m.priceMicros ?? null,
    m.currency ?? null,
  ];
}

/** Conflicts and unknown rows: the failures an operation reports having written nothing. */
const isRefusal = (error: unknown) =>
  error instanceof StoreConflictError ||
  error instanceof StoreNotFoundError ||
  error instanceof StoreLimitError;

/** Statements prepared once per SQL text, for the life of a connection. */
export class StatementCache {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  get(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  clear(): void {
    this.#statements.clear();
  }
}

export class SqliteWrites {
  private readonly db: DatabaseSync;
  private readonly statements: StatementCache;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.statements = new StatementCache(db);
  }

  /**
   * Applies a batch in call order in one transaction, one outcome per write. A write that
   * fails fails alone. The operations that can be refused (a conflict, an unknown row)
   * check before they write, so they need no savepoint of their own; any other error may
   * have left part of a write behind, so the batch is then undone and redone with each
   * write in a savepoint. If the transaction itself fails, every write in it fails.
   */
  apply(batch: readonly WriteOp[]): WriteOutcome[] {
    try {
      const outcomes = this.transaction(batch, false);
      if (outcomes) return outcomes;
      this.rollback();
      return this.transaction(batch, true)!;
    } catch (error) {
      this.rollback();
      const failure = failed(error);
      return batch.map(() => failure);
    }
  }

  /** Null, with the transaction left open, if a write failed unexpectedly outside a savepoint. */
  private transaction(batch: readonly WriteOp[], savepoints: boolean): WriteOutcome[] | null {
    const outcomes: WriteOutcome[] = [];
    this.statement('BEGIN IMMEDIATE').run();
    for (const write of batch) {
      if (savepoints) this.statement('SAVEPOINT write').run();
      try {
        const operation = this[write.op] as (...args: unknown[]) => unknown;
        outcomes.push({ ok: true, value: operation.apply(this, write.args) });
      } catch (error) {
        if (savepoints) this.statement('ROLLBACK TO write').run();
        else if (!isRefusal(error)) return null;
        outcomes.push(failed(error));
      }
      if (savepoints) this.statement('RELEASE write').run();
    }
    this.statement('COMMIT').run();
    return outcomes;
  }

  /** Creates the tables, upgrades a store from an older smsgw, or refuses one from a newer. */
  migrate(): void {
    const version = this.statement('PRAGMA user_version').get()!['user_version'] as number;
    if (version > schemaVersion) {
      throw new Error(
        `store ${this.db.location() ?? ':memory:'} was written by a newer smsgw (schema version ${version}; this one knows up to ${schemaVersion}): run that version, or restore a backup taken before it`,
      );
    }
    for (const step of upgrades) {
      if (step.to <= version) continue;
      step.apply(this.db);
      this.db.exec(`PRAGMA user_version = ${step.to};`);
    }
    this.db.exec(`${schema} PRAGMA user_version = ${schemaVersion};`);
  }

  insertMessages(
    messages: MessageRow[],
    idempotency?: IdempotencyRecord | null,
    charge?: AccountCharge | null,
  ): ChargeOutcome | null {
    // Refused before anything is written: a key still kept (even expired: getIdempotency
    // forgets those) is looked up first, and a single message either goes in or conflicts.
    if (
      idempotency &&
      this.statement('SELECT 1 FROM idempotency WHERE account_id = ? AND key = ?').get(
        idempotency.accountId,
        idempotency.key,
      )
    ) {
      throw new StoreConflictError(`idempotency key ${idempotency.key} is already in use`);
    }
    const charged = charge ? this.charge(charge) : null;
    if (messages.length === 1) this.insertMessage(messages[0]!);
    else {
      this.inSavepoint(() => {
        for (const m of messages) this.insertMessage(m);
      });
    }
    if (idempotency) {
      this.statement(
        `INSERT INTO idempotency (account_id, key, request_hash, status_code, response, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(
        idempotency.accountId,
        idempotency.key,
        idempotency.requestHash,
        idempotency.statusCode,
        JSON.stringify(idempotency.response ?? null),
        idempotency.expiresAt,
      );
    }
    return charged;
  }

  /**
   * Takes a charge, or refuses it (StoreLimitError) having written nothing: every limit is
   * looked at before anything is written (one writer: nobody changes them in between).
   */
  private charge(c: AccountCharge): ChargeOutcome {
    const count = c.debits.length;
    for (const q of c.quotas) {
      const used = this.statement('SELECT count FROM quota_counts WHERE account_id = ? AND period = ?').get(
        c.accountId,
        q.period,
      );
      if (((used?.['count'] as number | undefined) ?? 0) + count > q.limit)
        throw new StoreLimitError(`quota ${q.period} of ${q.limit} messages reached`);
    }
    const total = c.debits.reduce((sum, d) => sum + d.amount, 0);
    const row = this.statement('SELECT balance FROM balances WHERE account_id = ?').get(c.accountId);
    let balance = (row?.['balance'] as number | undefined) ?? 0;
    if (total > 0 && c.floor !== null && balance - total < c.floor)
      throw new StoreLimitError(`balance ${balance} does not cover ${total}`);
    for (const q of c.quotas) {
      this.statement(
        `INSERT INTO quota_counts (account_id, period, count) VALUES (?, ?, ?)
         ON CONFLICT (account_id, period) DO UPDATE SET count = count + excluded.count`,
      ).run(c.accountId, q.period, count);
    }
    if (total === 0) return { balance: null };
    for (const d of c.debits) {
      if (d.amount === 0) continue;
      balance -= d.amount;
      this.ledgerEntry(c.accountId, c.at, 'debit', -d.amount, balance, c.currency, d.messageId, null);
    }
    this.setBalance(c.accountId, c.currency, balance);
    return { balance };
  }

  refundMessage(accountId: string, messageId: string, at: number): number | null {
    const debit = this.statement(
      `SELECT amount, currency, (SELECT 1 FROM ledger r WHERE r.message_id = d.message_id AND r.kind = 'refund') AS refunded
       FROM ledger d WHERE message_id = ? AND kind = 'debit' AND account_id = ?`,
    ).get(messageId, accountId);
    if (!debit || debit['refunded'] === 1) return null;
    return this.move(
      accountId,
      -(debit['amount'] as number),
      debit['currency'] as string,
      at,
      'refund',
      messageId,
      null,
    );
  }

  refundGroup(groupId: string, at: number): number {
    const debits = this.statement(
      `SELECT d.account_id, d.message_id FROM ledger d JOIN messages m ON m.id = d.message_id
       WHERE m.group_id = ? AND d.kind = 'debit' AND ${refundedSql}
         AND NOT EXISTS (SELECT 1 FROM ledger r WHERE r.message_id = d.message_id AND r.kind = 'refund')
       ORDER BY d.id`,
    ).all(groupId);
    for (const d of debits) this.refundMessage(d['account_id'] as string, d['message_id'] as string, at);
    return debits.length;
  }

  creditAccount(
    accountId: string,
    amount: number,
    currency: string,
    at: number,
    reference: string | null,
  ): number {
    return this.move(accountId, amount, currency, at, 'credit', null, reference);
  }

  private move(
    accountId: string,
    amount: number,
    currency: string,
    at: number,
    kind: 'refund' | 'credit',
    messageId: string | null,
    reference: string | null,
  ): number {
    const row = this.statement('SELECT balance FROM balances WHERE account_id = ?').get(accountId);
    const balance = ((row?.['balance'] as number | undefined) ?? 0) + amount;
    this.ledgerEntry(accountId, at, kind, amount, balance, currency, messageId, reference);
    this.setBalance(accountId, currency, balance);
    return balance;
  }

  private setBalance(accountId: string, currency: string, balance: number): void {
    this.statement(
      `INSERT INTO balances (account_id, currency, balance) VALUES (?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET balance = excluded.balance, currency = excluded.currency`,
    ).run(accountId, currency, balance);
  }

  private ledgerEntry(
    accountId: string,
    at: number,
    kind: string,
    amount: number,
    balance: number,
    currency: string,
    messageId: string | null,
    reference: string | null,
  ): void {
    this.statement(
      `INSERT INTO ledger (account_id, at, kind, amount, balance, currency, message_id, reference)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(accountId, at, kind, amount, balance, currency, messageId, reference);
  }

  updateMessage(id: string, patch: MessagePatch, event?: Omit<MessageEvent, 'messageId'>): void {
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
          : f === 'meta'
            ? [json(patch.meta ?? null)]
            : f === 'binary'
              ? [bytes(patch.binary)]
              : [patch[f] as SQLInputValue],
      );
      found = this.statement(sql).run(...values, id).changes > 0;
    }
    if (!found) throw new StoreNotFoundError(`no message ${id}`);
    if (event) this.statement(insertEventSql).run(id, event.at, event.type, json(event.detail));
  }

  releaseScheduled(now: number): number {
    const ids = this.statement(
      `UPDATE messages SET status = 'queued' WHERE status = 'scheduled' AND send_at <= ? RETURNING id`,
    ).all(now);
    this.recordEvents(ids, now, 'queued', null);
    return ids.length;
  }

  requeueInFlight(): number {
    const ids = this.statement(
      `UPDATE messages SET status = 'queued' WHERE status = 'sending' RETURNING id`,
    ).all();
    this.recordEvents(ids, Date.now(), 'queued', { reason: 'restart' });
    return ids.length;
  }

  expireOverdue(now: number, skip: readonly string[]): string[] {
    const ids = this.statement(
      `UPDATE messages INDEXED BY messages_validity SET status = 'expired', done_at = ?
       WHERE status IN ('queued', 'scheduled') AND valid_until IS NOT NULL AND valid_until <= ?
         AND id NOT IN (SELECT value FROM json_each(?)) RETURNING id`,
    ).all(now, now, JSON.stringify(skip));
    this.recordEvents(ids, now, 'expired', null);
    return ids.map((r) => r['id'] as string);
  }

  pauseGroup(groupId: string, now: number, skip: readonly string[]): number {
    return this.moveGroup(groupId, "('queued', 'scheduled')", ["'paused'"], now, skip);
  }

  resumeGroup(groupId: string, now: number): number {
    return this.moveGroup(
      groupId,
      "('paused')",
      ["CASE WHEN send_at IS NOT NULL AND send_at > ? THEN 'scheduled' ELSE 'queued' END", now],
      now,
      [],
    );
  }

  cancelGroup(groupId: string, now: number, skip: readonly string[]): number {
    return this.moveGroup(groupId, "('queued', 'scheduled', 'paused')", ["'canceled'"], now, skip, true);
  }

  /** One writer, one transaction per batch: the count sees every part recorded before it. */
  recordPartOutcome(
    messageId: string,
    part: number,
    outcome: PartOutcome,
    event: Omit<MessageEvent, 'messageId'>,
  ): PartTally {
    const status = this.statement('SELECT status FROM messages WHERE id = ?').get(messageId);
    if (!status) throw new StoreNotFoundError(`no message ${messageId}`);
    const recorded =
      this.statement(
        'INSERT INTO message_parts (message_id, part, outcome) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ).run(messageId, part, outcome).changes > 0;
    this.statement(insertEventSql).run(messageId, event.at, event.type, json(event.detail));
    const counts = this.statement(
      `SELECT count(*) FILTER (WHERE outcome = 'delivered') AS delivered,
         count(*) FILTER (WHERE outcome = 'failed') AS failed
       FROM message_parts WHERE message_id = ?`,
    ).get(messageId)!;
    return {
      recorded,
      delivered: counts['delivered'] as number,
      failed: counts['failed'] as number,
      settled: finalStatuses.has(status['status'] as MessageStatus),
    };
  }

  linkSmscIds(links: SmscIdLink[]): void {
    const upsert = this.statement(
      `INSERT INTO smsc_links (connector_id, smsc_id, message_id, part, parts) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (connector_id, smsc_id) DO UPDATE
         SET message_id = excluded.message_id, part = excluded.part, parts = excluded.parts`,
    );
    for (const l of links) upsert.run(l.connectorId, l.smscId, l.messageId, l.part, l.parts);
  }

  saveUnmatchedReceipt(connectorId: string, smscId: string, receipt: Record<string, unknown>): void {
    this.statement(
      'INSERT INTO unmatched_receipts (connector_id, smsc_id, received_at, receipt) VALUES (?, ?, ?, ?)',
    ).run(connectorId, smscId, Date.now(), JSON.stringify(receipt));
  }

  takeUnmatchedReceipts(connectorId: string, smscId: string): StoredReceipt[] {
    return this.statement('DELETE FROM unmatched_receipts WHERE connector_id = ? AND smsc_id = ? RETURNING *')
      .all(connectorId, smscId)
      .map(toReceipt)
      .sort((a, b) => a.id - b.id);
  }

  addStatsCounts(counts: StatsCount[]): void {
    const add = this.statement(
      `INSERT INTO stats_minutes (metric, minute, account_id, connector_id, n) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (metric, minute, account_id, connector_id) DO UPDATE SET n = n + excluded.n`,
    );
    for (const c of counts) add.run(c.metric, c.minute, c.accountId, c.connectorId, c.n);
  }

  purgeStats(before: number): void {
    this.statement('DELETE FROM stats_minutes WHERE minute < ?').run(before);
  }

  purgeUnmatchedReceipts(before: number): number {
    return Number(this.statement('DELETE FROM unmatched_receipts WHERE received_at < ?').run(before).changes);
  }

  /** Forgets a key found expired, so the request that follows may use it again. */
  forgetIdempotency(accountId: string, key: string, now: number): void {
    this.statement('DELETE FROM idempotency WHERE account_id = ? AND key = ? AND expires_at <= ?').run(
      accountId,
      key,
      now,
    );
  }

  sweepIdempotency(before: number): void {
    this.statement('DELETE FROM idempotency WHERE expires_at <= ?').run(before);
  }

  upsertAccount(account: StoredAccount): void {
    this.statement(
      'INSERT INTO accounts (id, settings) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET settings = excluded.settings',
    ).run(account.id, JSON.stringify(account.settings));
    this.statement('DELETE FROM account_api_keys WHERE account_id = ?').run(account.id);
    // A key moved to another account in the config follows it there.
    const insertKey = this.statement(
      `INSERT INTO account_api_keys (hash, account_id, position) VALUES (?, ?, ?)
       ON CONFLICT (hash) DO UPDATE SET account_id = excluded.account_id, position = excluded.position`,
    );
    for (const [position, hash] of account.apiKeyHashes.entries()) insertKey.run(hash, account.id, position);
  }

  enqueueWebhook(delivery: NewWebhookDelivery): number {
    const { lastInsertRowid } = this.statement(
      `INSERT INTO webhook_deliveries
         (account_id, url, secret, body, next_attempt_at, created_at, method, content_type, headers, reply)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      delivery.accountId,
      delivery.url,
      delivery.secret,
      delivery.body,
      delivery.nextAttemptAt,
      delivery.createdAt,
      delivery.method ?? 'POST',
      delivery.contentType ?? null,
      json(delivery.headers ?? null),
      delivery.reply ?? null,
    );
    return Number(lastInsertRowid);
  }

  rescheduleWebhook(id: number, nextAttemptAt: number, lastError: string): void {
    const { changes } = this.statement(
      'UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?',
    ).run(nextAttemptAt, lastError, id);
    if (changes === 0) throw new StoreNotFoundError(`no webhook delivery ${id}`);
  }

  finishWebhook(id: number, outcome: 'delivered' | 'abandoned'): void {
    // Delivered ones are done with; abandoned ones stay (out of the due index) for inspection.
    const { changes } =
      outcome === 'delivered'
        ? this.statement('DELETE FROM webhook_deliveries WHERE id = ?').run(id)
        : this.statement('UPDATE webhook_deliveries SET abandoned_at = ? WHERE id = ?').run(Date.now(), id);
    if (changes === 0) throw new StoreNotFoundError(`no webhook delivery ${id}`);
  }

  enqueueEsmeDelivery(accountId: string, payload: Record<string, unknown>): number {
    const { lastInsertRowid } = this.statement(
      'INSERT INTO esme_deliveries (account_id, created_at, payload) VALUES (?, ?, ?)',
    ).run(accountId, Date.now(), JSON.stringify(payload));
    return Number(lastInsertRowid);
  }

  deleteEsmeDelivery(id: number): void {
    this.statement('DELETE FROM esme_deliveries WHERE id = ?').run(id);
  }

  putRecord<T>(record: NewRecord<T>, expectedVersion?: number): StoredRecord<T> {
    const current = this.statement('SELECT version FROM records WHERE kind = ? AND id = ?').get(
      record.kind,
      record.id,
    );
    const version = (current?.['version'] as number | undefined) ?? 0;
    if (expectedVersion !== undefined && expectedVersion !== null && expectedVersion !== version) {
      throw new StoreConflictError(
        `${record.kind} ${record.id} is at version ${version}, not ${expectedVersion}`,
      );
    }
    const stored = { ...record, version: version + 1 };
    this.upsertRecord(stored);
    return stored;
  }

  putRecords<T>(records: NewRecord<T>[]): void {
    const versionOf = this.statement('SELECT version FROM records WHERE kind = ? AND id = ?');
    for (const r of records) {
      const version = (versionOf.get(r.kind, r.id)?.['version'] as number | undefined) ?? 0;
      this.upsertRecord({ ...r, version: version + 1 });
    }
  }

  deleteRecord(kind: string, id: string): boolean {
    return this.statement('DELETE FROM records WHERE kind = ? AND id = ?').run(kind, id).changes > 0;
  }

  /** `vars` as JSON text (or null), as stagedRecipients reads it back. */
  stageRecipients(
    batchId: string,
    firstSeq: number,
    to: readonly string[],
    vars: ReadonlyArray<string | null>,
  ): void {
    const insert = this.statement(
      'INSERT INTO batch_recipients (batch_id, seq, to_addr, vars) VALUES (?, ?, ?, ?)',
    );
    for (let i = 0; i < to.length; i++) insert.run(batchId, firstSeq + i, to[i]!, vars[i] ?? null);
  }

  dropStagedRecipients(batchId: string, throughSeq: number | null): number {
    return Number(
      (throughSeq === null
        ? this.statement('DELETE FROM batch_recipients WHERE batch_id = ?').run(batchId)
        : this.statement('DELETE FROM batch_recipients WHERE batch_id = ? AND seq <= ?').run(
            batchId,
            throughSeq,
          )
      ).changes,
    );
  }

  /**
   * Moves a group's messages in `from` (an SQL list) to the status `to` computes (an SQL
   * expression of the row and its parameters), with an event of the new status each: events
   * first, from the rows still in `from`, then one UPDATE, so a million messages cost two
   * statements and no round trips.
   */
  private moveGroup(
    groupId: string,
    from: string,
    [to, ...toParams]: [string, ...SQLInputValue[]],
    now: number,
    skip: readonly string[],
    done = false,
  ): number {
    const where = `group_id = ? AND status IN ${from} AND id NOT IN (SELECT value FROM json_each(?))`;
    const whereParams = [groupId, JSON.stringify(skip)];
    this.statement(
      `INSERT INTO message_events (message_id, at, type, detail)
       SELECT id, ?, ${to}, NULL FROM messages INDEXED BY messages_group WHERE ${where} ORDER BY seq`,
    ).run(now, ...toParams, ...whereParams);
    const set = done ? `status = ${to}, done_at = ?` : `status = ${to}`;
    const setParams = done ? [...toParams, now] : toParams;
    return Number(
      this.statement(`UPDATE messages INDEXED BY messages_group SET ${set} WHERE ${where}`).run(
        ...setParams,
        ...whereParams,
      ).changes,
    );
  }

  /** Undoes the open transaction, if a failure has not already made SQLite undo it. */
  private rollback(): void {
    if (this.db.isTransaction) this.db.exec('ROLLBACK');
  }

  private statement(sql: string): StatementSync {
    return this.statements.get(sql);
  }

  private upsertRecord<T>(r: StoredRecord<T>): void {
    this.statement(
      `INSERT INTO records (kind, id, account_id, ref, status, due_at, created_at, updated_at, version, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, id) DO UPDATE SET account_id = excluded.account_id, ref = excluded.ref,
         status = excluded.status, due_at = excluded.due_at, updated_at = excluded.updated_at,
         version = excluded.version, data = excluded.data`,
    ).run(
      r.kind,
      r.id,
      r.accountId,
      r.ref,
      r.status,
      r.dueAt,
      r.createdAt,
      r.updatedAt,
      r.version,
      JSON.stringify(r.data),
    );
  }

  /** Stores a message and its first event, or conflicts having written nothing. */
  private insertMessage(row: MessageRow): void {
    const values = row.slice() as SQLInputValue[];
    // Octets that crossed as JSON come back to bytes (see encodeBatch).
    values[binaryColumn] = bytes(row[binaryColumn] as Buffer | null);
    values[udhColumn] = bytes(row[udhColumn] as Buffer | null);
    const { changes } = this.statement(insertMessageSql).run(...values);
    const [id, , , status] = row as [string, string, string, string];
    if (changes === 0) throw new StoreConflictError(`message ${id} is already stored`);
    this.statement(insertEventSql).run(id, row[createdAtColumn] as number, status, null);
  }

  /** Runs `write` all or nothing, for an operation that may be refused halfway through. */
  private inSavepoint(write: () => void): void {
    this.statement('SAVEPOINT operation').run();
    try {
      write();
    } catch (error) {
      this.statement('ROLLBACK TO operation').run();
      throw error;
    } finally {
      this.statement('RELEASE operation').run();
    }
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
}

function failed(error: unknown): WriteOutcome {
  if (!(error instanceof Error))
    return { ok: false, failure: { name: 'Error', message: String(error), properties: {} } };
  const { code, errcode, errstr } = error as Error & Record<string, unknown>;
  const properties = Object.fromEntries(
    Object.entries({ code, errcode, errstr }).filter(([, value]) => value !== undefined),
  );
  return { ok: false, failure: { name: error.name, message: error.message, properties } };
}

/** A kept receipt, as both connections read it back. */
export function toReceipt(r: Row): StoredReceipt {
  return {
    id: r['id'] as number,
    connectorId: r['connector_id'] as string,
    smscId: r['smsc_id'] as string,
    receivedAt: r['received_at'] as number,
    receipt: parse(r['receipt']) as Record<string, unknown>,
  };
}

export function toRecord<T>(r: Row): StoredRecord<T> {
  return {
    kind: r['kind'] as string,
    id: r['id'] as string,
    accountId: r['account_id'] as string,
    ref: r['ref'] as string | null,
    status: r['status'] as string | null,
    dueAt: r['due_at'] as number | null,
    createdAt: r['created_at'] as number,
    updatedAt: r['updated_at'] as number,
    version: r['version'] as number,
    data: parse(r['data']) as T,
  };
}

export function parse(value: SQLOutputValue): unknown {
  return value === null ? null : JSON.parse(value as string);
}

function json(value: Record<string, unknown> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}
