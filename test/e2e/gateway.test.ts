// The gateway end to end over real sockets: REST and SMPP in, the smpp connector out to
// the SMSC simulator, receipts back, signed webhooks, inbound to webhook and receiver bind.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import type { Pdu } from '../../src/smpp/index.ts';
import { CommandStatus, formatSmppTime, parseReceipt, SmppClient } from '../../src/smpp/index.ts';
import { verifyWebhook } from '../../src/webhooks/index.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

describe('gateway end to end', () => {
  let sim: SmscSimulator;
  let hooks: Awaited<ReturnType<typeof webhookReceiver>>;
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let call: ReturnType<typeof api>;

  before(async () => {
    sim = new SmscSimulator({
      deliveryDelayMs: 30,
      outcomes: [{ to: '1555000*', stat: 'UNDELIV', err: '001' }],
    });
    const { port: simPort } = await sim.listen(0);
    hooks = await webhookReceiver();
    gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
callbacks: { allow: ["127.0.0.0/8"] }   # the callback receivers of these tests listen on loopback
admin: { apiKeys: [admin-key-123] }
accounts:
  - id: acme
    apiKeys: [acme-key-1]
    smpp: { systemId: acme, password: secret }
    webhook: { url: "${hooks.url}", secret: whsec-1 }
    defaultFrom: ACME
  - id: other
    apiKeys: [other-key-1]
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${simPort}, systemId: gw, password: pw, window: 16 }
  - { id: sim, type: simulator, deliveryDelayMs: 20, outcomes: [{ to: "+1555000*", status: undelivered, error: "001" }] }
routes:
  mt:
    - match: { to: ["+44*"] }
      connectors: [carrier]
    - connectors: [sim]
  mo:
    - match: { to: ["+15550100"] }
      account: acme
`);
    call = api(gw.base, 'acme-key-1');
  });

  after(async () => {
    await gw?.close();
    await sim?.close();
    await hooks?.close();
  });

  test('REST → smpp connector → SMSC → receipt → delivered → signed webhook', async () => {
    const res = await call('POST', '/v1/messages', { to: '+447700900123', text: 'Hello from the e2e test' });
    assert.equal(res.status, 202);
    assert.equal(res.body.status, 'queued');
    assert.equal(res.body.from, 'ACME');
    assert.equal(res.body.segments, 1);
    assert.equal(res.body.encoding, 'gsm7');
    const id = res.body.id as string;
    const done = await waitFor(async () => {
      const m = await call('GET', `/v1/messages/${id}`);
      return m.body.status === 'delivered' && m.body;
    });
    assert.equal(done.connector, 'carrier');
    assert.ok(done.submittedAt && done.doneAt);
    assert.deepEqual(
      done.events.map((e: { type: string }) => e.type).filter((t: string) => t !== 'receipt'),
      ['queued', 'submitted', 'delivered'],
    );
    const hook = await waitFor(() =>
      hooks.hooks.find(
        (h) =>
          h.body.type === 'message.status' && h.body.data.id === id && h.body.data.status === 'delivered',
      ),
    );
    assert.ok(
      verifyWebhook(
        'whsec-1',
        hook.raw,
        String(hook.headers['smsgw-signature']),
        Math.floor(Date.now() / 1000),
      ),
    );
    assert.equal(
      verifyWebhook(
        'wrong',
        hook.raw,
        String(hook.headers['smsgw-signature']),
        Math.floor(Date.now() / 1000),
      ),
      false,
    );
    const atSmsc = [...sim.messages.values()].find((m) => m.to === '447700900123');
    assert.ok(atSmsc);
  });

  test('the simulator connector reports the configured outcome', async () => {
    const res = await call('POST', '/v1/messages', { to: '+15550001234', text: 'will fail' });
    assert.equal(res.status, 202);
    const m = await waitFor(async () => {
      const r = await call('GET', `/v1/messages/${res.body.id}`);
      return r.body.status === 'undelivered' && r.body;
    });
    assert.equal(m.error.code, '001');
  });

  test('an ESME binds over SMPP, submits, and gets its receipt as deliver_sm', async () => {
    const { client, received } = esme(gw.app.smppAddress!.port, {
      systemId: 'acme',
      password: 'secret',
      bindType: 'transceiver',
    });
    client.start();
    try {
      await client.waitBound();
      const resp = await client.request(
        submitSm({
          destinationAddr: '447700900555',
          sourceAddr: 'ACME',
          sourceAddrTon: 5,
          registeredDelivery: 1,
          shortMessage: Buffer.from('via smpp'),
        }),
      );
      assert.equal(resp.commandStatus, 0);
      const messageId = (resp as Pdu & { messageId: string }).messageId;
      const receipt = await waitFor(() =>
        received.find((p) => p.command === 'deliver_sm' && (p.esmClass & 0x04) !== 0),
      );
      assert.ok('shortMessage' in receipt);
      const parsed = parseReceipt(receipt.shortMessage.toString('latin1'));
      assert.equal(parsed?.id, messageId);
      assert.equal(parsed?.stat, 'DELIVRD');
      assert.equal(receipt.tlvs?.receiptedMessageId, messageId);
      const m = await call('GET', `/v1/messages/${messageId}`);
      assert.equal(m.body.status, 'delivered');
      assert.equal(m.body.to, '+447700900555');
    } finally {
      await client.stop();
    }
  });

  test('a wrong SMPP password is refused with ESME_RINVPASWD', async () => {
    const client = new SmppClient({
      host: '127.0.0.1',
      port: gw.app.smppAddress!.port,
      systemId: 'acme',
      password: 'nope',
      bindType: 'transceiver',
      reconnect: false,
    });
    const failed = new Promise<number>((r) => client.once('bindFailed', r));
    client.start();
    assert.equal(await failed, CommandStatus.ESME_RINVPASWD);
    await client.stop();
  });

  test('inbound injected at a simulator connector reaches the webhook and the receiver bind', async () => {
    const { client, received } = esme(gw.app.smppAddress!.port, {
      systemId: 'acme',
      password: 'secret',
      bindType: 'receiver',
    });
    client.start();
    try {
      await client.waitBound();
      const admin = api(gw.base, 'admin-key-123');
      const res = await admin('POST', '/v1/admin/connectors/sim/inbound', {
        from: '+447700900999',
        to: '+15550100',
        text: 'STOP all messages',
      });
      assert.equal(res.status, 202);
      const hook = await waitFor(() =>
        hooks.hooks.find(
          (h) => h.body.type === 'message.inbound' && h.body.data.text === 'STOP all messages',
        ),
      );
      assert.equal(hook.body.data.from, '+447700900999');
      assert.equal(hook.body.data.to, '+15550100');
      const mo = await waitFor(() =>
        received.find((p) => p.command === 'deliver_sm' && (p.esmClass & 0x04) === 0),
      );
      assert.ok('shortMessage' in mo);
      assert.equal(mo.shortMessage.toString('latin1'), 'STOP all messages');
      assert.equal(mo.sourceAddr, '447700900999');
      const list = await call('GET', '/v1/messages?direction=inbound');
      assert.ok(
        list.body.data.some(
          (m: { text: string; status: string }) => m.text === 'STOP all messages' && m.status === 'received',
        ),
      );
    } finally {
      await client.stop();
    }
  });

  test('bad input gets a clear 4xx with a code and stores nothing', async () => {
    const before = await call('GET', '/v1/messages?limit=500');
    const cases: Array<[unknown, number, string, string?]> = [
      [{ text: 'no to' }, 400, 'missing_field', 'to'],
      [{ to: 'not-a-number', text: 'x' }, 400, 'invalid_number', 'to'],
      [{ to: '+447700900123' }, 400, 'missing_field', 'text'],
      [{ to: '+447700900123', text: 'x', priority: 'urgent' }, 400, 'invalid_priority', 'priority'],
      [{ to: '+447700900123', text: 'x'.repeat(5000) }, 400, 'too_many_parts', 'text'],
      [{ to: '+447700900123', text: 'x', sendAt: 'tomorrow' }, 400, 'invalid_send_at', 'sendAt'],
      ['[1,2', 400, 'invalid_request'],
    ];
    for (const [body, status, code, field] of cases) {
      const res = await call('POST', '/v1/messages', body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(res.body.error.code, code, JSON.stringify(body));
      if (field) assert.equal(res.body.error.field, field);
    }
    const unauth = await api(gw.base, 'wrong-key')('POST', '/v1/messages', {
      to: '+447700900123',
      text: 'x',
    });
    assert.equal(unauth.status, 401);
    const after = await call('GET', '/v1/messages?limit=500');
    assert.equal(after.body.data.length, before.body.data.length);
  });

  test('one account never sees another account’s messages', async () => {
    const res = await call('POST', '/v1/messages', { to: '+447700900124', text: 'private' });
    const other = api(gw.base, 'other-key-1');
    assert.equal((await other('GET', `/v1/messages/${res.body.id}`)).status, 404);
    const list = await other('GET', '/v1/messages');
    assert.equal(list.body.data.length, 0);
  });

  test('Idempotency-Key returns the first answer again; another body with it is a 409', async () => {
    const headers = { 'idempotency-key': 'order-42' };
    const first = await call('POST', '/v1/messages', { to: '+447700900125', text: 'once' }, headers);
    const again = await call('POST', '/v1/messages', { to: '+447700900125', text: 'once' }, headers);
    assert.equal(first.status, 202);
    assert.equal(again.status, 202);
    assert.equal(again.body.id, first.body.id);
    const clash = await call('POST', '/v1/messages', { to: '+447700900125', text: 'twice' }, headers);
    assert.equal(clash.status, 409);
    assert.equal(clash.body.error.code, 'idempotency_conflict');
  });

  test('segments calculator, health, metrics and openapi answer', async () => {
    const seg = await call('GET', `/v1/messages/segments?text=${encodeURIComponent('Ünïcödé ✓')}`);
    assert.equal(seg.status, 200);
    assert.equal(seg.body.encoding, 'ucs2');
    assert.equal(seg.body.segments, 1);
    assert.equal((await fetch(`${gw.base}/health`)).status, 200);
    const metrics = await (await fetch(`${gw.base}/metrics`)).text();
    assert.match(
      metrics,
      /smsgw_messages_total\{status="delivered",connector="carrier",direction="outbound",node="[^"]+"\} \d+/,
    );
    const openapi = (await (await fetch(`${gw.base}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    assert.ok(openapi.paths['/v1/messages']);
  });

  test('a scheduled message waits, can be canceled, and a delivered one cannot', async () => {
    const sendAt = new Date(Date.now() + 3600_000).toISOString();
    const res = await call('POST', '/v1/messages', { to: '+447700900126', text: 'later', sendAt });
    assert.equal(res.status, 202);
    assert.equal(res.body.status, 'scheduled');
    const canceled = await call('DELETE', `/v1/messages/${res.body.id}`);
    assert.equal(canceled.status, 200);
    assert.equal(canceled.body.status, 'canceled');
    assert.equal((await call('GET', `/v1/messages/${res.body.id}`)).body.status, 'canceled');
    const again = await call('DELETE', `/v1/messages/${res.body.id}`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'not_cancelable');
  });

  test('listing pages with a cursor, newest first, with no gaps or repeats', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++)
      ids.add((await call('POST', '/v1/messages', { to: '+447700900127', text: `page ${i}` })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Array<{ id: string }>; nextCursor: string | null } } = await call(
        'GET',
        `/v1/messages?to=${encodeURIComponent('+447700900127')}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.data.map((m) => m.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.equal(seen.length, 7);
    assert.deepEqual(new Set(seen), ids);
    assert.deepEqual(seen, [...seen].sort().reverse());
    const bad = await call('GET', '/v1/messages?limit=0');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_limit');
  });

  test('a message callbackUrl gets its status events instead of the account webhook', async () => {
    const own = await webhookReceiver();
    try {
      const res = await call('POST', '/v1/messages', {
        to: '+447700900128',
        text: 'with callback',
        callbackUrl: own.url,
      });
      const hook = await waitFor(() =>
        own.hooks.find((h) => h.body.data.id === res.body.id && h.body.data.status === 'delivered'),
      );
      assert.equal(hook.body.type, 'message.status');
      // Signed with the account's secret, and not sent to the account webhook.
      assert.ok(
        verifyWebhook(
          'whsec-1',
          hook.raw,
          String(hook.headers['smsgw-signature']),
          Math.floor(Date.now() / 1000),
        ),
      );
      assert.equal(hooks.hooks.filter((h) => h.body.data.id === res.body.id).length, 0);
    } finally {
      await own.close();
    }
  });

  test('validity: a message that cannot be sent in time expires', async () => {
    await api(gw.base, 'admin-key-123')('POST', '/v1/admin/connectors/carrier/stop');
    try {
      const res = await call('POST', '/v1/messages', {
        to: '+447700900129',
        text: 'too late',
        validitySeconds: 1,
      });
      assert.equal(res.status, 202);
      const m = await waitFor(async () => {
        const r = await call('GET', `/v1/messages/${res.body.id}`);
        return r.body.status === 'expired' && r.body;
      }, 10_000);
      assert.ok(m.doneAt);
      const invalid = await call('POST', '/v1/messages', {
        to: '+447700900129',
        text: 'x',
        validitySeconds: -5,
      });
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.error.code, 'invalid_validity');
    } finally {
      await api(gw.base, 'admin-key-123')('POST', '/v1/admin/connectors/carrier/start');
    }
  });

  test('admin: connectors with live state, routes; account keys are not admin keys', async () => {
    const admin = api(gw.base, 'admin-key-123');
    // Up once its bind is (a previous test stopped and started it).
    const carrier = await waitFor(async () => {
      const connectors = await admin('GET', '/v1/admin/connectors');
      assert.equal(connectors.status, 200);
      const c = connectors.body.data.find((x: { id: string }) => x.id === 'carrier');
      return c.status === 'up' && c;
    });
    assert.equal(carrier.type, 'smpp');
    assert.equal(carrier.binds[0].state, 'bound');
    const routes = await admin('GET', '/v1/admin/routes');
    assert.deepEqual(routes.body.mt[0].connectors, ['carrier']);
    assert.equal((await call('GET', '/v1/admin/connectors')).status, 401);
    assert.equal((await admin('GET', '/v1/admin/connectors/nope')).status, 404);
  });

  test('a body over the limit is refused with 413 and a code', async () => {
    const res = await call('POST', '/v1/messages', { to: '+447700900130', text: 'x'.repeat(2_000_000) });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'payload_too_large');
  });

  test('submit_multi: one id for the ESME, a message per destination, receipts under that id', async () => {
    const { client, received } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
    client.start();
    try {
      await client.waitBound();
      const multi = {
        ...submitSm({
          registeredDelivery: 1,
          sourceAddr: 'ACME',
          sourceAddrTon: 5,
          shortMessage: Buffer.from('to many'),
        }),
        command: 'submit_multi',
        destinations: [
          { kind: 'sme', ton: 1, npi: 1, address: '447700900701' },
          { kind: 'sme', ton: 1, npi: 1, address: '447700900702' },
          { kind: 'sme', ton: 1, npi: 1, address: 'not-a-number' },
          { kind: 'list', name: 'friends' },
        ],
      } as unknown as Pdu;
      const resp = (await client.request(multi)) as Pdu & {
        messageId: string;
        unsuccess: Array<{ address: string; errorStatus: number }>;
      };
      assert.equal(resp.command, 'submit_multi_resp');
      assert.equal(resp.commandStatus, 0);
      assert.deepEqual(
        resp.unsuccess.map((u) => [u.address, u.errorStatus]),
        [
          ['not-a-number', CommandStatus.ESME_RINVDSTADR],
          ['friends', CommandStatus.ESME_RINVDSTADR],
        ],
      );
      const receipts = await waitFor(() => {
        const r = received.filter((p) => p.command === 'deliver_sm' && (p.esmClass & 0x04) !== 0);
        return r.length === 2 && r;
      });
      for (const r of receipts) {
        assert.ok('shortMessage' in r);
        assert.equal(parseReceipt(r.shortMessage.toString('latin1'))?.id, resp.messageId);
      }
      assert.deepEqual(
        new Set(receipts.map((r) => ('sourceAddr' in r ? r.sourceAddr : ''))),
        new Set(['447700900701', '447700900702']),
      );
    } finally {
      await client.stop();
    }
  });

  test('replace_sm changes a scheduled message before it leaves; a sent one cannot be replaced', async () => {
    const { client } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
    client.start();
    try {
      await client.waitBound();
      // Scheduled 2 s ahead (relative time), then replaced while it waits.
      const resp = (await client.request(
        submitSm({
          destinationAddr: '447700900880',
          scheduleDeliveryTime: '000000000002000R',
          shortMessage: Buffer.from('old text'),
        }),
      )) as Pdu & { messageId: string };
      assert.equal(resp.commandStatus, 0);
      assert.equal((await call('GET', `/v1/messages/${resp.messageId}`)).body.status, 'scheduled');
      const replace = replaceSm(resp.messageId, { shortMessage: Buffer.from('new text') });
      assert.equal((await client.request(replace)).commandStatus, 0);
      const m = await waitFor(async () => {
        const r = await call('GET', `/v1/messages/${resp.messageId}`);
        return r.body.status === 'delivered' && r.body;
      }, 10_000);
      assert.equal(m.text, 'new text');
      assert.ok(m.events.some((e: { type: string }) => e.type === 'replaced'));
      const atSmsc = [...sim.messages.values()].filter((x) => x.to === '447700900880');
      assert.deepEqual(
        atSmsc.map((x) => x.shortMessage.toString('latin1')),
        ['new text'],
      );
      // Delivered now: too late.
      assert.equal((await client.request(replace)).commandStatus, CommandStatus.ESME_RREPLACEFAIL);
    } finally {
      await client.stop();
    }
  });

  test('replace_sm moves a scheduled message: later, then at once with an empty short_message; a past validity is refused', async () => {
    const { client } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
    client.start();
    try {
      await client.waitBound();
      const resp = (await client.request(
        submitSm({
          destinationAddr: '447700900881',
          scheduleDeliveryTime: '000000000002000R',
          shortMessage: Buffer.from('keep me'),
        }),
      )) as Pdu & { messageId: string };
      const replace = (fields: Record<string, unknown>) => client.request(replaceSm(resp.messageId, fields));
      // An hour later: still scheduled after the first 2 s have passed.
      assert.equal((await replace({ scheduleDeliveryTime: '000000010000000R' })).commandStatus, 0);
      const later = (await call('GET', `/v1/messages/${resp.messageId}`)).body;
      assert.equal(later.status, 'scheduled');
      assert.ok(Date.parse(later.sendAt) > Date.now() + 3_500_000);
      assert.equal(
        (await replace({ validityPeriod: formatSmppTime(new Date(Date.now() - 60_000)) })).commandStatus,
        CommandStatus.ESME_RINVEXPIRY,
      );
      // Now (an absolute time just past): queued at once, sent with its text unchanged.
      assert.equal(
        (await replace({ scheduleDeliveryTime: formatSmppTime(new Date(Date.now() - 1000)) })).commandStatus,
        0,
      );
      const sent = await waitFor(async () => {
        const r = await call('GET', `/v1/messages/${resp.messageId}`);
        return r.body.status === 'delivered' && r.body;
      }, 10_000);
      assert.equal(sent.text, 'keep me');
    } finally {
      await client.stop();
    }
  });
});

/** A replace_sm for a message the ESME submitted: no new time and no text unless given. */
function replaceSm(messageId: string, fields: Record<string, unknown>): Pdu {
  return {
    command: 'replace_sm',
    messageId,
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '447700900000',
    scheduleDeliveryTime: '',
    validityPeriod: '',
    registeredDelivery: 0,
    smDefaultMsgId: 0,
    shortMessage: Buffer.alloc(0),
    ...fields,
  } as unknown as Pdu;
}
