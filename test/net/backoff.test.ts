import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../src/net/index.ts';

test('waits double while failures follow one another, within [base/2, base), capped at maxMs', () => {
  const backoff = new Backoff({ minMs: 100, maxMs: 1_000 });
  const bases = [100, 200, 400, 800, 1_000, 1_000];
  for (const base of bases) {
    const wait = backoff.next();
    assert.ok(wait >= base / 2 && wait <= base, `wait ${wait} outside [${base / 2}, ${base}]`);
  }
});

test('a success starts again from the shortest wait', () => {
  const backoff = new Backoff({ minMs: 100, maxMs: 10_000 });
  for (let i = 0; i < 5; i++) backoff.next();
  backoff.reset();
  assert.ok(backoff.next() <= 100);
});

test('jitter spreads clients that failed together', () => {
  const waits = new Set<number>();
  for (let i = 0; i < 50; i++) waits.add(new Backoff({ minMs: 1_000, maxMs: 30_000 }).next());
  assert.ok(waits.size > 10, `only ${waits.size} distinct waits out of 50`);
});
