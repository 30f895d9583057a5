// ESMEs someone else wrote (the npm `smpp` package, Perl's Net::SMPP) bind to the
// gateway's SMPP server, submit, and get their delivery receipts as deliver_sm.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { CommandStatus, parseReceipt, SmppClient } from '../../src/smpp/index.ts';
import { longMessage } from '../interop/support.ts';
import { requirePeer } from '../peers/available.ts';
import { NpmSmppClient } from '../peers/npm-smpp.ts';
import { PerlEsme } from '../peers/perl.ts';
import { testCertificate } from '../peers/tls.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, gatewayFrom, waitFor } from './helpers.ts';

describe('independent ESMEs against the gateway', () => {
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let call: ReturnType<typeof api>;

  before(async () => {
    gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], smpp: { systemId: acme, password: secret } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 20, outcomes: [{ to: "+1555000*", status: undelivered, error: "001" }] }
routes:
  mt: [{ connectors: [sim] }]
`);
    call = api(gw.base, 'acme-key-1');
  });
  after(() => gw?.close());

  const message = async (id: string) => (await call('GET', `/v1/messages/${id}`)).body;

  test('npm smpp client: bind, submit GSM text, receipt with the gateway id', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const esme = await NpmSmppClient.connect(t, gw.app.smppAddress!.port);
    assert.equal((await esme.bind('acme', 'wrong')).command_status, CommandStatus.ESME_RINVPASWD);
    const again = await NpmSmppClient.connect(t, gw.app.smppAddress!.port);
    assert.equal((await again.bind('acme', 'secret')).command_status, 0);
    // The npm package labels GSM text data_coding 1 (IA5); the text must still arrive intact.
    const resp = await again.request('submit_sm', {
      source_addr: '447700900000',
      source_addr_ton: 1,
      source_addr_npi: 1,
      destination_addr: '447700900777',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      registered_delivery: 1,
      short_message: 'Hello from node-smpp @ 10:00',
    });
    assert.equal(resp.command_status, 0);
    const id = String(resp.message_id);
    const receipt = await again.waitRequest('deliver_sm', (p) => (Number(p.esm_class) & 0x04) !== 0);
    const text = (receipt.short_message as { message: string }).message;
    const parsed = parseReceipt(text);
    assert.equal(parsed?.id, id);
    assert.equal(parsed?.stat, 'DELIVRD');
    assert.equal(receipt.destination_addr, '447700900000');
    const stored = await message(id);
    assert.equal(stored.text, 'Hello from node-smpp @ 10:00');
    assert.equal(stored.to, '+447700900777');
    assert.equal(stored.status, 'delivered');
  });

  test('Perl Net::SMPP ESME: UCS-2 submit, failed outcome receipt, query_sm', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const esme = new PerlEsme(t);
    const bound = await esme.bind({ port: gw.app.smppAddress!.port, system_id: 'acme', password: 'secret' });
    assert.equal(bound.command_status, 0);
    const resp = await esme.submit({
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900000',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '15550001234',
      registered_delivery: 1,
      data_coding: 8,
      text: 'Привет, мир ✓',
    });
    assert.equal(resp.command_status, 0);
    const id = String(resp.message_id);
    const receipt = await esme.read('deliver_sm', 10_000);
    assert.equal(receipt.esm_class, 4);
    const parsed = parseReceipt(String(receipt.text));
    assert.equal(parsed?.id, id);
    assert.equal(parsed?.stat, 'UNDELIV');
    assert.equal(parsed?.err, '001');
    const stored = await message(id);
    assert.equal(stored.text, 'Привет, мир ✓');
    assert.equal(stored.encoding, 'ucs2');
    assert.equal(stored.status, 'undelivered');
    const query = await esme.query({
      message_id: id,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900000',
    });
    assert.equal(query.command_status, 0);
    assert.equal(query.message_state, 5);
  });

  test('a receipt waits for the ESME to bind again and is delivered then', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const transmitter = new PerlEsme(t);
    await transmitter.bind({
      port: gw.app.smppAddress!.port,
      mode: 'transmitter',
      system_id: 'acme',
      password: 'secret',
    });
    const resp = await transmitter.submit({
      destination_addr: '447700900888',
      source_addr: '447700900000',
      registered_delivery: 1,
      text: 'later',
    });
    const id = String(resp.message_id);
    await waitFor(async () => (await message(id)).status === 'delivered');
    await transmitter.unbind();
    const receiver = new PerlEsme(t);
    await receiver.bind({
      port: gw.app.smppAddress!.port,
      mode: 'receiver',
      system_id: 'acme',
      password: 'secret',
    });
    const receipt = await receiver.read('deliver_sm', 10_000);
    assert.equal(parseReceipt(String(receipt.text))?.id, id);
  });

  test('SMPP over TLS: the smppServer.tls listener serves a verified client', async (t) => {
    if (!requirePeer(t, 'OpenSSL')) return;
    const cert = testCertificate();
    const tlsGw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { tls: { listen: 127.0.0.1:0, cert: ${cert.certPath}, key: ${cert.keyPath} } }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], smpp: { systemId: acme, password: secret } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 20 }
routes:
  mt: [{ connectors: [sim] }]
`);
    t.after(() => tlsGw.close());
    assert.equal(tlsGw.app.smppAddress, null, 'no plain listener was asked for');
    const client = new SmppClient({
      host: '127.0.0.1',
      port: tlsGw.app.smppTlsAddress!.port,
      systemId: 'acme',
      password: 'secret',
      bindType: 'transceiver',
      reconnect: false,
      tls: { ca: cert.cert },
    });
    client.on('request', (pdu, session) => session.respond(pdu));
    client.start();
    t.after(() => client.stop());
    await client.waitBound();
    const resp = await client.request(
      submitSm({ destinationAddr: '447700900321', shortMessage: Buffer.from('over TLS') }),
    );
    assert.equal(resp.commandStatus, 0);
  });

  test('long messages an ESME split itself (UDH by Perl, SAR by us) reach the carrier part by part, each with its receipt', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const sim = new SmscSimulator({ deliveryDelayMs: 20 });
    const { port } = await sim.listen(0);
    t.after(() => sim.close());
    const relay = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], smpp: { systemId: acme, password: secret } }
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: pw }
routes:
  mt: [{ connectors: [carrier] }]
`);
    t.after(() => relay.close());
    const esme = new PerlEsme(t);
    await esme.bind({ port: relay.app.smppAddress!.port, system_id: 'acme', password: 'secret' });
    const ids: string[] = [];
    for (const part of longMessage.parts(0x77)) {
      const resp = await esme.submit({
        destination_addr: '447700900610',
        source_addr: '447700900000',
        esm_class: 0x40,
        registered_delivery: 1,
        data_coding: 0,
        udh_hex: part.udh.toString('hex'),
        text: part.text,
      });
      assert.equal(resp.command_status, 0);
      ids.push(String(resp.message_id));
    }
    assert.notEqual(ids[0], ids[1]);
    const atCarrier = await waitFor(() => {
      const parts = [...sim.messages.values()].filter((m) => m.to === '447700900610');
      return parts.length === 2 && parts;
    });
    for (const [i, part] of longMessage.parts(0x77).entries()) {
      const m = atCarrier.find((x) => x.shortMessage.subarray(0, 6).equals(part.udh));
      assert.ok(m, `part ${i + 1} with its header`);
      assert.ok(m.esmClass & 0x40);
      assert.equal(m.shortMessage.subarray(6).toString('latin1'), part.text);
    }
    const receipts = [await esme.read('deliver_sm', 10_000), await esme.read('deliver_sm', 10_000)];
    assert.deepEqual(new Set(receipts.map((r) => parseReceipt(String(r.text))?.id)), new Set(ids));

    // SAR TLVs from our own client become the 16-bit concatenation header at the carrier.
    const client = new SmppClient({
      host: '127.0.0.1',
      port: relay.app.smppAddress!.port,
      systemId: 'acme',
      password: 'secret',
      bindType: 'transmitter',
      reconnect: false,
    });
    client.start();
    t.after(() => client.stop());
    await client.waitBound();
    const sar = await client.request(
      submitSm({
        destinationAddr: '447700900611',
        shortMessage: Buffer.from('first half'),
        tlvs: { sarMsgRefNum: 0x1234, sarTotalSegments: 2, sarSegmentSeqnum: 1 },
      } as never),
    );
    assert.equal(sar.commandStatus, 0);
    const sarPart = await waitFor(() => [...sim.messages.values()].find((m) => m.to === '447700900611'));
    assert.deepEqual([...sarPart.shortMessage.subarray(0, 7)], [6, 0x08, 4, 0x12, 0x34, 2, 1]);
    assert.equal(sarPart.shortMessage.subarray(7).toString('latin1'), 'first half');
  });
});
