// Suppressions.knownEmpty: the synchronous answer that lets a message skip the suppression
// check. It vouches only for what isSuppressed last read, and for no longer than it would.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Suppressions } from '../../src/core/index.ts';
import { SqliteStore } from '../../src/store/index.ts';

async function suppressions(t: test.TestContext) {
  const store = new SqliteStore(':memory:');
  await store.migrate();
  t.after(() => store.close());
  let now = 1_000_000;
  const list = new Suppressions(store, () => now);
  return { list, advance: (ms: number) => (now += ms) };
}

test('knownEmpty holds only after a read found the account with no entry, and for a second at most', async (t) => {
  const { list, advance } = await suppressions(t);
  assert.equal(list.knownEmpty('acme'), false, 'never read');
  assert.equal(await list.isSuppressed('acme', '+447700900123', 'ACME'), false);
  assert.equal(list.knownEmpty('acme'), true);
  assert.equal(list.knownEmpty('beta'), false, 'another account');
  advance(999);
  assert.equal(list.knownEmpty('acme'), true);
  advance(1);
  assert.equal(list.knownEmpty('acme'), false, 'stale: read again');
});

test('an entry added ends knownEmpty at once, and the number is refused', async (t) => {
  const { list } = await suppressions(t);
  assert.equal(await list.isSuppressed('acme', '+447700900123', 'ACME'), false);
  assert.equal(list.knownEmpty('acme'), true);
  await list.add('acme', { to: '+447700900123', from: null, source: 'api' });
  assert.equal(list.knownEmpty('acme'), false);
  assert.equal(await list.isSuppressed('acme', '+447700900123', 'ACME'), true);
  assert.equal(list.knownEmpty('acme'), false, 'an account with entries is never known empty');
});
