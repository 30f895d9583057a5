// SMPP over TLS: our client and server with each other, and with the npm `smpp` package
// in both roles. (Perl's Net::SMPP has no TLS: it is an IO::Socket::INET.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PduOf } from '../../src/smpp/index.ts';
import { receiptFromPdu } from '../../src/smpp/index.ts';
import { requirePeer } from '../peers/available.ts';
import type { DecodedMessage } from '../peers/npm-smpp.ts';
import { NpmSmppClient, NpmSmppServer } from '../peers/npm-smpp.ts';
import { testCertificate } from '../peers/tls.ts';
import {
  boundClient,
  gsmMessage,
  messageIdOf,
  ourClient,
  ourSmsc,
  submitSm,
  ucs2Message,
  waitFor,
} from './support.ts';

describe('SMPP over TLS', () => {
  test('our client ↔ our server: bind, submit, receipt, unbind', async (t) => {
    if (!requirePeer(t, 'OpenSSL')) return;
    const { key, cert } = testCertificate();
    const smsc = await ourSmsc(t, { tls: { key, cert }, secure: true });
    const { client, session, inbound } = await boundClient(t, { port: smsc.port, tls: { ca: cert } });
    const resp = await session.request(
      submitSm({ dataCoding: 0, registeredDelivery: 1, shortMessage: gsmMessage.octets }),
    );
    const id = messageIdOf(resp);
    const [submitted] = smsc.requests.map((r) => r.pdu as PduOf<'submit_sm'>);
    assert.deepEqual(submitted!.shortMessage, gsmMessage.octets);
    const receipt = await waitFor(() => inbound[0], 'receipt');
    assert.equal(receiptFromPdu(receipt)?.id, id);
    await client.stop();
    assert.equal(session.state, 'closed');
    await waitFor(() => (smsc.server.bound.size === 0 ? true : undefined), 'unbound on the server');
  });

  test('our client refuses a server certificate it cannot verify', async (t) => {
    if (!requirePeer(t, 'OpenSSL')) return;
    const { key, cert } = testCertificate();
    const smsc = await ourSmsc(t, { tls: { key, cert }, secure: true });
    const { client } = ourClient(t, { port: smsc.port, tls: true });
    client.start();
    await waitFor(() => (client.state === 'stopped' ? true : undefined), 'stop');
    assert.equal(client.stats.binds, 0);
    assert.equal(client.stats.failures, 1);
    assert.equal(smsc.server.bound.size, 0);
  });

  test('npm smpp client ↔ our server: bind, submit UCS-2, receipt, unbind', async (t) => {
    if (!requirePeer(t, 'OpenSSL') || !requirePeer(t, 'npm smpp')) return;
    const { key, cert } = testCertificate();
    const smsc = await ourSmsc(t, { tls: { key, cert }, secure: true });
    // The package speaks TLS for an ssmpp:// URL; the other options go to tls.connect.
    const client = await NpmSmppClient.connect(t, smsc.port, { ca: cert });
    assert.equal((await client.bind('esme', 'secret')).command_status, 0);
    const resp = await client.request('submit_sm', {
      destination_addr: '447700900001',
      registered_delivery: 1,
      short_message: ucs2Message.text,
    });
    const [submitted] = smsc.requests.map((r) => r.pdu as PduOf<'submit_sm'>);
    assert.equal(submitted!.dataCoding, 8);
    assert.deepEqual(submitted!.shortMessage, ucs2Message.octets);
    const receipt = await client.waitRequest('deliver_sm');
    assert.equal(receipt.receipted_message_id, resp.message_id);
    assert.match(
      String((receipt.short_message as DecodedMessage).message),
      new RegExp(`^id:${resp.message_id} `),
    );
    assert.equal((await client.request('unbind')).command_status, 0);
  });

  test('our client ↔ npm smpp server: bind, submit, enquire_link, unbind', async (t) => {
    if (!requirePeer(t, 'OpenSSL') || !requirePeer(t, 'npm smpp')) return;
    const { key, cert } = testCertificate();
    const server = await NpmSmppServer.start(t, { tls: { key, cert } });
    const { client, session } = await boundClient(t, { port: server.port, tls: { ca: cert } });
    const resp = await session.request(submitSm({ dataCoding: 8, shortMessage: ucs2Message.octets }));
    assert.equal(messageIdOf(resp), 'npm-1');
    const { pdu } = await server.waitPdu('submit_sm');
    assert.equal((pdu.short_message as DecodedMessage).message, ucs2Message.text);
    assert.equal((await session.request({ command: 'enquire_link' })).commandStatus, 0);
    await client.stop();
    await server.waitPdu('unbind');
  });
});
