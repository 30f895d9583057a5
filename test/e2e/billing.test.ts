// Billing and account policies through the running gateway (issue #19, CONTRACT §8.1):
// prices fixed at accept and shown on messages; prepaid balances refused with
// 402 insufficient_balance, credited by an admin, refunded for messages no carrier took;
// postpaid credit limits; usage in JSON and CSV; destination, quota, address and
// SMS-pumping policies refused alike on REST, SMPP, Twilio, Kannel, Jasmin and batches.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { CommandStatus } from '../../src/smpp/index.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

let gw: Awaited<ReturnType<typeof gatewayFrom>>;
let hooks: Awaited<ReturnType<typeof webhookReceiver>>;
const preSid = 'AC00000000000000000000000000000019';
const strictSid = 'AC00000000000000000000000000000020';

before(async () => {
  hooks = await webhookReceiver();
  gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-0001] }
pricing:
  - { match: { to: ["+1555*"], account: vip }, price: 0.001, currency: EUR }
  - { match: { to: [GB] }, price: 0.05, currency: EUR }
  - { match: { to: ["+1*"] }, price: 0.02, currency: EUR }
  - { match: { to: ["+1*"] }, price: 0.03, currency: USD }
accounts:
  - id: pre
    apiKeys: [pre-key-0001]
    defaultFrom: PRE
    smpp: { systemId: pre, password: pw }
    twilio: { accountSid: ${preSid} }
    webhook: { url: "${hooks.url}" }
    billing: { type: prepaid, currency: EUR, lowBalance: 0.06 }
  - { id: vip, apiKeys: [vip-key-0001], defaultFrom: VIP, billing: { type: prepaid, currency: EUR } }
  - { id: post, apiKeys: [post-key-0001], defaultFrom: POST, billing: { type: postpaid, currency: USD, creditLimit: 0.05 } }
  - { id: free, apiKeys: [free-key-0001], defaultFrom: FREE }
  - id: strict
    apiKeys: [strict-key-0001]
    defaultFrom: STRICT
    smpp: { systemId: strict, password: pw }
    twilio: { accountSid: ${strictSid} }
    policy: { destinations: { allow: [GB, "+1555*"], deny: ["+447700900666"] } }
  - { id: quota, apiKeys: [quota-key-0001], defaultFrom: QUOTA, policy: { dailyQuota: 3 } }
  - { id: pump, apiKeys: [pump-key-0001], defaultFrom: PUMP, policy: { pumping: { maxPerPrefix: 3, windowSeconds: 3600 } } }
  - id: fenced
    apiKeys: [fenced-key-0001]
    defaultFrom: FENCED
    smpp: { systemId: fenced, password: pw, allowIps: ["10.1.2.3"] }
    policy: { allowIps: ["10.0.0.0/8"] }
  - id: keyed
    defaultFrom: KEYED
    apiKeys: [keyed-open-0001, { key: keyed-fenced-01, allowIps: ["192.0.2.0/24"] }]
    policy: { allowIps: ["127.0.0.0/8", "::1"] }
connectors: [{ id: sim, type: simulator, deliveryDelayMs: 10 }]
routes:
  mt: [{ connectors: [sim] }]
`);
});
after(async () => {
  await gw.close();
  await hooks.close();
});

const as = (key: string) => api(gw.base, key);
const admin = () => as('admin-key-0001');
const credit = (account: string, amount: number, reference?: string) =>
  admin()('POST', `/v1/admin/accounts/${account}/credit`, { amount, ...(reference ? { reference } : {}) });

test('a message carries its price (per-part price × parts) and currency, fixed at accept', async () => {
  assert.deepEqual((await credit('pre', 1, 'topup-1')).body, { balance: 1, currency: 'EUR' });
  const send = as('pre-key-0001');
  const one = await send('POST', '/v1/messages', { to: '+447700900001', text: 'hi' });
  assert.equal(one.status, 202, JSON.stringify(one.body));
  const two = await send('POST', '/v1/messages', { to: '+15550001234', text: 'x'.repeat(200) });
  assert.equal(two.status, 202);
  const stored = await send('GET', `/v1/messages/${two.body.id}`);
  assert.deepEqual([stored.body.segments, stored.body.price, stored.body.currency], [2, 0.04, 'EUR']);
  assert.deepEqual(
    [(await send('GET', `/v1/messages/${one.body.id}`)).body.price, one.body.currency ?? 'EUR'],
    [0.05, 'EUR'],
  );
  // An account's own entry (match.account) comes first; an account without billing is priced too.
  const vip = await as('vip-key-0001')('POST', '/v1/messages', { to: '+15550001234', text: 'hi' });
  assert.equal(vip.status, 402, 'no credit yet');
  await credit('vip', 0.001);
  const vipSent = await as('vip-key-0001')('POST', '/v1/messages', { to: '+15550001234', text: 'hi' });
  assert.equal(vipSent.status, 202);
  assert.equal((await as('vip-key-0001')('GET', `/v1/messages/${vipSent.body.id}`)).body.price, 0.001);
  const free = await as('free-key-0001')('POST', '/v1/messages', { to: '+15550001234', text: 'hi' });
  assert.equal(free.status, 202);
  const freeStored = await as('free-key-0001')('GET', `/v1/messages/${free.body.id}`);
  assert.deepEqual([freeStored.body.price, freeStored.body.currency], [0.02, 'EUR']);
  assert.deepEqual((await as('pre-key-0001')('GET', '/v1/balance')).body, {
    balance: 0.91,
    currency: 'EUR',
    type: 'prepaid',
  }); // A batch's dry run tells what it would cost.
  const dryRun = await as('free-key-0001')('POST', '/v1/batches', {
    from: 'FREE',
    text: 'hi',
    recipients: [{ to: '+447700900001' }, { to: '+15550001234' }],
    dryRun: true,
  });
  assert.deepEqual([dryRun.body.price, dryRun.body.currency], [0.07, 'EUR']);
});

test('prepaid: refused 402 insufficient_balance below zero on every front door; exactly zero is fine', async (t) => {
  await credit('vip', 0.002);
  const send = as('vip-key-0001');
  for (let i = 0; i < 2; i++)
    assert.equal((await send('POST', '/v1/messages', { to: '+15550001234', text: 'hi' })).status, 202);
  assert.deepEqual((await send('GET', '/v1/balance')).body, { balance: 0, currency: 'EUR', type: 'prepaid' });
  const refused = await send('POST', '/v1/messages', { to: '+15550001234', text: 'hi' });
  assert.equal(refused.status, 402);
  assert.equal(refused.body.error.code, 'insufficient_balance');
  // A batch: as many as the balance covers are accepted.
  await credit('vip', 0.001);
  const batch = await send('POST', '/v1/batches', {
    from: 'VIP',
    text: 'hi',
    recipients: [{ to: '+15550001001' }, { to: '+15550001002' }, { to: '+15550001003' }],
  });
  assert.equal(batch.status, 202, JSON.stringify(batch.body));
  const done = await waitFor(async () => {
    const b = (await send('GET', `/v1/batches/${batch.body.id}`)).body;
    return b.status === 'completed' ? b : undefined;
  });
  assert.equal(done.skipped.insufficient_balance, 2, JSON.stringify(done));
  assert.equal((await send('GET', '/v1/balance')).body.balance, 0);

  // SMPP: an error status, not a message id.
  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'pre', password: 'pw' });
  client.start();
  t.after(() => client.stop());
  await client.waitBound();
  const drain = await as('pre-key-0001')('GET', '/v1/balance');
  await credit('pre', -drain.body.balance, 'drain');
  const smpp = await client.request(submitSm({ destinationAddr: '447700900002', destAddrTon: 1 }));
  assert.equal(smpp.commandStatus, CommandStatus.ESME_RSUBMITFAIL);
  // Twilio's own code; Balance.json tells the balance.
  const auth = `Basic ${Buffer.from(`${preSid}:pre-key-0001`).toString('base64')}`;
  const twilio = await fetch(`${gw.base}/2010-04-01/Accounts/${preSid}/Messages.json`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ To: '+447700900003', From: 'PRE', Body: 'hi' }),
  });
  assert.equal(twilio.status, 402);
  assert.equal(((await twilio.json()) as { code: number }).code, 20005);
  const balance = await fetch(`${gw.base}/2010-04-01/Accounts/${preSid}/Balance.json`, {
    headers: { authorization: auth },
  });
  assert.deepEqual(await balance.json(), { account_sid: preSid, balance: '0.00', currency: 'EUR' });
  const kannel = await fetch(
    `${gw.base}/cgi-bin/sendsms?${new URLSearchParams({ username: 'pre', password: 'pre-key-0001', to: '447700900004', text: 'hi' })}`,
  );
  assert.notEqual(kannel.status, 202);
  const jasmin = await fetch(
    `${gw.base}/send?${new URLSearchParams({ username: 'pre', password: 'pre-key-0001', to: '447700900005', content: 'hi' })}`,
  );
  assert.equal(jasmin.status, 403);
  // Jasmin's /balance and /rate answer real values.
  await credit('pre', 0.5);
  const jasminBalance = await fetch(
    `${gw.base}/balance?${new URLSearchParams({ username: 'pre', password: 'pre-key-0001' })}`,
  );
  assert.deepEqual(await jasminBalance.json(), { balance: 0.5, sms_count: 'ND' });
  const rate = await fetch(
    `${gw.base}/rate?${new URLSearchParams({ username: 'pre', password: 'pre-key-0001', to: '447700900006', content: 'hi' })}`,
  );
  assert.deepEqual(await rate.json(), { submit_sm_count: 1, unit_rate: 0.05 });
});

test('a message no carrier took is refunded once; the ledger holds every movement', async () => {
  await credit('pre', 0.1);
  const send = as('pre-key-0001');
  const before = (await send('GET', '/v1/balance')).body.balance as number;
  const later = new Date(Date.now() + 3600_000).toISOString();
  const scheduled = await send('POST', '/v1/messages', { to: '+447700900007', text: 'later', sendAt: later });
  assert.equal(scheduled.status, 202);
  assert.equal((await send('GET', '/v1/balance')).body.balance, Math.round((before - 0.05) * 100) / 100);
  assert.equal((await send('DELETE', `/v1/messages/${scheduled.body.id}`)).status, 200);
  await waitFor(async () => (await send('GET', '/v1/balance')).body.balance === before, 10_000, 'the refund');
  const ledger = (await send('GET', '/v1/balance/ledger?limit=2')).body;
  assert.deepEqual(
    ledger.data.map((e: { kind: string; amount: number; messageId: string }) => [
      e.kind,
      e.amount,
      e.messageId,
    ]),
    [
      ['refund', 0.05, scheduled.body.id],
      ['debit', -0.05, scheduled.body.id],
    ],
  );
  assert.ok(ledger.nextCursor);
  const older = (await send('GET', `/v1/balance/ledger?cursor=${ledger.nextCursor}&limit=500`)).body;
  assert.ok(
    older.data.some(
      (e: { kind: string; reference: string }) => e.kind === 'credit' && e.reference === 'topup-1',
    ),
  );
});

test('a message the carrier refuses at submit is refunded; one it took and failed later is not', async (t) => {
  const carrier = new SmscSimulator({ deliveryDelayMs: 10, outcomes: [{ to: '*', stat: 'UNDELIV' }] });
  const refusing = new SmscSimulator({ failRate: 1, failStatus: CommandStatus.ESME_RINVDSTADR });
  const { port } = await carrier.listen(0);
  const { port: refusingPort } = await refusing.listen(0);
  t.after(() => Promise.all([carrier.close(), refusing.close()]));
  const own = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-0001] }
pricing: [{ match: { to: ["+44*"] }, price: 0.05, currency: EUR }]
accounts:
  - { id: pre, apiKeys: [pre-key-0001], defaultFrom: PRE, billing: { type: prepaid, currency: EUR } }
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: pw }
  - { id: refusing, type: smpp, host: 127.0.0.1, port: ${refusingPort}, systemId: gw, password: pw }
routes:
  mt:
    - { match: { to: ["+447700900032"] }, connectors: [refusing] }
    - { connectors: [carrier] }
`);
  t.after(() => own.close());
  const send = api(own.base, 'pre-key-0001');
  await api(own.base, 'admin-key-0001')('POST', '/v1/admin/accounts/pre/credit', { amount: 0.1 });
  const status = async (id: string, want: string) =>
    waitFor(async () => (await send('GET', `/v1/messages/${id}`)).body.status === want, 10_000, want);
  // Taken by the carrier, undelivered by its receipt: paid for.
  const undelivered = await send('POST', '/v1/messages', { to: '+447700900031', text: 'hi' });
  await status(undelivered.body.id, 'undelivered');
  // Refused at submit (a permanent submit_sm_resp error): refunded.
  const rejected = await send('POST', '/v1/messages', { to: '+447700900032', text: 'hi' });
  await status(rejected.body.id, 'rejected');
  await waitFor(async () => (await send('GET', '/v1/balance')).body.balance === 0.05, 10_000, 'the refund');
  const ledger = (await send('GET', '/v1/balance/ledger')).body.data;
  assert.deepEqual(
    ledger.map((e: { kind: string; messageId: string | null }) => [e.kind, e.messageId]),
    [
      ['refund', rejected.body.id],
      ['debit', rejected.body.id],
      ['debit', undelivered.body.id],
      ['credit', null],
    ],
  );
});

test('a batch canceled as a whole gives back the price of what it had not sent', async () => {
  await credit('pre', 0.1);
  const send = as('pre-key-0001');
  const before = (await send('GET', '/v1/balance')).body.balance as number;
  // Running, its messages made (and charged) but held by quiet hours all day but one hour,
  // the one two hours on (so the test cannot run into it).
  const hourUtc = new Date().getUTCHours();
  const batch = await send('POST', '/v1/batches', {
    from: 'PRE',
    text: 'later',
    quietHours: {
      start: `${String((hourUtc + 3) % 24).padStart(2, '0')}:00`,
      end: `${String((hourUtc + 2) % 24).padStart(2, '0')}:00`,
    },
    recipients: [{ to: '+447700900020' }, { to: '+447700900021' }],
  });
  assert.equal(batch.status, 202, JSON.stringify(batch.body));
  await waitFor(async () => (await send('GET', `/v1/batches/${batch.body.id}`)).body.counts.scheduled === 2);
  await waitFor(
    async () => (await send('GET', '/v1/balance')).body.balance === Math.round((before - 0.1) * 100) / 100,
    10_000,
    'the debits',
  );
  assert.equal((await send('POST', `/v1/batches/${batch.body.id}/cancel`)).status, 200);
  await waitFor(
    async () => (await send('GET', '/v1/balance')).body.balance === before,
    10_000,
    'the refunds',
  );
  const ledger = (await send('GET', '/v1/balance/ledger?limit=2')).body.data;
  assert.deepEqual(
    ledger.map((e: { kind: string; amount: number }) => [e.kind, e.amount]),
    [
      ['refund', 0.05],
      ['refund', 0.05],
    ],
  );
});

test('account.balance_low is sent once when a debit takes the balance below lowBalance', async () => {
  const send = as('pre-key-0001');
  const lows = () => hooks.hooks.filter((h) => h.body.type === 'account.balance_low');
  // Earlier tests took it below the threshold once already (the admin's negative credit).
  const earlier = (await waitFor(() => lows().length > 0 && lows())).length;
  const now = (await send('GET', '/v1/balance')).body.balance as number;
  await credit('pre', Math.round((0.1 - now) * 100) / 100);
  assert.equal((await send('GET', '/v1/balance')).body.balance, 0.1);
  for (let i = 0; i < 2; i++)
    assert.equal((await send('POST', '/v1/messages', { to: '+447700900008', text: 'hi' })).status, 202);
  const low = await waitFor(() => lows()[earlier]);
  assert.deepEqual(low.body.data, { account: 'pre', balance: 0.05, currency: 'EUR', threshold: 0.06 });
  // The second debit (0.05 to 0) stays below: no second event. (Both messages' final
  // status events come well after what their debits would have sent.)
  await waitFor(() => {
    const delivered = hooks.hooks.filter(
      (h) =>
        h.body.type === 'message.status' &&
        h.body.data.to === '+447700900008' &&
        h.body.data.status === 'delivered',
    );
    return delivered.length === 2;
  });
  assert.equal(lows().length, earlier + 1);
});

test('postpaid: debits go below zero up to the credit limit, then 402', async () => {
  const send = as('post-key-0001');
  assert.equal((await send('POST', '/v1/messages', { to: '+15550001234', text: 'hi' })).status, 202);
  assert.deepEqual((await send('GET', '/v1/balance')).body, {
    balance: -0.03,
    currency: 'USD',
    type: 'postpaid',
  });
  const refused = await send('POST', '/v1/messages', { to: '+15550001234', text: 'hi' });
  assert.deepEqual([refused.status, refused.body.error.code], [402, 'insufficient_balance']);
});

test('admin credit: unknown account 404, account without billing 409, bad amounts 400', async () => {
  assert.equal((await credit('nobody', 1)).status, 404);
  assert.equal((await credit('free', 1)).status, 409);
  for (const amount of [0, 'ten', Number.NaN, 0.0000001, 2e9])
    assert.equal((await admin()('POST', '/v1/admin/accounts/pre/credit', { amount })).status, 400);
  assert.equal(
    (await as('pre-key-0001')('POST', '/v1/admin/accounts/pre/credit', { amount: 1 })).status,
    401,
  );
  const unknown = await admin()('POST', '/v1/admin/accounts/pre/credit', { amount: 1, note: 'x' });
  assert.deepEqual([unknown.status, unknown.body.error.code], [400, 'unknown_field']);
  assert.deepEqual((await as('free-key-0001')('GET', '/v1/balance')).body, {
    balance: 0,
    currency: null,
    type: null,
  });
});

test('usage by day, country and connector, in JSON and CSV', async () => {
  const send = as('free-key-0001');
  const sent = await send('POST', '/v1/messages', { to: '+447700900009', text: 'x'.repeat(170) });
  // Its connector is on disk once the carrier has it.
  await waitFor(async () => (await send('GET', `/v1/messages/${sent.body.id}`)).body.status === 'delivered');
  const today = new Date().toISOString().slice(0, 10);
  const byCountry = (await send('GET', `/v1/usage?from=${today}&to=${today}&groupBy=country`)).body;
  assert.equal(byCountry.groupBy, 'country');
  assert.deepEqual(
    byCountry.data.map((r: Record<string, unknown>) => [
      r.country,
      r.messages,
      r.parts,
      r.price,
      r.cost,
      r.currency,
    ]),
    [
      ['GB', 1, 2, 0.1, 0.1, 'EUR'],
      ['US', 1, 1, 0.02, 0.02, 'EUR'],
    ],
  );
  const byDay = (await send('GET', '/v1/usage?groupBy=day')).body;
  assert.deepEqual(
    byDay.data.map((r: Record<string, unknown>) => [r.day, r.messages, r.parts]),
    [[today, 2, 3]],
  );
  assert.deepEqual(byDay.total, { messages: 2, parts: 3, price: 0.12, cost: 0.12, currency: 'EUR' });
  // Unix seconds, as the stats series take them: a window that ended before today has nothing.
  const dayStart = Date.parse(`${today}T00:00:00Z`) / 1000;
  const before = (await send('GET', `/v1/usage?from=${dayStart - 86_400}&to=${dayStart}`)).body;
  assert.deepEqual([before.data, before.total.messages], [[], 0]);
  const byConnector = (await send('GET', '/v1/usage?groupBy=connector')).body.data;
  assert.deepEqual(
    byConnector.map((r: Record<string, unknown>) => r.messages),
    [2],
  );
  const csv = await fetch(`${gw.base}/v1/usage?groupBy=country&from=${today}`, {
    headers: { authorization: 'Bearer free-key-0001', accept: 'text/csv' },
  });
  assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
  assert.equal(
    await csv.text(),
    'country,currency,messages,parts,price,cost\r\nGB,EUR,1,2,0.1,0.1\r\nUS,EUR,1,1,0.02,0.02\r\n',
  );
  const formatCsv = await fetch(`${gw.base}/v1/usage?groupBy=day&format=csv`, {
    headers: { authorization: 'Bearer free-key-0001' },
  });
  assert.equal((await formatCsv.text()).split('\r\n')[1], `${today},EUR,2,3,0.12,0.12`);
  for (const bad of ['groupBy=week', 'from=yesterday', 'from=2026-12-05&to=2026-12-01', 'format=xml']) {
    const res = await send('GET', `/v1/usage?${bad}`);
    assert.equal(res.status, 400, bad);
  }
});

test('destinations: allow and deny by country or prefix, refused alike on every front door', async (t) => {
  const send = as('strict-key-0001');
  assert.equal((await send('POST', '/v1/messages', { to: '+447700900010', text: 'hi' })).status, 202);
  assert.equal((await send('POST', '/v1/messages', { to: '+15550001234', text: 'hi' })).status, 202);
  for (const to of ['+33612345678', '+12125550100', '+447700900666']) {
    const res = await send('POST', '/v1/messages', { to, text: 'hi' });
    assert.deepEqual(
      [res.status, res.body.error.code, res.body.error.field],
      [400, 'destination_not_allowed', 'to'],
      to,
    );
  }
  const batch = await send('POST', '/v1/batches', {
    from: 'STRICT',
    text: 'hi',
    recipients: [{ to: '+33612345678' }],
    dryRun: true,
  });
  assert.equal(batch.body.skipped?.destination_not_allowed, 1, JSON.stringify(batch.body));
  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'strict', password: 'pw' });
  client.start();
  t.after(() => client.stop());
  await client.waitBound();
  const smpp = await client.request(submitSm({ destinationAddr: '33612345678', destAddrTon: 1 }));
  assert.equal(smpp.commandStatus, CommandStatus.ESME_RINVDSTADR);
  const twilio = await fetch(`${gw.base}/2010-04-01/Accounts/${strictSid}/Messages.json`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${strictSid}:strict-key-0001`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ To: '+33612345678', From: 'STRICT', Body: 'hi' }),
  });
  assert.equal(((await twilio.json()) as { code: number }).code, 21408);
  const kannel = await fetch(
    `${gw.base}/cgi-bin/sendsms?${new URLSearchParams({ username: 'strict', password: 'strict-key-0001', to: '33612345678', text: 'hi' })}`,
  );
  assert.equal(kannel.status, 400);
  assert.match(await kannel.text(), /may not send to/);
  const jasmin = await fetch(
    `${gw.base}/send?${new URLSearchParams({ username: 'strict', password: 'strict-key-0001', to: '33612345678', content: 'hi' })}`,
  );
  assert.equal(jasmin.status, 400);
});

test('a daily quota refuses 429 quota_exceeded past its count', async () => {
  const send = as('quota-key-0001');
  for (let i = 0; i < 3; i++)
    assert.equal((await send('POST', '/v1/messages', { to: `+1555000${2000 + i}`, text: 'hi' })).status, 202);
  const refused = await send('POST', '/v1/messages', { to: '+15550002999', text: 'hi' });
  assert.deepEqual([refused.status, refused.body.error.code], [429, 'quota_exceeded']);
});

test('SMS pumping: a burst to one prefix is refused, a burst to distinct prefixes is not', async () => {
  const send = as('pump-key-0001');
  // Distinct 8-digit prefixes: never refused.
  for (let i = 0; i < 6; i++)
    assert.equal((await send('POST', '/v1/messages', { to: `+44770${i}900001`, text: 'hi' })).status, 202);
  // Numbers sharing +44770880: the fourth is refused, with Retry-After.
  for (let i = 0; i < 3; i++)
    assert.equal(
      (await send('POST', '/v1/messages', { to: `+4477088000${10 + i}`, text: 'hi' })).status,
      202,
    );
  const refused = await send('POST', '/v1/messages', { to: '+447708800099', text: 'hi' });
  assert.deepEqual([refused.status, refused.body.error.code], [429, 'destination_rate_limited']);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  // A batch to one range: as many as the limit lets through, the rest skipped.
  const batch = await send('POST', '/v1/batches', {
    from: 'PUMP',
    text: 'hi',
    recipients: Array.from({ length: 5 }, (_, i) => ({ to: `+4477077000${10 + i}` })),
  });
  assert.equal(batch.status, 202, JSON.stringify(batch.body));
  const done = await waitFor(async () => {
    const b = (await send('GET', `/v1/batches/${batch.body.id}`)).body;
    return b.status === 'completed' ? b : undefined;
  });
  assert.equal(done.skipped.destination_rate_limited, 2, JSON.stringify(done));
});

test('an API key or SMPP credential used from outside its allowIps is refused', async (t) => {
  const res = await as('fenced-key-0001')('POST', '/v1/messages', { to: '+15550001234', text: 'hi' });
  assert.deepEqual([res.status, res.body.error.code], [403, 'address_not_allowed']);
  const kannel = await fetch(
    `${gw.base}/cgi-bin/sendsms?${new URLSearchParams({ username: 'fenced', password: 'fenced-key-0001', to: '15550001234', text: 'hi' })}`,
  );
  assert.equal(kannel.status, 403);
  // A key's own list stands instead of its account's.
  const open = await as('keyed-open-0001')('POST', '/v1/messages', { to: '+15550001234', text: 'hi' });
  assert.equal(open.status, 202);
  const fenced = await as('keyed-fenced-01')('POST', '/v1/messages', { to: '+15550001234', text: 'hi' });
  assert.deepEqual([fenced.status, fenced.body.error.code], [403, 'address_not_allowed']);
  const jasmin = await fetch(
    `${gw.base}/send?${new URLSearchParams({ username: 'keyed', password: 'keyed-fenced-01', to: '15550001234', content: 'hi' })}`,
  );
  assert.equal(jasmin.status, 403);
  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'fenced', password: 'pw' });
  const bound = new Promise<number>((resolve) =>
    client.on('bindFailed', (status: number) => resolve(status)),
  );
  client.start();
  t.after(() => client.stop());
  assert.equal(await bound, CommandStatus.ESME_RBINDFAIL);
});
