// The gateway through a `ucp` connector, end to end: a long message sent through the REST
// API goes out in parts that each ask for a notification, and is delivered once every
// part's notification is in; an ESME's submit over SMPP and a Kannel sendsms go out the
// same way; a long inbound message comes in reassembled; the connector
// shows in /ready, the admin API and /metrics. Everything our client put on the wire, and
// the simulator's answers, then go through Wireshark's UCP dissector: nothing malformed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { UcpSimulatedMessage } from '../../src/simulator/index.ts';
import { UcpSmscSimulator } from '../../src/simulator/index.ts';
import { requirePeer } from '../peers/available.ts';
import { dissect, RecordingRelay } from '../peers/wire.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom, waitFor } from './helpers.ts';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

test('REST → ucp connector → UCP/EMI SMSC and back, checked on the wire by Wireshark', async (t) => {
  const sim = new UcpSmscSimulator({ accounts: [{ systemId: 'gw', password: 'pw' }], deliveryDelayMs: 30 });
  const { port: simPort } = await sim.listen(0);
  closers.push(() => sim.close());
  const submits: UcpSimulatedMessage[] = [];
  sim.on('submit', (m) => submits.push(m));
  const relay = new RecordingRelay(simPort);
  const relayPort = await relay.listen();
  closers.push(() => relay.close());

  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key] }
accounts:
  - { id: acme, apiKeys: [acme-key], defaultFrom: ACME, smpp: { systemId: acme, password: secret } }
connectors:
  - { id: emi, type: ucp, host: 127.0.0.1, port: ${relayPort}, username: gw, password: pw, window: 4 }
routes:
  mt: [{ connectors: [emi] }]
  mo: [{ account: acme }]
`);
  closers.push(() => gw.close());
  const acme = api(gw.base, 'acme-key');
  const admin = api(gw.base, 'admin-key');

  const ready = await waitFor(async () => {
    const res = await fetch(`${gw.base}/ready`);
    const body = (await res.json()) as { connectors: Array<Record<string, unknown>> };
    return res.status === 200 && body.connectors[0]?.state === 'up' && body;
  });
  assert.deepEqual(
    ready.connectors.map((c) => [c.id, c.state, c.binds, c.lastError]),
    [['emi', 'up', 1, null]],
  );

  const text = 'Sent through the REST API to a UCP/EMI carrier, long enough for three parts. '.repeat(5);
  const sent = await acme('POST', '/v1/messages', { to: '+447700900123', text });
  assert.equal(sent.status, 202);
  assert.equal(sent.body.segments, 3);
  const delivered = await waitFor(async () => {
    const m = (await acme('GET', `/v1/messages/${sent.body.id}`)).body;
    return m.status === 'delivered' && m;
  });
  assert.equal(delivered.connector, 'emi');
  assert.equal(submits.length, 3);
  for (const submit of submits) {
    assert.deepEqual([submit.operation.NRq, submit.operation.OTOA, submit.to], ['1', '5039', '447700900123']);
  }
  assert.equal(sim.stats.receiptsSent, 3, 'a notification for every part');

  const inboundText = 'A reply from the handset, over EMI, long enough to come in two parts of one. '.repeat(
    3,
  );
  assert.equal(sim.injectInbound({ from: '+447700900123', to: '+447700900000', text: inboundText }), 2);
  const inbound = await waitFor(async () => {
    const list = (await acme('GET', '/v1/messages?direction=inbound')).body.data as Array<
      Record<string, unknown>
    >;
    return list[0];
  });
  assert.deepEqual(
    [inbound.text, inbound.from, inbound.to, inbound.segments, inbound.encoding],
    [inboundText, '+447700900123', '+447700900000', 2, 'gsm7'],
  );

  // The SMPP front door: an ESME's submit goes out over UCP, and its receipt comes back.
  const { client, received } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
  client.start();
  closers.push(() => client.stop());
  await client.waitBound();
  const resp = await client.request(
    submitSm({
      destinationAddr: '447700900124',
      registeredDelivery: 1,
      shortMessage: Buffer.from('via smpp'),
    }),
  );
  assert.equal(resp.commandStatus, 0);
  const receipt = await waitFor(() =>
    received.find((p) => p.command === 'deliver_sm' && (p.esmClass & 0x04) !== 0),
  );
  assert.match('shortMessage' in receipt ? receipt.shortMessage.toString('latin1') : '', /stat:DELIVRD/);
  assert.equal(submits.at(-1)?.text, 'via smpp');

  // The Kannel-compatible front door.
  const kannel = await fetch(
    `${gw.base}/cgi-bin/sendsms?username=acme&password=acme-key&to=%2B447700900125&text=via+kannel`,
  );
  assert.equal(kannel.status, 202);
  await waitFor(() => submits.find((m) => m.text === 'via kannel' && m.to === '447700900125'));
  await waitFor(() => sim.stats.receiptsSent === 5);

  const connectors = (await admin('GET', '/v1/admin/connectors')).body;
  const listed = (Array.isArray(connectors) ? connectors : connectors.data) as Array<Record<string, unknown>>;
  assert.equal(listed.find((c) => c.id === 'emi')?.type, 'ucp');
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.match(metrics, /smsgw_connector_binds\{connector="emi",state="bound"[^}]*\} 1/);

  // Stopped and started by an operator: the session ends and a new one logs in.
  const stopped = await admin('POST', '/v1/admin/connectors/emi/stop');
  assert.equal(stopped.body.status, 'stopped');
  const started = await admin('POST', '/v1/admin/connectors/emi/start');
  assert.equal(started.status, 200);
  await waitFor(async () => (await admin('GET', '/v1/admin/connectors/emi')).body.status === 'up');
  assert.equal(sim.stats.binds, 2);

  if (!requirePeer(t, 'tshark')) return;
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-ucp-wire-'));
  closers.push(async () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ucp.pcap');
  relay.writePcap(file, relayPort);
  const { frames, problems } = dissect(file, relayPort, 'ucp');
  // Login and its ACK, five submits, notifications and delivers, and their ACKs.
  assert.ok(frames.length >= 8, `tshark read UCP: ${frames.join('\n')}`);
  assert.deepEqual(problems, []);
});
