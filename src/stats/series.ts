// Message counts over time for the console's charts (GET /v1/admin/stats/series): what
// happened to messages, counted per minute, account and connector. Counting is a map
// increment on the gateway's own events; every few seconds the counts go to the store,
// which adds them to those already there (each node of a cluster adds its own, so the
// store holds the cluster's sums) and keeps them for 7 days. A read adds what is counted
// here and not stored yet, so the current minute is current.
import type { Gateway, Message } from '../core/index.ts';
import { GatewayError } from '../core/index.ts';
import type { StatsCount, Store } from '../store/index.ts';

export const seriesMetrics = ['accepted', 'submitted', 'delivered', 'failed', 'inbound'] as const;
export type SeriesMetric = (typeof seriesMetrics)[number];

/** What each outbound status counts as: accepted (the statuses a message is accepted in), or its outcome. */
const metricOfStatus: Partial<Record<Message['status'], SeriesMetric>> = {
  queued: 'accepted',
  scheduled: 'accepted',
  paused: 'accepted',
  submitted: 'submitted',
  delivered: 'delivered',
  undelivered: 'failed',
  expired: 'failed',
  rejected: 'failed',
  failed: 'failed',
};

const minuteSeconds = 60;
/** Counts are kept this long, then purged. */
export const seriesRetentionSeconds = 7 * 24 * 3600;
/** The most buckets one read may ask for: 7 days of minutes. */
const maxPoints = seriesRetentionSeconds / minuteSeconds;
/** The widest bucket: a day. */
const maxStep = 24 * 3600;

export interface SeriesQuery {
  metric: SeriesMetric;
  /** Unix seconds: the buckets holding `from` through the one holding `to`. */
  from: number;
  to: number;
  /** Seconds per bucket, a multiple of 60. */
  step: number;
  accountId?: string;
  connectorId?: string;
}

export interface Series {
  step: number;
  /** `[t, n]`: the unix second a bucket starts at, and the messages counted in it. */
  points: Array<[number, number]>;
}

export interface StatsSeriesOptions {
  store: Store;
  /** How often counts go to the store (default 2 s: another node's are at most that late). */
  flushMs?: number;
  now?: () => number;
}

export class StatsSeries {
  readonly #store: Store;
  readonly #flushMs: number;
  readonly #now: () => number;
  /** Counted and not stored yet, by `metric \0 minute \0 account \0 connector`. */
  #pending = new Map<string, StatsCount>();
  /** Flushes and reads one after another: a read never sees counts both here and stored, nor in neither. */
  #turn: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #purgedAt = 0;

  constructor(options: StatsSeriesOptions) {
    this.#store = options.store;
    this.#flushMs = options.flushMs ?? 2000;
    this.#now = options.now ?? Date.now;
  }

  /** Counts the gateway's messages: accepted, submitted, their outcomes, inbound. */
  attach(gateway: Gateway): void {
    gateway.on('status', (m) => {
      const metric = m.direction === 'mt' ? metricOfStatus[m.status] : undefined;
      if (metric !== undefined) this.count(metric, m.accountId, m.connectorId ?? '');
    });
    gateway.on('inbound', (m) => this.count('inbound', m.accountId, m.connectorId ?? ''));
  }

  count(metric: SeriesMetric, accountId: string, connectorId: string, n = 1): void {
    const minute = Math.floor(this.#now() / 60_000) * minuteSeconds;
    const key = `${metric}\0${minute}\0${accountId}\0${connectorId}`;
    const counted = this.#pending.get(key);
    if (counted) counted.n += n;
    else this.#pending.set(key, { metric, minute, accountId, connectorId, n });
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.flush().catch(() => {}), this.#flushMs);
    this.#timer.unref();
  }

  /** Stops the timer and stores what is counted. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }

  /** Stores the counts so far; those the store refuses are kept for the next try. */
  flush(): Promise<void> {
    return this.#inTurn(async () => {
      const now = this.#now();
      if (now - this.#purgedAt >= 3600_000) {
        this.#purgedAt = now;
        await this.#store.purgeStats(Math.floor(now / 1000) - seriesRetentionSeconds);
      }
      if (this.#pending.size === 0) return;
      const taken = this.#pending;
      this.#pending = new Map();
      try {
        await this.#store.addStatsCounts([...taken.values()]);
      } catch (err) {
        for (const c of taken.values()) this.count(c.metric as SeriesMetric, c.accountId, c.connectorId, c.n);
        throw err;
      }
    });
  }

  /** The buckets from the one holding `from` to the one holding `to`, none left out. */
  series(query: SeriesQuery): Promise<Series> {
    const { step } = query;
    const first = Math.floor(query.from / step) * step;
    const last = Math.floor(query.to / step) * step;
    return this.#inTurn(async () => {
      const filter = {
        ...(query.accountId !== undefined ? { accountId: query.accountId } : {}),
        ...(query.connectorId !== undefined ? { connectorId: query.connectorId } : {}),
      };
      const stored = await this.#store.statsSeries({
        metric: query.metric,
        from: first,
        to: last + step,
        ...filter,
      });
      const counts = new Map<number, number>();
      const add = (minute: number, n: number) => {
        const t = Math.floor(minute / step) * step;
        counts.set(t, (counts.get(t) ?? 0) + n);
      };
      for (const row of stored) add(row.minute, row.n);
      for (const c of this.#pending.values()) {
        if (c.metric !== query.metric || c.minute < first || c.minute >= last + step) continue;
        if (filter.accountId !== undefined && c.accountId !== filter.accountId) continue;
        if (filter.connectorId !== undefined && c.connectorId !== filter.connectorId) continue;
        add(c.minute, c.n);
      }
      const points: Array<[number, number]> = [];
      for (let t = first; t <= last; t += step) points.push([t, counts.get(t) ?? 0]);
      return { step, points };
    });
  }

  #inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(fn);
    this.#turn = run.catch(() => {});
    return run;
  }
}

/**
 * A series query from request parameters: `metric` (required), `step` (default 60),
 * `from`/`to` (unix seconds, default the last hour). Refusals name the parameter.
 */
export function seriesQueryOf(query: Record<string, string | undefined>, nowMs: number): SeriesQuery {
  const metric = query['metric'];
  if (metric === undefined || !(seriesMetrics as readonly string[]).includes(metric))
    throw new GatewayError('invalid_metric', `metric must be one of ${seriesMetrics.join(', ')}`, 'metric');
  const whole = (name: string, fallback: number) => {
    const raw = query[name];
    if (raw === undefined) return fallback;
    const n = /^\d{1,12}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n))
      throw new GatewayError(`invalid_${name}`, `${name} must be a whole number of seconds`, name);
    return n;
  };
  const step = whole('step', minuteSeconds);
  if (step === 0 || step % minuteSeconds !== 0 || step > maxStep)
    throw new GatewayError(
      'invalid_step',
      `step must be a multiple of 60 seconds, at most ${maxStep} (counts are kept per minute)`,
      'step',
    );
  const now = Math.floor(nowMs / 1000);
  const to = whole('to', now);
  const from = whole('from', to - 3600);
  if (from > to) throw new GatewayError('invalid_range', 'from must not be after to', 'from');
  if ((to - from) / step >= maxPoints)
    throw new GatewayError(
      'invalid_range',
      `from and to may be at most ${maxPoints} steps apart; widen step or narrow the range`,
      'from',
    );
  return { metric: metric as SeriesMetric, from, to, step };
}
