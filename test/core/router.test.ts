// Routing rules as data: first match wins; failover, round-robin and weighted spreading;
// MO rules by number, connector and keyword.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MoRouter, MtRouter } from '../../src/core/router.ts';

const mt = new MtRouter([
  { match: { to: ['+44*'], account: ['acme'] }, connectors: ['a', 'b'], strategy: 'failover' },
  { match: { to: ['re:^\\+1\\d{10}$'] }, connectors: ['a', 'b', 'c'], strategy: 'roundrobin' },
  { match: { from: ['BANK'] }, connectors: ['a', 'b'], strategy: 'weighted', weights: { a: 3, b: 1 } },
  { connectors: ['c'], strategy: 'failover' },
]);

describe('MT router', () => {
  test('the first rule whose filters all match wins; a rule without match is the default', () => {
    assert.equal(mt.match({ to: '+447700900123', from: 'X', accountId: 'acme' }), 0);
    assert.equal(mt.match({ to: '+447700900123', from: 'X', accountId: 'other' }), 3);
    assert.equal(mt.match({ to: '+15550001234', from: 'X', accountId: 'other' }), 1);
    assert.equal(mt.match({ to: '+1555000123', from: 'X', accountId: 'other' }), 3, 'regex needs 10 digits');
    assert.equal(mt.match({ to: '+33612345678', from: 'BANK', accountId: 'other' }), 2);
    assert.equal(
      new MtRouter([{ match: { to: ['+44*'] }, connectors: ['a'], strategy: 'failover' }]).match({
        to: '+33',
        from: '',
        accountId: '',
      }),
      -1,
    );
  });

  test('failover takes the first usable connector, in order', () => {
    assert.equal(
      mt.pick(0, () => true),
      'a',
    );
    assert.equal(
      mt.pick(0, (c) => c !== 'a'),
      'b',
    );
    assert.equal(
      mt.pick(0, () => false),
      undefined,
    );
  });

  test('round-robin rotates over the usable connectors', () => {
    const picks = Array.from({ length: 6 }, () => mt.pick(1, () => true));
    assert.deepEqual(picks, ['a', 'b', 'c', 'a', 'b', 'c']);
    const skipping = Array.from({ length: 4 }, () => mt.pick(1, (c) => c !== 'b'));
    assert.deepEqual(skipping, ['a', 'c', 'a', 'c']);
  });

  test('weighted spreads exactly by weight, smoothly, and skips an unusable connector', () => {
    const picks = Array.from({ length: 400 }, () => mt.pick(2, () => true));
    assert.equal(picks.filter((p) => p === 'a').length, 300);
    assert.equal(picks.filter((p) => p === 'b').length, 100);
    // Smooth: never more than 3 of a in a row.
    assert.ok(!picks.join('').includes('aaaa'));
    assert.ok(Array.from({ length: 10 }, () => mt.pick(2, (c) => c === 'b')).every((p) => p === 'b'));
  });
});

describe('MO router', () => {
  const mo = new MoRouter([
    { match: { to: ['+15550100'], keyword: ['stop', 'unsubscribe'] }, account: 'optout' },
    { match: { to: ['+15550100'] }, account: 'acme' },
    { match: { connector: ['carrier-b'] }, account: 'beta' },
  ]);

  test('routes by number, by keyword (first word, any case) and by connector', () => {
    assert.equal(
      mo.accountFor({ to: '+15550100', from: '+447700900001', connectorId: 'x', text: 'Stop please' }),
      'optout',
    );
    assert.equal(
      mo.accountFor({ to: '+15550100', from: '+447700900001', connectorId: 'x', text: 'stopped' }),
      'acme',
    );
    assert.equal(
      mo.accountFor({ to: '+15550199', from: '+447700900001', connectorId: 'carrier-b', text: 'hi' }),
      'beta',
    );
    assert.equal(
      mo.accountFor({ to: '+15550199', from: '+447700900001', connectorId: 'carrier-a', text: 'hi' }),
      undefined,
    );
  });
});
