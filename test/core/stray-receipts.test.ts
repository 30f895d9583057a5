// A receipt another gateway on the same store kept unmatched (cluster mode: an SMSC may send
// a receipt down any bind) reaches its message once this gateway records the submit.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import type {
  Connector,
  ConnectorEvents,
  ConnectorState,
  OutboundSms,
  SubmitResult,
} from '../../src/connectors/index.ts';
import { Gateway } from '../../src/core/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { waitFor } from '../e2e/helpers.ts';

class HeldConnector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly id = 'held';
  readonly type = 'held';
  readonly pending: Array<(r: SubmitResult) => void> = [];
  async start(): Promise<void> {
    this.emit('ready');
  }
  async stop(): Promise<void> {}
  capacity(): number {
    return 10 - this.pending.length;
  }
  send(_sms: OutboundSms): Promise<SubmitResult> {
    return new Promise((answer) => this.pending.push(answer));
  }
  state(): ConnectorState {
    return { id: this.id, type: this.type, status: 'up', binds: [], inFlight: 0, sent: 0, failed: 0 };
  }
}

test('a receipt kept unmatched elsewhere is applied once the submit is recorded here', async (t) => {
  const store = new SqliteStore(':memory:');
  await store.migrate();
  const carrier = new HeldConnector();
  const config = parseConfig(`
store: "sqlite::memory:"
connectors: [{ id: held, type: simulator }]
routes: { mt: [{ connectors: [held] }] }
`);
  const gateway = new Gateway({ store, config, connectors: new Map([['held', carrier]]) });
  await gateway.start();
  await carrier.start();
  t.after(async () => {
    await gateway.stop();
    await store.close();
  });
  const m = await gateway.submit('acme', { to: '+447700900123', from: 'ACME', text: 'hello' });
  await waitFor(() => carrier.pending.length === 1);
  // Another gateway got the receipt before this one got the submit response, and kept it.
  await store.saveUnmatchedReceipt('held', 'x1', {
    connectorId: 'held',
    smscId: 'x1',
    status: 'delivered',
    stat: 'DELIVRD',
    err: '000',
    doneAt: Date.now(),
    networkErrorCode: null,
  });
  carrier.pending.shift()!({ ok: true, smscIds: ['x1'] });
  await waitFor(async () => (await store.getMessage(m.id))?.status === 'delivered', 10_000, 'delivered');
  assert.deepEqual(await store.listUnmatchedReceipts(10), []);
});
