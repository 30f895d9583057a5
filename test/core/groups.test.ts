// Groups of messages (a batch) held back, let go and canceled as a whole by the gateway:
// the store's messages and the dispatcher's memory both, with the messages on the wire left
// to finish — including one that comes back for a retry while its group is paused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SubmitResult } from '../../src/connectors/index.ts';
import { waitFor } from '../e2e/helpers.ts';
import { gatewayOn, ManualConnector } from './manual-connector.ts';

const ok = (): SubmitResult => ({ ok: true, smscIds: [Math.random().toString(16).slice(2)] });
const busy = (): SubmitResult => ({ ok: false, temporary: true, code: 'throttled', message: 'busy' });

test('pauseGroup, resumeGroup, cancelGroup: store and memory, with messages on the wire', async (t) => {
  const carrier = new ManualConnector();
  const { store, gateway } = await gatewayOn(t, carrier);
  const submit = (groupId: string, n: number, priority: 'bulk' | 'otp' = 'bulk') =>
    gateway.submitMany(
      'acme',
      Array.from({ length: n }, (_, i) => ({
        to: `+4477009${String(10000 + i)}`,
        from: 'ACME',
        text: `${groupId} ${i}`,
        groupId,
        priority,
      })),
    );

  await submit('g', 30);
  await waitFor(() => carrier.pending.length === 10);
  // 10 on the wire, 20 in the dispatcher's memory.
  assert.equal(await gateway.pauseGroup('g'), 20);
  assert.equal(gateway.queued, 0, 'the paused messages left memory');
  // Of those on the wire, 5 are accepted and 5 come back to be retried: the retries must wait
  // with their group.
  carrier.answer(5, ok);
  carrier.answer(5, busy);
  // Back-off is a second; the retries end up paused on disk and are not sent.
  await waitFor(async () => (await store.countByStatus('g')).paused === 25, 5_000, '25 paused');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(carrier.sent.length, 10);
  assert.deepEqual(await store.countByStatus('g'), { submitted: 5, paused: 25 });
  assert.equal((await store.dueMessages(Date.now() + 120_000, 100, new Set())).length, 0);

  // Other messages still go.
  const [otp] = await submit('other', 1, 'otp');
  await waitFor(() => carrier.pending.length === 1);
  assert.equal(carrier.pending[0]!.sms.messageId, 'message' in otp! ? otp.message.id : '');
  carrier.answer(1, ok);

  // Resumed: all 25 go, once each.
  assert.equal(await gateway.resumeGroup('g'), 25);
  await waitFor(
    async () => {
      carrier.answer(10, ok);
      return (await store.countByStatus('g')).submitted === 30;
    },
    5_000,
    'all submitted',
  );
  const sentTexts = carrier.sent.map((s) => s.text).filter((s) => s?.startsWith('g '));
  assert.equal(sentTexts.length, 35, '30 messages, 5 of them twice (the retries)');
  assert.equal(new Set(sentTexts).size, 30);

  // Canceled: what is queued or paused is canceled; what is on the wire finishes.
  await submit('h', 25);
  await waitFor(() => carrier.pending.length === 10);
  assert.equal(await gateway.cancelGroup('h'), 15);
  assert.equal(await gateway.resumeGroup('h'), 0, 'a canceled group does not come back');
  carrier.answer(10, ok);
  await waitFor(async () => (await store.countByStatus('h')).submitted === 10);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await store.countByStatus('h'), { submitted: 10, canceled: 15 });
  assert.equal(carrier.pending.length, 0);
});
