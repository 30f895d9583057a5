// The durable store: what the gateway keeps, behind one interface (see types.ts).
export { StoreConflictError, StoreNotFoundError } from './errors.ts';
export { openStore, redactStoreUrl } from './open.ts';
export { PostgresStore, type PostgresStoreOptions } from './postgres.ts';
export { SqliteStore, type SqliteStoreOptions, type SynchronousMode, synchronousModes } from './sqlite.ts';
export type * from './types.ts';
