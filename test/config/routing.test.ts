// Routing rules' conditions and connector costs as config: what cannot work is refused at
// load and by `config check`, each problem naming its path (and its line in the file).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkConfigText, parseConfig, validateMoRoutes } from '../../src/config/index.ts';

const connectors = `
connectors:
  - { id: a, type: simulator }
  - { id: b, type: simulator }
`;

function problemsOf(yaml: string): string[] {
  try {
    parseConfig(yaml);
  } catch (err) {
    return ((err as { problems?: string[] }).problems ?? [(err as Error).message]).toSorted();
  }
  assert.fail('the config was accepted');
}

test('bad hours, tz, dates, text, tags and cost patterns are refused naming their paths', () => {
  const problems = problemsOf(`${connectors}
  - { id: c, type: simulator, costs: [{ to: ['re:(+44'], cost: 0.1 }] }
routes:
  mt:
    - { match: { time: { hours: "9-17", tz: Europe/Londres } }, connectors: [a] }
    - { match: { time: { hours: "10:00-10:00" } }, connectors: [a] }
    - { match: { time: { hours: "10:00-12:00-14:00" } }, connectors: [a] }
    - { match: { dates: [{ from: "2026-02-30" }, { from: "2026-12-24", to: "24/12/2026" }] }, connectors: [a] }
    - { match: { text: "re:(unclosed", tags: ["re:[", ok], country: [GB, UK] }, connectors: [a], strategy: least-cost }
    - { match: { time: { hours: "25:00-01:00" } }, connectors: [b], quality: { minReceipts: 5 } }
  mo:
    - { match: { time: { tz: Mars/Olympus } , text: ["re:("] }, account: x }
accounts: [{ id: x }]
`);
  const at = (path: string) =>
    problems.find((p) => p.startsWith(`${path}: `)) ?? assert.fail(`${path} in:\n${problems.join('\n')}`);
  assert.match(at('routes.mt[0].match.time.hours'), /HH:MM-HH:MM/);
  assert.match(at('routes.mt[0].match.time.tz'), /unknown time zone 'Europe\/Londres'/);
  assert.match(at('routes.mt[1].match.time.hours'), /two different times/);
  assert.match(at('routes.mt[2].match.time.hours'), /10:00-12:00-14:00/);
  assert.match(at('routes.mt[3].match.dates[0].from'), /no such date/);
  assert.match(at('routes.mt[3].match.dates[1].to'), /YYYY-MM-DD/);
  assert.match(at('routes.mt[4].match.text'), /bad regular expression/);
  assert.match(at('routes.mt[4].match.tags[0]'), /bad regular expression/);
  assert.match(at('routes.mt[4].match.country[1]'), /ISO 3166.*'UK'/);
  assert.match(at('routes.mt[5].match.time.hours'), /HH:MM-HH:MM/);
  assert.match(at('routes.mt[5].quality'), /only for strategy least-cost/);
  assert.match(at('routes.mo[0].match.time.tz'), /Mars\/Olympus/);
  assert.match(at('routes.mo[0].match.text[0]'), /bad regular expression/);
  assert.match(at('connectors[2].costs[0].to[0]'), /bad regular expression/);
  assert.equal(problems.length, 14, problems.join('\n'));
});

test('days, countries, strategy and costs outside their kinds are refused naming their paths', () => {
  const problems = problemsOf(`${connectors}
  - { id: c, type: simulator, costs: [{ to: ['+33*'], cost: -1 }, { cost: 1 }] }
routes:
  mt:
    - { match: { time: { days: [monday] }, country: [gb] }, connectors: [a], strategy: cheapest }
`);
  const at = (path: string) =>
    problems.find((p) => p.startsWith(`${path}: `)) ?? assert.fail(`${path} in:\n${problems.join('\n')}`);
  assert.match(at('routes.mt[0].match.time.days[0]'), /mon, tue, wed, thu, fri, sat, sun/);
  assert.match(at('routes.mt[0].match.country[0]'), /ISO 3166/);
  assert.match(at('routes.mt[0].strategy'), /failover, roundrobin, weighted or least-cost/);
  assert.match(at('connectors[2].costs[0].cost'), /number/);
  assert.match(at('connectors[2].costs[1].to'), /required/);
});

test('the problems of one date list are all found, each at its path', () => {
  const problems = problemsOf(`${connectors}
routes:
  mt:
    - { match: { dates: [{}, { from: "2026-12-25", to: "2026-12-24" }] }, connectors: [a] }
`);
  assert.deepEqual(problems, [
    'routes.mt[0].match.dates[0]: give from, to or both',
    'routes.mt[0].match.dates[1].to: ends before it starts',
  ]);
});

test('config check places a bad hours at its line and column', () => {
  const text = `${connectors}
routes:
  mt:
    - match:
        time:
          hours: "9am-5pm"
      connectors: [a]
`;
  const { findings } = checkConfigText(text);
  assert.equal(findings.length, 1);
  const [f] = findings;
  assert.equal(f!.severity, 'error');
  assert.equal(f!.path, 'routes.mt[0].match.time.hours');
  assert.equal(text.split('\n')[f!.line - 1]!.trim(), 'hours: "9am-5pm"');
});

test('good rules load: every condition, least-cost and connector costs', () => {
  const config = parseConfig(`
connectors:
  - { id: a, type: simulator, costs: [{ to: ['+44*'], cost: 0.031 }] }
  - { id: b, type: simulator, costs: [{ to: ['*'], cost: 0.05 }] }
routes:
  mt:
    - match:
        time: { days: [mon, tue, wed, thu, fri], hours: "22:00-06:00", tz: Europe/London }
        dates: [{ from: "2026-12-24", to: "2026-12-26" }, { from: "2027-01-01T00:00:00Z" }]
        tags: [otp]
        text: "re:(?i)code"
        country: [GB]
      connectors: [a, b]
      strategy: least-cost
  mo:
    - { match: { country: [FR], time: { hours: "09:00-17:00" } }, reply: "merci" }
`);
  assert.equal(config.routes.mt[0]!.strategy, 'least-cost');
  assert.deepEqual(config.connectors[0]!.costs, [{ to: ['+44*'], cost: 0.031 }]);
});

test('config check warns of a least-cost rule none of whose connectors has costs', () => {
  const { findings } = checkConfigText(`${connectors}
routes:
  mt: [{ connectors: [a, b], strategy: least-cost }]
`);
  assert.deepEqual(
    findings.map((f) => [f.severity, f.path]),
    [['warning', 'routes.mt[0].strategy']],
  );
});

test('MO rules set at run time (PUT /v1/admin/routes/mo) are checked the same way', () => {
  assert.throws(
    () =>
      validateMoRoutes(
        [{ match: { time: { hours: 'noon', tz: 'Nowhere/City' }, country: ['ZZ'] }, account: 'a' }],
        new Set(['a']),
      ),
    (err: Error & { problems?: string[] }) => {
      assert.deepEqual(err.problems?.toSorted(), [
        "routes.mo[0].match.country[0]: expected an ISO 3166 alpha-2 country code in capitals (GB, US...), got 'ZZ'",
        'routes.mo[0].match.time.hours: expected "HH:MM-HH:MM", two different times (got \'noon\')',
        "routes.mo[0].match.time.tz: unknown time zone 'Nowhere/City' (an IANA name such as Europe/London)",
      ]);
      return true;
    },
  );
  assert.equal(
    validateMoRoutes(
      [{ match: { time: { hours: '09:00-17:00', tz: 'Europe/Paris' } }, account: 'a' }],
      new Set(['a']),
    ).length,
    1,
  );
});

test('network matches need the online lookup, and MCC+MNC written as digits; the lookup needs its network paths', () => {
  const withoutLookup = problemsOf(`${connectors}
routes:
  mt:
    - { match: { network: ["23415", "234-15"] }, connectors: [a] }
  mo:
    - { match: { network: ["310260"] }, account: x }
accounts: [{ id: x }]
`);
  assert.ok(
    withoutLookup.some((p) => p.startsWith('routes.mt[0].match.network: needs the online number lookup')),
    withoutLookup.join('\n'),
  );
  assert.ok(
    withoutLookup.some((p) => p.startsWith('routes.mo[0].match.network: needs the online number lookup')),
  );
  const badEntry = problemsOf(`${connectors}
lookup: { url: "http://hlr.example/{{number}}", response: { network: result.mccmnc } }
routes:
  mt: [{ match: { network: ["234-1"] }, connectors: [a] }]
`);
  assert.equal(badEntry.length, 1);
  assert.match(badEntry[0]!, /^routes\.mt\[0\]\.match\.network\[0\]: expected MCC\+MNC/);
  const badLookup = problemsOf(`${connectors}
lookup: { url: "http://hlr.example/{{number}}", response: { mcc: result.mcc } }
routes:
  mt: [{ match: { network: ["234"] }, connectors: [a] }]
`);
  assert.deepEqual(badLookup, ['lookup.response: give mcc and mnc, or network']);
  parseConfig(`${connectors}
lookup: { url: "http://hlr.example/{{number}}", response: { network: result.mccmnc } }
routes:
  mt: [{ match: { network: ["234", "234-15"] }, connectors: [a] }]
`);
});
