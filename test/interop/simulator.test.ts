// Independent ESMEs (the npm `smpp` client, Perl's Net::SMPP) against our SMSC simulator.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import type { SmscSimulatorOptions } from '../../src/simulator/index.ts';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { CommandStatus, parseReceipt } from '../../src/smpp/index.ts';
import { requirePeer } from '../peers/available.ts';
import type { DecodedMessage } from '../peers/npm-smpp.ts';
import { NpmSmppClient } from '../peers/npm-smpp.ts';
import { PerlEsme } from '../peers/perl.ts';
import { gsmMessage, ucs2Message } from './support.ts';

async function simulator(t: TestContext, options: SmscSimulatorOptions = {}) {
  const sim = new SmscSimulator({
    accounts: [{ systemId: 'esme', password: 'secret' }],
    deliveryDelayMs: 20,
    ...options,
  });
  const { port } = await sim.listen(0);
  t.after(() => sim.close());
  return { sim, port };
}

const addresses = {
  source_addr_ton: 1,
  source_addr_npi: 1,
  source_addr: '447700900000',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '447700900001',
};

describe('npm smpp client ↔ SMSC simulator', () => {
  test('bind with a good and a bad password, or an unknown system_id', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const { port } = await simulator(t);
    const good = await (await NpmSmppClient.connect(t, port)).bind('esme', 'secret');
    assert.equal(good.command_status, 0);
    assert.equal(good.system_id, 'smsgw-sim');
    const bad = await (await NpmSmppClient.connect(t, port)).bind('esme', 'wrong');
    assert.equal(bad.command_status, CommandStatus.ESME_RINVPASWD);
    const stranger = await (await NpmSmppClient.connect(t, port)).bind('who', 'secret', 'receiver');
    assert.equal(stranger.command_status, CommandStatus.ESME_RINVSYSID);
  });

  test('submit_sm, message id, a receipt that parses to it, query_sm, unbind', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const { sim, port } = await simulator(t);
    const client = await NpmSmppClient.connect(t, port);
    await client.bind('esme', 'secret');
    const resp = await client.request('submit_sm', {
      ...addresses,
      registered_delivery: 1,
      short_message: 'hello sim',
    });
    assert.equal(resp.command_status, 0);
    const id = String(resp.message_id);
    const stored = sim.findMessage(id);
    assert.ok(stored, `the simulator knows message ${id}`);
    assert.equal(stored.dataCoding, 1, 'npm smpp labels GSM text IA5');
    assert.equal(stored.shortMessage.toString('latin1'), 'hello sim');
    assert.equal(stored.to, '447700900001');

    const receipt = await client.waitRequest('deliver_sm');
    assert.equal(receipt.esm_class, 4);
    assert.equal(receipt.receipted_message_id, id);
    assert.equal(receipt.message_state, 2);
    const parsed = parseReceipt(String((receipt.short_message as DecodedMessage).message));
    assert.equal(parsed?.id, id);
    assert.equal(parsed?.stat, 'DELIVRD');
    assert.equal(parsed?.text, 'hello sim');

    const query = await client.request('query_sm', { message_id: id, ...addresses });
    assert.equal(query.command_status, 0);
    assert.equal(query.message_state, 2);
    // Quirk: the package turns final_date into a Date (read as UTC).
    assert.ok(query.final_date instanceof Date);
    assert.ok(Math.abs(query.final_date.getTime() - Date.now()) < 60_000);

    assert.equal((await client.request('unbind')).command, 'unbind_resp');
    await client.waitClosed();
  });

  test('an UNDELIV outcome comes back as such', async (t) => {
    if (!requirePeer(t, 'npm smpp')) return;
    const { port } = await simulator(t, { outcomes: [{ to: '+1555000*', stat: 'UNDELIV', err: '011' }] });
    const client = await NpmSmppClient.connect(t, port);
    await client.bind('esme', 'secret');
    const resp = await client.request('submit_sm', {
      destination_addr: '15550001234',
      registered_delivery: 1,
      short_message: ucs2Message.text,
    });
    const receipt = await client.waitRequest('deliver_sm');
    const parsed = parseReceipt(String((receipt.short_message as DecodedMessage).message));
    assert.equal(parsed?.id, resp.message_id);
    assert.equal(parsed?.stat, 'UNDELIV');
    assert.equal(parsed?.err, '011');
    assert.equal(receipt.message_state, 5);
  });
});

describe('Perl Net::SMPP ESME ↔ SMSC simulator', () => {
  test('bind with a good and a bad password', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const { port } = await simulator(t);
    const good = await new PerlEsme(t).bind({ port, system_id: 'esme', password: 'secret' });
    assert.equal(good.command_status, 0);
    assert.equal(good.system_id, 'smsgw-sim');
    const bad = await new PerlEsme(t).bind({
      port,
      mode: 'transmitter',
      system_id: 'esme',
      password: 'nope',
    });
    assert.equal(bad.command, 'bind_transmitter_resp');
    assert.equal(bad.command_status, CommandStatus.ESME_RINVPASWD);
  });

  test('submit_sm, message id, a receipt that parses to it, query_sm, unbind', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const { sim, port } = await simulator(t);
    const esme = new PerlEsme(t);
    await esme.bind({ port, system_id: 'esme', password: 'secret' });
    const resp = await esme.submit({
      ...addresses,
      registered_delivery: 1,
      data_coding: 0,
      text: gsmMessage.text,
    });
    assert.equal(resp.command_status, 0);
    const id = String(resp.message_id);
    const stored = sim.findMessage(id);
    assert.ok(stored);
    assert.equal(stored.dataCoding, 0);
    assert.deepEqual(stored.shortMessage, gsmMessage.octets);

    const receipt = await esme.read('deliver_sm');
    assert.equal(receipt.esm_class, 4);
    assert.equal(receipt.data_coding, 0);
    assert.equal(receipt.tlvs.receipted_message_id, Buffer.from(`${id}\0`).toString('hex'));
    assert.equal(receipt.tlvs.message_state, '02');
    // The receipt text is printable ASCII under data_coding 0: characters outside it (here
    // '£') become '?', so no ESME misreads it (the Perl peer's `text` decodes as GSM 03.38,
    // which would map '@' to '¡').
    const text = Buffer.from(receipt.short_message_hex!, 'hex').toString('latin1');
    const parsed = parseReceipt(text);
    assert.equal(parsed?.id, id);
    assert.equal(parsed?.stat, 'DELIVRD');
    assert.equal(parsed?.text, gsmMessage.text.replace('£', '?'));

    const query = await esme.query({
      message_id: id,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900000',
    });
    assert.equal(query.command_status, 0);
    assert.equal(query.message_id, id);
    assert.equal(query.message_state, 2);
    assert.match(String(query.final_date), /^\d{12}/);
    const unknown = await esme.query({ message_id: 'ffffff' });
    assert.equal(unknown.command_status, CommandStatus.ESME_RQUERYFAIL);

    const unbound = new Promise((resolve) => sim.once('unbound', resolve));
    assert.equal((await esme.unbind()).command_status, 0);
    await unbound;
  });

  test('an MO message from the simulator reaches a receiver bind, decoded by Perl', async (t) => {
    if (!requirePeer(t, 'Perl Net::SMPP')) return;
    const { sim, port } = await simulator(t);
    const esme = new PerlEsme(t);
    await esme.bind({ port, mode: 'receiver', system_id: 'esme', password: 'secret' });
    assert.equal(sim.injectInbound({ from: '+447700900009', to: '12345', text: ucs2Message.text }), 1);
    const mo = await esme.read('deliver_sm');
    assert.equal(mo.esm_class, 0);
    assert.equal(mo.data_coding, 8);
    assert.equal(mo.text, ucs2Message.text);
    assert.equal(mo.source_addr, '447700900009');
    assert.equal(mo.source_addr_ton, 1);
  });
});
