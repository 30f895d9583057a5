// The durable store: what the gateway keeps, behind one interface (see types.ts).

export { type BackupReport, backupSqlite } from './backup.ts';
export { refundableStatuses } from './billing.ts';
export { isStoreUnreachable, StoreConflictError, StoreLimitError, StoreNotFoundError } from './errors.ts';
export { isPostgresUrl, openStore, redactStoreUrl, sqlitePath, storeUrlProblem } from './open.ts';
// PostgresStore is not here: openStore loads it when a URL names PostgreSQL.
export type { PostgresStore, PostgresStoreOptions } from './postgres.ts';
export {
  SqliteStore,
  type SqliteStoreOptions,
  type SynchronousMode,
  synchronousModes,
  type WriterMode,
  writerModes,
} from './sqlite.ts';
export type * from './types.ts';
