// The bounded cache the gateway keeps submitted messages and SMSC id links in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedMap } from '../../src/core/bounded-map.ts';

test('a bounded map keeps at most its bound, and always the newest half of it', () => {
  const map = new BoundedMap<number, string>(10);
  for (let i = 0; i < 1_000; i++) {
    map.set(i, `v${i}`);
    assert.ok(map.size <= 10, `size ${map.size} after ${i + 1} sets`);
    for (let recent = Math.max(0, i - 4); recent <= i; recent++) {
      assert.equal(map.get(recent), `v${recent}`, `entry ${recent} kept after ${i + 1} sets`);
    }
  }
  assert.equal(map.get(0), undefined, 'the oldest are forgotten');
  assert.equal(map.has(0), false);
});

test('a bounded map updates, deletes and reads across its generations', () => {
  const map = new BoundedMap<string, number>(4);
  map.set('a', 1).set('b', 2); // a, b move to the old generation
  map.set('a', 10); // updated: the new value wins, counted once
  assert.equal(map.get('a'), 10);
  assert.equal(map.size, 2);
  assert.equal(map.delete('b'), true);
  assert.equal(map.delete('b'), false);
  assert.equal(map.has('b'), false);
  assert.equal(map.get('b'), undefined);
  map.set('u', 0);
  assert.equal(map.get('u'), 0, 'a falsy value is a value');
  assert.equal(map.size, 2);
});
