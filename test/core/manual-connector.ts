// A carrier the test answers by hand, and a gateway on it over an in-memory store: for
// tests of the pipeline's own rules (windows, groups, receipts) without sockets between.
import { EventEmitter } from 'node:events';
import type { TestContext } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import type {
  Connector,
  ConnectorEvents,
  ConnectorState,
  OutboundSms,
  SubmitResult,
} from '../../src/connectors/index.ts';
import { Gateway } from '../../src/core/index.ts';
import { SqliteStore, type Store } from '../../src/store/index.ts';

export class ManualConnector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly id = 'manual';
  readonly type = 'manual';
  readonly window: number;
  readonly pending: Array<{ sms: OutboundSms; answer: (r: SubmitResult) => void }> = [];
  readonly sent: OutboundSms[] = [];

  constructor(window = 10) {
    super();
    this.window = window;
  }
  async start(): Promise<void> {
    this.emit('ready');
  }
  async stop(): Promise<void> {}
  capacity(): number {
    return this.window - this.pending.length;
  }
  send(sms: OutboundSms): Promise<SubmitResult> {
    this.sent.push(sms);
    return new Promise((answer) => this.pending.push({ sms, answer }));
  }
  /** Answers the oldest `n` sends in one go, then says capacity came free, as connectors do. */
  answer(n: number, result: (sms: OutboundSms) => SubmitResult): void {
    for (const { sms, answer } of this.pending.splice(0, n)) answer(result(sms));
    this.emit('ready');
  }
  state(): ConnectorState {
    return { id: this.id, type: this.type, status: 'up', binds: [], inFlight: 0, sent: 0, failed: 0 };
  }
}

/**
 * A started gateway routing everything to `carrier`, stopped (with its store) after the test;
 * on a fresh in-memory store unless given one (migrated).
 */
export async function gatewayOn(t: TestContext, carrier: ManualConnector, given?: Store) {
  const store = given ?? new SqliteStore(':memory:');
  await store.migrate();
  const config = parseConfig(`
store: "sqlite::memory:"
connectors: [{ id: manual, type: simulator }]
routes: { mt: [{ connectors: [manual] }] }
`);
  const gateway = new Gateway({ store, config, connectors: new Map([['manual', carrier]]) });
  await gateway.start();
  await carrier.start();
  t.after(async () => {
    await gateway.stop();
    await store.close();
  });
  return { store, gateway };
}
