// The in-process simulator connector, and the factory that builds connectors from config.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SimulatorConnectorConfig } from '../../src/config/types.ts';
import { createConnector, SimulatorConnector, SmppConnector } from '../../src/connectors/index.ts';
import { outbound, RecordingSink, sleep, smppConfig, waitFor } from './helpers.ts';

function config(fields: Partial<SimulatorConnectorConfig> = {}): SimulatorConnectorConfig {
  return { id: 'sim', type: 'simulator', deliveryDelayMs: 20, outcomes: [], tps: 0, ...fields };
}

async function started(fields: Partial<SimulatorConnectorConfig> = {}) {
  const sink = new RecordingSink();
  const conn = new SimulatorConnector(config(fields), sink);
  await conn.start();
  return { conn, sink };
}

describe('SimulatorConnector', () => {
  test('accepts every send with one 16-hex id per part, and reports delivery', async () => {
    const { conn, sink } = await started();
    assert.equal(conn.state().status, 'up');
    assert.ok(conn.capacity() >= 1000);
    const result = await conn.send(outbound({ text: 'x'.repeat(400), receipt: true }));
    assert.ok(result.ok);
    assert.equal(result.smscIds.length, 3);
    assert.ok(result.smscIds.every((id) => /^[0-9a-f]{16}$/.test(id)));
    assert.equal(new Set(result.smscIds).size, 3);
    await waitFor(() => sink.receipts.length === 3);
    assert.deepEqual(
      sink.receipts.map((r) => r.smscId),
      result.smscIds,
    );
    for (const r of sink.receipts) {
      assert.equal(r.status, 'delivered');
      assert.equal(r.stat, 'DELIVRD');
      assert.equal(r.connectorId, 'sim');
      assert.ok(r.doneAt !== null);
    }
    assert.equal(conn.state().sent, 1);
    await conn.stop();
  });

  test('outcomes: the first rule whose glob matches decides; no receipt unless asked', async () => {
    const { conn, sink } = await started({
      outcomes: [
        { to: '+1555*', status: 'undelivered', error: '011' },
        { to: '*0000', status: 'expired' },
        { to: '15550*', status: 'rejected' },
      ],
    });
    const undelivered = await conn.send(outbound({ to: '+15550001234', receipt: true }));
    const expired = await conn.send(outbound({ to: '+447700900000', receipt: true }));
    const silent = await conn.send(outbound({ to: '+447700900001', receipt: false }));
    assert.ok(undelivered.ok && expired.ok && silent.ok);
    await waitFor(() => sink.receipts.length === 2);
    await sleep(50);
    assert.equal(sink.receipts.length, 2);
    const byId = new Map(sink.receipts.map((r) => [r.smscId, r]));
    const u = byId.get(undelivered.smscIds[0]!);
    assert.deepEqual(
      [u?.status, u?.stat, u?.err, u?.networkErrorCode],
      ['undelivered', 'UNDELIV', '011', 11],
    );
    assert.equal(byId.get(expired.smscIds[0]!)?.status, 'expired');
    await conn.stop();
  });

  test('a receipt the sink refuses is offered again', async () => {
    const { conn, sink } = await started();
    sink.refuseReceipt = (_r, call) => call === 1;
    const result = await conn.send(outbound({ receipt: true }));
    assert.ok(result.ok);
    await waitFor(() => sink.receipts.length === 1, 3_000);
    assert.equal(sink.receiptCalls, 2);
    await conn.stop();
  });

  test('tps holds capacity back and says when it is ready again', async () => {
    const { conn } = await started({ tps: 5 });
    assert.equal(conn.capacity(), 1);
    assert.ok((await conn.send(outbound())).ok);
    assert.equal(conn.capacity(), 0);
    await new Promise<void>((resolve) => conn.once('ready', resolve));
    await waitFor(() => conn.capacity() === 1);
    // A three-part message costs three tokens: 3 / 5 s before the next one is there.
    const sentAt = Date.now();
    assert.ok((await conn.send(outbound({ text: 'y'.repeat(400) }))).ok);
    await waitFor(() => conn.capacity() === 1, 3_000);
    assert.ok(Date.now() - sentAt >= 550, 'capacity came back before the long message was paid for');
    await conn.stop();
  });

  test('injectInbound hands the message to the sink', async () => {
    const { conn, sink } = await started();
    await conn.injectInbound({ from: '+447700900123', to: '5550100', text: 'Olá ✓' });
    assert.equal(sink.inbounds.length, 1);
    const sms = sink.inbounds[0]!;
    assert.deepEqual(
      [sms.connectorId, sms.from, sms.to, sms.text, sms.encoding, sms.segments, sms.complete],
      ['sim', '+447700900123', '5550100', 'Olá ✓', 'ucs2', 1, true],
    );
    sink.refuseInbound = () => true;
    await assert.rejects(conn.injectInbound({ from: '1', to: '2', text: 'no' }), /store unavailable/);
    await conn.stop();
  });

  test('stop() holds pending receipts back and refuses further sends; start() reports them', async () => {
    const { conn, sink } = await started({ deliveryDelayMs: 200 });
    const sent = await conn.send(outbound({ receipt: true }));
    assert.ok(sent.ok);
    await conn.stop();
    await sleep(300);
    assert.equal(sink.receipts.length, 0);
    assert.equal(conn.state().status, 'stopped');
    assert.equal(conn.capacity(), 0);
    const late = await conn.send(outbound());
    assert.ok(!late.ok && late.temporary);
    // Back up: the receipt that fell due meanwhile comes, as an SMSC sends it after a rebind.
    await conn.start();
    await waitFor(() => sink.receipts.length === 1);
    assert.equal(sink.receipts[0]!.smscId, sent.smscIds[0]);
    await conn.stop();
  });

  test('a message it cannot encode is refused for good', async () => {
    const { conn } = await started();
    const result = await conn.send(outbound({ text: 'Привет', encoding: 'gsm7' }));
    assert.ok(!result.ok && !result.temporary && result.code === 'invalid_message');
    await conn.stop();
  });
});

describe('createConnector', () => {
  test('builds the connector the config names', async () => {
    const sink = new RecordingSink();
    const sim = createConnector(config(), sink);
    assert.ok(sim instanceof SimulatorConnector);
    assert.equal(sim.type, 'simulator');
    const smpp = createConnector(smppConfig(1), sink);
    assert.ok(smpp instanceof SmppConnector);
    assert.equal(smpp.id, 'carrier');
    assert.equal(smpp.state().status, 'starting');
  });
});
