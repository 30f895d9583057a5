// Our SmppClient against the npm `smpp` package's server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PduOf } from '../../src/smpp/index.ts';
import { CommandStatus, parseReceipt, receiptFromPdu } from '../../src/smpp/index.ts';
import { requirePeer } from '../peers/available.ts';
import type { DecodedMessage } from '../peers/npm-smpp.ts';
import { NpmSmppServer } from '../peers/npm-smpp.ts';
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

const account = { systemId: 'esme', password: 'secret' };

describe('our SmppClient ↔ npm smpp server', () => {
  test('binds as transceiver and is told the server system_id', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const server = await NpmSmppServer.start(t, { accounts: [account], systemId: 'npm-smsc' });
    const { session } = await boundClient(t, { port: server.port });
    assert.equal(session.bindType, 'transceiver');
    assert.equal(session.peerSystemId, 'npm-smsc');
    const { pdu } = await server.waitPdu('bind_transceiver');
    assert.equal(pdu.system_id, 'esme');
    assert.equal(pdu.password, 'secret');
    assert.equal(pdu.interface_version, 0x34);
  });

  test('a wrong password is refused with ESME_RINVPASWD', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const server = await NpmSmppServer.start(t, { accounts: [account] });
    const { client } = ourClient(t, { port: server.port, password: 'wrong' });
    // npm smpp answers an error with the 16-octet header alone (no system_id): our codec
    // must take a bind_transceiver_resp without its body.
    const failed = new Promise<number>((resolve) => client.once('bindFailed', resolve));
    client.start();
    assert.equal(await failed, CommandStatus.ESME_RINVPASWD);
    await waitFor(() => (client.state === 'stopped' ? true : undefined), 'stop');
    assert.equal(client.stats.binds, 0);
  });

  test('submit_sm in GSM 03.38 and UCS-2 arrives decoded to the same text', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const server = await NpmSmppServer.start(t, { accounts: [account] });
    const { session } = await boundClient(t, { port: server.port });

    const gsm = await session.request(submitSm({ dataCoding: 0, shortMessage: gsmMessage.octets }));
    assert.equal(gsm.commandStatus, 0);
    assert.equal(messageIdOf(gsm), 'npm-1');
    const ucs2 = await session.request(submitSm({ dataCoding: 8, shortMessage: ucs2Message.octets }));
    assert.equal(messageIdOf(ucs2), 'npm-2');

    const [first, second] = server.received.filter((r) => r.pdu.command === 'submit_sm').map((r) => r.pdu);
    assert.equal(first!.data_coding, 0);
    assert.equal((first!.short_message as DecodedMessage).message, gsmMessage.text);
    assert.equal(first!.source_addr, '447700900000');
    assert.equal(first!.destination_addr, '447700900001');
    assert.equal(first!.dest_addr_ton, 1);
    assert.equal(second!.data_coding, 8);
    assert.equal((second!.short_message as DecodedMessage).message, ucs2Message.text);
  });

  test('a two-part message with a concatenation UDH', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const server = await NpmSmppServer.start(t, { accounts: [account] });
    const { session } = await boundClient(t, { port: server.port });
    const parts = longMessage.parts(0x2a);
    for (const part of parts) {
      const resp = await session.request(
        submitSm({ esmClass: 0x40, dataCoding: 0, shortMessage: part.shortMessage }),
      );
      assert.equal(resp.commandStatus, 0);
    }
    const received = server.received.filter((r) => r.pdu.command === 'submit_sm').map((r) => r.pdu);
    assert.equal(received.length, 2);
    for (const [i, pdu] of received.entries()) {
      assert.equal(pdu.esm_class, 0x40);
      const decoded = pdu.short_message as DecodedMessage;
      // The package lists the UDH's information elements: IEI, length, then the data.
      assert.deepEqual(decoded.udh, [Buffer.from([0x00, 0x03, 0x2a, 2, i + 1])]);
      assert.equal(decoded.message, parts[i]!.text);
    }
    const text = received.map((p) => (p.short_message as DecodedMessage).message).join('');
    assert.equal(text, longMessage.text);
  });

  test('a delivery receipt arrives, is answered, and parses to the submitted message id', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const server = await NpmSmppServer.start(t, { accounts: [account] });
    const { session, inbound } = await boundClient(t, { port: server.port });
    const id = messageIdOf(await session.request(submitSm({ registeredDelivery: 1 })));
    const { session: peer } = await server.waitPdu('submit_sm');
    const text = `id:${id} sub:001 dlvrd:001 submit date:2611260101 done date:2611260102 stat:DELIVRD err:000 text:hello`;
    const resp = await server.deliver(peer, {
      source_addr: '447700900001',
      destination_addr: '447700900000',
      esm_class: 4,
      short_message: text,
      receipted_message_id: id,
      message_state: 2,
    });
    assert.equal(resp.command, 'deliver_sm_resp');
    assert.equal(resp.command_status, 0);

    const receipt = inbound[0] as PduOf<'deliver_sm'>;
    assert.equal(receipt.command, 'deliver_sm');
    assert.equal(receipt.esmClass, 4);
    // Quirk: npm smpp labels text with only GSM characters data_coding 1 (IA5), not 0.
    assert.equal(receipt.dataCoding, 1);
    assert.equal(receipt.shortMessage.toString('latin1'), text);
    assert.equal(receipt.tlvs?.receiptedMessageId, id);
    assert.equal(receipt.tlvs?.messageState, 2);
    const parsed = receiptFromPdu(receipt);
    assert.equal(parsed?.id, id);
    assert.equal(parsed?.stat, 'DELIVRD');
    assert.equal(parsed?.submitDate?.toISOString(), '2026-11-26T01:01:00.000Z');
    assert.equal(parseReceipt(text)?.text, 'hello');
  });

  test('query_sm follows the message to DELIVERED', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const server = await NpmSmppServer.start(t, { accounts: [account] });
    const { session } = await boundClient(t, { port: server.port });
    const id = messageIdOf(await session.request(submitSm({ registeredDelivery: 1 })));
    const query = () =>
      session.request({
        command: 'query_sm',
        messageId: id,
        sourceAddrTon: 1,
        sourceAddrNpi: 1,
        sourceAddr: '447700900000',
      });
    const enroute = (await query()) as PduOf<'query_sm_resp'>;
    assert.equal(enroute.commandStatus, 0);
    assert.equal(enroute.messageId, id);
    assert.equal(enroute.messageState, 1);
    const { session: peer } = await server.waitPdu('submit_sm');
    await server.deliver(peer, {
      destination_addr: '447700900000',
      esm_class: 4,
      short_message: `id:${id} stat:DELIVRD`,
      receipted_message_id: id,
    });
    const delivered = (await query()) as PduOf<'query_sm_resp'>;
    assert.equal(delivered.messageState, 2);
    const unknown = await session.request({
      command: 'query_sm',
      messageId: 'nope',
      sourceAddrTon: 0,
      sourceAddrNpi: 0,
      sourceAddr: '',
    });
    assert.equal(unknown.commandStatus, CommandStatus.ESME_RQUERYFAIL);
  });

  test('enquire_link both ways', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const server = await NpmSmppServer.start(t, { accounts: [account] });
    const { session } = await boundClient(t, { port: server.port });
    const ours = await session.request({ command: 'enquire_link' });
    assert.equal(ours.command, 'enquire_link_resp');
    assert.equal(ours.commandStatus, 0);
    const { session: peer } = await server.waitPdu('bind_transceiver');
    const theirs = await server.request(peer, 'enquire_link');
    assert.equal(theirs.command, 'enquire_link_resp');
    assert.equal(theirs.command_status, 0);
  });

  test('our unbind is answered; an unbind from the server is answered and ends the bind', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const server = await NpmSmppServer.start(t, { accounts: [account] });
    const first = await boundClient(t, { port: server.port });
    await first.client.stop();
    assert.equal(first.client.state, 'stopped');
    assert.equal(first.session.state, 'closed');
    await server.waitPdu('unbind');

    const second = await boundClient(t, { port: server.port });
    const unbound = new Promise<void>((resolve) => second.client.once('unbound', () => resolve()));
    const resp = await server.request(1, 'unbind');
    assert.equal(resp.command, 'unbind_resp');
    assert.equal(resp.command_status, 0);
    await unbound;
    assert.equal(second.client.state, 'stopped', 'no reconnect configured');
  });
});
