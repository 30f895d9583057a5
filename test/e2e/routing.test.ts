// Routing end to end: tags through REST and batches pick their rule, explain answers what
// sending does, and least-cost goes cheapest first, falling back when that one fails, with
// the chosen cost kept on the message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { CommandStatus } from '../../src/smpp/index.ts';
import { missingPeer } from '../peers/available.ts';
import { startPostgres } from '../peers/postgres.ts';
import { api, gatewayFrom, waitFor } from './helpers.ts';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

describe('routing', () => {
  // The cheap carrier answers every submit with a temporary error; the dear one delivers.
  const cheapSim = new SmscSimulator({
    deliveryDelayMs: 10,
    failRate: 1,
    failStatus: CommandStatus.ESME_RX_T_APPN,
  });
  const dearSim = new SmscSimulator({ deliveryDelayMs: 10 });
  // This one refuses every submit for good (ESME_RSUBMITFAIL).
  const refusingSim = new SmscSimulator({ deliveryDelayMs: 10, failRate: 1 });
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let call: ReturnType<typeof api>;
  let admin: ReturnType<typeof api>;

  before(async () => {
    const cheap = await cheapSim.listen(0);
    const dear = await dearSim.listen(0);
    const refusing = await refusingSim.listen(0);
    closers.push(
      () => cheapSim.close(),
      () => dearSim.close(),
      () => refusingSim.close(),
    );
    gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-1] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
  - { id: gb, apiKeys: [gb-key-1], defaultFrom: GB, defaultCountry: GB }
  - { id: night, apiKeys: [night-key-1], defaultFrom: NIGHT }
connectors:
  - id: cheap
    type: smpp
    host: 127.0.0.1
    port: ${cheap.port}
    systemId: gw
    password: pw
    costs: [{ to: ['+44*'], cost: 0.01 }]
  - id: dear
    type: smpp
    host: 127.0.0.1
    port: ${dear.port}
    systemId: gw
    password: pw
    costs: [{ to: ['+447*'], cost: 0.05 }, { to: ['*'], cost: 0.5 }]
  - { id: refusing, type: smpp, host: 127.0.0.1, port: ${refusing.port}, systemId: gw, password: pw, costs: [{ to: ['*'], cost: 0.001 }] }
  - { id: refusing2, type: smpp, host: 127.0.0.1, port: ${refusing.port}, systemId: gw2, password: pw, costs: [{ to: ['*'], cost: 0.002 }] }
  - { id: tagged, type: simulator, deliveryDelayMs: 10 }
  - { id: rest, type: simulator, deliveryDelayMs: 10, costs: [{ to: ['*'], cost: 0.002 }] }
  - { id: lossy, type: simulator, deliveryDelayMs: 10, outcomes: [{ to: '*', status: undelivered }], costs: [{ to: ['*'], cost: 0.01 }] }
  - { id: good, type: simulator, deliveryDelayMs: 10, costs: [{ to: ['*'], cost: 0.03 }] }
routes:
  mt:
    - { match: { tags: [otp] }, connectors: [tagged] }
    - { match: { account: [night], time: { hours: "22:00-06:00", tz: Europe/Paris } }, connectors: [tagged] }
    - { match: { country: [GB] }, connectors: [dear, cheap], strategy: least-cost }
    - { match: { country: [DE] }, connectors: [lossy, good], strategy: least-cost, quality: { minReceipts: 3 } }
    - { match: { country: [HU] }, connectors: [dear, refusing], strategy: least-cost }
    - { match: { country: [AT] }, connectors: [refusing2, refusing], strategy: least-cost }
    - { match: { country: [BE] }, connectors: [dear, refusing], strategy: failover }
    - { connectors: [rest] }
`);
    closers.push(() => gw.close());
    call = api(gw.base, 'acme-key-1');
    admin = api(gw.base, 'admin-key-1');
    // Both carriers bound, so the cheap one is there to be tried first.
    await waitFor(async () => {
      const { body } = await admin('GET', '/v1/admin/connectors');
      return (body.data as Array<{ id: string; type: string; status: string }>)
        .filter((c) => c.type === 'smpp')
        .every((c) => c.status === 'up');
    });
  });

  const finalOf = (id: string) =>
    waitFor(async () => {
      const m = (await admin('GET', `/v1/admin/messages/${id}`)).body;
      return m.status === 'delivered' ? m : undefined;
    }, 20_000);

  test('tags on POST /v1/messages pick the tagged rule and are shown on the message', async () => {
    const sent = await call('POST', '/v1/messages', {
      to: '+447700900123',
      text: 'code 1234',
      tags: ['otp'],
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const m = await finalOf(sent.body.id);
    assert.equal(m.connector, 'tagged');
    assert.deepEqual(m.tags, ['otp']);
    assert.equal(m.cost, null, 'the tagged connector has no costs');

    for (const tags of ['otp', ['a,b'], ['with space'], [''], [1]]) {
      const refused = await call('POST', '/v1/messages', { to: '+447700900123', text: 'x', tags });
      assert.equal(refused.status, 400, JSON.stringify(tags));
      assert.equal(refused.body.error.field, 'tags');
    }
  });

  test('tags on batches: a JSON list, or comma-separated with a CSV upload', async () => {
    const json = await call('POST', '/v1/batches', {
      text: 'Hi',
      priority: 'transactional',
      tags: ['otp', 'x'],
      recipients: [{ to: '+33612345678' }, { to: '+33612345679' }],
    });
    assert.equal(json.status, 202, JSON.stringify(json.body));
    const q = new URLSearchParams({ text: 'Hi', priority: 'transactional', tags: 'promo,otp' });
    const csv = await call('POST', `/v1/batches?${q}`, 'to\n+33612345680\n', { 'content-type': 'text/csv' });
    assert.equal(csv.status, 202, JSON.stringify(csv.body));
    for (const batch of [json.body.id, csv.body.id]) {
      const messages = await waitFor(async () => {
        const page = (await call('GET', `/v1/batches/${batch}/messages`)).body.data as Array<{
          status: string;
          connector: string;
          tags: string[];
        }>;
        return page.length > 0 && page.every((m) => m.status === 'delivered') ? page : undefined;
      }, 20_000);
      for (const m of messages) {
        assert.equal(m.connector, 'tagged');
        assert.ok(m.tags.includes('otp'));
      }
    }
    const bad = await call('POST', '/v1/batches', {
      text: 'Hi',
      tags: 'otp',
      recipients: [{ to: '+33612345678' }],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'tags');
  });

  test('explain names the rule, the connectors in the order they would be tried, and why', async () => {
    const uk = await admin('GET', '/v1/admin/routes/mt/explain?to=%2B447700900123&from=ACME&account=acme');
    assert.equal(uk.status, 200);
    assert.equal(uk.body.rule, 2);
    assert.deepEqual(uk.body.connectors, ['cheap', 'dear']);
    assert.equal(uk.body.strategy, 'least-cost');
    assert.deepEqual(uk.body.costs, { cheap: 0.01, dear: 0.05 });
    assert.match(uk.body.reason, /routes\.mt\[2\] matches: country GB/);
    assert.match(uk.body.reason, /routes\.mt\[0\] does not \(tags otp\)/);

    // A `+` left unescaped in the query (read as a space) still means `+`.
    const unescaped = await admin('GET', '/v1/admin/routes/mt/explain?to=+447700900123&account=acme');
    assert.deepEqual([unescaped.status, unescaped.body.rule], [200, 2]);

    const tagged = await admin(
      'GET',
      '/v1/admin/routes/mt/explain?to=%2B447700900123&tags=promo,otp&text=hi',
    );
    assert.equal(tagged.body.rule, 0);
    assert.deepEqual(tagged.body.connectors, ['tagged']);
    assert.equal(tagged.body.strategy, 'failover');

    const fr = await admin('GET', '/v1/admin/routes/mt/explain?to=%2B33612345678&account=acme');
    assert.equal(fr.body.rule, 7);
    assert.deepEqual(fr.body.connectors, ['rest']);

    // `at`: as a message would be routed then; a night window in Paris, across midnight.
    const explainAt = async (at: string) =>
      (await admin('GET', `/v1/admin/routes/mt/explain?to=%2B33612345678&account=night&at=${at}`)).body;
    assert.equal((await explainAt('2026-12-07T21:30:00Z')).rule, 1, '22:30 in Paris');
    assert.equal((await explainAt('2026-12-08T04:59:00Z')).rule, 1, '05:59 in Paris');
    const day = await explainAt('2026-12-08T05:00:00Z');
    assert.equal(day.rule, 7, '06:00 in Paris');
    assert.match(day.reason, /routes\.mt\[1\] does not \(time 22:00-06:00 Europe\/Paris\)/);

    const badAt = await admin('GET', '/v1/admin/routes/mt/explain?to=%2B447700900123&at=noon');
    assert.equal(badAt.status, 400);
    assert.equal(badAt.body.error.field, 'at');

    const missing = await admin('GET', '/v1/admin/routes/mt/explain?from=ACME');
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.field, 'to');
    const notNumber = await admin('GET', '/v1/admin/routes/mt/explain?to=hello');
    assert.equal(notNumber.status, 400);
    assert.equal(notNumber.body.error.field, 'to');
    const account = await call('GET', '/v1/admin/routes/mt/explain?to=%2B447700900123');
    assert.equal(account.status, 401, 'admins only');
  });

  test('least-cost: the cheapest carrier fails the message, the next in cost order delivers it, at its cost', async () => {
    const failedBefore = cheapSim.stats.failed;
    const sent = await call('POST', '/v1/messages', { to: '+447700900124', text: 'hello' });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const m = await finalOf(sent.body.id);
    assert.equal(m.connector, 'dear');
    assert.equal(m.cost, 0.05);
    assert.ok(cheapSim.stats.failed > failedBefore, 'the cheap carrier was tried first');
    const tried = (m.events as Array<{ type: string; detail?: { connector?: string } }>)
      .filter((e) => e.type === 'retry' || e.type === 'submitted')
      .map((e) => `${e.type} ${e.detail?.connector}`);
    assert.deepEqual(tried, ['retry cheap', 'submitted dear']);
  });

  test('least-cost: a carrier refusing for good passes the message to the next in cost order; all refusing, it is rejected', async () => {
    const refusedBefore = refusingSim.stats.failed;
    const hu = await call('POST', '/v1/messages', { to: '+36201234567', text: 'hello' });
    const delivered = await finalOf(hu.body.id);
    assert.deepEqual([delivered.connector, delivered.cost], ['dear', 0.5]);
    const tried = (delivered.events as Array<{ type: string; detail?: { connector?: string } }>)
      .filter((e) => e.type === 'retry' || e.type === 'submitted')
      .map((e) => `${e.type} ${e.detail?.connector}`);
    assert.deepEqual(tried, ['retry refusing', 'submitted dear']);

    const at = await call('POST', '/v1/messages', { to: '+436641234567', text: 'hello' });
    const rejected = await waitFor(async () => {
      const m = (await admin('GET', `/v1/admin/messages/${at.body.id}`)).body;
      return m.status === 'rejected' ? m : undefined;
    }, 20_000);
    assert.equal(rejected.connector, 'refusing2', JSON.stringify(rejected.events));
    assert.equal(rejected.error.code, 'smpp_ESME_RSUBMITFAIL');
    assert.equal(refusingSim.stats.failed - refusedBefore, 3, 'each connector tried once');

    // Other strategies keep a refusal final.
    const be = await call('POST', '/v1/messages', { to: '+32470123456', text: 'hello' });
    assert.equal(be.status, 202);
    const explained = await admin('GET', '/v1/admin/routes/mt/explain?to=%2B32470123456');
    assert.deepEqual(explained.body.connectors, ['dear', 'refusing']);
  });

  test('the cost kept is per part times the parts', async () => {
    const sent = await call('POST', '/v1/messages', { to: '+33612345678', text: 'x'.repeat(161) });
    assert.equal(sent.status, 202);
    const m = await finalOf(sent.body.id);
    assert.equal(m.connector, 'rest');
    assert.equal(m.segments, 2);
    assert.equal(m.cost, 0.004);
  });

  test('GET /v1/lookup/{number}: country as routing reads it, validity, line type', async () => {
    const mobile = await call('GET', '/v1/lookup/%2B33612345678');
    assert.equal(mobile.status, 200);
    assert.deepEqual(mobile.body, {
      number: '+33612345678',
      valid: true,
      country: 'FR',
      countryCallingCode: '33',
      lineType: 'mobile',
    });
    const landline = await call('GET', '/v1/lookup/01%2023%2045%2067%2089?country=fr');
    assert.equal(landline.body.number, '+33123456789');
    assert.equal(landline.body.lineType, 'fixed_line');
    // A fictional range: not valid, no type, but a country (what match.country reads).
    const drama = await call('GET', '/v1/lookup/+447700900123');
    assert.deepEqual([drama.body.valid, drama.body.country, drama.body.lineType], [false, 'GB', null]);
    const national = await api(gw.base, 'gb-key-1')('GET', '/v1/lookup/07911123456');
    assert.equal(national.body.number, '+447911123456');
    for (const [path, field] of [
      ['/v1/lookup/hello', 'number'],
      ['/v1/lookup/0612345678', 'number'],
      ['/v1/lookup/0612345678?country=XX', 'country'],
    ]) {
      const refused = await call('GET', path!);
      assert.equal(refused.status, 400, path);
      assert.equal(refused.body.error.field, field, path);
    }
    assert.equal((await api(gw.base, 'nope-nope')('GET', '/v1/lookup/%2B33612345678')).status, 401);
  });

  test('quality: receipts measured per connector and country weigh least-cost; /metrics and the admin API show them', async () => {
    const de = '+4915123456789';
    const final = (id: string) =>
      waitFor(async () => {
        const m = (await admin('GET', `/v1/admin/messages/${id}`)).body;
        return ['delivered', 'undelivered'].includes(m.status) ? m : undefined;
      }, 20_000);
    // The cheap connector loses every message; after three receipts it costs 0.01 ÷ 1%.
    for (let i = 0; i < 3; i++) {
      const sent = await call('POST', '/v1/messages', { to: de, text: `try ${i}` });
      const m = await final(sent.body.id);
      assert.deepEqual([m.connector, m.status], ['lossy', 'undelivered']);
    }
    const explained = await admin('GET', `/v1/admin/routes/mt/explain?to=${encodeURIComponent(de)}`);
    assert.deepEqual(explained.body.connectors, ['good', 'lossy']);
    assert.deepEqual(explained.body.weighted, { lossy: 1, good: 0.03 });
    const after = await call('POST', '/v1/messages', { to: de, text: 'now' });
    const m = await final(after.body.id);
    assert.deepEqual([m.connector, m.status, m.cost], ['good', 'delivered', 0.03]);

    const quality = await admin('GET', '/v1/admin/routes/quality');
    assert.equal(quality.status, 200);
    const row = (connector: string, country: string) =>
      (quality.body.data as Array<Record<string, unknown>>).find(
        (q) => q.connector === connector && q.country === country,
      );
    assert.deepEqual(row('lossy', 'DE'), {
      connector: 'lossy',
      country: 'DE',
      receipts: 3,
      deliveryRatio: 0,
      receiptLatencyMs: null,
    });
    assert.equal(row('good', 'DE')?.deliveryRatio, 1);
    const metrics = await fetch(`${gw.base}/metrics`, { headers: { authorization: 'Bearer admin-key-1' } });
    const text = await metrics.text();
    assert.match(text, /smsgw_route_delivery_ratio\{[^}]*connector="lossy",country="DE"[^}]*\} 0\n/);
    assert.match(text, /smsgw_route_delivery_ratio\{[^}]*connector="good",country="DE"[^}]*\} 1\n/);
    assert.match(text, /smsgw_route_receipts\{[^}]*connector="lossy",country="DE"[^}]*\} 3\n/);
    assert.match(text, /smsgw_route_receipt_latency_seconds\{[^}]*connector="good",country="DE"[^}]*\} \d/);
  });
});

/** A gateway on `store` whose simulator has costs: tags and the cost outlive a restart. */
async function keptAcrossRestart(store: string) {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: ${store}
admin: { apiKeys: [admin-key-1] }
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10, costs: [{ to: ['+33*'], cost: 0.0125 }] }
routes:
  mt: [{ match: { tags: [otp] }, connectors: [sim], strategy: least-cost }]
`);
  closers.push(() => gw.close());
  const sent = await api(gw.base, 'acme-key-1')('POST', '/v1/messages', {
    to: '+33612345678',
    text: 'x'.repeat(200),
    tags: ['otp', 'signup'],
  });
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  await waitFor(async () => {
    const m = (await api(gw.base, 'admin-key-1')('GET', `/v1/admin/messages/${sent.body.id}`)).body;
    return m.status === 'delivered';
  }, 20_000);
  await gw.restart();
  const m = (await api(gw.base, 'admin-key-1')('GET', `/v1/admin/messages/${sent.body.id}`)).body;
  assert.deepEqual([m.status, m.segments, m.cost, m.tags], ['delivered', 2, 0.025, ['otp', 'signup']]);
  const own = (await api(gw.base, 'acme-key-1')('GET', `/v1/messages/${sent.body.id}`)).body;
  assert.deepEqual(own.tags, ['otp', 'signup']);
  assert.equal(own.cost, undefined, "the carrier's cost is the operator's, not the account's");
}

test('tags and cost are stored with the message (SQLite)', () => keptAcrossRestart('sqlite:DIR/gw.db'));

const noPostgres = missingPeer('PostgreSQL');
test('tags and cost are stored with the message (PostgreSQL)', async (t) => {
  if (noPostgres) return t.skip(noPostgres);
  const server = await startPostgres();
  closers.push(() => server.stop());
  await keptAcrossRestart(await server.createDatabase());
});
