// The npm `smpp` package's client against our SmppServer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CommandStatus, parseReceipt } from '../../src/smpp/index.ts';
import { requirePeer } from '../peers/available.ts';
import type { DecodedMessage } from '../peers/npm-smpp.ts';
import { NpmSmppClient } from '../peers/npm-smpp.ts';
import { addresses, gsmMessage, longMessage, ourSmsc, submitsOf, ucs2Message, waitFor } from './support.ts';

describe('npm smpp client ↔ our SmppServer', () => {
  test('binds, and is refused for a wrong password or an unknown system_id', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const smsc = await ourSmsc(t);
    const good = await NpmSmppClient.connect(t, smsc.port);
    const bound = await good.bind('esme', 'secret');
    assert.equal(bound.command, 'bind_transceiver_resp');
    assert.equal(bound.command_status, 0);
    assert.equal(bound.system_id, 'smsgw');
    // Quirk: the package binds as SMPP 5.0 (interface_version 0x50) unless told otherwise;
    // we answer with the version we speak back to it.
    assert.equal(bound.sc_interface_version, 0x50);
    const [session] = smsc.server.bound;
    assert.equal(session!.interfaceVersion, 0x50);
    assert.equal(session!.systemId, 'esme');
    assert.equal(session!.bindType, 'transceiver');

    const badPassword = await NpmSmppClient.connect(t, smsc.port);
    assert.equal((await badPassword.bind('esme', 'wrong')).command_status, CommandStatus.ESME_RINVPASWD);
    const stranger = await NpmSmppClient.connect(t, smsc.port);
    assert.equal(
      (await stranger.bind('who', 'secret', 'transmitter')).command_status,
      CommandStatus.ESME_RINVSYSID,
    );
    assert.deepEqual(smsc.refused, [CommandStatus.ESME_RINVPASWD, CommandStatus.ESME_RINVSYSID]);
    assert.equal(smsc.server.bound.size, 1);
  });

  test('submit_sm: GSM text comes labelled IA5, UCS-2 as 8; the octets are exact', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const smsc = await ourSmsc(t);
    const client = await NpmSmppClient.connect(t, smsc.port);
    await client.bind('esme', 'secret');

    // Quirk: with no data_coding the package picks its "ASCII" encoder, which writes GSM
    // 03.38 septets, and labels them data_coding 1 (IA5).
    const guessed = await client.request('submit_sm', { ...addresses, short_message: gsmMessage.text });
    assert.equal(guessed.command_status, 0);
    assert.equal(guessed.message_id, 'a1');
    const explicit = await client.request('submit_sm', {
      ...addresses,
      data_coding: 0,
      short_message: gsmMessage.text,
    });
    assert.equal(explicit.message_id, 'a2');
    const ucs2 = await client.request('submit_sm', { ...addresses, short_message: ucs2Message.text });
    assert.equal(ucs2.message_id, 'a3');

    const [a, b, c] = submitsOf(smsc.requests);
    assert.equal(a!.dataCoding, 1);
    assert.deepEqual(a!.shortMessage, gsmMessage.octets);
    assert.equal(b!.dataCoding, 0);
    assert.deepEqual(b!.shortMessage, gsmMessage.octets);
    assert.equal(c!.dataCoding, 8);
    assert.deepEqual(c!.shortMessage, ucs2Message.octets);
    assert.equal(a!.sourceAddr, '447700900000');
    assert.equal(a!.destAddrTon, 1);
    assert.equal(a!.destinationAddr, '447700900001');
  });

  test('a two-part message: the package sets UDHI and puts the UDH first', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const smsc = await ourSmsc(t);
    const client = await NpmSmppClient.connect(t, smsc.port);
    await client.bind('esme', 'secret');
    const parts = longMessage.parts(0x99);
    for (const part of parts) {
      const resp = await client.request('submit_sm', {
        ...addresses,
        data_coding: 0,
        short_message: { udh: part.udh, message: part.text },
      });
      assert.equal(resp.command_status, 0);
    }
    const received = submitsOf(smsc.requests);
    assert.equal(received.length, 2);
    for (const [i, pdu] of received.entries()) {
      assert.equal(pdu.esmClass, 0x40);
      assert.equal(pdu.dataCoding, 0);
      assert.deepEqual(pdu.shortMessage, parts[i]!.shortMessage);
    }
  });

  test('gets a delivery receipt for its message id, then query_sm says DELIVERED', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const smsc = await ourSmsc(t);
    const client = await NpmSmppClient.connect(t, smsc.port);
    await client.bind('esme', 'secret');
    const resp = await client.request('submit_sm', {
      ...addresses,
      registered_delivery: 1,
      short_message: 'hello',
    });
    const id = String(resp.message_id);

    const receipt = await client.waitRequest('deliver_sm');
    assert.equal(receipt.esm_class, 4);
    assert.equal(receipt.source_addr, '447700900001');
    assert.equal(receipt.destination_addr, '447700900000');
    assert.equal(receipt.receipted_message_id, id);
    assert.equal(receipt.message_state, 2);
    const parsed = parseReceipt(String((receipt.short_message as DecodedMessage).message));
    assert.equal(parsed?.id, id);
    assert.equal(parsed?.stat, 'DELIVRD');
    const answered = await waitFor(() => smsc.receiptResponses[0], 'deliver_sm_resp');
    assert.equal(answered.command, 'deliver_sm_resp');
    assert.equal(answered.commandStatus, 0);

    const query = await client.request('query_sm', { message_id: id, ...addresses });
    assert.equal(query.command_status, 0);
    assert.equal(query.message_id, id);
    assert.equal(query.message_state, 2);
    const unknown = await client.request('query_sm', { message_id: 'ffff', ...addresses });
    assert.equal(unknown.command_status, CommandStatus.ESME_RQUERYFAIL);
  });

  test('enquire_link both ways, and the server unbinds the client when it closes', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const smsc = await ourSmsc(t);
    const client = await NpmSmppClient.connect(t, smsc.port);
    await client.bind('esme', 'secret');
    const theirs = await client.request('enquire_link');
    assert.equal(theirs.command, 'enquire_link_resp');
    assert.equal(theirs.command_status, 0);
    const [bound] = smsc.server.bound;
    const ours = await bound!.session.request({ command: 'enquire_link' });
    assert.equal(ours.command, 'enquire_link_resp');
    assert.equal(ours.commandStatus, 0);

    await smsc.server.close();
    await client.waitRequest('unbind');
    await client.waitClosed();
  });

  test('its unbind is answered and the bind ends', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const smsc = await ourSmsc(t);
    const client = await NpmSmppClient.connect(t, smsc.port);
    await client.bind('esme', 'secret');
    const unbound = new Promise((resolve) => smsc.server.once('unbound', resolve));
    const resp = await client.request('unbind');
    assert.equal(resp.command, 'unbind_resp');
    assert.equal(resp.command_status, 0);
    await unbound;
    assert.equal(smsc.server.bound.size, 0);
  });
});
