// Durable webhook delivery: every event is stored before it is tried, tried at once, then
// retried with growing back-off for 24 hours; a restart resumes what was pending.

import { newId } from '../core/index.ts';
import type { Store, WebhookDelivery } from '../store/index.ts';
import { signWebhook } from './sign.ts';

export interface WebhookEvent {
  type: string;
  data: unknown;
}

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
      'content-type': 'application/json',
      'user-agent': 'smsgw-webhooks/1',
    };
    if (d.secret)
      headers['smsgw-signature'] = signWebhook(d.secret, d.body, Math.floor(this.#o.now() / 1000));
    let problem: string;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers,
        body: d.body,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
        redirect: 'manual',
      });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) {
        await this.#o.store.finishWebhook(d.id, 'delivered');
        this.#o.onResult?.(d, 'delivered', String(res.status));
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
