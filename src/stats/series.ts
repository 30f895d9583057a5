// Message counts over time for the console's charts (GET /v1/admin/stats/series): what
// happened to messages, counted per minute, account and connector. Counting is a map
// increment on the gateway's own events; every few seconds the counts go to the store,
// which adds them to those already there (each node of a cluster adds its own, so the
// store holds the cluster's sums) and keeps them for 7 days. A read adds what is counted
// here and not stored yet, so the current minute is current.
//
// Beside the counts: receipt latency, counted per minute in buckets of a histogram (its
// percentiles are read from the bucket counts, whatever the step, whichever nodes), and
// the queue depth, each node's highest of a minute added once the minute is over.
import type { Gateway, Message } from '../core/index.ts';
import { GatewayError } from '../core/index.ts';
import type { StatsCount, Store } from '../store/index.ts';

/** Metrics that count messages: a point is how many messages in its bucket. */
export const countMetrics = ['accepted', 'submitted', 'delivered', 'failed', 'inbound'] as const;
export type CountMetric = (typeof countMetrics)[number];
/**
 * Every metric a series may be asked for: the counts; `queued`, the most messages held in
 * memory waiting for a connector in a bucket (the sum of each node's highest); the delivery
 * ratio (delivered of delivered and failed); the receipt latency's median and 95th
 * percentile in seconds (from submit to receipt). These are null in a bucket with nothing to
 * take them from.
 */
export const seriesMetrics = [
  ...countMetrics,
  'queued',
  'delivery_ratio',
  'receipt_latency_p50',
  'receipt_latency_p95',
] as const;
export type SeriesMetric = (typeof seriesMetrics)[number];

/** What each outbound status counts as: accepted (the statuses a message is accepted in), or its outcome. */
const metricOfStatus: Partial<Record<Message['status'], CountMetric>> = {
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
/** Statuses a delivery receipt sets: their time since the submit is the receipt latency. */
const receiptStatuses = new Set<Message['status']>(['delivered', 'undelivered', 'expired']);

/** Upper bounds (ms) of the receipt latency histogram's buckets; the last takes the rest. */
const latencyBounds = [
  100,
  250,
  500,
  1000,
  2500,
  5000,
  10_000,
  30_000,
  60_000,
  120_000,
  300_000,
  900_000,
  3_600_000,
  21_600_000,
  86_400_000,
  Number.POSITIVE_INFINITY,
];
const latencyMetrics = latencyBounds.map((_, i) => `receipt_latency_bucket_${i}`);

const minuteSeconds = 60;
/** Counts are kept this long, then purged. */
export const seriesRetentionSeconds = 7 * 24 * 3600;
/** The most buckets one read may ask for: 7 days of minutes. */
const maxPoints = seriesRetentionSeconds / minuteSeconds;
/** The widest bucket: a day. */
const maxStep = 24 * 3600;
/** 9999-12-31T23:59:59Z. */
const maxUnixSecond = 253_402_300_799;

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
  /** `[t, v]`: the unix second a bucket starts at, and the metric's value in it. */
  points: Array<[number, number | null]>;
}

export interface StatsSeriesOptions {
  store: Store;
  /** Messages held in memory waiting for a connector, sampled with each flush. */
  queueDepth?: () => number;
  /** How often counts go to the store (default 2 s: another node's are at most that late). */
  flushMs?: number;
  now?: () => number;
}

export class StatsSeries {
  readonly #store: Store;
  readonly #flushMs: number;
  readonly #now: () => number;
  readonly #queueDepth: (() => number) | undefined;
  /**
   * Counted and not stored yet: minute → metric → account → connector → count. Nested maps
   * keyed by the strings a message already holds: counting builds no key string.
   */
  #pending = new Map<number, Map<string, Map<string, Map<string, StatsCount>>>>();
  /** This node's highest queue depth in the minute it is sampling. */
  #queue: { minute: number; max: number } | null = null;
  /** Flushes and reads one after another: a read never sees counts both here and stored, nor in neither. */
  #turn: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #purgedAt = 0;

  constructor(options: StatsSeriesOptions) {
    this.#store = options.store;
    this.#flushMs = options.flushMs ?? 2000;
    this.#now = options.now ?? Date.now;
    this.#queueDepth = options.queueDepth;
  }

  /** Counts the gateway's messages: accepted, submitted, their outcomes and receipt latency, inbound. */
  attach(gateway: Gateway): void {
    gateway.on('status', (m) => {
      if (m.direction !== 'mt') return;
      const metric = metricOfStatus[m.status];
      if (metric === undefined) return;
      // When it happened: the message's own time where it has one (the gateway's clock as it
      // accepted or submitted it), so most events read no clock (a system call on some hosts).
      const at =
        metric === 'accepted'
          ? m.createdAt
          : metric === 'submitted' && m.submittedAt !== null
            ? m.submittedAt
            : this.#now();
      const minute = minuteOf(at);
      const connectorId = m.connectorId ?? '';
      this.#add(metric, m.accountId, connectorId, 1, minute);
      if (m.submittedAt !== null && receiptStatuses.has(m.status)) {
        const latency = at - m.submittedAt;
        const bucket = latencyMetrics[latencyBounds.findIndex((b) => latency <= b)]!;
        this.#add(bucket, m.accountId, connectorId, 1, minute);
      }
    });
    gateway.on('inbound', (m) =>
      this.#add('inbound', m.accountId, m.connectorId ?? '', 1, minuteOf(m.createdAt)),
    );
  }

  #add(metric: string, accountId: string, connectorId: string, n: number, minute: number): void {
    const connectors = inner(inner(inner(this.#pending, minute), metric), accountId);
    const counted = connectors.get(connectorId);
    if (counted) counted.n += n;
    else connectors.set(connectorId, { metric, minute, accountId, connectorId, n });
  }

  /** Every count not stored yet. */
  *#pendingCounts(): Generator<StatsCount> {
    for (const metrics of this.#pending.values())
      for (const accounts of metrics.values())
        for (const connectors of accounts.values()) yield* connectors.values();
  }

  /** Takes a queue depth sample; a minute's highest is counted once the minute is over. */
  #sampleQueue(final: boolean): void {
    if (!this.#queueDepth) return;
    const minute = minuteOf(this.#now());
    if (this.#queue && this.#queue.minute !== minute) {
      this.#add('queued', '', '', this.#queue.max, this.#queue.minute);
      this.#queue = null;
    }
    const depth = this.#queueDepth();
    this.#queue = { minute, max: Math.max(this.#queue?.max ?? 0, depth) };
    if (final) {
      this.#add('queued', '', '', this.#queue.max, minute);
      this.#queue = null;
    }
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.flush().catch(() => {}), this.#flushMs);
    this.#timer.unref();
  }

  /** Stops the timer and stores what is counted. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush(true);
  }

  /** Stores the counts so far; those the store refuses are kept for the next try. */
  flush(final = false): Promise<void> {
    return this.#inTurn(async () => {
      this.#sampleQueue(final);
      const now = this.#now();
      if (now - this.#purgedAt >= 3600_000) {
        this.#purgedAt = now;
        await this.#store.purgeStats(Math.floor(now / 1000) - seriesRetentionSeconds);
      }
      if (this.#pending.size === 0) return;
      const taken = [...this.#pendingCounts()];
      this.#pending = new Map();
      try {
        await this.#store.addStatsCounts(taken);
      } catch (err) {
        for (const c of taken) this.#add(c.metric, c.accountId, c.connectorId, c.n, c.minute);
        throw err;
      }
    });
  }

  /** The buckets from the one holding `from` to the one holding `to`, none left out. */
  series(query: SeriesQuery): Promise<Series> {
    const { step, metric } = query;
    const first = Math.floor(query.from / step) * step;
    const end = Math.floor(query.to / step) * step + step;
    const stored: readonly string[] =
      metric === 'delivery_ratio'
        ? ['delivered', 'failed']
        : metric.startsWith('receipt_latency_')
          ? latencyMetrics
          : [metric];
    return this.#inTurn(async () => {
      // The queue is the gateway's, not an account's or a connector's: filters do not apply.
      const filter =
        metric === 'queued'
          ? {}
          : {
              ...(query.accountId !== undefined ? { accountId: query.accountId } : {}),
              ...(query.connectorId !== undefined ? { connectorId: query.connectorId } : {}),
            };
      const rows = await this.#store.statsSeries({ metrics: stored, from: first, to: end, ...filter });
      // Per bucket, per stored metric: the sum of its minutes (the queue: their highest).
      const buckets = new Map<number, Map<string, number>>();
      const add = (m: string, minute: number, n: number) => {
        const t = Math.floor(minute / step) * step;
        const values = buckets.get(t) ?? new Map<string, number>();
        buckets.set(t, values);
        const before = values.get(m);
        values.set(m, before === undefined ? n : m === 'queued' ? Math.max(before, n) : before + n);
      };
      // Stored rows are whole minutes of every node; what is pending here adds to them.
      const minutes = new Map<string, number>();
      for (const r of rows) minutes.set(`${r.metric}\0${r.minute}`, r.n);
      for (const c of this.#pendingCounts()) {
        if (!stored.includes(c.metric) || c.minute < first || c.minute >= end) continue;
        if (filter.accountId !== undefined && c.accountId !== filter.accountId) continue;
        if (filter.connectorId !== undefined && c.connectorId !== filter.connectorId) continue;
        const key = `${c.metric}\0${c.minute}`;
        minutes.set(key, (minutes.get(key) ?? 0) + c.n);
      }
      const sampling = this.#queue;
      if (metric === 'queued' && sampling && sampling.minute >= first && sampling.minute < end) {
        const key = `queued\0${sampling.minute}`;
        minutes.set(key, (minutes.get(key) ?? 0) + sampling.max);
      }
      for (const [key, n] of minutes) {
        const [m, minute] = key.split('\0') as [string, string];
        add(m, Number(minute), n);
      }
      const value = bucketValue(metric);
      const points: Array<[number, number | null]> = [];
      for (let t = first; t < end; t += step) points.push([t, value(buckets.get(t) ?? new Map())]);
      return { step, points };
    });
  }

  #inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(fn);
    this.#turn = run.catch(() => {});
    return run;
  }
}

/** The unix second at which the minute holding `ms` (epoch milliseconds) starts. */
function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000) * minuteSeconds;
}

/** The map under `key`, made when missing. */
function inner<K, V extends Map<unknown, unknown>>(map: Map<K, V>, key: K): V {
  let found = map.get(key);
  if (found === undefined) {
    found = new Map() as V;
    map.set(key, found);
  }
  return found;
}

/** How a bucket's value is made from its stored metrics' sums. */
function bucketValue(metric: SeriesMetric): (sums: Map<string, number>) => number | null {
  switch (metric) {
    case 'delivery_ratio':
      return (sums) => {
        const delivered = sums.get('delivered') ?? 0;
        const settled = delivered + (sums.get('failed') ?? 0);
        return settled === 0 ? null : delivered / settled;
      };
    case 'receipt_latency_p50':
      return (sums) => latencyPercentile(sums, 0.5);
    case 'receipt_latency_p95':
      return (sums) => latencyPercentile(sums, 0.95);
    default:
      return (sums) => sums.get(metric) ?? 0;
  }
}

/**
 * The latency (seconds, to the millisecond) below which `p` of the receipts came, from the
 * histogram's bucket counts: interpolated within the bucket it falls in (as Prometheus's
 * histogram_quantile does); the last bucket, which has no upper bound, answers its lower one.
 */
function latencyPercentile(sums: Map<string, number>, p: number): number | null {
  const counts = latencyMetrics.map((m) => sums.get(m) ?? 0);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = p * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n > 0 && below + n >= rank) {
      const lower = i === 0 ? 0 : latencyBounds[i - 1]!;
      const upper = latencyBounds[i]!;
      const ms = Number.isFinite(upper) ? lower + (upper - lower) * ((rank - below) / n) : lower;
      return Math.round(ms) / 1000;
    }
    below += n;
  }
  return null;
}

/**
 * A series query from request parameters: `metric` (required), `step` (default 60),
 * `from`/`to` (unix seconds, default the last hour). Refusals name the parameter.
 */
export function seriesQueryOf(query: Record<string, string | undefined>, nowMs: number): SeriesQuery {
  const metric = query['metric'];
  if (metric === undefined || !(seriesMetrics as readonly string[]).includes(metric))
    throw new GatewayError('invalid_metric', `metric must be one of ${seriesMetrics.join(', ')}`, 'metric');
  // An empty parameter (`from=&to=`) is one left out. Milliseconds are refused: no unix
  // second is past 9999-12-31, every millisecond time since 1978 is.
  const whole = (name: string, fallback: number) => {
    const raw = query[name];
    if (raw === undefined || raw === '') return fallback;
    const n = /^\d{1,12}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(n <= maxUnixSecond))
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
