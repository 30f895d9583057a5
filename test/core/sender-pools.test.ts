// Sender pools over one store shared by two gateways (as a cluster shares PostgreSQL): a
// recipient's first sender chosen on both at once is one sender, whichever wrote first; a
// sender taken out of the pool is replaced; the store failing is store_unavailable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccountConfig } from '../../src/config/index.ts';
import { SenderPools } from '../../src/core/sender-pools.ts';
import { SqliteStore } from '../../src/store/index.ts';

const account = (senders: string[]): AccountConfig => ({
  id: 'acme',
  apiKeys: [],
  mps: 0,
  services: [{ id: 'alerts', senders, sticky: true, geomatch: true }],
});

test('two gateways choosing for one recipient at once agree on the sender', async () => {
  const store = new SqliteStore(':memory:');
  await store.migrate();
  try {
    const pool = ['+447400000001', '+447400000002'];
    const a = new SenderPools([account(pool)], store);
    const b = new SenderPools([account(pool)], store);
    // b's turn is on the pool's second number now, a's on its first.
    assert.equal(await b.senderFor('acme', 'alerts', '+447400123400'), '+447400000001');
    const [fromA, fromB] = await Promise.all([
      a.senderFor('acme', 'alerts', '+447400123401'),
      b.senderFor('acme', 'alerts', '+447400123401'),
    ]);
    assert.equal(fromA, fromB);
    // A gateway started afresh reads it from the store.
    assert.equal(
      await new SenderPools([account(pool)], store).senderFor('acme', 'alerts', '+447400123401'),
      fromA,
    );
    // Taken out of the pool: the recipient gets another, kept from then on.
    const rest = pool.filter((n) => n !== fromA);
    const shrunk = new SenderPools([account(rest)], store);
    assert.equal(await shrunk.senderFor('acme', 'alerts', '+447400123401'), rest[0]);
    assert.equal(
      await new SenderPools([account(pool)], store).senderFor('acme', 'alerts', '+447400123401'),
      rest[0],
    );
  } finally {
    await store.close();
  }
});

test('a store that cannot be read or written refuses with store_unavailable', async () => {
  const store = new SqliteStore(':memory:');
  await store.migrate();
  await store.close();
  await assert.rejects(
    new SenderPools([account(['+447400000001'])], store).senderFor('acme', 'alerts', '+447400123401'),
    (err: { code: string; httpStatus: number }) => err.code === 'store_unavailable' && err.httpStatus === 503,
  );
});
