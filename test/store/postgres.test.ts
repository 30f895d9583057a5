// The PostgreSQL store against a throwaway server: the shared conformance suite, then what
// only a shared database shows: several instances claiming one queue, leases, migrations.
import { after, test } from 'node:test';
import { openStore, PostgresStore } from '../../src/store/index.ts';
import { missingPeer } from '../peers/available.ts';
import { startPostgres } from '../peers/postgres.ts';
import { storeConformance } from './conformance.ts';

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('PostgreSQL store', (t) => t.skip(missing));
} else {
  const server = await startPostgres();
  after(() => server.stop());

  storeConformance('PostgreSQL', async () => {
    const store = new PostgresStore({ connectionString: await server.createDatabase() });
    await store.migrate();
    return store;
  });
  storeConformance('PostgreSQL through openStore', async () => openStore(await server.createDatabase()));
}
