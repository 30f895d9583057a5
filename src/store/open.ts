// Picks the store from a URL in the config: `sqlite:./var/smsgw.db`, `sqlite::memory:`,
// optionally `?synchronous=NORMAL&busy_timeout=10000&writer=main`; `postgres://user:pass@host:5432/db`
// for cluster mode, optionally `?pool_size=4&lease_ms=30000` besides what `pg` reads itself.
import type { PostgresStoreOptions } from './postgres.ts';
import {
  SqliteStore,
  type SqliteStoreOptions,
  type SynchronousMode,
  synchronousModes,
  type WriterMode,
  writerModes,
} from './sqlite.ts';
import type { Store } from './types.ts';

/** Opens the store and brings its schema up to date. */
export async function openStore(url: string): Promise<Store> {
  // The PostgreSQL store's code (and `pg`'s) is loaded only by a gateway that uses it.
  const store = isPostgresUrl(url)
    ? new (await import('./postgres.ts')).PostgresStore(postgresOptions(url))
    : openSqlite(url);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** Query parameters of a store URL whose values are secrets (libpq's and pg's names). */
const isSecretParam = (name: string) => /pass/i.test(name) || name === 'sslkey';

/** The store URL fit to print: its password (and any secret parameter) masked. */
export function redactStoreUrl(url: string): string {
  if (!isPostgresUrl(url)) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'postgres://(unreadable URL)';
  }
  if (parsed.password) parsed.password = '***';
  for (const name of [...parsed.searchParams.keys()])
    if (isSecretParam(name)) parsed.searchParams.set(name, '***');
  return parsed.toString();
}

/** Why `openStore` would refuse this URL before connecting to anything, if it would. */
export function storeUrlProblem(url: string): string | undefined {
  try {
    if (isPostgresUrl(url)) postgresOptions(url);
    else sqliteOptionsOf(url);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Whether the store URL names a PostgreSQL database (else it is SQLite). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:/.test(url);
}

/** The database file a `sqlite:` store URL names (`:memory:` for none). */
export function sqlitePath(url: string): string {
  if (!url.startsWith('sqlite:'))
    throw new Error(`unknown store URL ${JSON.stringify(url)}: use sqlite:<path> or postgres://…`);
  const [location = ''] = url.slice('sqlite:'.length).split('?', 1);
  // `sqlite:///abs/path` and `sqlite://./rel` are read as the path after the slashes.
  const path = location.startsWith('//') ? location.slice(2) : location;
  if (path === '') throw new Error(`store URL ${JSON.stringify(url)} names no file`);
  return path;
}

function sqliteOptionsOf(url: string): SqliteStoreOptions {
  return sqliteOptions(url, new URLSearchParams(url.split('?', 2)[1] ?? ''));
}

function openSqlite(url: string): SqliteStore {
  return new SqliteStore(sqlitePath(url), sqliteOptionsOf(url));
}

/** Our options come off the URL; the rest of it (sslmode, host=/socket/dir...) is for `pg`. */
function postgresOptions(url: string): PostgresStoreOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('store URL is not a valid postgres:// URL');
  }
  const options: PostgresStoreOptions = { connectionString: url };
  for (const [name, key, min] of [
    ['pool_size', 'poolSize', 2],
    ['lease_ms', 'leaseMs', 1_000],
  ] as const) {
    const value = parsed.searchParams.get(name);
    if (value === null) continue;
    const n = Number(value);
    // Not echoed: the URL may hold a password.
    if (!Number.isInteger(n) || n < min)
      throw new Error(`store URL: ${name} must be an integer of at least ${min}`);
    options[key] = n;
    parsed.searchParams.delete(name);
  }
  options.connectionString = parsed.toString();
  return options;
}

function sqliteOptions(url: string, params: URLSearchParams): SqliteStoreOptions {
  const options: SqliteStoreOptions = {};
  for (const [name, value] of params) {
    if (name === 'synchronous') {
      const mode = value.toUpperCase() as SynchronousMode;
      if (!synchronousModes.includes(mode))
        throw new Error(`store URL ${url}: synchronous must be one of ${synchronousModes.join(', ')}`);
      options.synchronous = mode;
    } else if (name === 'busy_timeout') {
      const ms = Number(value);
      if (!Number.isInteger(ms) || ms < 0)
        throw new Error(`store URL ${url}: busy_timeout must be milliseconds`);
      options.busyTimeoutMs = ms;
    } else if (name === 'writer') {
      // `auto` (default): on the event loop while commits take little of it, on a thread of
      // their own under load; `thread` always there; `main` never (small hosts, modest rates).
      if (!writerModes.includes(value as WriterMode))
        throw new Error(`store URL ${url}: writer must be one of ${writerModes.join(', ')}`);
      options.writer = value as WriterMode;
    } else {
      throw new Error(`store URL ${url}: unknown option ${name}`);
    }
  }
  return options;
}
