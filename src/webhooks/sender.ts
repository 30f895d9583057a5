// Durable webhook delivery: every event is stored before it is tried, tried at once, then
// retried with growing back-off for 24 hours; a restart resumes what was pending.

import { newId } from '../core/index.ts';
import type { Store, WebhookDelivery } from '../store/index.ts';
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
  onResult?: (
    delivery: WebhookDelivery,
    outcome: 'delivered' | 'retry' | 'abandoned',
    detail: string,
  ) => void;
}

export class WebhookSender {
  readonly #o: Required<Omit<WebhookSenderOptions, 'onResult'>> & Pick<WebhookSenderOptions, 'onResult'>;
  readonly #inFlight = new Set<number>();
  readonly #replies = new Map<string, ReplyHandler>();
  #timer: NodeJS.Timeout | null = null;
  #polling = false;
  #again = false;

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

  start(): void {
    this.#timer = setInterval(() => this.poll(), this.#o.pollMs);
    this.#timer.unref();
    this.poll();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
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
    await this.#o.store.enqueueWebhook({ accountId, url, secret, body, nextAttemptAt: now, createdAt: now });
    if (this.#timer) setImmediate(() => this.poll());
  }

  /** Stores a request of the caller's own shape (same queue, retries and give-up time). */
  async enqueueRequest(accountId: string, request: WebhookRequest): Promise<void> {
    const now = this.#o.now();
    await this.#o.store.enqueueWebhook({
      accountId,
      url: request.url,
      secret: null,
      body: request.body,
      nextAttemptAt: now,
      createdAt: now,
      method: request.method,
      contentType: request.contentType ?? null,
      headers: request.headers ?? null,
      reply: request.reply ?? null,
    });
    if (this.#timer) setImmediate(() => this.poll());
  }

  /** Registers the handler that deliveries enqueued with `reply: name` are answered to. */
  onReply(name: string, handler: ReplyHandler): void {
    this.#replies.set(name, handler);
  }

  poll(): void {
    if (this.#polling) {
      this.#again = true;
      return;
    }
    const room = this.#o.concurrency - this.#inFlight.size;
    if (room <= 0) return;
    this.#polling = true;
    this.#o.store
      .dueWebhooks(this.#o.now(), room + this.#inFlight.size)
      .then((due) => {
        for (const d of due) {
          if (this.#inFlight.has(d.id) || this.#inFlight.size >= this.#o.concurrency) continue;
          this.#inFlight.add(d.id);
          void this.#deliver(d)
            .catch(() => {})
            .finally(() => {
              this.#inFlight.delete(d.id);
              this.poll();
            });
        }
      })
      .catch(() => {})
      .finally(() => {
        this.#polling = false;
        if (this.#again) {
          this.#again = false;
          this.poll();
        }
      });
  }

  async #deliver(d: WebhookDelivery): Promise<void> {
    const headers: Record<string, string> = {
      'user-agent': 'smsgw-webhooks/1',
      ...(d.method === 'POST' ? { 'content-type': d.contentType ?? 'application/json' } : {}),
      ...d.headers,
    };
    if (d.secret)
      headers['smsgw-signature'] = signWebhook(d.secret, d.body, Math.floor(this.#o.now() / 1000));
    const reply = d.reply ? this.#replies.get(d.reply) : undefined;
    let problem: string;
    try {
      const res = await fetch(d.url, {
        method: d.method,
        headers,
        body: d.method === 'POST' ? d.body : undefined,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
        redirect: 'manual',
      });
      const answer = reply && res.status >= 200 && res.status < 300 ? await res.text() : undefined;
      if (answer === undefined) await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) {
        await this.#o.store.finishWebhook(d.id, 'delivered');
        this.#o.onResult?.(d, 'delivered', String(res.status));
        if (reply && answer !== undefined) {
          await reply(d, { contentType: res.headers.get('content-type') ?? '', body: answer }).catch(
            () => {},
          );
        }
        return;
      }
      problem = `HTTP ${res.status}`;
    } catch (err) {
      problem = (err as Error).message;
    }
    const now = this.#o.now();
    if (now - d.createdAt >= this.#o.giveUpAfterMs) {
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
}
