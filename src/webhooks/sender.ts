// Durable webhook delivery: every event is stored before it is tried, tried at once, then
// retried with growing back-off for 24 hours; a restart resumes what was pending.

import { isIP } from 'node:net';
import type { Agent, Dispatcher } from 'undici';
import { newId } from '../core/index.ts';
import type { NewWebhookDelivery, Store, WebhookDelivery } from '../store/index.ts';
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

export interface WebhookSenderOptions {
  store: Store;
  /** Requests in flight at most. */
  concurrency?: number;
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
}

/** The most of an answer read (a TwiML reply, say); a longer one fails the delivery. */
const maxAnswerChars = 64 * 1024;

export class WebhookSender {
  readonly #o: Required<Omit<WebhookSenderOptions, 'onResult' | 'outbound'>> &
    Pick<WebhookSenderOptions, 'onResult' | 'outbound'>;
  /**
   * Ids in hand (stored here, or read from the store) whose outcome is not yet written:
   * waiting in #ready, being sent, or answered with the outcome's write under way.
   */
  readonly #taken = new Set<number>();
  /** Due deliveries read ahead of sending, oldest first: one store read serves many. */
  #ready: WebhookDelivery[] = [];
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
   * Whether the store may hold due deliveries that are not in memory: at start, after a
   * delivery stored while the ready queue was full, and on each poll tick (retries come due).
   */
  #backlog = true;
  /** Counts those overflows, so a read that began before one does not clear #backlog. */
  #overflows = 0;
  #reading = false;
  #again = false;
  #pollSoon = false;

  constructor(options: WebhookSenderOptions) {
    this.#o = {
      concurrency: 32,
      timeoutMs: 10_000,
      giveUpAfterMs: 24 * 3600_000,
      retryBaseMs: 5000,
      pollMs: 1000,
      now: Date.now,
      ...options,
    };
  }

  /** Deliveries in hand: read ahead, being sent, or their outcome being written (for /metrics). */
  get backlog(): number {
    return this.#taken.size;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#backlog = true;
      this.#poll();
    }, this.#o.pollMs);
    this.#timer.unref();
    this.#poll();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#ready = [];
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
   * A delivery just stored goes straight to the ready queue while that is short: no read
   * back from the store. Once the queue is long, the store is where it waits (oldest first).
   */
  #stored(id: number, delivery: NewWebhookDelivery): void {
    if (this.#timer && this.#ready.length < this.#o.concurrency * 4 && !this.#taken.has(id)) {
      this.#taken.add(id);
      this.#ready.push({
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
    this.#overflows++;
    this.#backlog = true;
    this.#soon();
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

  /** Starts what is ready, and reads due deliveries from the store when it may hold some. */
  #poll(): void {
    this.#startReady();
    if (!this.#backlog || this.#ready.length >= this.#o.concurrency) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    const overflows = this.#overflows;
    const limit = this.#o.concurrency * 4 + this.#taken.size;
    this.#o.store
      .dueWebhooks(this.#o.now(), limit)
      .then((due) => {
        for (const d of due) {
          if (this.#taken.has(d.id)) continue;
          this.#taken.add(d.id);
          this.#ready.push(d);
        }
        // Fewer than asked for: every due delivery is now in memory.
        if (due.length < limit && overflows === this.#overflows) this.#backlog = false;
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

  #startReady(): void {
    while (this.#sending < this.#o.concurrency && this.#ready.length > 0) {
      const d = this.#ready.shift()!;
      this.#sending++;
      // The slot is free once the receiver has answered; recording the outcome (a durable
      // write) need not hold it. The id stays taken until that write is done.
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.#sending--;
        this.#poll();
      };
      void this.#deliver(d, release)
        .catch(() => {})
        .finally(() => {
          this.#taken.delete(d.id);
          release();
        });
    }
  }

  async #deliver(d: WebhookDelivery, answered: () => void): Promise<void> {
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
    await this.#o.store.rescheduleWebhook(d.id, now + Math.round(delay), problem);
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
          ...(policy ? { connect: { lookup: policy.lookup } } : {}),
        }),
    );
  }
}

function timedOut(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}
