// The http connector inside the gateway: REST in, a provider over HTTP out (a stub, and a
// second smsgw through its Twilio API and its own REST API), the provider's receipts and
// inbound pushed back to /v1/connectors/{id}/…; retries, failures for good, refused pushes;
// the connector in /ready, the admin API and /metrics; an ESME's submit_sm out through a
// provider, its receipt back as deliver_sm.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type Pdu, parseReceipt } from '../../src/smpp/index.ts';
import { providerStub } from '../connectors/provider-stub.ts';
import { freePort } from '../peers/ports.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom, waitFor } from './helpers.ts';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

type Gateway = Awaited<ReturnType<typeof gatewayFrom>>;

async function gateway(yaml: string): Promise<Gateway> {
  const gw = await gatewayFrom(yaml);
  closers.push(() => gw.close());
  return gw;
}

async function messageOf(call: ReturnType<typeof api>, id: string) {
  return (await call('GET', `/v1/messages/${id}`)).body as {
    status: string;
    connector: string;
    error: { code: string } | null;
    events: Array<{ type: string }>;
  };
}

describe('a generic http connector to a stub provider', () => {
  test('sends, retries a 5xx once, fails a 4xx for good, takes authenticated receipts and inbound', async () => {
    // +447700900400: refused for good; the first request for anything else: a 500.
    const stub = await providerStub((req, n) => {
      const body = JSON.parse(req.body) as { to: string; ref: string };
      if (body.to === '+447700900400') return { status: 400, body: '{"error":"invalid number"}' };
      if (n === 1) return { status: 500, body: 'busy' };
      return { status: 200, body: JSON.stringify({ messageId: `P-${body.ref}` }) };
    });
    closers.push(() => stub.close());
    const gw = await gateway(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
connectors:
  - id: upstream
    type: http
    url: ${stub.base}/sms
    auth: { type: bearer, token: provider-token }
    body: { to: "{{to}}", from: "{{from}}", text: "{{text}}", ref: "{{id}}", notify: "{{receiptUrl}}" }
    accepted: { idPath: messageId }
    receipts: { idPath: msgid, statusPath: state, errorPath: code, statuses: { OK: delivered, NOK: undelivered } }
    inbound: { fromPath: sender, toPath: recipient, textPath: message }
routes:
  mt: [{ connectors: [upstream] }]
  mo: [{ account: acme }]
`);
    const call = api(gw.base, 'acme-key-1');
    const admin = api(gw.base, 'admin-key-123');

    const sent = await call('POST', '/v1/messages', { to: '+447700900123', text: 'Hello provider' });
    assert.equal(sent.status, 202);
    const id = sent.body.id as string;
    const submitted = await waitFor(async () => {
      const m = await messageOf(call, id);
      return m.status === 'submitted' && m;
    });
    assert.equal(submitted.connector, 'upstream');
    assert.ok(
      submitted.events.some((e) => e.type === 'retry'),
      'the 500 was retried',
    );
    const forThis = stub.requests.filter((r) => JSON.parse(r.body).ref === id);
    assert.equal(forThis.length, 2, 'one request answered 500, one accepted: one SMS');
    assert.equal(forThis[1]!.headers.authorization, 'Bearer provider-token');

    const receiptUrl = JSON.parse(forThis[1]!.body).notify as string;
    assert.ok(receiptUrl.startsWith(`${gw.base}/v1/connectors/upstream/receipts?secret=`));
    const receipt = { msgid: `P-${id}`, state: 'OK', code: '000' };
    const post = (url: string, body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const noSecret = await post(receiptUrl.replace(/\?.*$/, ''), receipt);
    assert.equal(noSecret.status, 401);
    const wrongSecret = await post(receiptUrl.replace(/secret=[^&]+/, 'secret=not-the-secret'), receipt);
    assert.equal(wrongSecret.status, 403);
    assert.equal(((await wrongSecret.json()) as { error: { code: string } }).error.code, 'forbidden');
    assert.equal((await messageOf(call, id)).status, 'submitted', 'a refused receipt is not applied');
    const unknown = await post(`${gw.base}/v1/connectors/nope/receipts`, receipt);
    assert.equal(unknown.status, 404);

    const accepted = await post(receiptUrl, receipt);
    assert.equal(accepted.status, 200);
    await waitFor(async () => (await messageOf(call, id)).status === 'delivered');

    const failing = await call('POST', '/v1/messages', { to: '+447700900400', text: 'Refused' });
    const failed = await waitFor(async () => {
      const m = await messageOf(call, failing.body.id);
      return m.status === 'failed' && m;
    });
    assert.equal(failed.error?.code, 'http_400');
    assert.equal(
      stub.requests.filter((r) => JSON.parse(r.body).ref === failing.body.id).length,
      1,
      'no retry',
    );

    // A GET with the fields in the query, as many providers call back, works the same.
    const inboundUrl = receiptUrl.replace('/receipts?', '/inbound?');
    const mo = await fetch(`${inboundUrl}&sender=447700900555&recipient=447700900000&message=Hi+back`);
    assert.equal(mo.status, 200);
    const received = await waitFor(async () => {
      const list = await call('GET', '/v1/messages?direction=mo');
      return list.body.data.find((m: { text: string }) => m.text === 'Hi back');
    });
    assert.equal(received.from, '+447700900555');
    assert.equal(received.status, 'received');

    const ready = (await fetch(`${gw.base}/ready`).then((r) => r.json())) as {
      connectors: Array<{ id: string; state: string; binds: number }>;
    };
    assert.deepEqual(
      ready.connectors.map((c) => [c.id, c.state, c.binds]),
      [['upstream', 'up', 1]],
    );
    const listed = await admin('GET', '/v1/admin/connectors');
    assert.equal(listed.body.data[0].type, 'http');
    assert.deepEqual([listed.body.data[0].sent, listed.body.data[0].failed], [1, 2]);
    const metrics = await fetch(`${gw.base}/metrics`, {
      headers: { authorization: 'Bearer admin-key-123' },
    }).then((r) => r.text());
    assert.match(metrics, /smsgw_connector_binds\{connector="upstream",state="bound"[^}]*\} 1\n/);
    const stop = await admin('POST', '/v1/admin/connectors/upstream/stop');
    assert.equal(stop.status, 200);
    assert.equal((await admin('GET', '/v1/admin/connectors')).body.data[0].status, 'stopped');
    assert.equal((await admin('POST', '/v1/admin/connectors/upstream/start')).status, 200);
  });
});

describe('any front door to an http provider', () => {
  test('an ESME’s submit_sm goes out through the provider; its pushed receipt comes back as deliver_sm', async () => {
    const stub = await providerStub((req) => {
      const body = JSON.parse(req.body) as { ref: string };
      return { status: 200, body: JSON.stringify({ messageId: `P-${body.ref}` }) };
    });
    closers.push(() => stub.close());
    const gw = await gateway(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, smpp: { systemId: acme, password: secret } }
connectors:
  - id: upstream
    type: http
    url: ${stub.base}/sms
    body: { to: "{{to}}", from: "{{from}}", text: "{{text}}", ref: "{{id}}", notify: "{{receiptUrl}}" }
    accepted: { idPath: messageId }
    receipts: { idPath: msgid, statusPath: state, statuses: { OK: delivered } }
    secret: push-secret-1
routes:
  mt: [{ connectors: [upstream] }]
`);
    const { client, received } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
    client.start();
    try {
      await client.waitBound();
      const resp = await client.request(
        submitSm({
          destinationAddr: '447700900555',
          sourceAddr: 'ACME',
          sourceAddrTon: 5,
          registeredDelivery: 1,
          shortMessage: Buffer.from('from an ESME'),
        }),
      );
      assert.equal(resp.commandStatus, 0);
      const messageId = (resp as Pdu & { messageId: string }).messageId;
      const request = await waitFor(() => stub.requests.find((r) => JSON.parse(r.body).ref === messageId));
      const sent = JSON.parse(request.body) as { to: string; text: string; notify: string };
      assert.deepEqual([sent.to, sent.text], ['+447700900555', 'from an ESME']);

      const pushed = await fetch(sent.notify, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ msgid: `P-${messageId}`, state: 'OK' }),
      });
      assert.equal(pushed.status, 200);
      const receipt = await waitFor(() =>
        received.find((p) => p.command === 'deliver_sm' && (p.esmClass & 0x04) !== 0),
      );
      assert.equal(receipt.tlvs?.receiptedMessageId, messageId);
      assert.ok('shortMessage' in receipt);
      assert.equal(parseReceipt(receipt.shortMessage.toString('latin1'))?.stat, 'DELIVRD');
    } finally {
      await client.stop();
    }
  });
});

describe('smsgw → a second smsgw', () => {
  test('through its Twilio API: StatusCallback signed with X-Twilio-Signature brings the receipt', async () => {
    const provider = await gateway(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/provider.db
callbacks: { allow: ["127.0.0.0/8"] }   # the first gateway listens on loopback
accounts:
  - { id: tw, apiKeys: [tw-auth-token-1], twilio: { accountSid: AC00000000000000000000000000000007 } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 30 }
routes:
  mt: [{ connectors: [sim] }]
`);
    const gw = await gateway(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: "+447700900000" }
connectors:
  - id: twilio
    type: http
    preset: twilio
    url: ${provider.base}
    accountSid: AC00000000000000000000000000000007
    authToken: tw-auth-token-1
routes:
  mt: [{ connectors: [twilio] }]
`);
    const call = api(gw.base, 'acme-key-1');
    const text = 'A long message through Twilio. '.repeat(8);
    const sent = await call('POST', '/v1/messages', { to: '+447700900123', text });
    assert.equal(sent.status, 202);
    assert.equal(sent.body.segments, 2);
    await waitFor(async () => (await messageOf(call, sent.body.id)).status === 'delivered', 15_000);
    // The provider got the whole text in one message, and sent it in its parts.
    const there = await api(provider.base, 'tw-auth-token-1')('GET', '/v1/messages');
    assert.equal(there.body.data.length, 1);
    assert.equal(there.body.data[0].text, text);
    assert.equal(there.body.data[0].status, 'delivered');

    // A callback not signed by the auth token is refused and changes nothing.
    const other = await call('POST', '/v1/messages', { to: '+447700900124', text: 'second' });
    // The submitted event, once stored (the status shows from memory a moment before, while
    // the provider's answer is being recorded).
    const submittedEvent = await waitFor(async () => {
      const m = (await call('GET', `/v1/messages/${other.body.id}`)).body;
      return m.events.find((e: { type: string }) => e.type === 'submitted');
    });
    const sid = submittedEvent.detail.smscIds[0];
    const forged = await fetch(`${gw.base}/v1/connectors/twilio/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAA' },
      body: new URLSearchParams({ MessageSid: sid, MessageStatus: 'undelivered' }).toString(),
    });
    assert.equal(forged.status, 403);
    await waitFor(async () => (await messageOf(call, other.body.id)).status === 'delivered', 15_000);
  });

  test('through its REST API: its message.status webhook to the callbackUrl brings the receipt; inbound by its signed webhook', async () => {
    const gwPort = await freePort();
    // The provider's account webhook comes to our inbound URL, signed (Smsgw-Signature) with
    // the connector's secret rather than carrying it in the URL.
    const provider = await gateway(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/provider.db
callbacks: { allow: ["127.0.0.0/8"] }
admin: { apiKeys: [provider-admin-1] }
accounts:
  - id: downstream
    apiKeys: [downstream-key-1]
    webhook: { url: "http://127.0.0.1:${gwPort}/v1/connectors/upstream/inbound", secret: shared-secret-1 }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 30, outcomes: [{ to: "+1555000*", status: undelivered, error: "001" }] }
routes:
  mt: [{ connectors: [sim] }]
  mo: [{ account: downstream }]
`);
    const gw = await gateway(`
http: { listen: 127.0.0.1:${gwPort} }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
connectors:
  - { id: upstream, type: http, preset: smsgw, url: "${provider.base}", apiKey: downstream-key-1, secret: shared-secret-1 }
routes:
  mt: [{ connectors: [upstream] }]
  mo: [{ account: acme }]
`);
    const call = api(gw.base, 'acme-key-1');
    const sent = await call('POST', '/v1/messages', { to: '+15550001234', text: 'Will not arrive' });
    const done = await waitFor(async () => {
      const m = await messageOf(call, sent.body.id);
      return m.status === 'undelivered' && m;
    }, 15_000);
    assert.equal(done.error?.code, '001');

    const injected = await api(provider.base, 'provider-admin-1')(
      'POST',
      '/v1/admin/connectors/sim/inbound',
      {
        from: '+447700900777',
        to: '+447700900000',
        text: 'Inbound through two gateways',
      },
    );
    assert.ok(injected.status < 300);
    const received = await waitFor(async () => {
      const list = await call('GET', '/v1/messages?direction=mo');
      return list.body.data.find((m: { text: string }) => m.text === 'Inbound through two gateways');
    }, 15_000);
    assert.equal(received.from, '+447700900777');
  });
});
