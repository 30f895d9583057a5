// The interop harness itself: the peers against each other, with none of our SMPP code in
// between, so a failure in test/interop is ours (or a peer quirk), not the harness's.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requirePeer } from './available.ts';
import type { DecodedMessage } from './npm-smpp.ts';
import { NpmSmppClient, NpmSmppServer } from './npm-smpp.ts';
import { PerlEsme, PerlSmsc } from './perl.ts';

describe('interop harness', () => {
  test('Perl ESME ↔ npm smpp server: bind, submit, deliver_sm, unbind', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP') || !requirePeer(t, 'npm smpp')) return;
    const server = await NpmSmppServer.start(t, { accounts: [{ systemId: 'perl', password: 'secret' }] });
    const esme = new PerlEsme(t);

    const refused = new PerlEsme(t);
    const bad = await refused.bind({ port: server.port, system_id: 'perl', password: 'wrong' });
    assert.equal(bad.command, 'bind_transceiver_resp');
    assert.equal(bad.command_status, 0x0e);

    const bound = await esme.bind({ port: server.port, system_id: 'perl', password: 'secret' });
    assert.equal(bound.command_status, 0);
    assert.equal(bound.system_id, 'npm-smsc');

    const resp = await esme.submit({
      destination_addr: '447700900001',
      data_coding: 0,
      text: 'Hi @home £5 {x}',
    });
    assert.equal(resp.command_status, 0);
    assert.equal(resp.message_id, 'npm-1');
    const { session, pdu } = await server.waitPdu('submit_sm');
    assert.equal(pdu.data_coding, 0);
    assert.equal(
      (pdu.short_message as DecodedMessage).message,
      'Hi @home £5 {x}',
      'both sides speak GSM 03.38',
    );

    const delivered = await server.deliver(session, {
      source_addr: '447700900001',
      destination_addr: '12345',
      data_coding: 8,
      short_message: 'Привет',
    });
    assert.equal(delivered.command_status, 0);
    const mo = await esme.read('deliver_sm');
    assert.equal(mo.data_coding, 8);
    assert.equal(mo.text, 'Привет');

    assert.equal((await esme.enquireLink()).command_status, 0);
    assert.equal((await esme.unbind()).command, 'unbind_resp');
    await server.waitPdu('unbind');
  });

  test('npm smpp client ↔ Perl SMSC: bind, submit, receipt, query_sm, unbind', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP') || !requirePeer(t, 'npm smpp')) return;
    const smsc = await PerlSmsc.start(t, {
      accounts: [{ system_id: 'npm', password: 'pw' }],
      auto_receipt: true,
    });
    const client = await NpmSmppClient.connect(t, smsc.port);

    const bound = await client.bind('npm', 'pw');
    assert.equal(bound.command_status, 0);
    assert.equal(bound.system_id, 'perl-smsc');
    const resp = await client.request('submit_sm', {
      destination_addr: '447700900001',
      registered_delivery: 1,
      data_coding: 8,
      short_message: 'Grüße ☺',
    });
    assert.equal(resp.message_id, '1');
    const seen = await smsc.waitPdu('submit_sm');
    assert.equal(seen.pdu.text, 'Grüße ☺');

    const receipt = await client.waitRequest('deliver_sm');
    assert.equal(receipt.esm_class, 4);
    assert.match(String((receipt.short_message as DecodedMessage).message), /^id:1 .*stat:DELIVRD/);
    assert.equal(receipt.receipted_message_id, '1');
    assert.equal(receipt.message_state, 2);

    const query = await client.request('query_sm', { message_id: '1' });
    assert.equal(query.command_status, 0);
    assert.equal(query.message_state, 2);

    assert.equal((await client.request('unbind')).command, 'unbind_resp');
    await smsc.waitEvent((e) => e.event === 'closed');
  });
});
