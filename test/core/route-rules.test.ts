// Richer rule conditions (time, dates, tags, text, country), least-cost ordering and the
// explanation of a routing decision, on the router alone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MtRouteConfig } from '../../src/config/index.ts';
import { qualityWindow, RouteQuality } from '../../src/core/route-quality.ts';
import { MoRouter, MtRouter } from '../../src/core/router.ts';

const at = (iso: string) => Date.parse(iso);
const uk = '+447700900123';
const fr = '+33612345678';

/** The index of the rule a message to `to` takes at `when` (-1: none). */
function ruleFor(
  rules: MtRouteConfig[],
  when: string,
  extra: { to?: string; text?: string | null; tags?: string[] } = {},
): number {
  return new MtRouter(rules).match({
    to: extra.to ?? uk,
    from: 'ACME',
    accountId: 'acme',
    text: extra.text === undefined ? 'hello' : extra.text,
    meta: extra.tags ? { tags: extra.tags } : null,
    at: at(when),
  });
}

const only = (match: MtRouteConfig['match']): MtRouteConfig[] => [
  { match, connectors: ['a'], strategy: 'failover' },
];

describe('match.time', () => {
  const office = only({ time: { hours: '09:00-17:00' } });

  test('hours: start inclusive, end exclusive, UTC by default', () => {
    assert.equal(ruleFor(office, '2026-12-07T08:59:59Z'), -1);
    assert.equal(ruleFor(office, '2026-12-07T09:00:00Z'), 0);
    assert.equal(ruleFor(office, '2026-12-07T16:59:59Z'), 0);
    assert.equal(ruleFor(office, '2026-12-07T17:00:00Z'), -1);
  });

  test('24:00 ends a window at the end of the day', () => {
    const evening = only({ time: { hours: '18:00-24:00' } });
    assert.equal(ruleFor(evening, '2026-12-07T17:59:00Z'), -1);
    assert.equal(ruleFor(evening, '2026-12-07T23:59:59Z'), 0);
    assert.equal(ruleFor(evening, '2026-12-08T00:00:00Z'), -1);
    assert.equal(ruleFor(only({ time: { hours: '00:00-24:00' } }), '2026-12-08T00:00:00Z'), 0);
  });

  test('a window whose end is before its start runs past midnight', () => {
    const night = only({ time: { hours: '22:00-06:00' } });
    assert.equal(ruleFor(night, '2026-12-07T21:59:00Z'), -1);
    assert.equal(ruleFor(night, '2026-12-07T22:00:00Z'), 0);
    assert.equal(ruleFor(night, '2026-12-07T23:59:00Z'), 0);
    assert.equal(ruleFor(night, '2026-12-08T00:00:00Z'), 0);
    assert.equal(ruleFor(night, '2026-12-08T05:59:00Z'), 0);
    assert.equal(ruleFor(night, '2026-12-08T06:00:00Z'), -1);
  });

  test('days and hours are read in tz', () => {
    // Friday 20:00 UTC is Saturday 09:00 in Auckland (NZDT, +13).
    const weekend = only({ time: { days: ['sat', 'sun'], hours: '08:00-12:00', tz: 'Pacific/Auckland' } });
    assert.equal(ruleFor(weekend, '2026-12-04T20:00:00Z'), 0);
    assert.equal(ruleFor(weekend, '2026-12-04T18:00:00Z'), -1, 'Saturday 07:00 there');
    assert.equal(ruleFor(weekend, '2026-12-06T20:00:00Z'), -1, 'Monday 09:00 there');
    const weekdays = only({ time: { days: ['mon', 'tue', 'wed', 'thu', 'fri'] } });
    assert.equal(ruleFor(weekdays, '2026-12-05T12:00:00Z'), -1, 'a Saturday in UTC');
    assert.equal(ruleFor(weekdays, '2026-12-07T00:00:00Z'), 0, 'a Monday in UTC');
  });

  test('daylight saving: the window follows the local clock across the change', () => {
    // London moves to BST (+1) on Sunday 29 March 2026.
    const london = only({ time: { hours: '09:00-17:00', tz: 'Europe/London' } });
    assert.equal(ruleFor(london, '2026-03-27T08:30:00Z'), -1, '08:30 GMT');
    assert.equal(ruleFor(london, '2026-03-27T16:30:00Z'), 0, '16:30 GMT');
    assert.equal(ruleFor(london, '2026-03-30T08:30:00Z'), 0, '09:30 BST');
    assert.equal(ruleFor(london, '2026-03-30T16:30:00Z'), -1, '17:30 BST');
    // New York leaves DST (-4 → -5) on 1 November 2026.
    const ny = only({ time: { hours: '22:00-02:00', tz: 'America/New_York' } });
    assert.equal(ruleFor(ny, '2026-10-31T02:30:00Z'), 0, '22:30 EDT');
    assert.equal(ruleFor(ny, '2026-11-02T02:30:00Z'), -1, '21:30 EST');
    assert.equal(ruleFor(ny, '2026-11-02T03:30:00Z'), 0, '22:30 EST');
  });
});

describe('match.dates', () => {
  test('dates are whole days, inclusive, in the rule tz', () => {
    const xmas = only({ dates: [{ from: '2026-12-24', to: '2026-12-26' }], time: { tz: 'Europe/Berlin' } });
    assert.equal(ruleFor(xmas, '2026-12-23T22:59:00Z'), -1, 'Dec 23 23:59 in Berlin');
    assert.equal(ruleFor(xmas, '2026-12-23T23:00:00Z'), 0, 'Dec 24 00:00 in Berlin');
    assert.equal(ruleFor(xmas, '2026-12-26T22:59:59Z'), 0, 'Dec 26 23:59 in Berlin');
    assert.equal(ruleFor(xmas, '2026-12-26T23:00:00Z'), -1, 'Dec 27 00:00 in Berlin');
  });

  test('timestamps are instants (to exclusive); open ends; any range may hold', () => {
    const windows = only({
      dates: [{ from: '2026-12-24T18:00:00Z', to: '2026-12-24T20:00:00+00:00' }, { from: '2027-01-01' }],
    });
    assert.equal(ruleFor(windows, '2026-12-24T17:59:59Z'), -1);
    assert.equal(ruleFor(windows, '2026-12-24T18:00:00Z'), 0);
    assert.equal(ruleFor(windows, '2026-12-24T20:00:00Z'), -1);
    assert.equal(ruleFor(windows, '2026-12-31T23:59:59Z'), -1);
    assert.equal(ruleFor(windows, '2031-06-01T00:00:00Z'), 0);
    const until = only({ dates: [{ to: '2026-12-31' }] });
    assert.equal(ruleFor(until, '2020-01-01T00:00:00Z'), 0);
    assert.equal(ruleFor(until, '2027-01-01T00:00:00Z'), -1);
  });
});

describe('match.tags, match.text, match.country', () => {
  const now = '2026-12-07T12:00:00Z';

  test('tags: the message carries one of them', () => {
    const otp = only({ tags: ['otp', 'alert*'] });
    assert.equal(ruleFor(otp, now, { tags: ['otp'] }), 0);
    assert.equal(ruleFor(otp, now, { tags: ['x', 'alert-fire'] }), 0);
    assert.equal(ruleFor(otp, now, { tags: ['promo'] }), -1);
    assert.equal(ruleFor(otp, now), -1, 'no tags');
  });

  test('text: a JavaScript regular expression; a leading (?i) ignores case; a binary message has no text', () => {
    const promo = only({ text: 're:(?i)^promo\\b' });
    assert.equal(ruleFor(promo, now, { text: 'PROMO: 10% off' }), 0);
    assert.equal(ruleFor(promo, now, { text: 'promotion' }), -1);
    assert.equal(ruleFor(promo, now, { text: null }), -1);
    const exact = only({ text: 're:^promo' });
    assert.equal(ruleFor(exact, now, { text: 'Promo' }), -1, 'case counts without (?i)');
    assert.equal(ruleFor(only({ text: ['re:code', 're:otp'] }), now, { text: 'your otp' }), 0);
  });

  test("country: the recipient number's country", () => {
    const gb = only({ country: ['GB', 'IE'] });
    assert.equal(ruleFor(gb, now), 0);
    assert.equal(ruleFor(gb, now, { to: fr }), -1);
    assert.equal(ruleFor(gb, now, { to: '12345' }), -1, 'a short code has no country');
  });

  test("lineType: the recipient number's line type from the offline lookup", () => {
    const mobile = only({ lineType: ['mobile'] });
    assert.equal(ruleFor(mobile, now, { to: fr }), 0);
    assert.equal(ruleFor(mobile, now, { to: '+33123456789' }), -1, 'a Paris landline');
    assert.equal(ruleFor(only({ lineType: ['fixed_line'] }), now, { to: '+33123456789' }), 0);
    assert.equal(ruleFor(mobile, now, { to: '12345' }), -1, 'a short code has no type');
  });

  test('all filters of one match must hold', () => {
    const all = only({ to: ['+44*'], tags: ['otp'], text: 're:code', time: { hours: '08:00-20:00' } });
    assert.equal(ruleFor(all, now, { tags: ['otp'], text: 'code 1234' }), 0);
    assert.equal(ruleFor(all, now, { tags: ['otp'], text: 'hi' }), -1);
    assert.equal(ruleFor(all, now, { tags: [], text: 'code 1234' }), -1);
    assert.equal(ruleFor(all, '2026-12-07T21:00:00Z', { tags: ['otp'], text: 'code 1234' }), -1);
    assert.equal(ruleFor(all, now, { to: fr, tags: ['otp'], text: 'code 1234' }), -1);
  });
});

describe('least-cost', () => {
  const costs = {
    a: [{ to: ['+44*'], cost: 0.05 }],
    b: [
      { to: ['+447*'], cost: 0.03 },
      { to: ['+44*'], cost: 0.07 },
    ],
    c: [{ to: ['+33*'], cost: 0.01 }],
  };
  const router = new MtRouter([{ connectors: ['c', 'a', 'b'], strategy: 'least-cost' }], [], { costs });

  test('connectors are ordered by their cost for the destination (first cost entry matching); those without one come last', () => {
    assert.deepEqual(router.order(0, uk), ['b', 'a', 'c']);
    assert.deepEqual(router.order(0, '+441632960000'), ['a', 'b', 'c']);
    assert.deepEqual(router.order(0, fr), ['c', 'a', 'b'], 'equal (no) costs keep the rule order');
    assert.equal(router.costOf('b', uk), 0.03);
    assert.equal(router.costOf('c', uk), undefined);
  });

  test('the cheapest usable one is picked; then the next in cost order', () => {
    assert.equal(
      router.pick(0, () => true, false, uk),
      'b',
    );
    assert.equal(
      router.pick(0, (c) => c !== 'b', false, uk),
      'a',
    );
    assert.equal(
      router.pick(0, (c) => c === 'c', false, uk),
      'c',
    );
    assert.equal(
      router.pick(0, () => false, false, uk),
      undefined,
    );
    assert.equal(
      router.pick(0, () => true, false, fr),
      'c',
    );
  });
});

describe('route quality', () => {
  test('delivery ratio and latency over the last receipts per connector and country', () => {
    const q = new RouteQuality();
    q.record('a', uk, true, 1000);
    q.record('a', uk, false, 50_000);
    q.record('a', '+447700900999', true, 3000);
    q.record('a', fr, false, 10);
    assert.deepEqual(q.of('a', 'GB'), {
      connector: 'a',
      country: 'GB',
      receipts: 3,
      deliveryRatio: 2 / 3,
      receiptLatencyMs: 2000,
    });
    assert.deepEqual(q.of('a', 'FR'), {
      connector: 'a',
      country: 'FR',
      receipts: 1,
      deliveryRatio: 0,
      receiptLatencyMs: null,
    });
    assert.equal(q.of('b', 'GB'), undefined);
    // The window keeps the last receipts only: the old failures leave it.
    for (let i = 0; i < qualityWindow; i++) q.record('a', uk, true, 500);
    assert.deepEqual(q.of('a', 'GB'), {
      connector: 'a',
      country: 'GB',
      receipts: qualityWindow,
      deliveryRatio: 1,
      receiptLatencyMs: 500,
    });
    assert.equal(q.list().length, 2);
  });

  test('least-cost with quality orders by the cost per delivered message once there are enough receipts', () => {
    const quality = new RouteQuality();
    const router = new MtRouter(
      [
        {
          connectors: ['cheap', 'dear', 'slow'],
          strategy: 'least-cost',
          quality: { minReceipts: 4, latencyCost: 0.01 },
        },
      ],
      [],
      {
        costs: {
          cheap: [{ to: ['*'], cost: 0.03 }],
          dear: [{ to: ['*'], cost: 0.05 }],
          slow: [{ to: ['*'], cost: 0.04 }],
        },
        quality,
      },
    );
    assert.deepEqual(router.order(0, uk), ['cheap', 'slow', 'dear'], 'no receipts yet: the costs alone');
    for (let i = 0; i < 3; i++) quality.record('cheap', uk, i === 0, 1000);
    assert.deepEqual(router.order(0, uk), ['cheap', 'slow', 'dear'], 'fewer than minReceipts');
    quality.record('cheap', uk, true, 1000); // 2 of 4 delivered: 0.03 / 0.5 + 0.01 × 1 s = 0.07
    for (let i = 0; i < 4; i++) quality.record('slow', uk, true, 2000); // 0.04 + 0.01 × 2 s = 0.06
    for (let i = 0; i < 4; i++) quality.record('dear', uk, true, 0); // 0.05
    assert.deepEqual(router.order(0, uk), ['dear', 'slow', 'cheap']);
    assert.deepEqual(router.order(0, fr), ['cheap', 'slow', 'dear'], 'another country: its own figures');
    assert.equal(
      router.pick(0, (c) => c !== 'dear', false, uk),
      'slow',
    );
    const e = router.explain({ to: uk, from: 'X', accountId: 'acme' });
    assert.deepEqual(e.connectors, ['dear', 'slow', 'cheap']);
    assert.deepEqual(e.costs, { cheap: 0.03, dear: 0.05, slow: 0.04 });
    assert.deepEqual(e.weighted, { cheap: 0.07, dear: 0.05, slow: 0.06 });
    assert.equal(e.quality?.cheap?.deliveryRatio, 0.5);
    assert.match(e.reason, /cheap 0\.03 \(weighed 0\.07: 50% of 4 delivered, receipts in 1000 ms\)/);
  });
});

describe('explain', () => {
  const router = new MtRouter(
    [
      { match: { tags: ['otp'] }, connectors: ['fast'], strategy: 'failover' },
      {
        match: { country: ['GB'], time: { hours: '08:00-20:00' } },
        connectors: ['a', 'b'],
        strategy: 'least-cost',
      },
      { match: { to: ['+33*'] }, connectors: ['a', 'b'], strategy: 'roundrobin' },
    ],
    [],
    { costs: { a: [{ to: ['*'], cost: 0.04 }], b: [{ to: ['+44*'], cost: 0.02 }] } },
  );
  const input = { to: uk, from: 'ACME', accountId: 'acme', at: at('2026-12-07T12:00:00Z') };

  test('names the rule, the connectors in the order they would be tried, the strategy and why', () => {
    const e = router.explain(input);
    assert.equal(e.rule, 1);
    assert.deepEqual(e.connectors, ['b', 'a']);
    assert.equal(e.strategy, 'least-cost');
    assert.deepEqual(e.costs, { a: 0.04, b: 0.02 });
    assert.deepEqual(e.skipped, [{ rule: 0, condition: 'tags otp' }]);
    assert.match(e.reason, /routes\.mt\[1\] matches: country GB; time 08:00-20:00 UTC/);
    assert.match(e.reason, /routes\.mt\[0\] does not \(tags otp\)/);
    assert.equal(router.explain({ ...input, meta: { tags: ['otp'] } }).rule, 0);
  });

  test('answers what sending does: the same rule as match, at any time', () => {
    for (const when of ['2026-12-07T12:00:00Z', '2026-12-07T21:00:00Z']) {
      for (const to of [uk, fr, '+15550100']) {
        const i = { ...input, to, at: at(when) };
        const m = router.match(i);
        assert.equal(router.explain(i).rule, m < 0 ? null : m);
      }
    }
  });

  test('no rule: rule null, no connectors, and what each rule lacked', () => {
    const e = router.explain({ ...input, to: '+15550100' });
    assert.equal(e.rule, null);
    assert.deepEqual(e.connectors, []);
    assert.equal(e.strategy, null);
    assert.match(
      e.reason,
      /^no rule matches: routes\.mt\[0\] does not \(tags otp\); routes\.mt\[1\] does not \(country GB\); routes\.mt\[2\] does not \(to \+33\*\)$/,
    );
  });
});

describe('MO rules', () => {
  const mo = new MoRouter([
    {
      match: { text: 're:(?i)^win', time: { hours: '09:00-18:00', tz: 'Europe/Paris' } },
      account: 'contest',
    },
    { match: { country: ['FR'], lineType: ['mobile'] }, account: 'france' },
    { account: 'rest' },
  ]);
  const route = (from: string, text: string, when: string) =>
    mo.match({ to: '+15550100', from, connectorId: 'x', text, at: at(when) })?.account;

  test("text and time windows; country and line type are the sender's", () => {
    assert.equal(route(uk, 'WIN a car', '2026-12-07T10:00:00Z'), 'contest');
    assert.equal(route(uk, 'WIN a car', '2026-12-07T17:30:00Z'), 'rest', '18:30 in Paris');
    assert.equal(route(fr, 'hello', '2026-12-07T10:00:00Z'), 'france');
    assert.equal(route(uk, 'hello', '2026-12-07T10:00:00Z'), 'rest');
    assert.equal(route('+33123456789', 'hello', '2026-12-07T10:00:00Z'), 'rest', 'a French landline');
  });
});
