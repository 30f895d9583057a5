// An ESME on Perl's Net::SMPP against our SmppServer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CommandStatus, parseReceipt } from '../../src/smpp/index.ts';
import { requirePeer } from '../peers/available.ts';
import { PerlEsme } from '../peers/perl.ts';
import { addresses, gsmMessage, longMessage, ourSmsc, submitsOf, ucs2Message, waitFor } from './support.ts';

describe('Perl Net::SMPP ESME ↔ our SmppServer', () => {
  test('binds in all three modes, and is refused for a wrong password or unknown system_id', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await ourSmsc(t);
    for (const mode of ['transceiver', 'transmitter', 'receiver'] as const) {
      const resp = await new PerlEsme(t).bind({
        port: smsc.port,
        mode,
        system_id: 'esme',
        password: 'secret',
      });
      assert.equal(resp.command, `bind_${mode}_resp`);
      assert.equal(resp.command_status, 0);
      assert.equal(resp.system_id, 'smsgw');
      assert.equal(resp.tlvs.sc_interface_version, '34');
    }
    assert.deepEqual(
      [...smsc.server.bound].map((b) => [b.bindType, b.interfaceVersion]),
      [
        ['transceiver', 0x34],
        ['transmitter', 0x34],
        ['receiver', 0x34],
      ],
    );

    const wrong = await new PerlEsme(t).bind({ port: smsc.port, system_id: 'esme', password: 'wrong' });
    assert.equal(wrong.command_status, CommandStatus.ESME_RINVPASWD);
    const stranger = await new PerlEsme(t).bind({ port: smsc.port, system_id: 'who', password: 'secret' });
    assert.equal(stranger.command_status, CommandStatus.ESME_RINVSYSID);
    assert.equal(smsc.server.bound.size, 3);
  });

  test('submit_sm encoded by Perl’s Encode: GSM 03.38, UCS-2, and a two-part message', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await ourSmsc(t);
    const esme = new PerlEsme(t);
    await esme.bind({ port: smsc.port, system_id: 'esme', password: 'secret' });

    const gsm = await esme.submit({ ...addresses, data_coding: 0, text: gsmMessage.text });
    assert.equal(gsm.command, 'submit_sm_resp');
    assert.equal(gsm.command_status, 0);
    assert.equal(gsm.message_id, 'a1');
    const ucs2 = await esme.submit({ ...addresses, data_coding: 8, text: ucs2Message.text });
    assert.equal(ucs2.message_id, 'a2');
    const parts = longMessage.parts(0x51);
    for (const part of parts) {
      await esme.submit({
        ...addresses,
        esm_class: 0x40,
        data_coding: 0,
        udh_hex: part.udh.toString('hex'),
        text: part.text,
      });
    }

    const [a, b, ...long] = submitsOf(smsc.requests);
    assert.equal(a!.dataCoding, 0);
    assert.deepEqual(a!.shortMessage, gsmMessage.octets);
    assert.equal(a!.sourceAddr, '447700900000');
    assert.equal(a!.sourceAddrTon, 1);
    assert.equal(a!.destinationAddr, '447700900001');
    assert.equal(b!.dataCoding, 8);
    assert.deepEqual(b!.shortMessage, ucs2Message.octets);
    assert.deepEqual(
      long.map((p) => [p.esmClass, p.shortMessage.toString('hex')]),
      parts.map((p) => [0x40, p.shortMessage.toString('hex')]),
    );
  });

  test('gets a delivery receipt for its message id, then query_sm says DELIVERED', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await ourSmsc(t);
    const esme = new PerlEsme(t);
    await esme.bind({ port: smsc.port, system_id: 'esme', password: 'secret' });
    const resp = await esme.submit({ ...addresses, registered_delivery: 1, text: 'hello' });
    const id = String(resp.message_id);

    const receipt = await esme.read('deliver_sm');
    assert.equal(receipt.esm_class, 4);
    assert.equal(receipt.source_addr, '447700900001');
    assert.equal(receipt.destination_addr, '447700900000');
    assert.equal(receipt.tlvs.receipted_message_id, Buffer.from(`${id}\0`).toString('hex'));
    assert.equal(receipt.tlvs.message_state, '02');
    const parsed = parseReceipt(String(receipt.text));
    assert.equal(parsed?.id, id);
    assert.equal(parsed?.stat, 'DELIVRD');
    const answered = await waitFor(() => smsc.receiptResponses[0], 'deliver_sm_resp');
    assert.equal(answered.commandStatus, 0);

    const query = await esme.query({
      message_id: id,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900000',
    });
    assert.equal(query.command, 'query_sm_resp');
    assert.equal(query.command_status, 0);
    assert.equal(query.message_id, id);
    assert.equal(query.message_state, 2);
    const unknown = await esme.query({ message_id: 'ffff' });
    assert.equal(unknown.command_status, CommandStatus.ESME_RQUERYFAIL);
  });

  test('enquire_link both ways; its unbind is answered and the bind ends', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await ourSmsc(t);
    const esme = new PerlEsme(t);
    await esme.bind({ port: smsc.port, system_id: 'esme', password: 'secret' });
    const theirs = await esme.enquireLink();
    assert.equal(theirs.command, 'enquire_link_resp');
    assert.equal(theirs.command_status, 0);
    const [bound] = smsc.server.bound;
    const ours = await bound!.session.request({ command: 'enquire_link' });
    assert.equal(ours.command, 'enquire_link_resp');
    assert.equal(ours.commandStatus, 0);

    const unbound = new Promise((resolve) => smsc.server.once('unbound', resolve));
    const resp = await esme.unbind();
    assert.equal(resp.command, 'unbind_resp');
    assert.equal(resp.command_status, 0);
    await unbound;
    assert.equal(smsc.server.bound.size, 0);
  });

  test('our server unbinds it when closing', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await ourSmsc(t);
    const esme = new PerlEsme(t);
    await esme.bind({ port: smsc.port, system_id: 'esme', password: 'secret' });
    await smsc.server.close();
    const unbind = await esme.read('unbind');
    assert.equal(unbind.command_status, 0);
    await assert.rejects(esme.enquireLink(), /not connected/);
  });
});
