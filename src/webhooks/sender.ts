// Durable webhook delivery: every event is stored before it is tried, tried at once, then
// retried with growing back-off for 24 hours; a restart resumes what was pending. Each
// receiver (a URL's scheme and authority) has its own requests in flight, its own bounded
// queue in memory and a circuit breaker, so one that refuses, hangs or is slow neither holds
// up another's events nor costs the sending path a request (and a store write) per event.

import { isIP } from 'node:net';
import type { Agent, Dispatcher } from 'undici';
import { newId } from '../core/index.ts';
import type { NewWebhookDelivery, Store, WebhookDelivery, WebhookReceivers } from '../store/index.ts';
import { notAllowed, type OutboundPolicy } from './outbound-policy.ts';
import { signWebhook } from './sign.ts';

export interface WebhookEvent {
  type: string;
  data: unknown;
}

/** A request of a compat API's own shape (Kannel/Jasmin DLR, Twilio callback), sent as given. */
export interface WebhookRequest {
  url: string;
  method: 'GET' | 'POST';
  /** Empty for a GET. */
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Name of a handler given to `onReply`, called with the 2xx answer. */
  reply?: string;
}

/** Reads the answer to a delivered request (e.g. TwiML); its errors are the handler's own. */
export type ReplyHandler = (
  delivery: WebhookDelivery,
  answer: { contentType: string; body: string },
) => Promise<void>;

/** closed: sent to; open: not tried until its wait is over; half-open: one request probes it. */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface WebhookSenderOptions {
  store: Store;
  /** Requests in flight at most, over all receivers (default 256). */
  concurrency?: number;
  /**
   * Requests in flight at most to one receiver (default 64, at most `concurrency`). What one
   * receiver can take is this over its answer time: at 64, 1,280 events/s at 50 ms each.
   */
  receiverConcurrency?: number;
  /**
   * Deliveries of one receiver held in memory at most, in flight included (default 4 ×
   * `receiverConcurrency`); the rest wait in the store and are read as these go.
   */
  receiverBacklog?: number;
  /** Consecutive failed requests (no answer, refused, timed out, 5xx or 429) that open a receiver's circuit. */
  circuitFailures?: number;
  /** How long an open circuit waits before its probe; it doubles on each failed probe, up to 5 minutes. */
  circuitOpenMs?: number;
  /**
   * Deliveries read back per second from the store for receivers whose circuit closed again,
   * all of them together (default 200): a backlog left by an outage drains beside sending,
   * not in a burst that competes with it. Other reads are not held to it.
   */
  drainPerSecond?: number;
  /** No answer (connection, headers or body) within this is a failure. */
  timeoutMs?: number;
  /** Give up on a delivery this long after it was created. */
  giveUpAfterMs?: number;
  /** First retry delay; each further one doubles, up to 30 minutes. */
  retryBaseMs?: number;
  /** How often the store is polled for due retries. */
  pollMs?: number;
  now?: () => number;
  /**
   * Client-supplied URLs (callbackUrl, dlr-url, StatusCallback) are held to `policy` on
   * every connection; `trusted` names the deliveries whose URL the operator configured.
   * Without it every URL is called as given.
   */
  outbound?: { policy: OutboundPolicy; trusted: (accountId: string, url: string) => boolean };
  onResult?: (
    delivery: WebhookDelivery,
    outcome: 'delivered' | 'retry' | 'abandoned',
    detail: string,
  ) => void;
  /** A receiver's circuit changed state; `reason` is the failure that opened it. */
  onCircuit?: (host: string, state: CircuitState, reason: string) => void;
}

/** One receiver: its queue, its requests, its circuit. */
interface Receiver {
  /** Scheme and authority as written in its URLs (how the store tells its deliveries apart). */
  readonly key: string;
  /** host[:port], for logs and /metrics (never a path or a credential). */
  readonly host: string;
  /** Deliveries in hand to send, oldest first. */
  ready: WebhookDelivery[];
  sending: number;
  /** Ids in hand: ready, being sent, or their outcome being written. */
  inHand: number;
  /** Whether the store may hold due deliveries of it that are not in memory. */
  inStore: boolean;
  /** Counts the times inStore was set, so a read that began before one does not clear it. */
  overflows: number;
  circuit: CircuitState;
  /** Failed requests in a row. */
  failures: number;
  /** Openings in a row (each doubles the wait). */
  openings: number;
  /** Its circuit closed again with deliveries waiting in the store: they are read at the drain's rate. */
  recovering: boolean;
  /** Ends an open circuit's wait. */
  timer: NodeJS.Timeout | null;
}

/** An open circuit waits at most this long before its probe. */
const maxCircuitOpenMs = 5 * 60_000;

/**
 * On a store shared by the processes of a cluster, every this many poll ticks the sweep
 * reads from the start of the due deliveries, not only what came due since its last read:
 * it finds those another process held until its lease ended (their due times are past).
 */
const fullSweepTicks = 30;

/** The receiver a URL names: its scheme and authority as written, up to the path, query or fragment. */
export function receiverOf(url: string): string {
  const start = url.indexOf('//');
  if (start < 0) return url;
  const end = url.slice(start + 2).search(/[/?#]/);
  return end < 0 ? url : url.slice(0, start + 2 + end);
}

/** Requests in flight at most, over all receivers and to one (`callbacks.*` in the config). */
export const webhookConcurrencyDefaults = { concurrency: 256, receiverConcurrency: 64 } as const;

/** The most of an answer read (a TwiML reply, say); a longer one fails the delivery. */
const maxAnswerChars = 64 * 1024;

export class WebhookSender {
  readonly #o: Required<Omit<WebhookSenderOptions, 'onResult' | 'outbound' | 'onCircuit'>> &
    Pick<WebhookSenderOptions, 'onResult' | 'outbound' | 'onCircuit'>;
  /**
   * Ids in hand (stored here, or read from the store) whose outcome is not yet written:
   * waiting in a receiver's queue, being sent, or answered with the outcome's write under way.
   */
  readonly #taken = new Set<number>();
  /** Receivers with something in hand, waiting in the store, or a circuit not closed. */
  readonly #receivers = new Map<string, Receiver>();
  #sending = 0;
  readonly #replies = new Map<string, ReplyHandler>();
  /**
   * Keep-alive connections per receiver: a busy receiver is not reconnected to per event.
   * undici, loaded with the first request: it costs less CPU than node:http's agent here
   * (docs/PERFORMANCE.md), but some 30 MB at load and more at peak, which a gateway that
   * sends no webhooks need not pay.
   */
  #agent: Promise<Agent> | null = null;
  /** The same for client-supplied URLs: its connections resolve through the outbound policy. */
  #guardedAgent: Promise<Agent> | null = null;
  #timer: NodeJS.Timeout | null = null;
  /**
   * Whether the store may hold due deliveries of receivers not known to be waiting there: at
   * start and on each poll tick (retries come due).
   */
  #sweep = true;
  /** Counts the ticks, so a sweep that began before one does not clear #sweep. */
  #sweepTicks = 0;
  /**
   * The sweep has read every delivery due up to this time (ms) that is not in hand and whose
   * receiver does not wait in the store (those read their own): it reads on from here, not
   * a backlog waiting in the store again each tick. -Infinity: from the start.
   */
  #sweptUntil = Number.NEGATIVE_INFINITY;
  /** The earliest retry time written while a sweep's read was under way (it may have passed it by). */
  #retriedSinceSweepRead = Number.POSITIVE_INFINITY;
  /**
   * The retry times written that the sweep has not read past. Every other delivery this
   * sender stored is in hand or its receiver waits in the store, so after its first read
   * the sweep reads the store only once one of these has come (or for a full sweep).
   */
  #retries: number[] = [];
  #earliestRetry = Number.POSITIVE_INFINITY;
  /** Other processes may hold deliveries on the store (a lease: PostgreSQL), until known otherwise. */
  #shared = true;
  /** What recovering receivers may read from the store now (a bucket of drainPerSecond, refilled as time goes). */
  #drainTokens: number;
  #drainRefilledAt: number;
  /** The last read was one receiver's: the next may be the sweep (neither starves the other). */
  #lastReadWasReceivers = false;
  #reading = false;
  #again = false;
  #pollSoon = false;

  constructor(options: WebhookSenderOptions) {
    const concurrency = options.concurrency ?? webhookConcurrencyDefaults.concurrency;
    const receiverConcurrency = Math.min(
      options.receiverConcurrency ?? webhookConcurrencyDefaults.receiverConcurrency,
      concurrency,
    );
    this.#o = {
      concurrency,
      receiverConcurrency,
      receiverBacklog: receiverConcurrency * 4,
      circuitFailures: 5,
      circuitOpenMs: 5000,
      drainPerSecond: 200,
      timeoutMs: 10_000,
      giveUpAfterMs: 24 * 3600_000,
      retryBaseMs: 5000,
      pollMs: 1000,
      now: Date.now,
      ...options,
    };
    this.#drainTokens = this.#o.drainPerSecond;
    this.#drainRefilledAt = this.#o.now();
  }

  /** Deliveries in hand: read ahead, being sent, or their outcome being written (for /metrics). */
  get backlog(): number {
    return this.#taken.size;
  }

  /** Each receiver's circuit (for /metrics): the receivers the sender holds state for. */
  circuits(): Array<{ host: string; state: CircuitState }> {
    return [...this.#receivers.values()].map((r) => ({ host: r.host, state: r.circuit }));
  }

  start(): void {
    this.#sweep = true;
    this.#sweptUntil = Number.NEGATIVE_INFINITY;
    // A store of one process (SQLite: no lease) has nobody whose deliveries pass to this one.
    this.#o.store.nodes().then(
      (nodes) => (this.#shared = nodes.some((n) => n.leaseUntil !== null)),
      () => {},
    );
    this.#timer = setInterval(() => {
      this.#sweep = true;
      this.#sweepTicks++;
      if (this.#shared && this.#sweepTicks % fullSweepTicks === 0)
        this.#sweptUntil = Number.NEGATIVE_INFINITY;
      this.#poll();
    }, this.#o.pollMs);
    this.#timer.unref();
    this.#poll();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const r of this.#receivers.values()) if (r.timer) clearTimeout(r.timer);
    this.#receivers.clear();
    for (const agent of [this.#agent, this.#guardedAgent]) void agent?.then((a) => a.destroy());
    this.#agent = null;
    this.#guardedAgent = null;
  }

  /** Stores the event for delivery; resolves when it is durable. */
  async enqueue(accountId: string, url: string, secret: string | null, event: WebhookEvent): Promise<void> {
    const now = this.#o.now();
    const body = JSON.stringify({
      id: `evt_${newId(now)}`,
      type: event.type,
      createdAt: new Date(now).toISOString(),
      data: event.data,
    });
    const delivery = { accountId, url, secret, body, nextAttemptAt: now, createdAt: now };
    this.#stored(await this.#o.store.enqueueWebhook(delivery), delivery);
  }

  /**
   * A delivery just stored goes straight to its receiver's queue while that is short and its
   * circuit closed: no read back from the store. Otherwise the store is where it waits.
   */
  #stored(id: number, delivery: NewWebhookDelivery): void {
    const r = this.#receiver(receiverOf(delivery.url));
    if (this.#timer && this.#room(r) > 0 && !this.#taken.has(id)) {
      this.#take(r, {
        id,
        attempts: 0,
        lastError: null,
        ...delivery,
        method: delivery.method ?? 'POST',
        contentType: delivery.contentType ?? null,
        headers: delivery.headers ?? null,
        reply: delivery.reply ?? null,
      });
      this.#startReady();
      return;
    }
    this.#waitsInStore(r);
    if (r.circuit === 'closed') this.#soon();
  }

  #receiver(key: string): Receiver {
    let r = this.#receivers.get(key);
    if (!r) {
      let host = key;
      try {
        host = new URL(key).host;
      } catch {}
      r = {
        key,
        host,
        ready: [],
        sending: 0,
        inHand: 0,
        inStore: false,
        overflows: 0,
        circuit: 'closed',
        failures: 0,
        openings: 0,
        recovering: false,
        timer: null,
      };
      this.#receivers.set(key, r);
    }
    return r;
  }

  /** A receiver with nothing in hand, nothing waiting and a closed circuit holds no state. */
  #forgetIfIdle(r: Receiver): void {
    if (r.inHand === 0 && !r.inStore && r.circuit === 'closed' && r.failures === 0)
      this.#receivers.delete(r.key);
  }

  /** How many deliveries the receiver may read from the store now: its room, held to the drain's rate while it recovers. */
  #readable(r: Receiver): number {
    const room = this.#room(r);
    if (!r.recovering || room <= 0) return room;
    const now = this.#o.now();
    const perSecond = this.#o.drainPerSecond;
    this.#drainTokens = Math.min(
      perSecond,
      this.#drainTokens + ((now - this.#drainRefilledAt) * perSecond) / 1000,
    );
    this.#drainRefilledAt = now;
    return Math.min(room, Math.floor(this.#drainTokens));
  }

  /** How many more deliveries the receiver may hold in memory. */
  #room(r: Receiver): number {
    const held = r.ready.length + r.sending;
    if (r.circuit === 'open') return 0;
    if (r.circuit === 'half-open') return held === 0 ? 1 : 0;
    return this.#o.receiverBacklog - held;
  }

  #take(r: Receiver, d: WebhookDelivery): void {
    this.#taken.add(d.id);
    r.inHand++;
    r.ready.push(d);
  }

  #waitsInStore(r: Receiver): void {
    r.inStore = true;
    r.overflows++;
  }

  /** One poll for the events stored in this turn, not one each. */
  #soon(): void {
    if (!this.#timer || this.#pollSoon) return;
    this.#pollSoon = true;
    setImmediate(() => {
      this.#pollSoon = false;
      this.#poll();
    });
  }

  /** Stores a request of the caller's own shape (same queue, retries and give-up time). */
  async enqueueRequest(accountId: string, request: WebhookRequest): Promise<void> {
    const now = this.#o.now();
    const delivery = {
      accountId,
      url: request.url,
      secret: null,
      body: request.body,
      nextAttemptAt: now,
      createdAt: now,
      method: request.method,
      contentType: request.contentType,
      headers: request.headers,
      reply: request.reply,
    };
    this.#stored(await this.#o.store.enqueueWebhook(delivery), delivery);
  }

  /** Registers the handler that deliveries enqueued with `reply: name` are answered to. */
  onReply(name: string, handler: ReplyHandler): void {
    this.#replies.set(name, handler);
  }

  /**
   * Starts what is ready, then reads from the store (one read at a time): a receiver whose
   * deliveries wait there and that has room for half its queue reads its own; the sweep reads
   * everyone else's due deliveries (retries, and what a restart left).
   */
  #poll(): void {
    this.#startReady();
    if (!this.#timer) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    const waiting = [...this.#receivers.values()].find(
      (r) =>
        r.inStore &&
        this.#room(r) > 0 &&
        (r.circuit === 'half-open' || this.#room(r) >= this.#o.receiverBacklog / 2) &&
        this.#readable(r) > 0,
    );
    const sweepFirst = this.#sweep && (!waiting || this.#lastReadWasReceivers);
    if (sweepFirst && this.#readSweep()) return;
    if (waiting) this.#readReceiver(waiting);
  }

  /** Reads one receiver's due deliveries into its queue, as many as it has room for (and the drain allows). */
  #readReceiver(r: Receiver): void {
    const room = this.#readable(r);
    const overflows = r.overflows;
    // Its deliveries in hand are due too, and come back: asked for on top of the room.
    const limit = room + r.inHand;
    this.#read(true, limit, { only: r.key }, (due) => {
      let taken = 0;
      let left = 0;
      for (const d of due) {
        if (this.#taken.has(d.id)) continue;
        // Its room now: the circuit may have opened while the store was read.
        if (taken < room && this.#room(r) > 0) {
          this.#take(r, d);
          taken++;
        } else left++;
      }
      if (r.recovering) this.#drainTokens -= taken;
      // Fewer than asked for, each now in hand: every due delivery of it is in memory.
      if (due.length < limit && left === 0 && overflows === r.overflows) {
        r.inStore = false;
        r.recovering = false;
      }
      this.#forgetIfIdle(r);
    });
  }

  /**
   * Reads what came due since the sweep's last read, of every receiver not known to wait in
   * the store and with room (not open): retries, events stored while the receiver's queue
   * was full, and what a restart left (the first read is from the start). False when it had
   * nothing to read.
   */
  #readSweep(): boolean {
    const from = this.#sweptUntil;
    const at = this.#o.now();
    if (from !== Number.NEGATIVE_INFINITY && this.#earliestRetry > at) {
      // Nothing has come due that is not in hand or read by its receiver: no read at all.
      this.#sweptUntil = at;
      this.#sweep = false;
      return false;
    }
    const skipped = [...this.#receivers.values()].filter((r) => r.inStore || this.#room(r) <= 0);
    // Their due deliveries are passed by: they read their own once they have room.
    for (const r of skipped) if (!r.inStore) this.#waitsInStore(r);
    const skip = skipped.map((r) => r.key);
    const limit = this.#o.concurrency * 4 + this.#taken.size;
    const ticks = this.#sweepTicks;
    this.#retriedSinceSweepRead = Number.POSITIVE_INFINITY;
    const receivers = {
      ...(skip.length > 0 ? { skip } : {}),
      ...(from === Number.NEGATIVE_INFINITY ? {} : { dueAfter: from }),
    };
    this.#read(false, limit, receivers, (due, now) => {
      for (const d of due) {
        if (this.#taken.has(d.id)) continue;
        const r = this.#receiver(receiverOf(d.url));
        if (this.#room(r) > 0) this.#take(r, d);
        else this.#waitsInStore(r);
      }
      if (due.length < limit) {
        // Fewer than asked for: every due delivery of these receivers is now in hand. The
        // next read starts here, unless a retry written meanwhile (or a full sweep's tick)
        // asks for earlier.
        const until = Math.min(
          now,
          this.#retriedSinceSweepRead,
          this.#sweptUntil === from ? Number.POSITIVE_INFINITY : this.#sweptUntil,
        );
        this.#sweptUntil = until;
        this.#retries = this.#retries.filter((retryAt) => retryAt > until);
        this.#earliestRetry = this.#retries.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
        if (ticks === this.#sweepTicks) this.#sweep = false;
      }
    });
    return true;
  }

  #read(
    oneReceiver: boolean,
    limit: number,
    receivers: WebhookReceivers | undefined,
    use: (due: WebhookDelivery[], now: number) => void,
  ): void {
    this.#reading = true;
    this.#lastReadWasReceivers = oneReceiver;
    const now = this.#o.now();
    this.#o.store
      .dueWebhooks(now, limit, receivers)
      .then((due) => {
        use(due, now);
        this.#startReady();
      })
      .catch(() => {})
      .finally(() => {
        this.#reading = false;
        if (this.#again) {
          this.#again = false;
          this.#poll();
        }
      });
  }

  /** Starts ready deliveries, one receiver after another, within both limits. */
  #startReady(): void {
    let started = true;
    while (started && this.#sending < this.#o.concurrency) {
      started = false;
      for (const r of this.#receivers.values()) {
        if (this.#sending >= this.#o.concurrency) break;
        const limit =
          r.circuit === 'closed' ? this.#o.receiverConcurrency : r.circuit === 'half-open' ? 1 : 0;
        if (r.ready.length === 0 || r.sending >= limit) continue;
        this.#start(r, r.ready.shift()!);
        started = true;
      }
    }
  }

  #start(r: Receiver, d: WebhookDelivery): void {
    this.#sending++;
    r.sending++;
    // The slot is free once the receiver has answered; recording the outcome (a durable
    // write) need not hold it. The id stays taken until that write is done.
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#sending--;
      r.sending--;
      this.#poll();
    };
    void this.#deliver(r, d, release)
      // Its outcome was not written (the store failed): it is still there, due.
      .catch(() => this.#waitsInStore(r))
      .finally(() => {
        this.#taken.delete(d.id);
        r.inHand--;
        release();
        this.#forgetIfIdle(r);
      });
  }

  /** A receiver answered: its failures are over; a probe that passes closes its circuit. */
  #succeeded(r: Receiver): void {
    r.failures = 0;
    if (r.circuit === 'closed') return;
    if (r.timer) clearTimeout(r.timer);
    r.timer = null;
    r.circuit = 'closed';
    r.openings = 0;
    r.recovering = r.inStore;
    this.#o.onCircuit?.(r.host, 'closed', '');
  }

  /** A receiver failed: after enough in a row (or a failed probe) its circuit opens. */
  #failed(r: Receiver, reason: string): void {
    r.failures++;
    if (r.circuit === 'open') return;
    if (r.circuit === 'closed' && r.failures < this.#o.circuitFailures) return;
    r.circuit = 'open';
    r.openings++;
    // What waited in memory waits in the store instead (it is there, due): not tried, not
    // rescheduled, read again once the circuit lets it through.
    for (const d of r.ready) this.#taken.delete(d.id);
    r.inHand -= r.ready.length;
    r.ready = [];
    this.#waitsInStore(r);
    const wait = Math.min(maxCircuitOpenMs, this.#o.circuitOpenMs * 2 ** Math.min(r.openings - 1, 16));
    r.timer = setTimeout(() => {
      r.timer = null;
      r.circuit = 'half-open';
      this.#o.onCircuit?.(r.host, 'half-open', '');
      this.#poll();
    }, wait);
    r.timer.unref();
    this.#o.onCircuit?.(r.host, 'open', reason);
  }

  async #deliver(r: Receiver, d: WebhookDelivery, answered: () => void): Promise<void> {
    const headers: Record<string, string> = {
      'user-agent': 'smsgw-webhooks/1',
      ...(d.method === 'POST' ? { 'content-type': d.contentType ?? 'application/json' } : {}),
      ...d.headers,
    };
    if (d.secret)
      headers['smsgw-signature'] = signWebhook(d.secret, d.body, Math.floor(this.#o.now() / 1000));
    const reply = d.reply ? this.#replies.get(d.reply) : undefined;
    let problem: string;
    let refused = false;
    try {
      const res = await this.#request(d, headers, reply !== undefined);
      // An answer other than a server error or "too many" shows the receiver is there.
      if (res.status >= 500 || res.status === 429) this.#failed(r, `HTTP ${res.status}`);
      else this.#succeeded(r);
      answered();
      if (res.status >= 200 && res.status < 300) {
        await this.#o.store.finishWebhook(d.id, 'delivered');
        this.#o.onResult?.(d, 'delivered', String(res.status));
        if (reply && res.body !== undefined) {
          await reply(d, { contentType: res.contentType, body: res.body }).catch(() => {});
        }
        return;
      }
      problem = `HTTP ${res.status}`;
    } catch (err) {
      problem = (err as Error).message;
      refused = (err as NodeJS.ErrnoException).code === 'ECALLBACKNOTALLOWED';
      // A URL the policy refuses says nothing of the receiver.
      if (!refused) this.#failed(r, problem);
    }
    answered();
    const now = this.#o.now();
    // A URL that leads where callbacks may not go is not tried again.
    if (refused || now - d.createdAt >= this.#o.giveUpAfterMs) {
      await this.#o.store.finishWebhook(d.id, 'abandoned');
      this.#o.onResult?.(d, 'abandoned', problem);
      return;
    }
    // 5 s, 10 s, 20 s ... (retryBaseMs doubling) capped at 30 min, with jitter so a recovering receiver is not stampeded.
    const delay =
      Math.min(30 * 60_000, this.#o.retryBaseMs * 2 ** Math.min(d.attempts, 10)) *
      (0.8 + Math.random() * 0.4);
    const next = now + Math.round(delay);
    await this.#o.store.rescheduleWebhook(d.id, next, problem);
    // A sweep that read past this time before the write was done did not see it: the next
    // reads from before it.
    this.#sweptUntil = Math.min(this.#sweptUntil, next - 1);
    this.#retriedSinceSweepRead = Math.min(this.#retriedSinceSweepRead, next - 1);
    this.#retries.push(next);
    this.#earliestRetry = Math.min(this.#earliestRetry, next);
    this.#o.onResult?.(d, 'retry', problem);
  }

  /** One request over a kept-alive connection; redirects are not followed. */
  async #request(
    d: WebhookDelivery,
    headers: Record<string, string>,
    readBody: boolean,
  ): Promise<{ status: number; contentType: string; body?: string }> {
    const url = new URL(d.url);
    const outbound = this.#o.outbound;
    const guarded = outbound !== undefined && !outbound.trusted(d.accountId, d.url);
    if (guarded) {
      // A socket to an address literal resolves nothing, so the policy's lookup is not asked.
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) !== 0 && !outbound.policy.allowsHost(host) && !outbound.policy.allowsAddress(host))
        throw notAllowed(host);
    }
    let res: Dispatcher.ResponseData;
    try {
      let agent: Promise<Agent>;
      if (guarded) {
        this.#guardedAgent ??= this.#newAgent(outbound.policy);
        agent = this.#guardedAgent;
      } else {
        this.#agent ??= this.#newAgent();
        agent = this.#agent;
      }
      res = await (await agent).request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: d.method,
        headers,
        body: d.method === 'POST' ? d.body : null,
      });
    } catch (err) {
      throw timedOut(err) ? new Error(`no answer within ${this.#o.timeoutMs} ms`) : err;
    }
    const status = res.statusCode;
    const contentType = String(res.headers['content-type'] ?? '');
    if (!readBody || status < 200 || status >= 300) {
      await res.body.dump();
      return { status, contentType };
    }
    let body = '';
    res.body.setEncoding('utf8');
    for await (const chunk of res.body as AsyncIterable<string>) {
      body += chunk;
      if (body.length > maxAnswerChars) {
        res.body.destroy();
        throw new Error(`answer longer than ${maxAnswerChars} characters`);
      }
    }
    return { status, contentType, body };
  }

  #newAgent(policy?: OutboundPolicy): Promise<Agent> {
    return import('undici').then(
      ({ Agent }) =>
        new Agent({
          headersTimeout: this.#o.timeoutMs,
          bodyTimeout: this.#o.timeoutMs,
          // Never more connections to one receiver than requests it may have in flight.
          connections: this.#o.receiverConcurrency,
          connect: { timeout: this.#o.timeoutMs, ...(policy ? { lookup: policy.lookup } : {}) },
        }),
    );
  }
}

function timedOut(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}
