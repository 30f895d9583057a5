// smsgw's http connector (preset kannel) against real Kannel 1.4.5: smsgw → Kannel's
// sendsms → Kannel's SMPP link → an SMSC (our simulator), the receipt back through the
// dlr-url smsgw handed Kannel; an inbound message from the SMSC through Kannel's
// sms-service get-url to smsgw's inbound URL.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { requirePeer } from '../peers/available.ts';
import { smppLink, startKannel } from '../peers/kannel.ts';
import { freePort } from '../peers/ports.ts';
import { api, gatewayFrom, waitFor } from './helpers.ts';

const closers: Array<() => unknown> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

test('smsgw → Kannel sendsms → SMPP → SMSC; receipt by dlr-url, inbound by get-url', async (t) => {
  if (!requirePeer(t, 'Kannel')) return;
  const smsc = new SmscSimulator({
    deliveryDelayMs: 50,
    outcomes: [{ to: '1555000*', stat: 'UNDELIV', err: '001' }],
  });
  const { port: smscPort } = await smsc.listen(0);
  closers.push(() => smsc.close());

  // Kannel first: its get-url names the gateway's port, chosen now.
  const gwPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-kannel-http-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  const kannel = await startKannel({
    dir,
    smsc: smppLink({ id: 'link', port: smscPort, systemId: 'kannel', password: 'kpass' }),
    extra: `
group = sms-service
keyword = default
get-url = "http://127.0.0.1:${gwPort}/v1/connectors/kannel/inbound?secret=kannel-push-secret&from=%p&to=%P&text=%a"
max-messages = 0
catch-all = true
`,
  });
  closers.push(() => kannel.stop());

  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:${gwPort} }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: "+447700900000" }
connectors:
  - id: kannel
    type: http
    preset: kannel
    url: "${kannel.sendsmsUrl}"
    username: u
    password: p
    secret: kannel-push-secret
  # Kannel refuses its credentials (403): failed for good, not retried.
  - { id: kannel-wrong, type: http, preset: kannel, url: "${kannel.sendsmsUrl}", username: u, password: wrong }
routes:
  mt:
    - { match: { to: ["+447700900999"] }, connectors: [kannel-wrong] }
    - { connectors: [kannel] }
  mo: [{ account: acme }]
`);
  closers.push(() => gw.close());
  const call = api(gw.base, 'acme-key-1');

  // A long one: Kannel splits it (two SMPP parts at the SMSC), its receipt settles the message.
  const text = 'Through Kannel to the SMSC and back again. '.repeat(4);
  const sent = await call('POST', '/v1/messages', { to: '+447700900123', text });
  assert.equal(sent.status, 202);
  const failing = await call('POST', '/v1/messages', { to: '+15550001234', text: 'Not this one' });
  const delivered = await waitFor(
    async () => {
      const m = (await call('GET', `/v1/messages/${sent.body.id}`)).body;
      return m.status === 'delivered' && m;
    },
    30_000,
    'delivered through Kannel',
  );
  assert.equal(delivered.connector, 'kannel');
  const atSmsc = [...smsc.messages.values()].filter((m) => m.to.endsWith('447700900123'));
  assert.equal(atSmsc.length, 2, 'Kannel sent the text in its two parts');
  const undelivered = await waitFor(
    async () => {
      const m = (await call('GET', `/v1/messages/${failing.body.id}`)).body;
      return m.status === 'undelivered' && m;
    },
    30_000,
    'undelivered through Kannel',
  );
  assert.equal(undelivered.error.code, '001');

  const refused = await call('POST', '/v1/messages', { to: '+447700900999', text: 'Wrong password' });
  const failed = await waitFor(
    async () => {
      const m = (await call('GET', `/v1/messages/${refused.body.id}`)).body;
      return m.status === 'failed' && m;
    },
    30_000,
    'refused by Kannel',
  );
  assert.equal(failed.error.code, 'http_403');
  assert.equal(failed.events.filter((e: { type: string }) => e.type === 'retry').length, 0);

  smsc.injectInbound({ from: '447700900555', to: '447700900000', text: 'Hello from the handset' });
  const received = await waitFor(
    async () => {
      const list = await call('GET', '/v1/messages?direction=mo');
      return list.body.data.find((m: { text: string }) => m.text === 'Hello from the handset');
    },
    30_000,
    'inbound through Kannel',
  );
  assert.equal(received.from, '+447700900555');
  assert.equal(received.status, 'received');
});
