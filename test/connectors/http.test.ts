// The http connector against a stub provider: the request each preset and the generic
// settings make, what counts as accepted, temporary and permanent failures (5xx, 429 with
// Retry-After, 4xx, no answer, nobody listening), long texts whole or in parts, and the
// pushes it reads (authenticated by the secret in the URL or the provider's signature).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, test } from 'node:test';
import { HttpConnector, type Push } from '../../src/connectors/index.ts';
import { twilioSignature } from '../../src/webhooks/index.ts';
import { outbound, RecordingSink, waitFor } from './helpers.ts';
import { httpConfig, providerStub } from './provider-stub.ts';

const publicUrl = 'http://gw.example:8080';
const connectors: HttpConnector[] = [];
const stubs: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const c of connectors) await c.stop();
  for (const s of stubs) await s.close();
});

async function stub(...args: Parameters<typeof providerStub>) {
  const s = await providerStub(...args);
  stubs.push(s);
  return s;
}

async function connector(config: Parameters<typeof httpConfig>[0], sink = new RecordingSink()) {
  const c = new HttpConnector(httpConfig(config), sink, undefined, { publicUrl: () => publicUrl });
  connectors.push(c);
  await c.start();
  return { c, sink };
}

function push(url: string, fields: Record<string, unknown>, extra: Partial<Push> = {}): Push {
  const u = new URL(url);
  return {
    method: 'POST',
    url,
    query: u.searchParams,
    headers: {},
    rawBody: '',
    fields: { ...Object.fromEntries(u.searchParams), ...fields },
    ...extra,
  };
}

test('generic: templates fill a JSON body, bearer auth and headers; the id is read from the answer', async () => {
  const p = await stub(() => ({ status: 201, body: '{"result":{"messageId":"abc-1"}}' }));
  const { c } = await connector({
    url: `${p.base}/send`,
    headers: { 'X-Api-Version': '2' },
    auth: { type: 'bearer', token: 'tok-1' },
    body: { dest: '{{toDigits}}', src: '{{from}}', msg: '{{text}}', ref: '{{id}}', hook: '{{receiptUrl}}' },
    accepted: { idPath: 'result.messageId' },
  });
  const sms = outbound({ text: 'Hi "there"' });
  const result = await c.send(sms);
  assert.deepEqual(result, { ok: true, smscIds: ['abc-1'] });
  const [req] = p.requests;
  assert.equal(req!.method, 'POST');
  assert.equal(req!.url, '/send');
  assert.equal(req!.headers.authorization, 'Bearer tok-1');
  assert.equal(req!.headers['x-api-version'], '2');
  const body = JSON.parse(req!.body);
  assert.equal(body.dest, '447700900001');
  assert.equal(body.src, sms.from);
  assert.equal(body.msg, 'Hi "there"');
  assert.equal(body.ref, sms.messageId);
  assert.equal(body.hook, c.pushUrls().receiptUrl);
  assert.match(body.hook, /^http:\/\/gw\.example:8080\/v1\/connectors\/provider\/receipts\?secret=.{32}$/);
  assert.equal(c.state().sent, 1);
});

test('generic: a form body signed by HMAC; an error path in a 200 answer is a refusal', async () => {
  const p = await stub((_req, n) => ({ body: n === 1 ? '{"ok":true}' : '{"error":"bad number"}' }));
  const { c } = await connector({
    url: `${p.base}/sms`,
    format: 'form',
    auth: { type: 'hmac', secret: 'hk', header: 'X-Sig' },
    body: { to: '{{to}}', text: '{{text}}' },
    accepted: { errorPath: 'error' },
  });
  const sms = outbound();
  // No id in the answer: receipts name the gateway's id.
  assert.deepEqual(await c.send(sms), { ok: true, smscIds: [sms.messageId] });
  const req = p.requests[0]!;
  assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(new URLSearchParams(req.body).get('text'), sms.text);
  assert.equal(req.headers['x-sig'], createHmac('sha256', 'hk').update(req.body).digest('hex'));
  const refused = await c.send(outbound());
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.temporary, false);
  assert.match(!refused.ok ? refused.message : '', /bad number/);
});

test('a 5xx is temporary, then a 2xx goes through; a 4xx is a failure for good', async () => {
  const p = await stub((_req, n) =>
    n === 1 ? { status: 500, body: 'oops' } : n === 2 ? {} : { status: 400, body: '{"e":1}' },
  );
  const { c } = await connector({ url: p.base, body: { to: '{{to}}' }, accepted: { idPath: 'id' } });
  const first = await c.send(outbound());
  assert.equal(first.ok, false);
  assert.equal(!first.ok && first.temporary, true);
  assert.equal(!first.ok && first.code, 'http_500');
  assert.match(c.state().lastError ?? '', /500/);
  assert.deepEqual(await c.send(outbound()), { ok: true, smscIds: ['p-1'] });
  assert.equal(c.state().lastError, null);
  const third = await c.send(outbound());
  assert.equal(third.ok, false);
  assert.equal(!third.ok && third.temporary, false);
  assert.equal(!third.ok && third.code, 'http_400');
});

test('429 with Retry-After pauses the connector until then', async () => {
  const p = await stub((_req, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : {}));
  const { c } = await connector({ url: p.base, body: { to: '{{to}}' } });
  const first = await c.send(outbound());
  assert.equal(!first.ok && first.temporary, true);
  assert.equal(!first.ok && first.code, 'throttled');
  assert.equal(c.capacity(), 0, 'nothing is sent while the provider asked for a pause');
  await new Promise<void>((resolve) => c.once('ready', resolve));
  await waitFor(() => c.capacity() > 0, 5_000);
  assert.equal((await c.send(outbound())).ok, true);
});

test('a provider that never answers: temporary once the timeout passes', async () => {
  const p = await stub(() => ({ hang: true }));
  const { c } = await connector({ url: p.base, body: { to: '{{to}}' }, timeoutSeconds: 1 });
  const result = await c.send(outbound());
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.temporary, true);
  assert.match(!result.ok ? result.message : '', /no answer within 1 s/);
});

test('nobody listening: temporary', async () => {
  const p = await stub();
  const url = p.base;
  await p.close();
  const { c } = await connector({ url, body: { to: '{{to}}' } });
  const result = await c.send(outbound());
  assert.equal(!result.ok && result.temporary, true);
  assert.match(!result.ok ? result.message : '', /ECONNREFUSED/);
});

test('long text: whole to a provider that splits, one request per part to one that does not', async () => {
  const text = 'x'.repeat(400); // three GSM parts of 153
  const whole = await stub();
  const { c: a } = await connector({
    url: whole.base,
    body: { text: '{{text}}' },
    accepted: { idPath: 'id' },
  });
  assert.deepEqual(await a.send(outbound({ text })), { ok: true, smscIds: ['p-1'] });
  assert.equal(JSON.parse(whole.requests[0]!.body).text, text);

  const parts = await stub((_req, n) => ({ body: `{"id":"part-${n}"}` }));
  const { c: b } = await connector({
    url: parts.base,
    body: { text: '{{text}}' },
    accepted: { idPath: 'id' },
    longMessages: 'parts',
  });
  assert.deepEqual(await b.send(outbound({ text })), { ok: true, smscIds: ['part-1', 'part-2', 'part-3'] });
  assert.equal(parts.requests.map((r) => JSON.parse(r.body).text).join(''), text);
});

test('tps holds the sends to the rate: capacity is what the rate allows, not the concurrency', async () => {
  const p = await stub();
  const { c: limited } = await connector({ url: p.base, body: { to: '{{to}}' }, tps: 2 });
  const { c: free } = await connector({ url: p.base, body: { to: '{{to}}' } });
  assert.equal(free.capacity(), 8);
  // A tenth of a second's worth, at least one.
  assert.equal(limited.capacity(), 1);
});

test("a cluster's share: its part of the concurrency and tps; none is standby", async () => {
  const p = await stub();
  const { c } = await connector({ url: p.base, body: { to: '{{to}}' }, concurrency: 6, tps: 100 });
  assert.deepEqual(c.budget, { binds: 6, tps: 100 });
  await c.share(0, 0);
  assert.equal(c.state().status, 'standby');
  assert.equal(c.capacity(), 0);
  await c.share(3, 50);
  assert.equal(c.state().status, 'up');
  assert.equal(c.state().binds[0]?.window, 3);
  assert.equal(c.capacity(), 3);
});

test('preset twilio: Messages.json with Basic auth and StatusCallback; callbacks checked by X-Twilio-Signature', async () => {
  const p = await stub(() => ({
    status: 201,
    body: '{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}',
  }));
  const { c, sink } = await connector({
    preset: 'twilio',
    url: p.base,
    accountSid: 'AC1',
    authToken: 'tw-token',
  });
  const sms = outbound();
  assert.deepEqual(await c.send({ ...sms, receipt: true }), {
    ok: true,
    smscIds: ['SM0123456789abcdef0123456789abcdef'],
  });
  const req = p.requests[0]!;
  assert.equal(req.url, '/2010-04-01/Accounts/AC1/Messages.json');
  assert.equal(req.headers.authorization, `Basic ${Buffer.from('AC1:tw-token').toString('base64')}`);
  const form = new URLSearchParams(req.body);
  assert.equal(form.get('To'), sms.to);
  assert.equal(form.get('Body'), sms.text);
  const callback = form.get('StatusCallback')!;
  assert.equal(callback, c.pushUrls().receiptUrl);

  const params = { MessageSid: 'SM0123456789abcdef0123456789abcdef', MessageStatus: 'delivered' };
  const rawBody = new URLSearchParams(params).toString();
  const forged = await c.push(
    'receipts',
    push(callback, params, {
      rawBody,
      headers: { 'x-twilio-signature': twilioSignature('wrong', callback, params) },
    }),
  );
  assert.equal(forged.status, 403);
  const unsigned = await c.push('receipts', push(callback, params, { rawBody }));
  assert.equal(unsigned.status, 401);
  assert.equal(sink.receipts.length, 0, 'nothing applied from an unauthenticated push');
  const signed = await c.push(
    'receipts',
    push(callback, params, {
      rawBody,
      headers: { 'x-twilio-signature': twilioSignature('tw-token', callback, params) },
    }),
  );
  assert.equal(signed.status, 200);
  assert.equal(sink.receipts[0]?.smscId, params.MessageSid);
  assert.equal(sink.receipts[0]?.status, 'delivered');

  const inbound = { From: '+447700900002', To: '+447700900000', Body: 'Yes please' };
  const inboundUrl = c.pushUrls().inboundUrl;
  const answer = await c.push(
    'inbound',
    push(inboundUrl, inbound, {
      rawBody: new URLSearchParams(inbound).toString(),
      headers: { 'x-twilio-signature': twilioSignature('tw-token', inboundUrl, inbound) },
    }),
  );
  assert.equal(answer.status, 200);
  assert.match(answer.body, /<Response>/);
  assert.equal(sink.inbounds[0]?.text, 'Yes please');
});

test('preset kannel: sendsms with dlr-url; the receipt names the gateway id', async () => {
  const p = await stub(() => ({ status: 202, body: '0: Accepted for delivery' }));
  const { c, sink } = await connector({
    preset: 'kannel',
    url: `${p.base}/cgi-bin/sendsms`,
    username: 'u',
    password: 'p',
  });
  const sms = outbound({ text: 'Grüße €', encoding: 'ucs2', receipt: true });
  assert.deepEqual(await c.send(sms), { ok: true, smscIds: [sms.messageId] });
  const url = new URL(p.requests[0]!.url, p.base);
  assert.equal(url.pathname, '/cgi-bin/sendsms');
  assert.equal(url.searchParams.get('username'), 'u');
  assert.equal(url.searchParams.get('text'), 'Grüße €');
  assert.equal(url.searchParams.get('coding'), '2');
  assert.equal(url.searchParams.get('dlr-mask'), '19');
  const dlrUrl = url.searchParams.get('dlr-url')!;
  assert.ok(dlrUrl.startsWith(c.pushUrls().receiptUrl));
  // Kannel fills its escapes in: %d the type, %A the SMSC's receipt text.
  const called = dlrUrl
    .replace('%d', '1')
    .replace(
      '%A',
      encodeURIComponent(
        'id:7 sub:001 dlvrd:001 submit date:2612051200 done date:2612051200 stat:DELIVRD err:000 text:x',
      ),
    );
  const wrong = await c.push(
    'receipts',
    push(called.replace(/secret=[^&]+/, 'secret=nope'), {}, { method: 'GET' }),
  );
  assert.equal(wrong.status, 403);
  assert.equal(sink.receipts.length, 0);
  const ok = await c.push('receipts', push(called, {}, { method: 'GET' }));
  assert.equal(ok.status, 200);
  assert.deepEqual(
    { smscId: sink.receipts[0]?.smscId, status: sink.receipts[0]?.status, stat: sink.receipts[0]?.stat },
    { smscId: sms.messageId, status: 'delivered', stat: 'DELIVRD' },
  );
  const refused = await c.send(outbound());
  assert.equal(refused.ok, true);
  assert.equal(p.requests.length, 2);
});

test('preset smsgw: REST with callbackUrl; receipts from its message.status webhook', async () => {
  const p = await stub(() => ({ status: 202, body: '{"id":"01jabc","status":"queued"}' }));
  const { c, sink } = await connector({ preset: 'smsgw', url: p.base, apiKey: 'key-2' });
  assert.deepEqual(await c.send(outbound({ receipt: true })), { ok: true, smscIds: ['01jabc'] });
  const req = p.requests[0]!;
  assert.equal(req.url, '/v1/messages');
  assert.equal(req.headers.authorization, 'Bearer key-2');
  assert.equal(JSON.parse(req.body).callbackUrl, c.pushUrls().receiptUrl);
  const event = {
    type: 'message.status',
    data: { id: '01jabc', status: 'undelivered', error: { code: '001' } },
  };
  const answer = await c.push(
    'receipts',
    push(c.pushUrls().receiptUrl, event, { rawBody: JSON.stringify(event) }),
  );
  assert.equal(answer.status, 200);
  assert.deepEqual([sink.receipts[0]?.status, sink.receipts[0]?.err], ['undelivered', '001']);
  const missing = await c.push('receipts', push(c.pushUrls().receiptUrl.replace(/\?.*/, ''), event));
  assert.equal(missing.status, 401);
  assert.equal(sink.receipts.length, 1);
});

test('preset vonage: one id per part of a long text, a throttled answer is temporary', async () => {
  const p = await stub((_req, n) => ({
    body:
      n === 1
        ? '{"message-count":"2","messages":[{"status":"0","message-id":"V1"},{"status":"0","message-id":"V2"}]}'
        : '{"message-count":"1","messages":[{"status":"1","error-text":"Throttled"}]}',
  }));
  const { c } = await connector({ preset: 'vonage', url: p.base, apiKey: 'k', apiSecret: 's' });
  assert.deepEqual(await c.send(outbound({ text: 'y'.repeat(200), receipt: true })), {
    ok: true,
    smscIds: ['V1', 'V2'],
  });
  const form = new URLSearchParams(p.requests[0]!.body);
  assert.equal(p.requests[0]!.url, '/sms/json');
  assert.equal(form.get('to'), '447700900001');
  assert.equal(form.get('status-report-req'), '1');
  const throttled = await c.send(outbound());
  assert.equal(!throttled.ok && throttled.temporary, true);
});

test('a connector with nothing to derive a secret from takes no pushes', async () => {
  // A header that is no credential derives nothing.
  const { c, sink } = await connector({
    url: 'http://127.0.0.1:9/sms',
    body: { to: '{{to}}' },
    headers: { 'X-Api-Version': '2' },
  });
  assert.doesNotMatch(c.pushUrls().receiptUrl, /secret=/);
  const answer = await c.push('inbound', push(c.pushUrls().inboundUrl, { from: '1', to: '2', text: 'x' }));
  assert.equal(answer.status, 401);
  assert.equal(sink.inbounds.length, 0);
});

test('the derived secret is the same for the same credentials (a restart, another gateway), new for others', async () => {
  const settings = { preset: 'kannel' as const, url: 'http://127.0.0.1:9/cgi-bin/sendsms', username: 'u' };
  const { c: first } = await connector({ ...settings, password: 'p' });
  const { c: again } = await connector({ ...settings, password: 'p' });
  const { c: other } = await connector({ ...settings, password: 'q' });
  const { c: given } = await connector({ ...settings, password: 'p', secret: 'configured-secret' });
  assert.match(first.pushUrls().receiptUrl, /\?secret=[A-Za-z0-9_-]{32}$/);
  assert.equal(again.pushUrls().receiptUrl, first.pushUrls().receiptUrl);
  assert.notEqual(other.pushUrls().receiptUrl, first.pushUrls().receiptUrl);
  assert.match(given.pushUrls().receiptUrl, /\?secret=configured-secret$/);
});

test("generic as data for a nested API (Infobip's shape): a nested body, a list of receipts in one push", async () => {
  const p = await stub(() => ({
    body: '{"bulkId":"b1","messages":[{"to":"447700900001","status":{"groupName":"PENDING"},"messageId":"ib-1"}]}',
  }));
  const { c, sink } = await connector({
    url: `${p.base}/sms/2/text/advanced`,
    headers: { Authorization: 'App ib-key' },
    body: {
      'messages.0.destinations.0.to': '{{toDigits}}',
      'messages.0.from': '{{from}}',
      'messages.0.text': '{{text}}',
      'messages.0.notifyUrl': '{{receiptUrl}}',
    },
    accepted: { idPath: 'messages.0.messageId' },
    receipts: {
      listPath: 'results',
      idPath: 'messageId',
      statusPath: 'status.groupName',
      errorPath: 'error.name',
      statuses: { DELIVERED: 'delivered', UNDELIVERABLE: 'undelivered', PENDING: 'accepted' },
    },
  });
  const sms = outbound({ receipt: true });
  assert.deepEqual(await c.send(sms), { ok: true, smscIds: ['ib-1'] });
  const req = p.requests[0]!;
  assert.equal(req.headers.authorization, 'App ib-key');
  assert.deepEqual(JSON.parse(req.body), {
    messages: [
      {
        destinations: [{ to: '447700900001' }],
        from: sms.from,
        text: sms.text,
        notifyUrl: c.pushUrls().receiptUrl,
      },
    ],
  });
  const report = {
    results: [
      { messageId: 'ib-1', status: { groupName: 'DELIVERED' }, error: { name: 'NO_ERROR' } },
      { messageId: 'ib-2', status: { groupName: 'UNDELIVERABLE' }, error: { name: 'EC_ABSENT_SUBSCRIBER' } },
    ],
  };
  const answer = await c.push(
    'receipts',
    push(c.pushUrls().receiptUrl, report, { rawBody: JSON.stringify(report) }),
  );
  assert.equal(answer.status, 200);
  assert.deepEqual(
    sink.receipts.map((r) => [r.smscId, r.status, r.err]),
    [
      ['ib-1', 'delivered', 'NO_ERROR'],
      ['ib-2', 'undelivered', 'EC_ABSENT_SUBSCRIBER'],
    ],
  );
});
