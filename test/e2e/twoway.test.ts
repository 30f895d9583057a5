// Two-way messaging end to end (issue #4): inbound injected at the simulator and sent by an
// independent SMSC (the npm `smpp` package's server, long messages in UDH parts out of
// order and in SAR parts) reaches its rule's account, URL or auto-reply; replies leave
// from the number the message came to, over the connector it came over; STOP/START/HELP
// drive the suppression list on REST and SMPP; conversations thread it all.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { optedOutStatus } from '../../src/api/smpp.ts';
import { requirePeer } from '../peers/available.ts';
import { NpmSmppServer } from '../peers/npm-smpp.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

/** A keyword service: records the query of each GET and answers with a text body. */
async function keywordService(answer: (q: URLSearchParams) => string) {
  const calls: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    calls.push(q);
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(answer(q));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    calls,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/kw`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

type Listed = {
  id: string;
  direction: string;
  to: string;
  from: string;
  text: string;
  connector: string | null;
};

test('two-way over the simulator: auto-reply, get-url reply, opt-out words, conversations, unrouted inbound', async (t) => {
  const hooks = await webhookReceiver();
  t.after(() => hooks.close());
  const service = await keywordService((q) => `Balance for ${q.get('from')}: 42 (${q.get('args')})`);
  t.after(() => service.close());
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-1] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, webhook: { url: "${hooks.url}" }, smpp: { systemId: acme, password: secret } }
connectors:
  - { id: sim-a, type: simulator, deliveryDelayMs: 10 }
  - { id: sim-b, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim-a] }]
  mo:
    - { match: { to: ["+15550100"], keyword: [hours, horaires] }, account: acme, reply: "Open 9-5, {{from}} ({{keyword}})" }
    - { match: { to: ["+15550100"], keyword: [bal] }, account: acme, url: { url: "${service.url}?from=%p&to=%P&text=%a&kw=%k&args=%r&smsc=%i", replyWithBody: true } }
    - { match: { to: ["+15550100", "+15550101"] }, account: acme }
optOut: { replies: { help: "ACME help: reply STOP to stop." } }
`);
  t.after(() => gw.close());
  const acme = api(gw.base, 'acme-key-1');
  const admin = api(gw.base, 'admin-key-1');
  const inject = async (connector: string, from: string, to: string, text: string) =>
    assert.equal(
      (await admin('POST', `/v1/admin/connectors/${connector}/inbound`, { from, to, text })).status,
      202,
    );
  const outbound = async () =>
    ((await acme('GET', '/v1/messages?direction=outbound&limit=100')).body.data as Listed[]).reverse();
  const replyTo = (to: string, n = 1) =>
    waitFor(async () => {
      const replies = (await outbound()).filter((m) => m.to === to);
      return replies.length >= n && replies;
    });

  // A keyword auto-reply (accents and case folded), from the number written to, over sim-b.
  await inject('sim-b', '+447700900001', '+15550100', 'Horaires');
  const [hoursReply] = await replyTo('+447700900001');
  assert.equal(hoursReply!.text, 'Open 9-5, +447700900001 (Horaires)');
  assert.equal(hoursReply!.from, '+15550100');
  await waitFor(async () => (await acme('GET', `/v1/messages/${hoursReply!.id}`)).body.connector === 'sim-b');
  // The account's webhook got the inbound too.
  await waitFor(() =>
    hooks.hooks.find((h) => h.body.type === 'message.inbound' && h.body.data.text === 'Horaires'),
  );

  // get-url: Kannel's escapes filled in, the service's answer sent back over the inbound's connector.
  await inject('sim-a', '+447700900002', '+15550100', 'BAL savings account');
  const [balReply] = await replyTo('+447700900002');
  assert.equal(balReply!.text, 'Balance for +447700900002: 42 (savings account)');
  const call = service.calls[0]!;
  assert.deepEqual(
    ['from', 'to', 'text', 'kw', 'args', 'smsc'].map((k) => call.get(k)),
    ['+447700900002', '+15550100', 'BAL savings account', 'BAL', 'savings account', 'sim-a'],
  );

  // STOP: suppressed, confirmed (the one message still allowed), then refused on REST and SMPP.
  await inject('sim-a', '+447700900003', '+15550101', 'stop');
  const [stopReply] = await replyTo('+447700900003');
  assert.match(stopReply!.text, /unsubscribed/);
  const suppressions = (await acme('GET', '/v1/suppressions?to=%2B447700900003')).body.data;
  assert.deepEqual(
    suppressions.map((s: { scope: string; source: string; reason: string }) => [s.scope, s.source, s.reason]),
    [['account', 'keyword', 'stop']],
  );
  const refused = await acme('POST', '/v1/messages', { to: '+447700900003', text: 'sale!' });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.code, 'recipient_opted_out');
  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
  client.start();
  t.after(() => client.stop());
  await client.waitBound();
  assert.equal(
    (await client.request(submitSm({ destinationAddr: '447700900003' }))).commandStatus,
    optedOutStatus,
  );
  // "stop by at five" is conversation, not an opt-out.
  await inject('sim-a', '+447700900004', '+15550101', 'stop by at five');
  await waitFor(
    async () => (await acme('GET', '/v1/messages?direction=inbound&to=%2B15550101')).body.data.length === 2,
  );
  assert.deepEqual((await acme('GET', '/v1/suppressions?to=%2B447700900004')).body.data, []);

  // START lifts it (and is confirmed); HELP is answered with the configured text.
  await inject('sim-a', '+447700900003', '+15550101', 'Start');
  const afterStart = await replyTo('+447700900003', 2);
  assert.match(afterStart[1]!.text, /resubscribed/);
  assert.deepEqual((await acme('GET', '/v1/suppressions?to=%2B447700900003')).body.data, []);
  assert.equal(
    (await acme('POST', '/v1/messages', { to: '+447700900003', text: 'welcome back' })).status,
    202,
  );
  await inject('sim-a', '+447700900005', '+15550101', 'HELP');
  const [helpReply] = await replyTo('+447700900005');
  assert.equal(helpReply!.text, 'ACME help: reply STOP to stop.');

  // Conversations: the thread between +15550101 and +447700900003 holds STOP, START, their
  // confirmations; a reply through it leaves from +15550101 over sim-a.
  const list = (await acme('GET', '/v1/conversations')).body.data as Array<Record<string, string>>;
  const thread = list.find((c) => c.theirNumber === '+447700900003')!;
  assert.equal(thread.ourNumber, '+15550101');
  assert.equal(thread.connector, 'sim-a');
  const replied = await acme('POST', `/v1/conversations/${thread.id}/messages`, { text: 'How can we help?' });
  assert.equal(replied.status, 202);
  assert.equal(replied.body.from, '+15550101');
  const messages = (await acme('GET', `/v1/conversations/${thread.id}/messages`)).body.data as Listed[];
  assert.deepEqual(messages.map((m) => [m.direction, m.text]).reverse(), [
    ['inbound', 'stop'],
    ['outbound', stopReply!.text],
    ['inbound', 'Start'],
    ['outbound', afterStart[1]!.text],
    // 'welcome back' went from ACME, the account's default sender: another thread.
    ['outbound', 'How can we help?'],
  ]);
  assert.equal((await acme('GET', '/v1/conversations/bm9wZQ')).status, 404);
  assert.equal((await api(gw.base, 'nope-key-123')('GET', '/v1/conversations')).status, 401);

  // Inbound no rule takes is kept and shown to admins, not dropped.
  await inject('sim-a', '+447700900006', '+15559999', 'anyone there?');
  const unrouted = await waitFor(async () => {
    const data = (await admin('GET', '/v1/admin/inbound/unrouted')).body.data as Listed[];
    return data.length > 0 && data;
  });
  assert.equal(unrouted[0]!.text, 'anyone there?');
  assert.equal((await acme('GET', '/v1/messages?direction=inbound&to=%2B15559999')).body.data.length, 0);
});

test('rules without an account (Kannel sms-service): reply and get-url answers go back over the inbound connector, owned by the system', async (t) => {
  // The service answers a text, except on /missing (404): that failure is kept on the message.
  const calls: URL[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    calls.push(url);
    if (url.pathname === '/missing') return void res.writeHead(404).end('no');
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`Balance for ${url.searchParams.get('from')}: 42`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const service = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // MT routing covers only acme's messages over sim-a: the replies must not depend on it.
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-1] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
connectors:
  - { id: sim-a, type: simulator, deliveryDelayMs: 10 }
  - { id: sim-b, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ match: { account: [acme] }, connectors: [sim-a] }]
  mo:
    - { match: { to: ["+15550200"], keyword: [info] }, reply: "Info for {{from}}: {{args}}" }
    - { match: { to: ["+15550200"], keyword: [broken] }, url: { url: "${service}/missing?from=%p", replyWithBody: true } }
    - { match: { to: ["+15550200"] }, url: { url: "${service}/kw?from=%p&text=%a", replyWithBody: true } }
`);
  t.after(() => gw.close());
  const admin = api(gw.base, 'admin-key-1');
  const acme = api(gw.base, 'acme-key-1');
  const inject = async (connector: string, from: string, text: string) =>
    assert.equal(
      (await admin('POST', `/v1/admin/connectors/${connector}/inbound`, { from, to: '+15550200', text }))
        .status,
      202,
    );
  type Admitted = Listed & {
    status: string;
    events: Array<{ type: string; detail: Record<string, string> }>;
  };
  const system = async (direction: string) =>
    (await admin('GET', `/v1/admin/system/messages?direction=${direction}`)).body.data as Admitted[];
  const deliveredReplyTo = (to: string) =>
    waitFor(async () => {
      const reply = (await system('outbound')).find((m) => m.to === to);
      return reply?.status === 'delivered' && reply;
    });

  // An auto-reply: from the number written to, over the connector the message came by.
  await inject('sim-b', '+447700900301', 'INFO opening hours');
  const info = await deliveredReplyTo('+447700900301');
  assert.deepEqual(
    [info.from, info.text, info.connector],
    ['+15550200', 'Info for +447700900301: opening hours', 'sim-b'],
  );

  // get-url with replyWithBody: the service is called, its answer is the reply.
  await inject('sim-b', '+447700900302', 'balance please');
  const balance = await deliveredReplyTo('+447700900302');
  assert.deepEqual(
    [balance.from, balance.text, balance.connector],
    ['+15550200', 'Balance for +447700900302: 42', 'sim-b'],
  );
  assert.equal(calls.find((c) => c.pathname === '/kw')!.searchParams.get('text'), 'balance please');
  assert.equal(gw.app.gateway.connectors.get('sim-b')!.state().sent, 2);

  // The inbound messages are handled, not unrouted; each names the reply it got.
  const inbound = await system('inbound');
  assert.deepEqual(inbound.map((m) => m.from).sort(), ['+447700900301', '+447700900302']);
  assert.deepEqual((await admin('GET', '/v1/admin/inbound/unrouted')).body.data, []);
  const infoIn = (
    await admin('GET', `/v1/admin/messages/${inbound.find((m) => m.from === '+447700900301')!.id}`)
  ).body as Admitted & { account: string };
  assert.equal(infoIn.account, '_system');
  assert.deepEqual(
    infoIn.events.filter((e) => e.type === 'replied').map((e) => e.detail.messageId),
    [info.id],
  );
  // No account sees them.
  assert.equal((await acme('GET', '/v1/messages')).body.data.length, 0);

  // A failing URL sends nothing and says why on the inbound message.
  await inject('sim-a', '+447700900303', 'broken thing');
  const failed = await waitFor(async () => {
    const m = (await system('inbound')).find((x) => x.from === '+447700900303');
    if (!m) return false;
    const events = (await admin('GET', `/v1/admin/messages/${m.id}`)).body.events as Admitted['events'];
    return events.find((e) => e.type === 'rule_failed');
  });
  assert.equal(failed.detail.target, 'url');
  assert.match(failed.detail.message, /HTTP 404/);
  assert.equal((await system('outbound')).length, 2);
});

test('MO rules through the admin API: validated, in force at once, kept across a restart, reset to the config', async (t) => {
  const config = `
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-1] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
  - { id: beta, apiKeys: [beta-key-1], defaultFrom: BETA }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
  mo: [{ account: acme }]
`;
  const gw = await gatewayFrom(config);
  t.after(() => gw.close());
  let admin = api(gw.base, 'admin-key-1');
  assert.deepEqual((await admin('GET', '/v1/admin/routes/mo')).body, {
    source: 'config',
    updatedAt: null,
    routes: [{ account: 'acme' }],
  });
  const bad = await admin('PUT', '/v1/admin/routes/mo', {
    routes: [{ account: 'nobody' }, { match: { to: ['re:('] }, account: 'acme' }, {}],
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_routes');
  for (const problem of [
    "routes.mo[0].account: no account 'nobody'",
    'routes.mo[1].match.to[0]',
    'routes.mo[2]: needs',
  ])
    assert.ok(bad.body.error.message.includes(problem), bad.body.error.message);

  const put = await admin('PUT', '/v1/admin/routes/mo', {
    routes: [{ match: { to: ['+1555*'] }, account: 'beta' }],
  });
  assert.equal(put.status, 200);
  assert.equal(put.body.source, 'admin');
  await admin('POST', '/v1/admin/connectors/sim/inbound', {
    from: '+447700900001',
    to: '+15550100',
    text: 'to beta',
  });
  const beta = api(gw.base, 'beta-key-1');
  await waitFor(async () => (await beta('GET', '/v1/messages?direction=inbound')).body.data.length === 1);

  // A restart on the same store keeps the admin's rules.
  await gw.restart();
  admin = api(gw.base, 'admin-key-1');
  assert.equal((await admin('GET', '/v1/admin/routes/mo')).body.source, 'admin');
  await admin('POST', '/v1/admin/connectors/sim/inbound', {
    from: '+447700900001',
    to: '+15550100',
    text: 'still beta',
  });
  await waitFor(
    async () =>
      (await api(gw.base, 'beta-key-1')('GET', '/v1/messages?direction=inbound')).body.data.length === 2,
  );

  assert.equal((await admin('DELETE', '/v1/admin/routes/mo')).body.source, 'config');
  await admin('POST', '/v1/admin/connectors/sim/inbound', {
    from: '+447700900001',
    to: '+15550100',
    text: 'to acme',
  });
  await waitFor(
    async () =>
      (await api(gw.base, 'acme-key-1')('GET', '/v1/messages?direction=inbound')).body.data.length === 1,
  );
});

test('an independent SMSC (npm smpp) sends long MO in UDH parts out of order and in SAR parts: reassembled, routed, replied to over it', async (t) => {
  if (!requirePeer(t, 'npm smpp')) return;
  const smsc = await NpmSmppServer.start(t, { accounts: [{ systemId: 'gw', password: 'pw' }] });
  const hooks = await webhookReceiver();
  t.after(() => hooks.close());
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, webhook: { url: "${hooks.url}" } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
  - { id: npm, type: smpp, host: 127.0.0.1, port: ${smsc.port}, systemId: gw, password: pw }
routes:
  mt: [{ connectors: [sim] }]
  mo: [{ match: { to: ["+447700900500"] }, account: acme, reply: "Got {{keyword}} ({{from}})" }]
`);
  t.after(() => gw.close());
  const { session } = await smsc.waitPdu('bind_transceiver');
  const parts = ['SURVEY answer one, ', 'then the second part, ', 'and the end.'];
  const udhPart = (i: number) =>
    Buffer.concat([Buffer.from([0x05, 0x00, 0x03, 0x7a, 3, i + 1]), Buffer.from(parts[i]!, 'latin1')]);
  for (const i of [2, 0, 1]) {
    const ack = await smsc.deliver(session, {
      source_addr: '447700900999',
      destination_addr: '447700900500',
      esm_class: 0x40,
      short_message: udhPart(i),
    });
    assert.equal(ack.command_status, 0);
  }
  const sarText = ['POLL sar one ', 'sar two'];
  for (const i of [1, 0]) {
    await smsc.deliver(session, {
      source_addr: '447700900998',
      destination_addr: '447700900500',
      short_message: sarText[i],
      sar_msg_ref_num: 513,
      sar_total_segments: 2,
      sar_segment_seqnum: i + 1,
    });
  }
  const texts = () => hooks.hooks.filter((h) => h.body.type === 'message.inbound').map((h) => h.body.data);
  await waitFor(() => texts().length === 2, 10_000, 'both long inbound messages');
  assert.deepEqual(
    texts()
      .map((d) => [d.from, d.text, d.segments, d.connector])
      .sort(),
    [
      ['+447700900998', sarText.join(''), 2, 'npm'],
      ['+447700900999', parts.join(''), 3, 'npm'],
    ],
  );
  // The auto-replies leave over the SMSC the messages came from, not the MT route's simulator.
  const replies = [
    await smsc.waitPdu('submit_sm', (p) => p.destination_addr === '447700900999'),
    await smsc.waitPdu('submit_sm', (p) => p.destination_addr === '447700900998'),
  ].map(({ pdu }) => [pdu.source_addr, (pdu.short_message as { message: string }).message]);
  assert.deepEqual(replies, [
    ['447700900500', 'Got SURVEY (+447700900999)'],
    ['447700900500', 'Got POLL (+447700900998)'],
  ]);
});

test('undelivered receipts with a configured error code suppress the number; other errors do not', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
connectors:
  - id: sim
    type: simulator
    deliveryDelayMs: 10
    outcomes:
      - { to: "+1555000*", status: undelivered, error: "001" }
      - { to: "+1555111*", status: undelivered, error: "034" }
routes:
  mt: [{ connectors: [sim] }]
optOut: { receiptErrors: ["001"] }
`);
  t.after(() => gw.close());
  const acme = api(gw.base, 'acme-key-1');
  const gone = await acme('POST', '/v1/messages', { to: '+15550001234', text: 'hi' });
  const busy = await acme('POST', '/v1/messages', { to: '+15551111234', text: 'hi' });
  for (const id of [gone.body.id, busy.body.id])
    await waitFor(async () => (await acme('GET', `/v1/messages/${id}`)).body.status === 'undelivered');
  const listed = await waitFor(async () => {
    const data = (await acme('GET', '/v1/suppressions')).body.data;
    return data.length > 0 && data;
  });
  assert.deepEqual(
    listed.map((s: { to: string; source: string; reason: string }) => [s.to, s.source, s.reason]),
    [['+15550001234', 'receipt', 'undelivered 001']],
  );
  assert.equal((await acme('POST', '/v1/messages', { to: '+15550001234', text: 'again' })).status, 400);
  assert.equal((await acme('POST', '/v1/messages', { to: '+15551111234', text: 'again' })).status, 202);
});

test('the parts of a long inbound message survive a restart between them: acknowledged parts are kept on disk', async (t) => {
  if (!requirePeer(t, 'npm smpp')) return;
  const smsc = await NpmSmppServer.start(t, { accounts: [{ systemId: 'gw', password: 'pw' }] });
  const hooks = await webhookReceiver();
  t.after(() => hooks.close());
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], webhook: { url: "${hooks.url}" } }
connectors:
  - { id: npm, type: smpp, host: 127.0.0.1, port: ${smsc.port}, systemId: gw, password: pw }
routes:
  mt: [{ connectors: [npm] }]
  mo: [{ account: acme }]
`);
  t.after(() => gw.close());
  const parts = ['Part one, ', 'part two, ', 'part three.'];
  const deliver = async (session: number, i: number) =>
    (
      await smsc.deliver(session, {
        source_addr: '447700900777',
        destination_addr: '447700900500',
        esm_class: 0x40,
        short_message: Buffer.concat([
          Buffer.from([0x05, 0x00, 0x03, 0x33, 3, i + 1]),
          Buffer.from(parts[i]!, 'latin1'),
        ]),
      })
    ).command_status;
  const first = (await smsc.waitPdu('bind_transceiver')).session;
  assert.equal(await deliver(first, 0), 0);
  assert.equal(await deliver(first, 2), 0);
  // A graceful stop no longer hands over the incomplete set: it waits on disk.
  await gw.restart();
  const second = await waitFor(
    () => smsc.received.findLast((r) => r.pdu.command === 'bind_transceiver' && r.session !== first)?.session,
  );
  assert.equal(await deliver(second, 1), 0);
  const inbound = await waitFor(() => hooks.hooks.find((h) => h.body.type === 'message.inbound'));
  assert.equal(inbound.body.data.text, parts.join(''));
  assert.equal(inbound.body.data.segments, 3);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(hooks.hooks.filter((h) => h.body.type === 'message.inbound').length, 1, 'handed over once');
  assert.equal(await gw.app.store.countRecords('mo-part', {}), 0, 'the kept parts are forgotten');
});
