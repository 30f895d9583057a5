// Routing rules as data: first match wins; failover, round-robin and weighted spreading;
// MO rules by number, connector and keyword.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { firstWord, foldKeyword, MoRouter, MtRouter } from '../../src/core/router.ts';

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

  test('a spread pick (emergency) takes turns over every connector whatever the strategy', () => {
    assert.deepEqual(
      Array.from({ length: 4 }, () => mt.pick(0, () => true, true)),
      ['a', 'b', 'a', 'b'],
      'a failover rule spreads too',
    );
    assert.equal(
      mt.pick(0, () => true),
      'a',
      'other traffic keeps to failover',
    );
    assert.deepEqual(
      Array.from({ length: 3 }, () => mt.pick(0, (c) => c !== 'a', true)),
      ['b', 'b', 'b'],
    );
    const zero = new MtRouter([{ connectors: ['a', 'b'], strategy: 'weighted', weights: { a: 1, b: 0 } }]);
    assert.deepEqual(
      Array.from({ length: 3 }, () => zero.pick(0, () => true, true)),
      ['a', 'a', 'a'],
      'a weight of 0 still excludes',
    );
  });
});

describe('MO router', () => {
  const mo = new MoRouter([
    { match: { to: ['+15550100'], keyword: ['stop', 'unsubscribe', 'arrêt'] }, account: 'optout' },
    { match: { to: ['+15550100'] }, account: 'acme' },
    {
      match: { connector: ['carrier-b'] },
      url: { url: 'http://x', method: 'GET', format: 'kannel', replyWithBody: true },
    },
  ]);
  const route = (to: string, connectorId: string, text: string | null) =>
    mo.match({ to, from: '+447700900001', connectorId, text });

  test('routes by number, by keyword (first word, any case and accents) and by connector', () => {
    assert.equal(route('+15550100', 'x', 'Stop please')?.account, 'optout');
    assert.equal(route('+15550100', 'x', '  stop.')?.account, 'optout');
    assert.equal(route('+15550100', 'x', 'ARRET')?.account, 'optout');
    assert.equal(route('+15550100', 'x', 'Arrêt')?.account, 'optout');
    assert.equal(route('+15550100', 'x', 'stopped')?.account, 'acme');
    assert.equal(route('+15550100', 'x', null)?.account, 'acme');
    assert.equal(route('+15550199', 'carrier-b', 'hi')?.url?.url, 'http://x');
    assert.equal(route('+15550199', 'carrier-a', 'hi'), undefined);
  });

  test('a re: keyword is a regular expression on the first word, in any case', () => {
    const contest = new MoRouter([
      { match: { keyword: ['re:^win\\d*$'] }, account: 'contest' },
      { account: 'rest' },
    ]);
    const of = (text: string) =>
      contest.match({ to: '+15550100', from: '+447700900001', connectorId: 'x', text })?.account;
    assert.equal(of('win12 now'), 'contest');
    assert.equal(of('WIN'), 'contest');
    assert.equal(of('winner'), 'rest');
  });

  test('keywords fold case and accents; the first word loses trailing punctuation', () => {
    assert.equal(foldKeyword('Désabonner'), 'DESABONNER');
    assert.equal(firstWord('  Help! me'), 'Help');
    assert.equal(firstWord(''), '');
  });
});

describe('MT router: pinned connectors', () => {
  const pinned = new MtRouter(
    [{ match: { to: ['+44*'] }, connectors: ['a'], strategy: 'failover' }],
    ['a', 'b'],
  );

  test('meta.via pins a message to its connector; unknown or absent pins route as configured', () => {
    const input = { to: '+15550100', from: 'X', accountId: 'acc' };
    assert.equal(pinned.match(input), -1, 'a pinned route does not take unpinned messages');
    const viaB = pinned.match({ ...input, meta: { via: 'b' } });
    assert.deepEqual(pinned.connectorsOf(viaB), ['b']);
    assert.equal(pinned.match({ ...input, meta: { via: 'nope' } }), -1);
    assert.equal(pinned.match({ ...input, to: '+447700900001', meta: null }), 0);
  });
});
