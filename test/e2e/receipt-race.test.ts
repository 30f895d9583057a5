// A receipt that overtakes its submit_sm_resp (the SMSC answers late) is kept and applied
// when the response comes: the message still ends `delivered`, nothing is left unmatched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { api, gatewayFrom, waitFor } from './helpers.ts';

/** A gateway whose one connector binds to the simulator at `port`. */
function carrierConfig(port: number, connector: string, extra = '') {
  return `
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: ${connector}, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: pw${extra ? `, ${extra}` : ''} }
routes:
  mt: [{ connectors: [${connector}] }]
`;
}

test('receipts that arrive before the submit response are matched when it comes', async (t) => {
  const sim = new SmscSimulator({ deliveryDelayMs: 0, responseDelayMs: 300 });
  const { port } = await sim.listen(0);
  t.after(() => sim.close());
  // The simulator answers each submit 300 ms late; a receipt sent sooner overtook it.
  let receiptsBeforeResponse = 0;
  sim.on('receipt', (m) => {
    if (m.doneAt && m.doneAt.getTime() - m.submittedAt.getTime() < 300) receiptsBeforeResponse++;
  });
  const gw = await gatewayFrom(carrierConfig(port, 'late'));
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

test('an early receipt is not taken for an older message whose id its other-base reading happens to be', async (t) => {
  // Ids run 1, 2 … in hex; the receipt for 0x64 (100) can also be read as decimal 64, and
  // 64 is a message of the first round, long delivered.
  const sim = new SmscSimulator({ deliveryDelayMs: 0, responseDelayMs: 300 });
  const { port } = await sim.listen(0);
  t.after(() => sim.close());
  const gw = await gatewayFrom(carrierConfig(port, 'late'));
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const round = async (n: number, label: string) => {
    const ids = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await call('POST', '/v1/messages', { to: '+447700900951', text: `${label} ${i}` });
        return res.body.id as string;
      }),
    );
    await waitFor(
      async () => {
        const statuses = await Promise.all(
          ids.map(async (id) => (await call('GET', `/v1/messages/${id}`)).body.status),
        );
        return statuses.every((s) => s === 'delivered');
      },
      30_000,
      `${label}: every message delivered`,
    );
  };
  await round(110, 'first');
  await round(110, 'second');
  const unmatched = await api(gw.base, 'admin-key-123')('GET', '/v1/admin/receipts/unmatched');
  assert.deepEqual(unmatched.body.data, []);
});

test('an SMSC that answers in hex and prints receipts in decimal (receiptIds: decimal): every receipt reaches its own message', async (t) => {
  // Every other message fails, so a receipt taken for the wrong message shows.
  const sim = new SmscSimulator({
    deliveryDelayMs: 200,
    messageIdFormat: 'hex',
    receiptIdFormat: 'decimal',
    receiptTlvs: false,
    outcomes: [{ to: '+447700900953', stat: 'UNDELIV', err: '001' }],
  });
  const { port } = await sim.listen(0);
  t.after(() => sim.close());
  const gw = await gatewayFrom(carrierConfig(port, 'converting', 'receiptIds: decimal'));
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const sent: Array<{ id: string; expect: string }> = [];
  const send = async (i: number) => {
    const to = i % 2 === 0 ? '+447700900952' : '+447700900953';
    const id = (await call('POST', '/v1/messages', { to, text: `n ${i}` })).body.id as string;
    sent.push({ id, expect: i % 2 === 0 ? 'delivered' : 'undelivered' });
  };
  // One at a time (each receipt after its response), then a burst whose receipts come
  // while the whole burst is answered: the receipt for 25 (0x19) could be read as 0x25.
  for (let i = 0; i < 20; i++) {
    await send(i);
    await waitFor(
      async () =>
        (await call('GET', `/v1/messages/${sent.at(-1)!.id}`)).body.status !== 'submitted' || undefined,
    );
  }
  await Promise.all(Array.from({ length: 60 }, (_, i) => send(20 + i)));
  const outcome = async () =>
    Promise.all(sent.map(async ({ id }) => (await call('GET', `/v1/messages/${id}`)).body.status as string));
  await waitFor(
    async () => (await outcome()).every((s) => s === 'delivered' || s === 'undelivered'),
    20_000,
    'every receipt',
  );
  assert.deepEqual(
    await outcome(),
    sent.map((m) => m.expect),
  );
  const unmatched = await api(gw.base, 'admin-key-123')('GET', '/v1/admin/receipts/unmatched');
  assert.deepEqual(unmatched.body.data, []);
});
