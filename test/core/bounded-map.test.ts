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

test('a map bounded by bytes keeps what its entries weigh under the bound, and the newest half of it', () => {
  // Values are strings weighing their length: the bound is 1,000 "bytes".
  const map = new BoundedMap<number, string>(1_000, (_, value) => value.length);
  let weight = 0;
  for (let i = 0; i < 500; i++) {
    const value = 'x'.repeat(1 + (i % 97));
    map.set(i, value);
    weight = 0;
    for (let k = 0; k <= i; k++) weight += map.get(k)?.length ?? 0;
    assert.ok(weight <= 1_000 + 97, `${weight} bytes held after ${i + 1} sets`);
    // The newest entries worth half the bound are all there.
    let newest = 0;
    for (let k = i; k >= 0 && newest + (1 + (k % 97)) <= 500; k--) {
      newest += 1 + (k % 97);
      assert.ok(map.has(k), `entry ${k} kept after ${i + 1} sets`);
    }
  }
  assert.equal(map.has(0), false, 'the oldest are forgotten');
});

test('a map bounded by bytes counts an updated or deleted entry at its current weight', () => {
  const map = new BoundedMap<string, string>(100, (_, value) => value.length);
  map.set('a', 'x'.repeat(40));
  map.set('a', 'x'.repeat(10)); // 10 held, not 50: more fit before the generation turns
  map.set('b', 'x'.repeat(30));
  assert.equal(map.size, 2);
  assert.equal(map.get('a')?.length, 10, 'still young: 40 bytes < half the bound');
  map.delete('b');
  map.set('c', 'x'.repeat(35)); // 45 young: under half
  assert.equal(map.get('a')?.length, 10);
  map.set('d', 'x'.repeat(5)); // 50: a, c and d turn old, still kept
  assert.deepEqual(
    ['a', 'c', 'd'].map((k) => map.has(k)),
    [true, true, true],
  );
  map.set('e', 'x'.repeat(50)); // e fills the next young generation: the old one is dropped
  assert.deepEqual(
    ['a', 'c', 'd', 'e'].map((k) => map.has(k)),
    [false, false, false, true],
  );
});
