// A failure that says the database could not be reached is told apart from a wrong statement,
// with the errors node-postgres really raises: the HTTP API answers the first 503 (try again)
// even when the database is back by the time the answer is written.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { isStoreUnreachable } from '../../src/store/index.ts';
import { missingPeer } from '../peers/available.ts';
import { type PostgresServer, startPostgres } from '../peers/postgres.ts';

const missing = missingPeer('PostgreSQL');
if (missing) {
  test('store unreachable errors', (t) => t.skip(missing));
} else {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server.stop());

  const failureOf = async (run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (error) {
      return error;
    }
    assert.fail('expected a failure');
  };

  test('a wrong statement is not an outage', async () => {
    const pool = new pg.Pool({ connectionString: await server.createDatabase() });
    try {
      assert.equal(
        isStoreUnreachable(await failureOf(() => pool.query('SELECT * FROM no_such_table'))),
        false,
      );
      assert.equal(isStoreUnreachable(await failureOf(() => pool.query('SELECT 1/0'))), false);
      assert.equal(isStoreUnreachable(new Error('anything else')), false);
      assert.equal(isStoreUnreachable('not an error'), false);
    } finally {
      await pool.end();
    }
  });

  test('a connection cut, a server stopping and a server down are outages', async () => {
    const url = await server.createDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => {}); // idle clients cut by the shutdown
    const killer = new pg.Client({ connectionString: url });
    await killer.connect();
    try {
      // A session ended by the server while a statement runs (57P01, or the dropped socket).
      const client = await pool.connect();
      // The cut may also reach the client as an 'error' event after the query has failed.
      client.on('error', () => {});
      const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const running = failureOf(() => client.query('SELECT pg_sleep(30)'));
      await new Promise((r) => setTimeout(r, 200));
      await killer.query('SELECT pg_terminate_backend($1)', [pid]);
      assert.equal(isStoreUnreachable(await running), true);
      client.release(true);
      await killer.end();

      await server.shutDown();
      const refused = await failureOf(() => pool.query('SELECT 1'));
      assert.equal(isStoreUnreachable(refused), true, String(refused));
    } finally {
      await server.startAgain();
      await pool.end();
    }
  });
}
