// The binds of a carrier connector (SMPP, UCP, CIMD2): opened through the connector's client
// factory up to its share of a cluster's binds, each with its window, all under one tps
// budget; their status, what comes in over them, and the start/stop sequence around them.
import { StatusHistory } from './health.ts';
import { InboundParts } from './inbound.ts';
import type { ConnectorLogger } from './logger.ts';
import type { SendTracker } from './sends.ts';
import { TpsBudget } from './tps.ts';
import type { BindState, Connector, ConnectorSink, ConnectorState } from './types.ts';

/** What the pool needs of a protocol client. */
export interface PoolClient {
  readonly state: string;
  start(): void;
  stop(): Promise<void>;
}

export interface PooledBind<C extends PoolClient> {
  index: number;
  client: C;
  /** Requests handed to this bind and not yet answered. */
  inFlight: number;
}

export interface BindPoolSetup<C extends PoolClient> {
  /** The connector the pool is for: it emits its 'state' and 'ready'. */
  connector: Connector;
  /** How many binds and how many sends a second the connector is configured with; each bind's window. */
  config: { binds: number; tps: number; window: number };
  log: ConnectorLogger;
  sink: ConnectorSink;
  sends: SendTracker;
  /** How long the parts of a long inbound message are waited for (5 minutes when not given). */
  reassemblyTimeoutMs: number | undefined;
  /** What the log calls the other end ("SMSC", "SMS centre"). */
  peer: string;
  /** A new client for bind `index`, not started. */
  client(index: number): C;
  /** Called for each bind before its client starts (to listen to it). */
  watch(bind: PooledBind<C>): void;
  canSend(client: C): boolean;
  /** Whether the client has bound or failed to at least once (down rather than starting). */
  tried(client: C): boolean;
}

export class BindPool<C extends PoolClient> {
  readonly #setup: BindPoolSetup<C>;
  #binds: PooledBind<C>[] = [];
  /** Binds it may have open: all it is configured with, or its share of a cluster's. */
  #share: number;
  readonly #tps: TpsBudget;
  #wakeTimer: NodeJS.Timeout | null = null;
  #wakeAt = 0;
  #started = false;
  #stopping: Promise<void> | null = null;
  #stopped = false;
  readonly #history = new StatusHistory();
  /** What comes in over the binds. */
  readonly inbound: InboundParts;

  constructor(setup: BindPoolSetup<C>) {
    this.#setup = setup;
    this.#share = setup.config.binds;
    this.#tps = new TpsBudget(setup.config.tps);
    this.inbound = new InboundParts({ ...setup, connectorId: setup.connector.id });
  }

  /** The connector's state changed. */
  #changed(): void {
    this.#setup.connector.emit('state', this.#setup.connector.state());
  }

  /** Sending may resume: a bind came up, tokens came back, a pause ended. */
  #ready(): void {
    this.#setup.connector.emit('ready');
  }

  get stopping(): boolean {
    return this.#stopping !== null;
  }

  /**
   * Opens the binds, once the parts kept before are back in the reassembler; after a stop it
   * waits for it and starts afresh.
   */
  async start(): Promise<void> {
    if (this.#stopping !== null) {
      await this.#stopping;
      this.#stopping = null;
      this.#stopped = false;
      this.#started = false;
      this.#binds = [];
      this.inbound.renew();
    }
    if (this.#started) return;
    this.#started = true;
    await this.inbound.replayKept();
    this.#open();
    this.#changed();
  }

  /** Stops once (later calls get the same promise): the sends open settle first, then the binds, then the inbound work. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const s = this.#setup;
    this.#changed();
    await s.sends.settled();
    await Promise.allSettled(this.#binds.map((bind) => bind.client.stop()));
    if (this.#wakeTimer !== null) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = null;
    await this.inbound.close();
    this.#stopped = true;
    s.log.info({ connector: s.connector.id }, 'connector stopped');
    this.#changed();
  }

  /**
   * A cluster's share: the binds above it take no more sends and unbind once those on them
   * settled; the token bucket runs at `tps`.
   */
  async share(binds: number, tps: number): Promise<void> {
    const s = this.#setup;
    this.#share = Math.max(0, Math.min(s.config.binds, binds));
    this.#tps.share(tps);
    if (!this.#started || this.#stopping !== null) return;
    this.#open();
    const closed = this.#binds.splice(this.#share);
    if (closed.length > 0) this.#changed();
    await Promise.allSettled(closed.map((bind) => bind.client.stop()));
  }

  /** Opens binds up to the share, numbered after those open. */
  #open(): void {
    for (let index = this.#binds.length; index < this.#share; index++) {
      const bind: PooledBind<C> = { index, client: this.#setup.client(index), inFlight: 0 };
      this.#setup.watch(bind);
      this.#binds.push(bind);
      bind.client.start();
    }
  }

  /** Free window over the binds that can send, limited by the tokens there now. */
  capacity(now = Date.now()): number {
    if (this.#stopping !== null) return 0;
    let free = 0;
    for (const bind of this.#binds) {
      if (this.#setup.canSend(bind.client)) free += Math.max(0, this.#setup.config.window - bind.inFlight);
    }
    if (free === 0) return 0;
    return this.#tps.limit(free, now, (ms) => this.wakeIn(ms));
  }

  /** Takes a token of the tps budget: the wait when it is owed, else undefined (see TpsBudget.take). */
  paced(): Promise<void> | undefined {
    return this.#tps.take();
  }

  leastLoaded(): PooledBind<C> | null {
    let best: PooledBind<C> | null = null;
    for (const bind of this.#binds) {
      if (this.#setup.canSend(bind.client) && (best === null || bind.inFlight < best.inFlight)) best = bind;
    }
    return best;
  }

  /** Tells the connector ready after `ms`, or sooner when an earlier wake-up is pending. */
  wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.#wakeTimer !== null && this.#wakeAt <= at) return;
    if (this.#wakeTimer !== null) clearTimeout(this.#wakeTimer);
    this.#wakeAt = at;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = null;
      this.#ready();
    }, ms);
  }

  /**
   * A bind's client changed state: a bind up clears the last error and may take sends.
   * (A bind going down is told with `bindDown`, `connectFailed` or `failed`.)
   */
  bindState(bind: PooledBind<C>, state: C['state']): void {
    if (state === 'bound') this.#history.lastError = null;
    this.#changed();
    if (state === 'bound') {
      this.#setup.log.info({ connector: this.#setup.connector.id, bind: bind.index }, 'connector bind up');
      this.#ready();
    }
  }

  /** A bound bind went down (told unless the connector is stopping). */
  bindDown(bind: PooledBind<C>, reason: string): void {
    if (this.#stopping !== null) return;
    this.#setup.log.warn(
      { connector: this.#setup.connector.id, bind: bind.index, reason },
      'connector bind down',
    );
    this.failed(reason);
  }

  /** A bind could not be made: a socket error, a timeout. */
  connectFailed(bind: PooledBind<C>, err: Error): void {
    this.#setup.log.warn(
      { connector: this.#setup.connector.id, bind: bind.index, reason: err.message },
      'connector bind failed',
    );
    this.failed(err.message);
  }

  /** A bind went down or could not bind, for `reason`. */
  failed(reason: string): void {
    this.#history.lastError = reason;
    this.#changed();
  }

  state(): ConnectorState {
    const connector = this.#setup.connector;
    const binds: BindState[] = this.#binds.map((bind) => ({
      index: bind.index,
      state: bindStateOf(bind.client),
      inFlight: bind.inFlight,
      window: this.#setup.config.window,
    }));
    let status: ConnectorState['status'];
    if (this.#stopped) status = 'stopped';
    else if (this.#share === 0) status = 'standby';
    else if (binds.some((b) => b.state === 'bound')) status = 'up';
    else if (this.#binds.some((b) => this.#setup.tried(b.client))) status = 'down';
    else status = 'starting';
    return {
      id: connector.id,
      type: connector.type,
      status,
      binds,
      inFlight: binds.reduce((sum, b) => sum + b.inFlight, 0),
      sent: this.#setup.sends.sent,
      failed: this.#setup.sends.failed,
      lastError: this.#history.lastError,
      since: this.#history.since(status),
    };
  }
}

function bindStateOf(client: PoolClient): BindState['state'] {
  switch (client.state) {
    case 'bound':
      return 'bound';
    case 'backoff':
      return 'down';
    case 'stopped':
      return 'stopped';
    default:
      return 'connecting';
  }
}
