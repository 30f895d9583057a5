// `smsgw backup FILE`: an online, consistent copy of the SQLite store, safe while a gateway
// serves from it (in this process or another). PostgreSQL has its own tools: pg_dump.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/index.ts';
import { backupSqlite, isPostgresUrl, sqlitePath } from '../store/index.ts';

const defaultStore = 'sqlite:./var/smsgw.db';

const help = `usage: smsgw backup [--store URL | --config FILE] FILE

Copies the SQLite store to FILE (which must not exist, or be empty) while the gateway keeps running,
then checks the copy's integrity. The store is --store, else SMSGW_STORE, else the store of
--config (or SMSGW_CONFIG), else ${defaultStore}. Restore: stop the gateway and put FILE
in the store's place. A PostgreSQL store is backed up with pg_dump instead.
`;

export async function backupCommand(argv: string[]): Promise<number> {
  let values: { store?: string; config?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        store: { type: 'string' },
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`smsgw backup: ${(err as Error).message}\n${help}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const [target, ...extra] = positionals;
  if (target === undefined || extra.length > 0) {
    process.stderr.write(`smsgw backup: name one file to write\n${help}`);
    return 2;
  }
  let store = values.store ?? process.env.SMSGW_STORE;
  const configFile = values.config ?? process.env.SMSGW_CONFIG;
  if (store === undefined && configFile !== undefined) {
    try {
      store = loadConfigFile(configFile).store;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`${configFile}: invalid config\n${err.problems.join('\n')}\n`);
      return 2;
    }
  }
  store ??= defaultStore;
  if (isPostgresUrl(store)) {
    process.stderr.write(
      'smsgw backup: the store is PostgreSQL; back it up with pg_dump (pg_dump -Fc -f FILE DBNAME) and restore with pg_restore\n',
    );
    return 2;
  }
  try {
    const source = sqlitePath(store);
    if (source === ':memory:') throw new Error('an in-memory store keeps nothing to back up');
    const report = backupSqlite(source, target);
    process.stdout.write(
      `${source} backed up to ${target}: ${report.messages} messages, schema version ${report.schemaVersion}, integrity ok\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`smsgw backup: ${(err as Error).message}\n`);
    return 1;
  }
}
