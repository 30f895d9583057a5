// Cell broadcast: an alert with `broadcast` goes out as an SMPP 5.0 broadcast_sm on the
// connector marked `broadcast: true`, checked at the SMSC simulator, next to its SMS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/index.ts';
import { SmscSimulator } from '../../src/simulator/index.ts';
import type { Pdu } from '../../src/smpp/index.ts';
import { api, gatewayFrom, waitFor } from '../e2e/helpers.ts';

test('an alert broadcast to areas reaches the SMSC as broadcast_sm, its SMS as usual', async (t) => {
  const sim = new SmscSimulator({ deliveryDelayMs: 10 });
  const { port } = await sim.listen(0);
  t.after(() => sim.close());
  const broadcasts: Pdu[] = [];
  sim.server.on('request', (pdu) => {
    if (pdu.command === 'broadcast_sm') broadcasts.push(pdu);
  });
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ALERTS }]
connectors:
  - { id: cbc, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: pw, interfaceVersion: "5.0", broadcast: true }
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
`);
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  await waitFor(() => gw.app.gateway.connectors.get('cbc')!.state().status === 'up', 10_000, 'bound');

  const res = await call('POST', '/v1/alerts', {
    text: 'Tsunami warning: move inland now',
    recipients: ['+447700900001'],
    broadcast: { areas: ['CELL-1001', 'CELL-1002'], repetitions: 3, frequencySeconds: 120 },
  });
  assert.equal(res.status, 202);
  assert.equal(res.body.total, 1);
  assert.equal(res.body.broadcasts.length, 1);
  const [outcome] = res.body.broadcasts;
  assert.equal(outcome.connector, 'cbc');
  assert.equal(outcome.status, 'accepted');
  assert.ok(outcome.broadcastId);
  assert.deepEqual(outcome.failedAreas, []);

  assert.equal(broadcasts.length, 1);
  const pdu = broadcasts[0] as Pdu & { sourceAddr: string; dataCoding: number };
  assert.equal(pdu.sourceAddr, 'ALERTS');
  assert.equal(pdu.dataCoding, 0);
  assert.equal(pdu.tlvs?.messagePayload?.toString('latin1'), 'Tsunami warning: move inland now');
  assert.deepEqual(
    pdu.tlvs?.broadcastAreaIdentifier?.map((b) => [b[0], b.subarray(1).toString('latin1')]),
    [
      [0, 'CELL-1001'],
      [0, 'CELL-1002'],
    ],
  );
  assert.equal(pdu.tlvs?.broadcastRepNum, 3);
  assert.deepEqual([...pdu.tlvs!.broadcastFrequencyInterval!], [0x08, 0, 120]);
  assert.deepEqual([...pdu.tlvs!.broadcastContentType!], [0x01, 0x00, 0x01]);

  const alert = (await call('GET', `/v1/alerts/${res.body.id}`)).body;
  assert.deepEqual(alert.areas, ['CELL-1001', 'CELL-1002']);
  assert.equal(alert.broadcasts[0].status, 'accepted');

  // A broadcast alone is an alert too; one asked of a connector that cannot is refused.
  const only = await call('POST', '/v1/alerts', { text: 'Test', broadcast: { areas: ['CELL-1'] } });
  assert.equal(only.status, 202);
  assert.equal(only.body.total, 0);
  assert.equal(broadcasts.length, 2);
  const refused = await call('POST', '/v1/alerts', {
    text: 'Test',
    broadcast: { areas: ['x'], connectors: ['sim'] },
  });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.code, 'broadcast_unavailable');
  assert.equal(broadcasts.length, 2);
});

test('broadcast needs SMPP 5.0 in the config', () => {
  assert.throws(
    () =>
      parseConfig(
        'connectors: [{ id: c, type: smpp, host: 127.0.0.1, port: 2775, systemId: a, password: b, broadcast: true }]',
      ),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.includes('connectors[0].broadcast: needs interfaceVersion 5.0'),
  );
});
