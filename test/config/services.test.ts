// Sender pools (accounts[].services) as config: what cannot work is refused naming its path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import { configProblems } from './problems.ts';

const routes = `
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }
`;

test('duplicate services, senders that are no numbers, empty pools and unknown countries are refused', () => {
  const problems = configProblems(`${routes}
accounts:
  - id: a
    services:
      - { id: s, sid: MG00000000000000000000000000000001, senders: ["+447400000001", "not a number"] }
      - { id: s, senders: [] }
      - { id: t, alphanumeric: ACME, alphanumericCountries: [XX] }
  - id: b
    services: [{ id: s, sid: MG00000000000000000000000000000001, senders: ["+12025550101"] }]
`);
  assert.deepEqual(problems.toSorted(), [
    'accounts[0].services[0].senders[1]: expected a number in E.164 (+447400123456) or a short code',
    "accounts[0].services[1].id: duplicate id 's'",
    'accounts[0].services[1].senders: give at least one sender, or an alphanumeric id',
    'accounts[0].services[2].alphanumericCountries[0]: expected an ISO 3166 alpha-2 country code (GB)',
    'accounts[1].services[0].sid: already used by another service',
  ]);
});

test('a pool takes its defaults: sticky and geomatch', () => {
  const config = parseConfig(`${routes}
accounts: [{ id: a, services: [{ id: s, senders: ["+447400000001"], alphanumeric: "ACME Ltd" }] }]
`);
  assert.deepEqual(config.accounts[0]!.services, [
    { id: 's', senders: ['+447400000001'], alphanumeric: 'ACME Ltd', sticky: true, geomatch: true },
  ]);
});
