// An in-process carrier: takes every message, makes up SMSC ids, and reports a delivery
// outcome after a delay, chosen by destination. No sockets, so the gateway can run, demo
// and be tested end to end without an SMSC.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { SimulatorConnectorConfig } from '../config/index.ts';
import { compilePattern, type Matcher, TokenBucket } from '../core/index.ts';
import { splitBinary, splitMessage } from '../sms/index.ts';
import { StatusHistory } from './health.ts';
import type { ConnectorLogger } from './logger.ts';
import { silentLogger } from './logger.ts';
import { SendTracker } from './sends.ts';
import type {
  Connector,
  ConnectorEvents,
  ConnectorSink,
  ConnectorState,
  InboundReceipt,
  OutboundSms,
  SubmitResult,
} from './types.ts';

type Outcome = SimulatorConnectorConfig['outcomes'][number];

/** Sends it takes at once; sends settle on the next turn of the event loop. */
const maxInFlight = 1000;
/** A receipt the sink refused is offered again this often, this many times in all. */
const receiptRetryMs = 1_000;
const receiptAttempts = 5;

const statWord: Record<Outcome['status'], string> = {
  delivered: 'DELIVRD',
  undelivered: 'UNDELIV',
  expired: 'EXPIRED',
  rejected: 'REJECTD',
  failed: 'FAILED',
};

export interface SimulatedInbound {
  from: string;
  to: string;
  text: string;
}

export class SimulatorConnector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly id: string;
  readonly type = 'simulator';

  readonly #config: SimulatorConnectorConfig;
  readonly #sink: ConnectorSink;
  readonly #log: ConnectorLogger;
  readonly #bucket: TokenBucket | null;
  readonly #outcomes: Array<{ matches: Matcher; outcome: Outcome }>;
  #status: ConnectorState['status'] = 'starting';
  #inFlight = 0;
  readonly #sends = new SendTracker();
  readonly #history = new StatusHistory();
  /** Receipts (and their retries) to report later, by their timers. */
  readonly #timers = new Map<NodeJS.Timeout, { dueAt: number; report: () => void }>();
  /** Receipts due while stopped: reported after the next start, as an SMSC does on rebind. */
  #deferred: Array<{ dueAt: number; report: () => void }> = [];
  #wakeTimer: NodeJS.Timeout | null = null;

  constructor(config: SimulatorConnectorConfig, sink: ConnectorSink, logger: ConnectorLogger = silentLogger) {
    super();
    this.id = config.id;
    this.#config = config;
    this.#sink = sink;
    this.#log = logger;
    this.#bucket = config.tps > 0 ? new TokenBucket(config.tps) : null;
    this.#outcomes = config.outcomes.map((outcome) => ({
      matches: compilePattern(outcome.to.replace(/^\+/, '')),
      outcome,
    }));
  }

  /** Starts, or starts again after a stop. */
  async start(): Promise<void> {
    if (this.#status === 'up') return;
    this.#status = 'up';
    const now = Date.now();
    for (const { dueAt, report } of this.#deferred.splice(0)) this.#later(Math.max(0, dueAt - now), report);
    this.#log.info({ connector: this.id }, 'connector bind up');
    this.emit('state', this.state());
    this.emit('ready');
  }

  async stop(): Promise<void> {
    if (this.#status === 'stopped') return;
    this.#status = 'stopped';
    await this.#sends.settled();
    for (const [timer, pending] of this.#timers) {
      clearTimeout(timer);
      this.#deferred.push(pending);
    }
    this.#timers.clear();
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = null;
    this.#log.info({ connector: this.id }, 'connector stopped');
    this.emit('state', this.state());
  }

  capacity(): number {
    if (this.#status !== 'up') return 0;
    const free = maxInFlight - this.#inFlight;
    if (this.#bucket === null) return free;
    const tokens = this.#bucket.available();
    if (tokens === 0) this.#wakeWhenTokens(this.#bucket);
    return Math.min(free, tokens);
  }

  send(sms: OutboundSms): Promise<SubmitResult> {
    return this.#sends.track(this.#send(sms), () => this.emit('ready'));
  }

  /** An inbound (MO) message as if the network had sent it; resolves once the sink has it. */
  injectInbound(message: SimulatedInbound): Promise<void> {
    const split = splitMessage(message.text, { encoding: 'auto', mode: 'udh', reference: 0, maxParts: 255 });
    return this.#sink.inbound({
      connectorId: this.id,
      from: message.from,
      to: message.to,
      text: message.text,
      binary: null,
      encoding: split.encoding,
      segments: split.parts.length,
      complete: true,
      receivedAt: Date.now(),
    });
  }

  state(): ConnectorState {
    return {
      id: this.id,
      type: this.type,
      status: this.#status,
      binds: [
        {
          index: 0,
          state: this.#status === 'up' ? 'bound' : this.#status === 'stopped' ? 'stopped' : 'connecting',
          inFlight: this.#inFlight,
          window: maxInFlight,
        },
      ],
      inFlight: this.#inFlight,
      sent: this.#sends.sent,
      failed: this.#sends.failed,
      lastError: null,
      since: this.#history.since(this.#status),
    };
  }

  async #send(sms: OutboundSms): Promise<SubmitResult> {
    if (this.#status !== 'up') {
      return { ok: false, temporary: true, code: 'not_bound', message: `connector is ${this.#status}` };
    }
    let parts: number;
    try {
      parts = countParts(sms);
    } catch (err) {
      return { ok: false, temporary: false, code: 'invalid_message', message: (err as Error).message };
    }
    if (this.#bucket) for (let i = 0; i < parts; i++) this.#bucket.take();
    const smscIds = Array.from({ length: parts }, () => randomBytes(8).toString('hex'));
    this.#inFlight++;
    // Settle on a later turn, as a carrier would answer: callers must not rely on sync results.
    await new Promise((resolve) => setImmediate(resolve));
    this.#inFlight--;
    if (sms.receipt) {
      const outcome = this.#outcomeFor(sms.to);
      for (const smscId of smscIds)
        this.#later(this.#config.deliveryDelayMs, () => this.#report(smscId, outcome, 1));
    }
    return { ok: true, smscIds };
  }

  #outcomeFor(to: string): Outcome {
    const bare = to.replace(/^\+/, '');
    return this.#outcomes.find((o) => o.matches(bare))?.outcome ?? { to: '*', status: 'delivered' };
  }

  #report(smscId: string, outcome: Outcome, attempt: number): void {
    const err = outcome.error ?? (outcome.status === 'delivered' ? '000' : '001');
    const receipt: InboundReceipt = {
      connectorId: this.id,
      smscId,
      status: outcome.status,
      stat: statWord[outcome.status],
      err,
      doneAt: Date.now(),
      networkErrorCode: /^\d+$/.test(err) ? Number(err) : null,
    };
    this.#sink.receipt(receipt).catch((error: unknown) => {
      if (this.#status === 'stopped' || attempt >= receiptAttempts) {
        this.#log.error({ connector: this.id, smscId, err: error }, 'receipt dropped: the sink refused it');
        return;
      }
      this.#log.warn(
        { connector: this.id, smscId, err: error, attempt },
        'sink refused a receipt; offering it again',
      );
      this.#later(receiptRetryMs, () => this.#report(smscId, outcome, attempt + 1));
    });
  }

  #later(ms: number, report: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      report();
    }, ms);
    this.#timers.set(timer, { dueAt: Date.now() + ms, report });
  }

  #wakeWhenTokens(bucket: TokenBucket): void {
    if (this.#wakeTimer !== null) return;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = null;
      this.emit('ready');
    }, bucket.msUntilAvailable());
  }
}

function countParts(sms: OutboundSms): number {
  if (sms.udh !== null) return 1; // sent as it is, in one part
  const options = { encoding: sms.encoding, mode: 'udh', reference: 0, maxParts: 255 } as const;
  if (sms.text !== null) return splitMessage(sms.text, options).parts.length;
  if (sms.binary !== null) return splitBinary(sms.binary, options).parts.length;
  throw new Error('a message needs text or binary content');
}
