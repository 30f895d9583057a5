// Our SmppClient against an SMSC on Perl's Net::SMPP.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PduOf } from '../../src/smpp/index.ts';
import { CommandStatus, receiptFromPdu } from '../../src/smpp/index.ts';
import { requirePeer } from '../peers/available.ts';
import { PerlSmsc } from '../peers/perl.ts';
import {
  boundClient,
  gsmMessage,
  longMessage,
  messageIdOf,
  ourClient,
  submitSm,
  ucs2Message,
  waitFor,
} from './support.ts';

const accounts = [{ system_id: 'esme', password: 'secret' }];

describe('our SmppClient ↔ Perl Net::SMPP SMSC', () => {
  test('binds, and a wrong password or unknown system_id is refused', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await PerlSmsc.start(t, { accounts, system_id: 'perl-smsc' });
    const { session } = await boundClient(t, { port: smsc.port });
    assert.equal(session.peerSystemId, 'perl-smsc');
    const { pdu } = await smsc.waitPdu('bind_transceiver');
    assert.equal(pdu.system_id, 'esme');
    assert.equal(pdu.password, 'secret');
    assert.equal(pdu.interface_version, 0x34);

    for (const [systemId, password, status] of [
      ['esme', 'wrong', CommandStatus.ESME_RINVPASWD],
      ['stranger', 'secret', CommandStatus.ESME_RINVSYSID],
    ] as const) {
      const { client } = ourClient(t, { port: smsc.port, systemId, password });
      const failed = new Promise<number>((resolve) => client.once('bindFailed', resolve));
      client.start();
      // Net::SMPP puts system_id (and our sc_interface_version TLV) in the refusal too.
      assert.equal(await failed, status);
      await waitFor(() => (client.state === 'stopped' ? true : undefined), 'stop');
    }
  });

  test('submit_sm in GSM 03.38 and UCS-2 decodes, in Perl’s Encode, to the same text', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await PerlSmsc.start(t, { accounts, id_format: 'hex', first_id: 0xbeef });
    const { session } = await boundClient(t, { port: smsc.port });
    const gsm = await session.request(submitSm({ dataCoding: 0, shortMessage: gsmMessage.octets }));
    assert.equal(messageIdOf(gsm), 'BEEF');
    const ucs2 = await session.request(submitSm({ dataCoding: 8, shortMessage: ucs2Message.octets }));
    assert.equal(messageIdOf(ucs2), 'BEF0');

    const [first, second] = await smsc.waitPdus('submit_sm', 2);
    assert.equal(first!.data_coding, 0);
    assert.equal(first!.short_message_hex, gsmMessage.octets.toString('hex'));
    assert.equal(first!.text, gsmMessage.text);
    assert.equal(first!.source_addr, '447700900000');
    assert.equal(first!.source_addr_ton, 1);
    assert.equal(first!.destination_addr, '447700900001');
    assert.equal(second!.data_coding, 8);
    assert.equal(second!.text, ucs2Message.text);
  });

  test('a two-part message with a concatenation UDH', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await PerlSmsc.start(t, { accounts });
    const { session } = await boundClient(t, { port: smsc.port });
    const parts = longMessage.parts(7);
    for (const part of parts) {
      await session.request(submitSm({ esmClass: 0x40, dataCoding: 0, shortMessage: part.shortMessage }));
    }
    const received = await smsc.waitPdus('submit_sm', 2);
    assert.deepEqual(
      received.map((p) => [p.esm_class, p.udh_hex, p.text]),
      parts.map((part) => [0x40, part.udh.toString('hex'), part.text]),
    );
  });

  test('a receipt sent right behind the submit_sm_resp parses to the submitted message id', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await PerlSmsc.start(t, { accounts, auto_receipt: true });
    const { session, inbound } = await boundClient(t, { port: smsc.port });
    const id = messageIdOf(
      await session.request(submitSm({ registeredDelivery: 1, shortMessage: Buffer.from('Hello Perl') })),
    );
    const receipt = (await waitFor(() => inbound[0], 'receipt')) as PduOf<'deliver_sm'>;
    assert.equal(receipt.command, 'deliver_sm');
    assert.equal(receipt.esmClass, 4);
    assert.equal(receipt.dataCoding, 0);
    assert.equal(receipt.sourceAddr, '447700900001');
    assert.equal(receipt.destinationAddr, '447700900000');
    assert.equal(receipt.tlvs?.receiptedMessageId, id);
    assert.equal(receipt.tlvs?.messageState, 2);
    const parsed = receiptFromPdu(receipt);
    assert.equal(parsed?.id, id);
    assert.equal(parsed?.stat, 'DELIVRD');
    assert.equal(parsed?.dlvrd, 1);
    assert.equal(parsed?.text, 'Hello Perl');
    const answer = await smsc.waitPdu('deliver_sm_resp');
    assert.equal(answer.pdu.command_status, 0);
    assert.equal(answer.pdu.sequence_number, receipt.sequenceNumber);
  });

  test('receipts with receipted_message_id missing its NUL, or with no TLVs at all', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await PerlSmsc.start(t, { accounts });
    const { session, inbound } = await boundClient(t, { port: smsc.port });
    const a = messageIdOf(await session.request(submitSm({ registeredDelivery: 1 })));
    const b = messageIdOf(await session.request(submitSm({ registeredDelivery: 1 })));
    // Net::SMPP writes TLV values as given: a user who does not add the NUL sends a
    // C-octet string without it.
    await smsc.receipt({ message_id: a, receipt_tlvs: 'bare', stat: 'UNDELIV', err: '011' });
    await smsc.receipt({ message_id: b, receipt_tlvs: 'none' });
    await waitFor(() => inbound[1], 'two receipts');
    const [bare, textOnly] = inbound as PduOf<'deliver_sm'>[];
    assert.equal(bare!.tlvs?.receiptedMessageId, a);
    assert.equal(bare!.tlvs?.messageState, 5);
    const parsedBare = receiptFromPdu(bare!);
    assert.equal(parsedBare?.stat, 'UNDELIV');
    assert.equal(parsedBare?.errorCode, 11);
    assert.equal(textOnly!.tlvs, undefined);
    const parsedText = receiptFromPdu(textOnly!);
    assert.equal(parsedText?.id, b);
    assert.equal(parsedText?.stat, 'DELIVRD');
  });

  test('query_sm follows the message to DELIVERED; an unknown id is ESME_RQUERYFAIL', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await PerlSmsc.start(t, { accounts });
    const { session } = await boundClient(t, { port: smsc.port });
    const id = messageIdOf(await session.request(submitSm({ registeredDelivery: 1 })));
    const query = (messageId: string) =>
      session.request({
        command: 'query_sm',
        messageId,
        sourceAddrTon: 1,
        sourceAddrNpi: 1,
        sourceAddr: '447700900000',
      });
    const enroute = (await query(id)) as PduOf<'query_sm_resp'>;
    assert.equal(enroute.messageId, id);
    assert.equal(enroute.messageState, 1);
    assert.equal(enroute.finalDate, '');
    await smsc.receipt({ message_id: id });
    const delivered = (await query(id)) as PduOf<'query_sm_resp'>;
    assert.equal(delivered.messageState, 2);
    assert.match(delivered.finalDate, /^\d{12}000\+$/);
    const { pdu } = await smsc.waitPdu('query_sm');
    assert.equal(pdu.message_id, id);
    assert.equal(pdu.source_addr, '447700900000');
    assert.equal((await query('999')).commandStatus, CommandStatus.ESME_RQUERYFAIL);
  });

  test('enquire_link both ways, and an MO message in UCS-2', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await PerlSmsc.start(t, { accounts });
    const { session, inbound } = await boundClient(t, { port: smsc.port });
    const ours = await session.request({ command: 'enquire_link' });
    assert.equal(ours.command, 'enquire_link_resp');
    assert.equal(ours.commandStatus, 0);
    const { seq } = await smsc.enquireLink();
    const theirs = await smsc.waitPdu('enquire_link_resp', (p) => p.sequence_number === seq);
    assert.equal(theirs.pdu.command_status, 0);

    await smsc.deliver({
      source_addr: '447700900009',
      source_addr_ton: 1,
      destination_addr: '12345',
      data_coding: 8,
      text: ucs2Message.text,
    });
    const mo = (await waitFor(() => inbound[0], 'MO')) as PduOf<'deliver_sm'>;
    assert.equal(mo.esmClass, 0);
    assert.equal(mo.dataCoding, 8);
    assert.deepEqual(mo.shortMessage, ucs2Message.octets);
    assert.equal(mo.sourceAddr, '447700900009');
    assert.equal(mo.sourceAddrTon, 1);
  });

  test('our unbind is answered; an unbind from the SMSC is answered and ends the bind', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const smsc = await PerlSmsc.start(t, { accounts });
    const first = await boundClient(t, { port: smsc.port });
    await first.client.stop();
    assert.equal(first.session.state, 'closed');
    await smsc.waitPdu('unbind');
    await smsc.waitEvent((e) => e.event === 'closed' && e.conn === 1);

    const second = await boundClient(t, { port: smsc.port });
    const unbound = new Promise<void>((resolve) => second.client.once('unbound', () => resolve()));
    const { conn, seq } = await smsc.unbind();
    assert.equal(conn, 2);
    const resp = await smsc.waitPdu('unbind_resp', (p) => p.sequence_number === seq);
    assert.equal(resp.pdu.command_status, 0);
    await unbound;
    assert.equal(second.client.state, 'stopped');
  });
});
