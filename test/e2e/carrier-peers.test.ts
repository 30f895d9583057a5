// An SMSC someone else wrote (the npm `smpp` package's server) as the carrier: REST →
// router → smpp connector → npm smpp SMSC → its receipt → `delivered` → signed webhook;
// and its MO reaches the account.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyWebhook } from '../../src/webhooks/index.ts';
import { requirePeer } from '../peers/available.ts';
import { NpmSmppServer } from '../peers/npm-smpp.ts';
import { api, gatewayFrom, waitFor, webhookReceiver } from './helpers.ts';

test('npm smpp SMSC as the carrier: submit, receipt, delivered, signed webhook, MO', async (t) => {
  if (!requirePeer(t, 'npm smpp')) return;
  const smsc = await NpmSmppServer.start(t, { accounts: [{ systemId: 'gw', password: 'pw' }] });
  const hooks = await webhookReceiver();
  t.after(() => hooks.close());
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, webhook: { url: "${hooks.url}", secret: whsec-9 } }
connectors:
  - { id: npm, type: smpp, host: 127.0.0.1, port: ${smsc.port}, systemId: gw, password: pw }
routes:
  mt: [{ connectors: [npm] }]
  mo: [{ match: { to: ["+447700900500"] }, account: acme }]
`);
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');

  const res = await call('POST', '/v1/messages', { to: '+447700900401', text: 'Über-cool ✓ text' });
  assert.equal(res.status, 202);
  assert.equal(res.body.encoding, 'ucs2');
  const { session, pdu } = await smsc.waitPdu('submit_sm');
  assert.equal(pdu.destination_addr, '447700900401');
  assert.equal(pdu.source_addr, 'ACME');
  assert.equal(pdu.source_addr_ton, 5);
  assert.equal(pdu.data_coding, 8);
  assert.equal(pdu.registered_delivery, 1);
  assert.equal((pdu.short_message as { message: string }).message, 'Über-cool ✓ text');
  await waitFor(async () => (await call('GET', `/v1/messages/${res.body.id}`)).body.status === 'submitted');

  // The SMSC's own receipt, in the text form with its message id (npm-1).
  const receiptText =
    'id:npm-1 sub:001 dlvrd:001 submit date:2611260100 done date:2611260101 stat:DELIVRD err:000 text:Uber-cool';
  const ack = await smsc.deliver(session, {
    source_addr: '447700900401',
    destination_addr: 'ACME',
    esm_class: 4,
    short_message: receiptText,
  });
  assert.equal(ack.command_status, 0);
  const done = await waitFor(async () => {
    const m = await call('GET', `/v1/messages/${res.body.id}`);
    return m.body.status === 'delivered' && m.body;
  });
  assert.equal(done.connector, 'npm');
  const hook = await waitFor(() =>
    hooks.hooks.find((h) => h.body.data.id === res.body.id && h.body.data.status === 'delivered'),
  );
  assert.ok(
    verifyWebhook(
      'whsec-9',
      hook.raw,
      String(hook.headers['smsgw-signature']),
      Math.floor(Date.now() / 1000),
    ),
  );

  // MO from the SMSC, routed by destination to acme's webhook.
  const mo = await smsc.deliver(session, {
    source_addr: '447700900999',
    destination_addr: '447700900500',
    short_message: 'Reply YES',
  });
  assert.equal(mo.command_status, 0);
  const inbound = await waitFor(() => hooks.hooks.find((h) => h.body.type === 'message.inbound'));
  assert.equal(inbound.body.data.text, 'Reply YES');
  assert.equal(inbound.body.data.from, '+447700900999');
  assert.equal(inbound.body.data.to, '+447700900500');
});
