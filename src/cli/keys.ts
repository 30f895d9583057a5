// `smsgw keys create --account ID`: a new API key for an account, printed once and stored
// as its hash (in the store the gateway uses: --store, SMSGW_STORE, the config's, or the
// default). A running gateway accepts it at once; a config load keeps it. Written to the
// audit log (actor `cli`), as a key made through the admin API is.
import { parseArgs } from 'node:util';
import { defaultConfig } from '../app/index.ts';
import { ConfigError, loadConfigFile } from '../config/index.ts';
import { AccountRegistry, GatewayError } from '../core/index.ts';
import { Management } from '../manage/index.ts';
import { openStore } from '../store/index.ts';

const help = `usage: smsgw keys create --account ID [--config FILE] [--store URL]

Prints a new API key for the account (a Bearer token for /v1). Only its hash is stored.
The store is --store, else SMSGW_STORE, else the config's (--config or SMSGW_CONFIG),
else sqlite:./var/smsgw.db. With a config, its accounts are loaded first, as a start does
(with what the admin API changed over them).
`;

export async function keysCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  let values: { account?: string; config?: string; store?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        account: { type: 'string' },
        config: { type: 'string', short: 'c' },
        store: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`smsgw keys: ${(err as Error).message}\n${help}`);
    return 2;
  }
  if (values.help || what === 'help') {
    process.stdout.write(help);
    return 0;
  }
  if (what !== 'create' || !values.account) {
    process.stderr.write(help);
    return 2;
  }
  const file = values.config ?? process.env.SMSGW_CONFIG;
  let config = defaultConfig();
  if (file) {
    try {
      config = loadConfigFile(file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`${file}: invalid config\n${err.problems.join('\n')}\n`);
      return 2;
    }
  }
  const url = values.store ?? process.env.SMSGW_STORE ?? config.store;
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(url);
    await store.migrate();
  } catch (err) {
    process.stderr.write(`smsgw keys: cannot open the store: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const accounts = new AccountRegistry(store);
    // The accounts in force, as a start loads them: the file's never overwrite the API's.
    const management = new Management({
      store,
      file: config,
      accounts,
      moRouteAccounts: () => new Set(),
    });
    const live = await management.load();
    await accounts.load(live.config.accounts, { passwordHashes: live.passwordHashes, removed: live.removed });
    try {
      const { key } = await management.issueKey(values.account, 'cli');
      process.stdout.write(`${key}\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      process.stderr.write(`smsgw keys: no account '${values.account}'\n`);
      return 1;
    }
  } finally {
    await store.close();
  }
}
