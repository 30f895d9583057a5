// What a crash can send twice is bounded by the window: a slot freed by an answer is handed
// out again only once that answer is on disk (or counted as waiting to be), even when a
// whole window of answers arrives at once, as SMSCs send them in one packet.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutboundSms, SubmitResult } from '../../src/connectors/index.ts';
import type { Store } from '../../src/store/index.ts';
import { waitFor } from '../e2e/helpers.ts';
import { gatewayOn, ManualConnector } from './manual-connector.ts';

const window = 8;

/** Notes, at each send, the sends on the wire plus the answered messages not yet `submitted` on disk. */
class CountingConnector extends ManualConnector {
  store: Store | null = null;
  readonly answered: string[] = [];
  readonly unrecordedAtSend: number[] = [];

  override send(sms: OutboundSms): Promise<SubmitResult> {
    // Reads of the SQLite store are synchronous underneath: this is the state at this send.
    let unrecorded = 0;
    for (const id of this.answered) {
      void this.store!.getMessage(id).then((m) => {
        if (m?.status !== 'submitted') unrecorded++;
      });
    }
    const onWire = this.pending.length;
    queueMicrotask(() => this.unrecordedAtSend.push(unrecorded + onWire));
    return super.send(sms);
  }
}

test('a window of answers arriving at once does not let more than a window go unrecorded', async (t) => {
  const carrier = new CountingConnector(window);
  const { store, gateway } = await gatewayOn(t, carrier);
  carrier.store = store;
  await gateway.submitMany(
    'acme',
    Array.from({ length: 40 }, (_, i) => ({
      to: `+4477009${String(10000 + i)}`,
      from: 'ACME',
      text: `m ${i}`,
    })),
  );
  for (let round = 0; round < 4; round++) {
    await waitFor(() => carrier.pending.length === window, 5_000, `window ${round} full`);
    carrier.answer(window, (sms) => {
      carrier.answered.push(sms.messageId);
      return { ok: true, smscIds: [sms.messageId] };
    });
  }
  await waitFor(() => carrier.pending.length === window);
  assert.ok(
    carrier.unrecordedAtSend.every((n) => n <= window),
    `at some send ${Math.max(...carrier.unrecordedAtSend)} were answered-but-unrecorded or on the wire`,
  );
});
