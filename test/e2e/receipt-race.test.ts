// A receipt that overtakes its submit_sm_resp (the SMSC answers late) is kept and applied
// when the response comes: the message still ends `delivered`, nothing is left unmatched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { api, gatewayFrom, waitFor } from './helpers.ts';

test('receipts that arrive before the submit response are matched when it comes', async (t) => {
  const sim = new SmscSimulator({ deliveryDelayMs: 0, responseDelayMs: 300 });
  const { port } = await sim.listen(0);
  t.after(() => sim.close());
  // The simulator answers each submit 300 ms late; a receipt sent sooner overtook it.
  let receiptsBeforeResponse = 0;
  sim.on('receipt', (m) => {
    if (m.doneAt && m.doneAt.getTime() - m.submittedAt.getTime() < 300) receiptsBeforeResponse++;
  });
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: late, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: pw }
routes:
  mt: [{ connectors: [late] }]
`);
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const ids: string[] = [];
  for (let i = 0; i < 5; i++)
    ids.push((await call('POST', '/v1/messages', { to: '+447700900950', text: `race ${i}` })).body.id);
  await waitFor(() => receiptsBeforeResponse === 5 || undefined, 5_000, 'receipts sent');
  for (const id of ids) {
    const m = await waitFor(async () => {
      const r = await call('GET', `/v1/messages/${id}`);
      return r.body.status === 'delivered' && r.body;
    });
    assert.ok(m.submittedAt && m.doneAt);
  }
  const unmatched = await api(gw.base, 'admin-key-123')('GET', '/v1/admin/receipts/unmatched');
  assert.deepEqual(unmatched.body.data, []);
});
