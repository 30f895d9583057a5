// The official `twilio` npm client, unmodified, pointed at the gateway through a custom
// httpClient that only swaps api.twilio.com for our address: it creates, fetches, lists,
// cancels and deletes messages; status callbacks and inbound webhooks pass
// twilio.validateRequest; a TwiML <Message> answer is sent back to the sender.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import twilio from 'twilio';
import { gatewayFrom, waitFor } from '../e2e/helpers.ts';
import { callbackReceiver, type ReceivedRequest } from './helpers.ts';

const accountSid = 'AC0123456789abcdef0123456789abcdef';
const authToken = 'twilio-key-0001';
let gw: Awaited<ReturnType<typeof gatewayFrom>>;
let hooks: Awaited<ReturnType<typeof callbackReceiver>>;
let client: ReturnType<typeof twilio>;

before(async () => {
  hooks = await callbackReceiver((r) =>
    r.url.pathname === '/sms'
      ? {
          type: 'text/xml',
          body: `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks &amp; welcome, ${r.form.get('Body')}</Message></Response>`,
        }
      : {},
  );
  gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
callbacks: { allow: ["127.0.0.0/8"] }   # the callback receivers of these tests listen on loopback
admin: { apiKeys: [admin-key-0001] }
accounts:
  - id: app
    apiKeys: [${authToken}, twilio-key-0002]
    twilio: { accountSid: ${accountSid}, smsUrl: "${hooks.base}/sms" }
  - { id: other, apiKeys: [other-key-0001], twilio: { accountSid: AC00000000000000000000000000000002 } }
connectors:
  - id: sim
    type: simulator
    deliveryDelayMs: 50
    outcomes: [{ to: "+1555000*", status: undelivered, error: "001" }]
routes:
  mt: [{ connectors: [sim] }]
  mo: [{ match: { to: ["+15550100"] }, account: app }]
`);
  const base = new twilio.RequestClient();
  client = twilio(accountSid, authToken, {
    httpClient: {
      request: (opts: Parameters<typeof base.request>[0]) =>
        base.request({ ...opts, uri: opts.uri.replace('https://api.twilio.com', gw.base) }),
    } as unknown as typeof base,
  });
});
after(async () => {
  await gw.close();
  await hooks.close();
});

const validSignature = (r: ReceivedRequest) =>
  twilio.validateRequest(
    authToken,
    String(r.headers['x-twilio-signature']),
    `${hooks.base}${r.url.pathname}${r.url.search}`,
    Object.fromEntries(r.form),
  );

test('create, fetch and list with the twilio client; status callbacks are signed', async () => {
  const created = await client.messages.create({
    to: '+447700900001',
    from: '+15550100',
    body: 'Hello from twilio-node',
    statusCallback: `${hooks.base}/status?tag=a`,
  });
  assert.match(created.sid, /^SM[0-9a-f]{32}$/);
  assert.equal(created.status, 'queued');
  assert.equal(created.accountSid, accountSid);
  assert.equal(created.numSegments, '1');
  assert.equal(created.direction, 'outbound-api');
  assert.ok(created.dateCreated instanceof Date && !Number.isNaN(created.dateCreated.getTime()));

  const delivered = await waitFor(
    () =>
      hooks.requests.find((r) => r.url.pathname === '/status' && r.form.get('MessageStatus') === 'delivered'),
    10_000,
    'delivered callback',
  );
  assert.equal(delivered.method, 'POST');
  assert.match(String(delivered.headers['content-type']), /application\/x-www-form-urlencoded/);
  assert.equal(delivered.form.get('MessageSid'), created.sid);
  assert.equal(delivered.form.get('AccountSid'), accountSid);
  assert.equal(delivered.form.get('To'), '+447700900001');
  assert.ok(validSignature(delivered), 'X-Twilio-Signature validates with the auth token');
  assert.ok(
    !twilio.validateRequest(
      'twilio-key-0002',
      String(delivered.headers['x-twilio-signature']),
      `${hooks.base}/status?tag=a`,
      Object.fromEntries(delivered.form),
    ),
  );
  const statuses = hooks.requests
    .filter((r) => r.form.get('MessageSid') === created.sid)
    .map((r) => r.form.get('MessageStatus'));
  assert.deepEqual(statuses, ['sent', 'delivered']);

  const fetched = await client.messages(created.sid).fetch();
  assert.equal(fetched.status, 'delivered');
  assert.equal(fetched.body, 'Hello from twilio-node');
  assert.equal(fetched.errorCode, null);
  assert.ok(fetched.dateSent instanceof Date);

  for (let i = 0; i < 3; i++)
    await client.messages.create({ to: `+44770090010${i}`, from: '+15550100', body: `page ${i}` });
  const listed = await client.messages.list({ pageSize: 2, limit: 10 });
  assert.ok(listed.length >= 4, `paged through all (${listed.length})`);
  assert.equal(new Set(listed.map((m) => m.sid)).size, listed.length);
  assert.ok(listed.some((m) => m.sid === created.sid));
  const toOne = await client.messages.list({ to: '+447700900101' });
  assert.deepEqual(
    toOne.map((m) => m.body),
    ['page 1'],
  );
});

test('an undelivered message: callback with ErrorCode, error_code on fetch', async () => {
  const m = await client.messages.create({
    to: '+15550001234',
    from: '+15550100',
    body: 'no luck',
    statusCallback: `${hooks.base}/status`,
  });
  const cb = await waitFor(
    () =>
      hooks.requests.find(
        (r) => r.form.get('MessageSid') === m.sid && r.form.get('MessageStatus') === 'undelivered',
      ),
    10_000,
    'undelivered callback',
  );
  assert.equal(cb.form.get('ErrorCode'), '30003');
  assert.ok(validSignature(cb));
  const fetched = await client.messages(m.sid).fetch();
  assert.equal(fetched.status, 'undelivered');
  assert.equal(fetched.errorCode, 30003);
});

test("Twilio's error bodies and codes reach the client as RestException", async () => {
  const attempt = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      return err as { status: number; code: number; moreInfo: string };
    }
    assert.fail('expected a RestException');
  };
  const badTo = await attempt(() => client.messages.create({ to: 'nope', from: '+15550100', body: 'x' }));
  assert.equal(badTo.status, 400);
  assert.equal(badTo.code, 21211);
  assert.equal(badTo.moreInfo, 'https://www.twilio.com/docs/errors/21211');
  const noBody = await attempt(() => client.messages.create({ to: '+447700900001', from: '+15550100' }));
  assert.equal(noBody.code, 21602);
  const longCallback = await attempt(() =>
    client.messages.create({
      to: '+447700900001',
      from: '+15550100',
      body: 'x',
      statusCallback: `https://example.com/${'a'.repeat(2040)}`,
    }),
  );
  assert.deepEqual([longCallback.status, longCallback.code], [400, 21609]);
  const missing = await attempt(() => client.messages(`SM${'0'.repeat(32)}`).fetch());
  assert.equal(missing.status, 404);
  assert.equal(missing.code, 20404);
  const wrongKey = twilio(accountSid, 'not-a-key', {
    httpClient: (client as unknown as { httpClient: unknown }).httpClient as never,
  });
  const denied = await attempt(() => wrongKey.messages.list());
  assert.equal(denied.status, 401);
  assert.equal(denied.code, 20003);

  // Another account's message is not found.
  const mine = await client.messages.create({ to: '+447700900002', from: '+15550100', body: 'mine' });
  const res = await fetch(
    `${gw.base}/2010-04-01/Accounts/AC00000000000000000000000000000002/Messages/${mine.sid}.json`,
    {
      headers: {
        authorization: `Basic ${Buffer.from('AC00000000000000000000000000000002:other-key-0001').toString('base64')}`,
      },
    },
  );
  assert.equal(res.status, 404);
  assert.deepEqual(Object.keys((await res.json()) as object).sort(), [
    'code',
    'message',
    'more_info',
    'status',
  ]);
});

test('a scheduled message is canceled by update; delete and redact', async () => {
  const sendAt = new Date(Date.now() + 3600_000);
  const scheduled = await client.messages.create({
    to: '+447700900003',
    from: '+15550100',
    body: 'later',
    sendAt,
    scheduleType: 'fixed',
    messagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
  });
  assert.equal(scheduled.status, 'scheduled');
  assert.equal(scheduled.messagingServiceSid, 'MG0123456789abcdef0123456789abcdef');
  const canceled = await client.messages(scheduled.sid).update({ status: 'canceled' });
  assert.equal(canceled.status, 'canceled');

  const sent = await client.messages.create({ to: '+447700900004', from: '+15550100', body: 'secret' });
  await waitFor(
    async () => (await client.messages(sent.sid).fetch()).status === 'delivered',
    10_000,
    'delivered',
  );
  const redacted = await client.messages(sent.sid).update({ body: '' });
  assert.equal(redacted.body, '');
  assert.equal((await client.messages(sent.sid).fetch()).body, '');
  assert.equal(await client.messages(sent.sid).remove(), true);
  await assert.rejects(client.messages(sent.sid).fetch(), (err: { status: number }) => err.status === 404);
});

test('inbound goes to smsUrl in Twilio format, signed; a TwiML <Message> is sent back', async () => {
  const injected = await fetch(`${gw.base}/v1/admin/connectors/sim/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer admin-key-0001' },
    body: JSON.stringify({ from: '+447700900099', to: '+15550100', text: 'JOIN' }),
  });
  assert.equal(injected.status, 202);
  const inbound = await waitFor(
    () => hooks.requests.find((r) => r.url.pathname === '/sms'),
    10_000,
    'inbound webhook',
  );
  assert.equal(inbound.form.get('Body'), 'JOIN');
  assert.equal(inbound.form.get('From'), '+447700900099');
  assert.equal(inbound.form.get('To'), '+15550100');
  assert.equal(inbound.form.get('AccountSid'), accountSid);
  assert.equal(inbound.form.get('SmsStatus'), 'received');
  assert.equal(inbound.form.get('NumSegments'), '1');
  assert.match(inbound.form.get('MessageSid') ?? '', /^SM[0-9a-f]{32}$/);
  assert.ok(validSignature(inbound));

  const reply = await waitFor(
    async () =>
      (await client.messages.list({ to: '+447700900099' })).find((m) => m.direction === 'outbound-api'),
    10_000,
    'TwiML reply sent',
  );
  assert.equal(reply.body, 'Thanks & welcome, JOIN');
  assert.equal(reply.from, '+15550100');
  const received = await client.messages(inbound.form.get('MessageSid')!).fetch();
  assert.equal(received.direction, 'inbound');
  assert.equal(received.status, 'received');
});
