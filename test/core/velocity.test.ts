// Velocity limits (SMS-pumping defences of Verify and account policies): events per key
// and window, taken all together or not at all, and given back when what they counted
// did not happen.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VelocityLimits } from '../../src/core/index.ts';

const budget = (key: string, count = 1) => ({ key, max: 3, windowSeconds: 3600, count });

test('events are taken from every budget together, or from none', () => {
  const limits = new VelocityLimits();
  assert.equal(limits.take([budget('a', 2), budget('b')]), null);
  // `a` has room for one more, not two: nothing is taken, `b` keeps its room.
  const spent = limits.take([budget('b', 2), budget('a', 2)]);
  assert.equal(spent?.budget.key, 'a');
  assert.ok(spent.waitMs > 0);
  assert.equal(limits.take([budget('b', 2)]), null);
  assert.equal(limits.take([budget('b')])?.budget.key, 'b');
  assert.equal(limits.take([budget('a')]), null);
  assert.equal(limits.take([budget('a')])?.budget.key, 'a');
});

test('events given back make room again', () => {
  const limits = new VelocityLimits();
  assert.equal(limits.take([budget('a', 3)]), null);
  assert.equal(limits.take([budget('a')])?.budget.key, 'a');
  limits.giveBack([budget('a', 2)]);
  assert.equal(limits.take([budget('a', 2)]), null);
  assert.ok(limits.take([budget('a')]));
});

test('keys are held within maxBytes: the least recently used are forgotten, the ones in use kept', () => {
  const limits = new VelocityLimits(() => 1, 64 * 1024);
  const perDay = (key: string, max = 1) => ({ key, max, windowSeconds: 86_400 });
  // A client sending to a new prefix each time: every bucket stays short of full for a day.
  // Before, none of them was let go (only full ones were), and past 10,000 keys each new
  // one cost a pass over all the others.
  const n = 12_000;
  for (let i = 0; i < n; i++) assert.equal(limits.take([perDay('account', n), perDay(`prefix ${i}`)]), null);
  assert.ok(limits.take([perDay('account', n)]), 'the key every send touched is kept');
  assert.ok(limits.take([perDay(`prefix ${n - 1}`)]), 'a recent prefix is kept');
  assert.equal(limits.take([perDay('prefix 0')]), null, 'the oldest prefix is forgotten');
});
