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
