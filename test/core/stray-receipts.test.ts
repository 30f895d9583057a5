// A receipt another gateway on the same store kept unmatched (cluster mode: an SMSC may send
// a receipt down any bind) reaches its message once this gateway records the submit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { waitFor } from '../e2e/helpers.ts';
import { gatewayOn, ManualConnector } from './manual-connector.ts';

setFlagsFromString('--expose-gc');

test('a receipt kept unmatched elsewhere is applied once the submit is recorded here', async (t) => {
  const carrier = new ManualConnector();
  const { store, gateway } = await gatewayOn(t, carrier);
  const m = await gateway.submit('acme', { to: '+447700900123', from: 'ACME', text: 'hello' });
  await waitFor(() => carrier.pending.length === 1);
  // Another gateway got the receipt before this one got the submit response, and kept it.
  await store.saveUnmatchedReceipt('manual', 'x1', {
    connectorId: 'manual',
    smscId: 'x1',
    status: 'delivered',
    stat: 'DELIVRD',
    err: '000',
    doneAt: Date.now(),
    networkErrorCode: null,
  });
  carrier.answer(1, () => ({ ok: true, smscIds: ['x1'] }));
  await waitFor(async () => (await store.getMessage(m.id))?.status === 'delivered', 10_000, 'delivered');
  assert.deepEqual(await store.listUnmatchedReceipts(10), []);
});

test('receipts that match nothing are remembered within a bound in bytes, whatever their ids', async (t) => {
  const gc = runInNewContext('gc') as () => void;
  const heapMb = () => {
    gc();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  const { gateway } = await gatewayOn(t, new ManualConnector());
  const before = heapMb();
  // A carrier's receipts for messages it did not get from us, with ids as long as a receipt's
  // text allows: 2,000 of 16,000 characters, 32 MB if each were remembered for good.
  for (let i = 0; i < 2_000; i++)
    await gateway.receipt({
      connectorId: 'manual',
      smscId: `${i}-${'r'.repeat(16_000)}`,
      status: 'delivered',
      stat: 'DELIVRD',
      err: '000',
      doneAt: Date.now(),
      networkErrorCode: null,
    });
  const grown = heapMb() - before;
  assert.ok(grown < 12, `${grown.toFixed(1)} MB held`);
});
