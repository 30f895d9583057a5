// The SMSC simulator over real TCP, driven by our own client (the interop tests drive it
// with independent ESMEs). Every behaviour `smsgw simulate smsc` offers is exercised here.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { SmscSimulatorOptions } from '../../src/simulator/index.ts';
import { SmscSimulator } from '../../src/simulator/index.ts';
import type { Pdu, PduOf, SmppSession } from '../../src/smpp/index.ts';
import { CommandStatus, parseReceipt, SmppClient } from '../../src/smpp/index.ts';
import { Reassembler } from '../../src/sms/index.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { runSimulateSmsc, startSimulateSmsc } from './cli.ts';

const closers: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function simulator(options: SmscSimulatorOptions = {}) {
  const sim = new SmscSimulator({ deliveryDelayMs: 50, ...options });
  const { port } = await sim.listen(0);
  closers.push(() => sim.close());
  return { sim, port };
}

async function bind(
  port: number,
  bindType: 'transmitter' | 'receiver' | 'transceiver' = 'transceiver',
  systemId = 'esme',
) {
  const client = new SmppClient({
    host: '127.0.0.1',
    port,
    systemId,
    password: 'pw',
    bindType,
    reconnect: false,
  });
  const inbound: Pdu[] = [];
  client.on('request', (pdu, session) => {
    inbound.push(pdu);
    session.respond(pdu);
  });
  client.start();
  const session = await client.waitBound();
  closers.push(() => client.stop());
  return { client, session, inbound };
}

async function waitFor<T>(fn: () => T | undefined, timeoutMs = 3_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function messageIdOf(pdu: Pdu): string {
  assert.ok('messageId' in pdu);
  return pdu.messageId;
}

describe('SMSC simulator', () => {
  test('answers submit_sm and returns a receipt whose id matches', async () => {
    const { port } = await simulator();
    const { session, inbound } = await bind(port);
    const resp = await session.request(
      submitSm({ registeredDelivery: 1, shortMessage: Buffer.from('Hello receipts') }),
    );
    assert.equal(resp.commandStatus, 0);
    const id = messageIdOf(resp);
    const receipt = (await waitFor(() => inbound[0])) as PduOf<'deliver_sm'>;
    assert.equal(receipt.esmClass & 0x3c, 0x04);
    assert.equal(receipt.sourceAddr, '447700900001');
    assert.equal(receipt.destinationAddr, '447700900000');
    const parsed = parseReceipt(receipt.shortMessage.toString('latin1'));
    assert.ok(parsed);
    assert.equal(parsed.id, id);
    assert.equal(parsed.stat, 'DELIVRD');
    assert.equal(parsed.text, 'Hello receipts');
    assert.equal(receipt.tlvs?.receiptedMessageId, id);
    assert.equal(receipt.tlvs?.messageState, 2);
  });

  test('outcomes by destination give UNDELIV with the error and network_error_code', async () => {
    const { port } = await simulator({ outcomes: [{ to: '+1555000*', stat: 'UNDELIV', err: '011' }] });
    const { session, inbound } = await bind(port);
    await session.request(submitSm({ destinationAddr: '15550001234', registeredDelivery: 1 }));
    const receipt = (await waitFor(() => inbound[0])) as PduOf<'deliver_sm'>;
    const parsed = parseReceipt(receipt.shortMessage.toString('latin1'));
    assert.equal(parsed?.stat, 'UNDELIV');
    assert.equal(parsed?.err, '011');
    assert.equal(receipt.tlvs?.messageState, 5);
    assert.deepEqual([...(receipt.tlvs?.networkErrorCode ?? [])], [3, 0, 11]);
  });

  test('registered_delivery 2 (failures only) sends no receipt for a delivered message', async () => {
    const { sim, port } = await simulator({ outcomes: [{ to: '44770090000F', stat: 'UNDELIV' }] });
    const { session, inbound } = await bind(port);
    const ok = await session.request(submitSm({ registeredDelivery: 2 }));
    const failed = await session.request(
      submitSm({ registeredDelivery: 2, destinationAddr: '44770090000F' }),
    );
    await waitFor(() => sim.findMessage(messageIdOf(ok))?.doneAt);
    const receipt = (await waitFor(() => inbound[0])) as PduOf<'deliver_sm'>;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(inbound.length, 1);
    assert.equal(receipt.tlvs?.receiptedMessageId, messageIdOf(failed));
  });

  test('query_sm follows the message; cancel_sm stops its receipt; replace_sm changes its text', async () => {
    const { sim, port } = await simulator({ deliveryDelayMs: 300 });
    const { session, inbound } = await bind(port);
    const a = messageIdOf(await session.request(submitSm({ registeredDelivery: 1 })));
    const b = messageIdOf(await session.request(submitSm({ registeredDelivery: 1 })));
    const query = (id: string) =>
      session.request({
        command: 'query_sm',
        messageId: id,
        sourceAddrTon: 1,
        sourceAddrNpi: 1,
        sourceAddr: '447700900000',
      });
    const enroute = (await query(a)) as PduOf<'query_sm_resp'>;
    assert.equal(enroute.messageState, 1);
    const cancel = await session.request({
      command: 'cancel_sm',
      serviceType: '',
      messageId: b,
      sourceAddrTon: 1,
      sourceAddrNpi: 1,
      sourceAddr: '447700900000',
      destAddrTon: 1,
      destAddrNpi: 1,
      destinationAddr: '447700900001',
    });
    assert.equal(cancel.commandStatus, 0);
    const replace = await session.request({
      command: 'replace_sm',
      messageId: a,
      sourceAddrTon: 1,
      sourceAddrNpi: 1,
      sourceAddr: '447700900000',
      scheduleDeliveryTime: '',
      validityPeriod: '',
      registeredDelivery: 1,
      smDefaultMsgId: 0,
      shortMessage: Buffer.from('replaced'),
    });
    assert.equal(replace.commandStatus, 0);
    assert.equal(sim.findMessage(a)?.shortMessage.toString(), 'replaced');
    await waitFor(() => inbound[0]);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(inbound.length, 1, 'the canceled message got no receipt');
    const done = (await query(a)) as PduOf<'query_sm_resp'>;
    assert.equal(done.messageState, 2);
    assert.match(done.finalDate, /^\d{12}/);
    const deleted = (await query(b)) as PduOf<'query_sm_resp'>;
    assert.equal(deleted.messageState, 4);
    const unknown = await query('ffffff');
    assert.equal(unknown.commandStatus, CommandStatus.ESME_RQUERYFAIL);
    assert.equal(
      (
        await session.request({
          command: 'cancel_sm',
          serviceType: '',
          messageId: a,
          sourceAddrTon: 1,
          sourceAddrNpi: 1,
          sourceAddr: '447700900000',
          destAddrTon: 1,
          destAddrNpi: 1,
          destinationAddr: '447700900001',
        })
      ).commandStatus,
      CommandStatus.ESME_RCANCELFAIL,
      'a delivered message cannot be canceled',
    );
  });

  test('receipts for a transmitter-only ESME wait until it binds a receiver', async () => {
    const { port } = await simulator({ deliveryDelayMs: 20 });
    const tx = await bind(port, 'transmitter');
    const id = messageIdOf(await tx.session.request(submitSm({ registeredDelivery: 1 })));
    await new Promise((r) => setTimeout(r, 100));
    const rx = await bind(port, 'receiver');
    const receipt = (await waitFor(() => rx.inbound[0])) as PduOf<'deliver_sm'>;
    assert.equal(receipt.tlvs?.receiptedMessageId, id);
  });

  test('receipts are printed in decimal when asked, while submit_sm_resp ids stay hex', async () => {
    const { port } = await simulator({ receiptIdFormat: 'decimal', messageIdFormat: 'hex' });
    const { session, inbound } = await bind(port);
    for (let i = 0; i < 11; i++) await session.request(submitSm());
    const id = messageIdOf(await session.request(submitSm({ registeredDelivery: 1 })));
    assert.equal(id, 'c');
    const receipt = (await waitFor(() => inbound[0])) as PduOf<'deliver_sm'>;
    assert.equal(parseReceipt(receipt.shortMessage.toString('latin1'))?.id, '12');
  });

  test('submit_multi and data_sm are answered with message ids', async () => {
    const { sim, port } = await simulator();
    const { session } = await bind(port);
    const multi = await session.request({
      command: 'submit_multi',
      serviceType: '',
      sourceAddrTon: 1,
      sourceAddrNpi: 1,
      sourceAddr: '447700900000',
      destinations: [
        { kind: 'sme', ton: 1, npi: 1, address: '447700900010' },
        { kind: 'sme', ton: 1, npi: 1, address: '447700900011' },
      ],
      esmClass: 0,
      protocolId: 0,
      priorityFlag: 0,
      scheduleDeliveryTime: '',
      validityPeriod: '',
      registeredDelivery: 0,
      replaceIfPresentFlag: 0,
      dataCoding: 0,
      smDefaultMsgId: 0,
      shortMessage: Buffer.from('to two'),
    });
    assert.equal(multi.commandStatus, 0);
    assert.deepEqual((multi as PduOf<'submit_multi_resp'>).unsuccess, []);
    const data = await session.request({
      command: 'data_sm',
      serviceType: '',
      sourceAddrTon: 1,
      sourceAddrNpi: 1,
      sourceAddr: '447700900000',
      destAddrTon: 1,
      destAddrNpi: 1,
      destinationAddr: '447700900012',
      esmClass: 0,
      registeredDelivery: 0,
      dataCoding: 0,
      tlvs: { messagePayload: Buffer.from('by data_sm') },
    });
    assert.equal(data.commandStatus, 0);
    assert.equal(sim.stats.submits, 3);
    assert.deepEqual(
      [...sim.messages.values()].map((m) => m.to),
      ['447700900010', '447700900011', '447700900012'],
    );
  });

  test('the simulator keeps at most maxMessages, the newest', async () => {
    const { sim, port } = await simulator({ maxMessages: 10 });
    const { session } = await bind(port);
    for (let i = 0; i < 25; i++) {
      await session.request(submitSm({ destinationAddr: `4477009000${String(i).padStart(2, '0')}` }));
      assert.ok(sim.messages.size <= 10, `${sim.messages.size} kept after ${i + 1}`);
    }
    const kept = [...sim.messages.values()].map((m) => m.to);
    assert.ok(kept.length >= 9, `${kept.length} kept`);
    assert.deepEqual(
      kept.slice(-9),
      Array.from({ length: 9 }, (_, i) => `4477009000${16 + i}`),
    );
  });

  test('a long inbound message arrives as UDH parts that reassemble to the text', async () => {
    const { sim, port } = await simulator();
    const { inbound } = await bind(port, 'receiver');
    const text = `Olá! ${'This inbound message is long enough to need three parts. '.repeat(7)}`;
    const parts = sim.injectInbound({ from: '+447700900123', to: '+15550100', text });
    assert.ok(parts >= 3);
    await waitFor(() => inbound.length === parts || undefined);
    const reassembler = new Reassembler();
    let result: string | undefined;
    for (const pdu of inbound as PduOf<'deliver_sm'>[]) {
      assert.equal(pdu.sourceAddr, '447700900123');
      assert.equal(pdu.sourceAddrTon, 1);
      assert.ok(pdu.esmClass & 0x40, 'UDHI set');
      const done = reassembler.addUdhPart('k', pdu.shortMessage, pdu.dataCoding);
      if (done) result = done.text;
    }
    assert.equal(result, text);
  });

  test('a long inbound message can travel with SAR TLVs instead', async () => {
    const { sim, port } = await simulator();
    const { inbound } = await bind(port, 'transceiver');
    const text = 'Ünïcödé ✓ '.repeat(20);
    const parts = sim.injectInbound({ from: '447700900123', to: '15550100', text, longMessages: 'sar' });
    await waitFor(() => inbound.length === parts || undefined);
    const pdus = inbound as PduOf<'deliver_sm'>[];
    assert.ok(pdus.every((p) => (p.esmClass & 0x40) === 0 && p.tlvs?.sarTotalSegments === parts));
    assert.deepEqual(
      pdus.map((p) => p.tlvs?.sarSegmentSeqnum),
      Array.from({ length: parts }, (_, i) => i + 1),
    );
  });

  test('throttles above the configured rate with ESME_RTHROTTLED', async () => {
    const { sim, port } = await simulator({ throttleTps: 5 });
    const { session } = await bind(port);
    const results = await Promise.all(Array.from({ length: 8 }, () => session.request(submitSm())));
    assert.equal(results.filter((r) => r.commandStatus === CommandStatus.ESME_RTHROTTLED).length, 3);
    assert.equal(sim.stats.throttled, 3);
  });

  test('fails the configured share of submits with the configured status', async () => {
    const { port } = await simulator({ failRate: 1, failStatus: CommandStatus.ESME_RSYSERR });
    const { session } = await bind(port);
    const resp = await session.request(submitSm());
    assert.equal(resp.commandStatus, CommandStatus.ESME_RSYSERR);
  });

  test('drops the connection every N PDUs, before answering the Nth', async () => {
    const { port } = await simulator({ dropEveryPdus: 3 });
    const { session } = await bind(port);
    assert.equal((await session.request(submitSm())).commandStatus, 0);
    assert.equal((await session.request(submitSm())).commandStatus, 0);
    await assert.rejects(session.request(submitSm()), /connection/);
    assert.equal((session as SmppSession).state, 'closed');
  });
});

describe('smsgw simulate smsc (the CLI)', () => {
  test('starts, serves an ESME, and injects inbound through its control API', async () => {
    const {
      listenLine: smppLine,
      httpLine,
      port,
      control,
    } = await startSimulateSmsc(
      ['--port', '0', '--http', '127.0.0.1:0', '--system-id', 'cli', '--password', 'pw'],
      closers,
    );
    assert.ok(port > 0, smppLine);
    assert.ok(control, httpLine);
    const { session, inbound } = await bind(port, 'transceiver', 'cli');
    assert.equal((await session.request(submitSm())).commandStatus, 0);
    const res = await fetch(`${control}/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '447700900999', to: '12345', text: 'hi from the network' }),
    });
    assert.equal(res.status, 202);
    const mo = (await waitFor(() => inbound[0])) as PduOf<'deliver_sm'>;
    assert.equal(mo.shortMessage.toString(), 'hi from the network');
    const bad = await fetch(`${control}/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"from":1}',
    });
    assert.equal(bad.status, 400);
    const stats = (await (await fetch(`${control}/stats`)).json()) as { submits: number };
    assert.equal(stats.submits, 1);
  });

  test('bad flags exit with code 2 and name the flag', async () => {
    const { code, stderr } = await runSimulateSmsc(['--port', '70000', '--fail-rate', '2']);
    assert.equal(code, 2);
    assert.match(stderr, /--port: expected integer 0\.\.65535, got '70000'/);
    assert.match(stderr, /--fail-rate: expected a number 0\.\.1/);
  });
});
