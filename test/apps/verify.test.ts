// One-time passwords end to end: send, wrong code, right code, expiry, attempt limit, send
// limit, a blocked country, velocity per prefix; the code never rests in clear.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startGateway } from '../../src/app/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import type { Message } from '../../src/core/index.ts';
import { api, gatewayFrom, waitFor, webhookReceiver } from '../e2e/helpers.ts';

describe('verify (OTP)', () => {
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let hooks: Awaited<ReturnType<typeof webhookReceiver>>;
  let call: ReturnType<typeof api>;
  /** Text of each code message as it was handed to the pipeline, by verification id. */
  const sent = new Map<string, string[]>();

  before(async () => {
    hooks = await webhookReceiver();
    gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - id: acme
    apiKeys: [acme-key-1]
    defaultFrom: ACME
    webhook: { url: "${hooks.url}" }
    verify:
      maxChecks: 3
      maxSends: 3
      sendWindowSeconds: 600
      allowedCountries: [GB, FR]
      prefixDigits: 9
      maxPerPrefix: 4
      templates: { fr: "Code {{code}} ({{minutes}} min)" }
  - id: other
    apiKeys: [other-key-1]
    defaultFrom: OTHER
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
`);
    call = api(gw.base, 'acme-key-1');
    gw.app.gateway.on('status', (m: Message) => {
      const id = m.meta?.verify;
      if (typeof id === 'string' && m.status === 'queued') sent.set(id, [...(sent.get(id) ?? []), m.text!]);
    });
  });

  after(async () => {
    await gw?.close();
    await hooks?.close();
  });

  const codeOf = (id: string) => /\d{4,10}/.exec(sent.get(id)!.at(-1)!)![0];
  const wrong = (code: string) => String((Number(code) + 1) % 10 ** code.length).padStart(code.length, '0');

  test('send, wrong code, right code; the code is kept only as a hash and leaves no clear copy', async () => {
    const res = await call('POST', '/v1/verify', { to: '+447700900001' });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'pending');
    assert.equal(res.body.to, '+447700900001');
    assert.equal(res.body.codeLength, 6);
    const id = res.body.id as string;
    const code = codeOf(id);
    assert.match(code, /^\d{6}$/);
    assert.equal(sent.get(id)![0], `Your verification code is ${code}. It expires in 10 minutes.`);

    const miss = await call('POST', `/v1/verify/${id}/check`, { code: wrong(code) });
    assert.equal(miss.status, 200);
    assert.equal(miss.body.status, 'pending');
    assert.equal(miss.body.valid, false);
    const hit = await call('POST', `/v1/verify/${id}/check`, { code });
    assert.equal(hit.status, 200);
    assert.deepEqual([hit.body.id, hit.body.status, hit.body.valid], [id, 'approved', true]);
    assert.equal((await call('GET', `/v1/verify/${id}`)).body.status, 'approved');
    // Over: it cannot be checked again (as Twilio).
    assert.equal((await call('POST', `/v1/verify/${id}/check`, { code })).status, 404);

    // The message went at otp priority with the code's validity, and its stored text lost the code.
    const messageId = res.body.messageId as string;
    const message = await waitFor(async () => {
      const m = (await call('GET', `/v1/messages/${messageId}`)).body;
      return m.status === 'delivered' && m;
    });
    assert.equal(message.priority, 'otp');
    assert.ok(Date.parse(message.validUntil) - Date.parse(message.createdAt) === 600_000);
    assert.equal(message.text, 'Your verification code is ******. It expires in 10 minutes.');
    const record = await gw.app.store.getRecord<Record<string, unknown>>('verify', id);
    assert.ok(!JSON.stringify(record).includes(code), 'the record holds no clear code');
    assert.match(record!.data.codeHash as string, /^scrypt\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    const hook = await waitFor(() =>
      hooks.hooks.find((h) => h.body.data.id === messageId && h.body.data.status === 'delivered'),
    );
    assert.ok(!hook.raw.includes(code), 'webhooks show the masked text');
  });

  test('attempt limit: the last allowed wrong check ends it, even the right code then fails', async () => {
    const id = (await call('POST', '/v1/verify', { to: '+447700900002', codeLength: 4 })).body.id as string;
    const code = codeOf(id);
    assert.match(code, /^\d{4}$/);
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await call('POST', `/v1/verify/${id}/check`, { code: wrong(code) })).body.status);
    assert.deepEqual(statuses, ['pending', 'pending', 'max_attempts_reached']);
    const after = await call('POST', `/v1/verify/${id}/check`, { code });
    assert.equal(after.status, 200);
    assert.deepEqual([after.body.status, after.body.valid], ['max_attempts_reached', false]);

    // Checks at once are counted one by one: no more than the limit slip through.
    const raced = (await call('POST', '/v1/verify', { to: '+447700901006' })).body.id as string;
    const guess = wrong(codeOf(raced));
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => call('POST', `/v1/verify/${raced}/check`, { code: guess })),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200],
    );
    assert.deepEqual(answers.map((a) => a.body.status).sort(), [
      'max_attempts_reached',
      'max_attempts_reached',
      'max_attempts_reached',
      'pending',
      'pending',
    ]);
    assert.equal((await call('GET', `/v1/verify/${raced}`)).body.attempts, 3);
  });

  test('expiry: once its time has passed a verification reads expired and refuses its code', async () => {
    const res = await call('POST', '/v1/verify', { to: '+447700900003', ttlSeconds: 30 });
    assert.equal(res.status, 201);
    assert.equal(Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt), 30_000);
    const id = res.body.id as string;
    const code = codeOf(id);
    // A code valid under a minute and a half reads "1 minute", not "1 minutes".
    assert.equal(sent.get(id)![0], `Your verification code is ${code}. It expires in 1 minute.`);
    // Thirty seconds pass: the stored expiry is moved back rather than waited for.
    const record = (await gw.app.store.getRecord<{ expiresAt: number }>('verify', id))!;
    await gw.app.store.putRecord({ ...record, data: { ...record.data, expiresAt: Date.now() - 1 } });
    const check = await call('POST', `/v1/verify/${id}/check`, { code });
    assert.equal(check.status, 200);
    assert.deepEqual([check.body.status, check.body.valid], ['expired', false]);
    assert.equal((await call('GET', `/v1/verify/${id}`)).body.status, 'expired');
  });

  test('send limit per number: the fourth code within the window is a 429 with Retry-After', async () => {
    const to = '+33612345678';
    const first = await call('POST', '/v1/verify', { to, locale: 'fr' });
    assert.equal(first.status, 201);
    assert.match(sent.get(first.body.id)![0]!, /^Code \d{6} \(10 min\)$/);
    const resend = await call('POST', `/v1/verify/${first.body.id}/resend`);
    assert.equal(resend.status, 200);
    assert.equal(resend.body.sends, 2);
    const firstCode = /\d{6}/.exec(sent.get(first.body.id)![0]!)![0];
    const secondCode = codeOf(first.body.id);
    const third = await call('POST', '/v1/verify', { to });
    assert.equal(third.status, 201);
    // A newer verification to the number cancels the older one.
    assert.equal((await call('GET', `/v1/verify/${first.body.id}`)).body.status, 'canceled');
    const refused = await call('POST', '/v1/verify', { to });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'max_send_attempts_reached');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter > 500 && retryAfter <= 600, `Retry-After ${retryAfter}`);
    assert.equal((await call('POST', `/v1/verify/${third.body.id}/resend`)).status, 429);
    // Another account's limit is its own.
    const other = await api(gw.base, 'other-key-1')('POST', '/v1/verify', { to });
    assert.equal(other.status, 201);
    // The resend replaced the first code: only the newest works.
    assert.notEqual(firstCode, secondCode);
  });

  test('a country outside the allowed list is refused, and nothing is sent', async () => {
    const before = sent.size;
    const res = await call('POST', '/v1/verify', { to: '+12125551234' });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'country_not_allowed');
    assert.equal(res.body.error.field, 'to');
    assert.equal(sent.size, before);
    // With no list, every country is allowed.
    assert.equal(
      (await api(gw.base, 'other-key-1')('POST', '/v1/verify', { to: '+12125551234' })).status,
      201,
    );
  });

  test('velocity per destination prefix stops a run over consecutive numbers (SMS pumping)', async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await call('POST', '/v1/verify', { to: `+4477009991${i}0` })).status);
    assert.deepEqual(statuses, [201, 201, 201, 201, 429, 429]);
    const refused = await call('POST', '/v1/verify', { to: '+447700999170' });
    assert.equal(refused.body.error.code, 'verify_rate_limited');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    // Another prefix is not held back.
    assert.equal((await call('POST', '/v1/verify', { to: '+447712345678' })).status, 201);
  });

  test('cancel; bad input; another account sees nothing', async () => {
    const id = (await call('POST', '/v1/verify', { to: '+447700900004' })).body.id as string;
    assert.equal((await api(gw.base, 'other-key-1')('GET', `/v1/verify/${id}`)).status, 404);
    assert.equal(
      (await api(gw.base, 'other-key-1')('POST', `/v1/verify/${id}/check`, { code: '1' })).status,
      404,
    );
    const canceled = await call('POST', `/v1/verify/${id}/cancel`);
    assert.equal(canceled.status, 200);
    assert.equal(canceled.body.status, 'canceled');
    assert.equal((await call('POST', `/v1/verify/${id}/check`, { code: codeOf(id) })).status, 404);
    for (const [body, field] of [
      [{}, 'to'],
      [{ to: 'nope' }, 'to'],
      [{ to: '+447700900005', codeLength: 3 }, 'codeLength'],
      [{ to: '+447700900005', ttlSeconds: 5 }, 'ttlSeconds'],
      [{ to: '+447700900005', template: 'no placeholder' }, 'template'],
    ] as const) {
      const res = await call('POST', '/v1/verify', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.field, field);
    }
    assert.equal((await call('POST', `/v1/verify/${id}/check`, {})).status, 400);
  });
});

test('a verification survives a restart: the stored hash still checks the code sent before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-verify-'));
  const config = () =>
    parseConfig(`
http: { listen: 127.0.0.1:0 }
store: sqlite:${dir}/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors: [{ id: sim, type: simulator, deliveryDelayMs: 10 }]
routes: { mt: [{ connectors: [sim] }] }
`);
  let text = '';
  const first = await startGateway(config());
  first.gateway.on('status', (m: Message) => {
    if (m.meta?.verify && m.status === 'queued') text = m.text!;
  });
  const started = await api(`http://127.0.0.1:${first.httpAddress.port}`, 'acme-key-1')(
    'POST',
    '/v1/verify',
    {
      to: '+447700900050',
    },
  );
  assert.equal(started.status, 201);
  await first.close();
  const second = await startGateway(config());
  try {
    const call = api(`http://127.0.0.1:${second.httpAddress.port}`, 'acme-key-1');
    const check = await call('POST', `/v1/verify/${started.body.id}/check`, { code: /\d{6}/.exec(text)![0] });
    assert.deepEqual([check.status, check.body.status], [200, 'approved']);
  } finally {
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GET /v1/verify lists the account’s verifications, newest first, with their outcomes', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, defaultCountry: GB }
  - { id: other, apiKeys: [other-key-1], defaultFrom: OTHER }
connectors: [{ id: sim, type: simulator, deliveryDelayMs: 10 }]
routes: { mt: [{ connectors: [sim] }] }
`);
  t.after(() => gw.close());
  const acme = api(gw.base, 'acme-key-1');
  const start = async (to: string, as = acme) => {
    const res = await as('POST', '/v1/verify', { to });
    assert.equal(res.status, 201);
    return res.body.id as string;
  };
  const canceled = await start('+447700900061');
  assert.equal((await acme('POST', `/v1/verify/${canceled}/cancel`)).status, 200);
  const expired = await start('+447700900062');
  const record = (await gw.app.store.getRecord<{ expiresAt: number }>('verify', expired))!;
  await gw.app.store.putRecord({ ...record, data: { ...record.data, expiresAt: Date.now() - 1 } });
  const pending = await start('+447700900061');
  await start('+447700900061', api(gw.base, 'other-key-1'));

  const list = await acme('GET', '/v1/verify');
  assert.equal(list.status, 200);
  assert.deepEqual(
    (list.body.data as Array<{ id: string; status: string }>).map((v) => [v.id, v.status]),
    [
      [pending, 'pending'],
      [expired, 'expired'],
      [canceled, 'canceled'],
    ],
  );
  const one = await acme('GET', `/v1/verify?to=${encodeURIComponent('07700 900061')}&limit=1`);
  assert.deepEqual(
    (one.body.data as Array<{ id: string }>).map((v) => v.id),
    [pending],
  );
  const next = await acme('GET', `/v1/verify?to=%2B447700900061&cursor=${one.body.nextCursor}`);
  assert.deepEqual(
    (next.body.data as Array<{ id: string }>).map((v) => v.id),
    [canceled],
  );
  assert.equal((await acme('GET', '/v1/verify?limit=0')).body.error.field, 'limit');
  assert.equal((await acme('GET', '/v1/verify?cursor=nonsense')).body.error.code, 'invalid_cursor');
});
