// What a crash can send twice is bounded by the window: a slot freed by an answer is handed
// out again only once that answer is on disk (or counted as waiting to be), even when a
// whole window of answers arrives at once, as SMSCs send them in one packet.
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

const window = 8;

/** A carrier with a window of 8 that the test answers; it announces freed capacity at once, as connectors do. */
class PacketConnector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly id = 'packet';
  readonly type = 'packet';
  readonly pending: Array<{ messageId: string; answer: (r: SubmitResult) => void }> = [];
  /** For each send: how many answered messages were not yet `submitted` on disk then. */
  readonly unrecordedAtSend: number[] = [];
  answered: string[] = [];
  readonly store: SqliteStore;
  constructor(store: SqliteStore) {
    super();
    this.store = store;
  }
  async start(): Promise<void> {
    this.emit('ready');
  }
  async stop(): Promise<void> {}
  capacity(): number {
    return window - this.pending.length;
  }
  send(sms: OutboundSms): Promise<SubmitResult> {
    // Reads of the SQLite store are synchronous underneath: this is the state at this send.
    let unrecorded = 0;
    for (const id of this.answered) {
      void this.store.getMessage(id).then((m) => {
        if (m?.status !== 'submitted') unrecorded++;
      });
    }
    queueMicrotask(() => this.unrecordedAtSend.push(unrecorded + this.pending.length));
    return new Promise((answer) => this.pending.push({ messageId: sms.messageId, answer }));
  }
  /** Answers every send on the wire in one go, then says capacity came free. */
  answerAll(): void {
    const batch = this.pending.splice(0);
    for (const { messageId, answer } of batch) {
      this.answered.push(messageId);
      answer({ ok: true, smscIds: [messageId] });
    }
    this.emit('ready');
  }
  state(): ConnectorState {
    return { id: this.id, type: this.type, status: 'up', binds: [], inFlight: 0, sent: 0, failed: 0 };
  }
}

test('a window of answers arriving at once does not let more than a window go unrecorded', async (t) => {
  const store = new SqliteStore(':memory:');
  await store.migrate();
  const carrier = new PacketConnector(store);
  const config = parseConfig(`
store: "sqlite::memory:"
connectors: [{ id: packet, type: simulator }]
routes: { mt: [{ connectors: [packet] }] }
`);
  const gateway = new Gateway({ store, config, connectors: new Map([['packet', carrier]]) });
  await gateway.start();
  await carrier.start();
  t.after(async () => {
    await gateway.stop();
    await store.close();
  });
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
    carrier.answerAll();
  }
  await waitFor(() => carrier.pending.length === window);
  // Sends on the wire plus answers not yet on disk, as each send saw them.
  assert.ok(
    carrier.unrecordedAtSend.every((n) => n <= window),
    `at some send ${Math.max(...carrier.unrecordedAtSend)} were answered-but-unrecorded or on the wire`,
  );
});
