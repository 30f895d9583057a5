// Billing's rules on their own: which price list entry prices a message, what a message's
// price and currency are, and which addresses an account's credentials work from.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Billing } from '../../src/billing/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import type { Message } from '../../src/core/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { makeMessage } from '../store/conformance.ts';

const store = new SqliteStore(':memory:');
await store.migrate();
after(() => store.close());

const config = parseConfig(`
pricing:
  - { match: { to: ["+1555*"], account: acme }, price: 0.001, currency: USD }
  - { match: { to: ["+44*"], plan: gold }, price: 0.02, currency: EUR }
  - { match: { to: [GB, IE] }, price: 0.04, currency: EUR }
  - { match: { to: ["+1*"] }, price: 0.03, currency: USD }
  - { match: { to: ["*"] }, price: 0.000001, currency: EUR }
accounts:
  - { id: acme, apiKeys: [acme-key-0001] }
  - { id: gold, apiKeys: [gold-key-0001], billing: { type: prepaid, currency: EUR, plan: gold } }
  - { id: euro, apiKeys: [euro-key-0001], billing: { type: prepaid, currency: EUR } }
  - id: fenced
    apiKeys: [fenced-key-001]
    smpp: { systemId: fenced, password: pw, allowIps: ["2001:db8::/32"] }
    policy: { allowIps: ["10.0.0.0/8", "192.0.2.7"] }
`);
const billing = new Billing({ store, config });

function priced(accountId: string, to: string, segments = 1): Pick<Message, 'priceMicros' | 'currency'> {
  const m = makeMessage({ accountId, to, segments });
  billing.admit(m);
  return { priceMicros: m.priceMicros, currency: m.currency };
}

test('the first matching entry prices a message: account, plan, country, prefix', () => {
  assert.deepEqual(priced('acme', '+15550100'), { priceMicros: 1_000, currency: 'USD' });
  assert.deepEqual(priced('other', '+15550100'), { priceMicros: 30_000, currency: 'USD' });
  assert.deepEqual(priced('gold', '+447700900001'), { priceMicros: 20_000, currency: 'EUR' });
  assert.deepEqual(priced('acme', '+447700900001'), { priceMicros: 40_000, currency: 'EUR' }, 'GB');
  assert.deepEqual(priced('acme', '+353851234567'), { priceMicros: 40_000, currency: 'EUR' }, 'IE');
  assert.deepEqual(priced('acme', '+33612345678'), { priceMicros: 1, currency: 'EUR' });
});

test("a message's price is the per-part price times its parts", () => {
  assert.deepEqual(priced('acme', '+447700900001', 3), { priceMicros: 120_000, currency: 'EUR' });
});

test("a billed account is priced only by entries in its currency; none: price null, the account's currency", () => {
  assert.deepEqual(priced('euro', '+15550100'), { priceMicros: 1, currency: 'EUR' });
  const unpriced = new Billing({
    store,
    config: { accounts: config.accounts, pricing: [{ price: 1, currency: 'USD' }] },
  });
  const m = makeMessage({ accountId: 'euro', to: '+15550100' });
  unpriced.admit(m);
  assert.deepEqual([m.priceMicros, m.currency], [null, 'EUR']);
});

test('address allow-lists: ranges and addresses, IPv4-mapped IPv6 peers as their IPv4', () => {
  for (const address of ['10.1.2.3', '::ffff:10.9.9.9', '192.0.2.7'])
    assert.equal(billing.allowsAddress('fenced', 'api', address), true, address);
  for (const address of ['192.0.2.8', '11.0.0.1', '2001:db8::1', 'garbage', undefined])
    assert.equal(billing.allowsAddress('fenced', 'api', address), false, String(address));
  assert.equal(billing.allowsAddress('fenced', 'smpp', '2001:db8::1'), true);
  assert.equal(billing.allowsAddress('fenced', 'smpp', '10.1.2.3'), false);
  assert.equal(billing.allowsAddress('acme', 'api', '203.0.113.1'), true, 'no list: anywhere');
});

test('top-level pumping limits hold for every account that sets none of its own', () => {
  const limited = new Billing({
    store,
    config: parseConfig(`
pumping: { maxPerPrefix: 2 }
accounts:
  - { id: plain, apiKeys: [plain-key-0001] }
  - { id: own, apiKeys: [own-key-00001], policy: { pumping: { maxPerPrefix: 4 } } }
`),
  });
  const burst = (accountId: string, n: number) =>
    Array.from({ length: n }, (_, i) => makeMessage({ accountId, to: `+4477009001${10 + i}` }));
  assert.equal(limited.charge('plain', burst('plain', 2)), undefined);
  assert.throws(() => limited.charge('plain', burst('plain', 1)), { code: 'destination_rate_limited' });
  // Not in the config at all (an account made at run time): the same limits.
  assert.throws(() => limited.charge('made-later', burst('made-later', 3)), {
    code: 'destination_rate_limited',
  });
  assert.equal(limited.charge('own', burst('own', 4)), undefined);
  assert.throws(() => limited.charge('own', burst('own', 1)), { code: 'destination_rate_limited' });
  // Another range is counted apart.
  assert.equal(limited.charge('plain', [makeMessage({ accountId: 'plain', to: '+33612345678' })]), undefined);
});
