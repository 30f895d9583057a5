// The durable store: what the gateway keeps, behind one interface (see types.ts).

export { type BackupReport, backupSqlite } from './backup.ts';
export { refundableStatuses } from './billing.ts';
export { isStoreUnreachable, StoreConflictError, StoreLimitError, StoreNotFoundError } from './errors.ts';
export { isPostgresUrl, openStore, redactStoreUrl, sqlitePath, storeUrlProblem } from './open.ts';
export { PostgresStore, type PostgresStoreOptions } from './postgres.ts';
export {
  SqliteStore,
  type SqliteStoreOptions,
  type SynchronousMode,
  synchronousModes,
  type WriterMode,
  writerModes,
} from './sqlite.ts';
export type * from './types.ts';
