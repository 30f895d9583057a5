// Webhook delivery against a real HTTP receiver and a real SQLite store: signed, retried
// after failures, resumed by a new sender (a restart), abandoned after the give-up time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { verifyWebhook, WebhookSender } from '../../src/webhooks/index.ts';
import { waitFor, webhookReceiver } from '../e2e/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'smsgw-webhooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a failing receiver gets the event again until it answers 2xx, signed each time', async () => {
  const store = await openStore(`sqlite:${join(dir, 'a.db')}`);
  let calls = 0;
  const receiver = await webhookReceiver(() => (++calls <= 2 ? 500 : 204));
  const sender = new WebhookSender({ store, retryBaseMs: 50, pollMs: 20 });
  sender.start();
  try {
    await sender.enqueue('acme', receiver.url, 'whsec-1', {
      type: 'message.status',
      data: { id: 'm1', status: 'delivered' },
    });
    const hook = await waitFor(() => receiver.hooks[0], 10_000, 'delivered after retries');
    assert.equal(calls, 3);
    assert.equal(hook.body.type, 'message.status');
    assert.deepEqual(hook.body.data, { id: 'm1', status: 'delivered' });
    assert.match(hook.body.id, /^evt_/);
    assert.ok(
      verifyWebhook(
        'whsec-1',
        hook.raw,
        String(hook.headers['smsgw-signature']),
        Math.floor(Date.now() / 1000),
      ),
    );
    // Delivered is done: nothing due any more (once the sender has recorded the 2xx).
    await waitFor(
      async () => (await store.dueWebhooks(Date.now() + 3600_000, 10)).length === 0 || undefined,
      5_000,
      'finished',
    );
  } finally {
    sender.stop();
    await receiver.close();
    await store.close();
  }
});

test('a pending delivery survives a restart and is sent by the next sender', async () => {
  const file = `sqlite:${join(dir, 'b.db')}`;
  let store = await openStore(file);
  const receiver = await webhookReceiver();
  // Enqueued, never started: the process "dies" before sending.
  await new WebhookSender({ store }).enqueue('acme', receiver.url, null, {
    type: 'message.inbound',
    data: { text: 'hi' },
  });
  await store.close();
  store = await openStore(file);
  const sender = new WebhookSender({ store, pollMs: 20 });
  sender.start();
  try {
    const hook = await waitFor(() => receiver.hooks[0], 10_000, 'sent after restart');
    assert.equal(hook.body.type, 'message.inbound');
    assert.equal(hook.headers['smsgw-signature'], undefined, 'no secret, no signature');
  } finally {
    sender.stop();
    await receiver.close();
    await store.close();
  }
});

test('a receiver that never answers 2xx is abandoned after the give-up time', async () => {
  const store = await openStore(`sqlite:${join(dir, 'c.db')}`);
  const receiver = await webhookReceiver(() => 503);
  const outcomes: string[] = [];
  const sender = new WebhookSender({
    store,
    retryBaseMs: 20,
    pollMs: 10,
    giveUpAfterMs: 300,
    onResult: (_d, outcome) => outcomes.push(outcome),
  });
  sender.start();
  try {
    await sender.enqueue('acme', receiver.url, 'whsec-1', { type: 'message.status', data: {} });
    await waitFor(() => outcomes.includes('abandoned') || undefined, 10_000, 'abandoned');
    assert.ok(outcomes.filter((o) => o === 'retry').length >= 1);
    assert.equal((await store.dueWebhooks(Date.now() + 3600_000, 10)).length, 0);
  } finally {
    sender.stop();
    await receiver.close();
    await store.close();
  }
});
