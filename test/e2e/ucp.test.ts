// The gateway through a `ucp` connector, end to end: a long message sent through the REST
// API goes out in parts that each ask for a notification, and is delivered once every
// part's notification is in; a long inbound message comes in reassembled; the connector
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
import { api, gatewayFrom, waitFor } from './helpers.ts';

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
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key] }
accounts:
  - { id: acme, apiKeys: [acme-key], defaultFrom: ACME }
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
    [inbound.text, inbound.from, inbound.to, inbound.segments],
    [inboundText, '+447700900123', '+447700900000', 2],
  );

  const connectors = (await admin('GET', '/v1/admin/connectors')).body;
  const listed = (Array.isArray(connectors) ? connectors : connectors.data) as Array<Record<string, unknown>>;
  assert.equal(listed.find((c) => c.id === 'emi')?.type, 'ucp');
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.match(metrics, /smsgw_connector_binds\{connector="emi",state="bound"[^}]*\} 1/);

  if (!requirePeer(t, 'tshark')) return;
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-ucp-wire-'));
  closers.push(async () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ucp.pcap');
  relay.writePcap(file, relayPort);
  const { frames, problems } = dissect(file, relayPort, 'ucp');
  // Login and its ACK, three submits and ACKs, three notifications and ACKs, two delivers and ACKs.
  assert.ok(frames.length >= 8, `tshark read UCP: ${frames.join('\n')}`);
  assert.deepEqual(problems, []);
});
