// TpsBudget.take: a promise only for a token that is owed, so that a part sent without a
// limit (or within it) costs no promise; an owed one still waits for its turn.
import assert from 'node:assert/strict';
import test from 'node:test';
import { TpsBudget } from '../../src/connectors/tps.ts';

test('without a limit no part waits, and none gets a promise', () => {
  const budget = new TpsBudget(0);
  for (let i = 0; i < 1000; i++) assert.equal(budget.take(), undefined);
});

test('within the burst no promise; beyond it each part waits for its token', async () => {
  // 10 a second: a burst of one token, then one every 100 ms.
  const budget = new TpsBudget(10);
  assert.equal(budget.take(), undefined);
  const owed = budget.take();
  assert.ok(owed instanceof Promise, 'the second token is owed');
  const start = performance.now();
  await owed;
  assert.ok(performance.now() - start >= 90, `waited ${performance.now() - start} ms`);
});
