// Picks the store from a URL in the config: `sqlite:./var/smsgw.db`, `sqlite::memory:`,
// optionally `?synchronous=NORMAL&busy_timeout=10000`; `postgres://` for cluster mode.
import { SqliteStore, type SqliteStoreOptions, type SynchronousMode, synchronousModes } from './sqlite.ts';
import type { Store } from './types.ts';

/** Opens the store and brings its schema up to date. */
export async function openStore(url: string): Promise<Store> {
  if (/^postgres(ql)?:/.test(url)) throw new Error('PostgreSQL store not implemented yet');
  if (!url.startsWith('sqlite:'))
    throw new Error(`unknown store URL ${JSON.stringify(url)}: use sqlite:<path>`);
  const [location = '', query = ''] = url.slice('sqlite:'.length).split('?', 2);
  // `sqlite:///abs/path` and `sqlite://./rel` are read as the path after the slashes.
  const path = location.startsWith('//') ? location.slice(2) : location;
  if (path === '') throw new Error(`store URL ${JSON.stringify(url)} names no file`);
  const store = new SqliteStore(path, sqliteOptions(url, new URLSearchParams(query)));
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
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
    } else {
      throw new Error(`store URL ${url}: unknown option ${name}`);
    }
  }
  return options;
}
