// Fair sharing: two accounts' batches of the same priority share a connector in turns, so
// a small batch accepted after a large one is not held back until the large one is done.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gatewayFrom, waitFor } from './helpers.ts';

test("a small batch of one account goes out beside another account's large one, not after it", async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: big, apiKeys: [big-key-1], defaultFrom: BIG }
  - { id: small, apiKeys: [small-key-1], defaultFrom: SMALL }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10, tps: 200 }
routes:
  mt: [{ connectors: [sim] }]
`);
  t.after(() => gw.close());
  const batch = async (key: string, n: number, prefix: string) => {
    const res = await api(gw.base, key)('POST', '/v1/batches', {
      text: 'News {{n}}',
      recipients: Array.from({ length: n }, (_, i) => ({
        to: `${prefix}${String(i).padStart(5, '0')}`,
        vars: { n: String(i) },
      })),
    });
    assert.equal(res.status, 202);
    return res.body.id as string;
  };
  const big = await batch('big-key-1', 1500, '+4477009');
  const small = await batch('small-key-1', 150, '+4478009');
  const status = async (key: string, id: string) =>
    (await api(gw.base, key)('GET', `/v1/batches/${id}`)).body;
  await waitFor(
    async () => (await status('small-key-1', small)).status === 'completed',
    30_000,
    'the small batch out',
  );
  const bigNow = await status('big-key-1', big);
  const bigLeft = (bigNow.counts.queued ?? 0) + (bigNow.counts.scheduled ?? 0);
  t.diagnostic(`when the small batch was out, ${bigLeft} of the large batch's 1500 were still waiting`);
  // In turns, the large batch had sent about as many as the small one (plus its head start).
  assert.ok(bigLeft > 900, `${bigLeft} of 1500 left`);
});
