// The billing and policy settings (docs/billing.md): what the config check refuses names
// its path; a valid file keeps every setting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';

test('bad pricing, billing and policy settings are refused, one line naming each path', () => {
  assert.throws(
    () =>
      parseConfig(`
pricing:
  - { match: { to: ["re:(("] }, price: 1, currency: EUR }
  - { price: -1, currency: euro }
accounts:
  - id: a
    apiKeys: [a-key-00001]
    billing: { type: prepay, currency: EUR, creditLimit: -5 }
    smpp: { systemId: a, password: pw, allowIps: [not-an-address] }
    policy:
      allowIps: ["10.0.0.0/33"]
      destinations: { deny: ["re:[["] }
      dailyQuota: -1
      pumping: { maxPerPrefix: 5, prefixDigits: 4 }
`),
    (err: Error & { problems?: string[] }) => {
      assert.deepEqual(
        err.problems?.map((p) => p.split(':')[0]).toSorted(),
        [
          'accounts[0].billing.creditLimit',
          'accounts[0].billing.type',
          'accounts[0].policy.dailyQuota',
          'accounts[0].policy.pumping.prefixDigits',
          'pricing[1].currency',
          'pricing[1].price',
        ],
        err.problems?.join('\n'),
      );
      return true;
    },
  );
  // Past the schema: patterns and addresses.
  assert.throws(
    () =>
      parseConfig(`
pricing:
  - { match: { to: ["re:(("] }, price: 1, currency: EUR }
accounts:
  - id: a
    apiKeys: [a-key-00001, { key: a-key-00002, allowIps: ["10.0.0.1", nowhere] }]
    smpp: { systemId: a, password: pw, allowIps: [not-an-address] }
    policy: { allowIps: ["10.0.0.0/33", "2001:db8::/32"], destinations: { deny: ["re:[["] } }
`),
    (err: Error & { problems?: string[] }) => {
      assert.deepEqual(
        err.problems?.map((p) => p.split(': ')[0]).toSorted(),
        [
          'accounts[0].apiKeys[1].allowIps[1]',
          'accounts[0].policy.allowIps[0]',
          'accounts[0].policy.destinations.deny[0]',
          'accounts[0].smpp.allowIps[0]',
          'pricing[0].match.to[0]',
        ],
        err.problems?.join('\n'),
      );
      return true;
    },
  );
});

test('an API key with its own addresses is a key like the others, its addresses kept by it', () => {
  const config = parseConfig(`
accounts:
  - id: acme
    apiKeys: [acme-key-0001, { key: acme-key-0002, allowIps: ["10.0.0.0/8"] }, { key: acme-key-0003 }]
`);
  assert.deepEqual(config.accounts[0]?.apiKeys, ['acme-key-0001', 'acme-key-0002', 'acme-key-0003']);
  assert.deepEqual(config.accounts[0]?.policy?.keyAllowIps, { 'acme-key-0002': ['10.0.0.0/8'] });
  assert.throws(
    () => parseConfig('accounts: [{ id: a, apiKeys: [{ allowIps: [] }, short] }]'),
    (err: Error & { problems?: string[] }) => {
      assert.deepEqual(err.problems?.map((p) => p.split(':')[0]).toSorted(), [
        'accounts[0].apiKeys[0].key',
        'accounts[0].apiKeys[1]',
      ]);
      return true;
    },
  );
});

test('valid billing settings are kept as written', () => {
  const config = parseConfig(`
pricing: [{ match: { to: [GB, "+1*"], account: [acme], plan: gold }, price: 0.045, currency: EUR }]
accounts:
  - id: acme
    apiKeys: [acme-key-0001]
    billing: { type: postpaid, currency: EUR, creditLimit: 100, lowBalance: 5, plan: gold }
    policy: { dailyQuota: 10, monthlyQuota: 100, pumping: { maxPerPrefix: 30 } }
`);
  assert.deepEqual(config.pricing?.[0], {
    match: { to: ['GB', '+1*'], account: ['acme'], plan: 'gold' },
    price: 0.045,
    currency: 'EUR',
  });
  assert.deepEqual(config.accounts[0]?.billing, {
    type: 'postpaid',
    currency: 'EUR',
    creditLimit: 100,
    lowBalance: 5,
    plan: 'gold',
  });
  assert.deepEqual(config.accounts[0]?.policy?.pumping, {
    maxPerPrefix: 30,
    prefixDigits: 8,
    windowSeconds: 3600,
  });
});
