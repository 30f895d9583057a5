// The account registry's key lookup: a key that matched is remembered with its hash (no
// SHA-256 per request), and what it opens follows the keys as they change.
import assert from 'node:assert/strict';
import test from 'node:test';
import { AccountRegistry, apiKeyId, hashApiKey } from '../../src/core/index.ts';
import { SqliteStore } from '../../src/store/index.ts';

async function registry(t: test.TestContext) {
  const store = new SqliteStore(':memory:');
  await store.migrate();
  t.after(() => store.close());
  const accounts = new AccountRegistry(store);
  await accounts.load([
    { id: 'acme', apiKeys: ['acme-key-1', 'acme-key-2'] },
    { id: 'beta', apiKeys: ['beta-key-1'] },
  ] as never);
  return accounts;
}

test('a key opens its account again and again; a wrong one never', async (t) => {
  const accounts = await registry(t);
  for (let i = 0; i < 3; i++) {
    assert.equal(accounts.byApiKey('acme-key-1')?.id, 'acme');
    assert.equal(accounts.byApiKey('acme-key-2')?.id, 'acme');
    assert.equal(accounts.byApiKey('beta-key-1')?.id, 'beta');
    assert.equal(accounts.byApiKey('acme-key-3'), undefined);
    assert.equal(accounts.byApiKey(''), undefined);
  }
});

test('a revoked key stops at once, even one just used; the others go on', async (t) => {
  const accounts = await registry(t);
  assert.equal(accounts.byApiKey('acme-key-1')?.id, 'acme');
  assert.equal(accounts.byApiKey('acme-key-2')?.id, 'acme');
  assert.ok(await accounts.revokeKey('acme', apiKeyId(hashApiKey('acme-key-1'))));
  assert.equal(accounts.byApiKey('acme-key-1'), undefined);
  assert.equal(accounts.byApiKey('acme-key-2')?.id, 'acme');
  assert.equal(accounts.byApiKey('beta-key-1')?.id, 'beta');
});

test('an account removed takes its remembered keys with it; a changed one is found as it is now', async (t) => {
  const accounts = await registry(t);
  assert.equal(accounts.byApiKey('beta-key-1')?.id, 'beta');
  assert.equal(accounts.byApiKey('acme-key-1')?.defaultFrom, null);
  await accounts.load([{ id: 'acme', apiKeys: ['acme-key-1'], defaultFrom: 'ACME' }] as never, {
    removed: ['beta'],
  });
  assert.equal(accounts.byApiKey('beta-key-1'), undefined);
  assert.equal(accounts.byApiKey('acme-key-1')?.defaultFrom, 'ACME');
  assert.equal(accounts.byApiKey('acme-key-2'), undefined, 'a key the file no longer names');
});
