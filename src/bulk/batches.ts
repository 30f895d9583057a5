// Batches (CONTRACT §3): one template, many recipients, sent as messages of one group.
//
// Ingest streams: recipients are read one at a time (a JSON array or a CSV as it uploads),
// normalised, de-duplicated in a compact number set, checked against the account's
// opt-outs, and staged in chunks (the store's RecipientStaging: a compact row per
// recipient, each chunk one transaction) while the upload waits (backpressure). Nothing is
// sent until the last row is in: a batch is sent whole or not at all. The 202 is sent only
// once every row is on disk. As the batch sends, its staged rows are made messages (routed,
// priced and charged like any message) a chunk at a time, in upload order, keeping a
// bounded number of its messages waiting to go; a row not yet made a message counts as the
// status it would have (see #counts). An upload that fails (bad CSV, client gone) drops
// what it staged and leaves the batch `failed` with the count it had reached; a crash
// mid-upload leaves it `loading`, which the next start turns into the same `failed`.
// Batches from before staging (every message stored at upload) have no `staged` and are
// watched to their end as they were.

import type {
  Account,
  CountryCode,
  Gateway,
  Message,
  MessageStatus,
  Priority,
  SubmitRequest,
} from '../core/index.ts';
import {
  derivedId,
  fillTemplate,
  finalStatuses,
  fromMicros,
  GatewayError,
  messageStatuses,
  newId,
  normaliseNumber,
  senderOf,
  templateNames,
} from '../core/index.ts';
import type { StagedRecipient, StoredRecord } from '../store/index.ts';
import { StoreConflictError } from '../store/index.ts';
import type { RecipientRow } from './csv.ts';
import { NumberSet, numberKey } from './number-set.ts';
import { type QuietHours, QuietWindow } from './quiet-hours.ts';
import { RateMeter } from './rate-meter.ts';

const kind = 'batch';

export type BatchStatus =
  | 'loading'
  | 'scheduled'
  | 'running'
  | 'paused'
  | 'completed'
  | 'canceled'
  | 'failed';

/** What a batch request asks for, checked by the HTTP layer. */
export interface BatchSpec {
  name: string | null;
  from: string | null;
  text: string;
  priority: Priority;
  /** Epoch ms, or null: now. */
  sendAt: number | null;
  validitySeconds: number | null;
  /** Country for numbers written without their country code. */
  country: CountryCode | null;
  /** Messages a second for this batch (0: as fast as the route goes). */
  mps: number;
  quietHours: QuietHours | null;
  callbackUrl: string | null;
  /** Send a `message.status` webhook for each message of the batch (off by default). */
  statusWebhooks: boolean;
  /** Every message's tags (routing's `match.tags`); null: none. */
  tags: string[] | null;
  dryRun: boolean;
}

interface BatchData extends Omit<BatchSpec, 'dryRun' | 'from'> {
  from: string;
  source: 'json' | 'csv';
  /** Recipient rows read. */
  rows: number;
  /** Messages stored. */
  total: number;
  skipped: Record<string, number>;
  /** The first refused rows, to tell the user what was wrong (`variable`: the one missing). */
  errors: Array<{ row: number; to: string; reason: string; variable?: string }>;
  startedAt: number | null;
  pausedAt: number | null;
  completedAt: number | null;
  canceledAt: number | null;
  failure: { code: string; message: string } | null;
  /**
   * The gateway (its store instance) that uploads it, then makes its staged rows messages:
   * while it lives no other fails the upload or expands the batch. Absent on batches from
   * before clusters shared them.
   */
  uploader?: string;
  /**
   * Staged batches only (absent on those stored as messages at upload): rows staged, the
   * last row made a message (or refused) so far, and the time the row pace counts from.
   */
  staged?: { rows: number; expanded: number } & Pace;
}

type BatchRecord = StoredRecord<BatchData>;

/** How a batch's messages are spread: `mps` a second (0: no pace) from `paceFrom` (epoch ms). */
interface Pace {
  paceFrom: number;
  mps: number;
}

/** A batch's pace, and its quiet hours (null: none). */
type Timing = Pace & { quiet: QuietWindow | null };

export interface BatchesOptions {
  gateway: Gateway;
  /** Tells the account about a batch as a whole (`batch.completed`, `batch.canceled`). */
  onEvent?: (accountId: string, type: string, batch: Record<string, unknown>) => void;
  /** Messages made per transaction as a batch sends (rows checked per dry-run chunk). */
  chunkSize?: number;
  /** Rows staged per transaction while a batch uploads. */
  stageChunkSize?: number;
  /** A sending batch's messages waiting to leave, at most (rows are made messages as these go). */
  expandWindow?: number;
  /** Most recipient rows one batch may have. */
  maxRows?: number;
  /** How often running batches are looked at (completion, scheduled start). */
  checkIntervalMs?: number;
  now?: () => number;
}

const maxErrorsKept = 100;
/** Message statuses still to leave the gateway. */
const pendingStatuses: MessageStatus[] = ['queued', 'scheduled', 'paused', 'sending'];
/** Statuses a batch's counts always show (with 0), in lifecycle order. */
const countedStatuses = messageStatuses.filter((s) => s !== 'received');
/** Refusals that will refuse every further row of the batch too: its remaining rows are skipped at once. */
const accountLimits = new Set(['insufficient_balance', 'quota_exceeded']);
/** What a row not yet made a message counts as, by the batch's status. */
const unexpandedStatus: Record<BatchStatus, MessageStatus | null> = {
  loading: 'paused',
  scheduled: 'scheduled',
  running: 'queued',
  paused: 'paused',
  canceled: 'canceled',
  failed: 'canceled',
  completed: null,
};

/** A batch whose messages are on their way: watched for its rate and completion. */
interface Active {
  accountId: string;
  status: 'scheduled' | 'running';
  sendAt: number | null;
  /** A message changed status since the last look. */
  changed: boolean;
  /** When its messages were last counted. */
  countedAt: number;
}

/**
 * How often every batch in the store is looked at, beside those watched here: in a cluster
 * another gateway may send a batch's messages (this one hears no status of them), or stop
 * while it watches or uploads one.
 */
const sharedLookMs = 5_000;

export class Batches {
  readonly #gateway: Gateway;
  readonly #o: Required<Omit<BatchesOptions, 'gateway' | 'onEvent'>> & Pick<BatchesOptions, 'onEvent'>;
  readonly #active = new Map<string, Active>();
  readonly #meters = new Map<string, RateMeter>();
  /** Recent counts per batch: a count reads every message of the batch, so polls share one a second. */
  readonly #counted = new Map<
    string,
    { at: number; counts: Partial<Record<MessageStatus, number>>; settled: boolean }
  >();
  #timer: NodeJS.Timeout | null = null;
  /** Batches whose rows are being made messages here. */
  readonly #expanding = new Set<string>();
  /** Per batch expanded here: its messages made here that have not left yet. */
  readonly #waiting = new Map<string, number>();
  /** Batches expanded here since this start (a crash may have left a chunk's messages unrecorded). */
  readonly #resumed = new Set<string>();
  #checking = false;
  #lookedAt = 0;
  readonly #onStatus = (m: Message) => this.#observe(m);

  constructor(options: BatchesOptions) {
    this.#gateway = options.gateway;
    this.#o = {
      chunkSize: 1000,
      stageChunkSize: 5000,
      expandWindow: 20_000,
      maxRows: 10_000_000,
      checkIntervalMs: 1000,
      now: Date.now,
      ...options,
    };
  }

  get #store() {
    return this.#gateway.store;
  }

  /**
   * Picks up where the last run stopped: uploads cut short fail, paused batches stay held,
   * cancels not finished finish, running and scheduled batches are watched again.
   */
  async start(): Promise<void> {
    this.#gateway.on('status', this.#onStatus);
    for (const status of ['loading', 'paused', 'canceled', 'running', 'scheduled'] as const) {
      for await (const record of this.#records(status)) {
        if (status === 'loading') await this.#failOrphanUpload(record, await this.#store.liveInstances());
        else if (status === 'paused') await this.#gateway.pauseGroup(record.id);
        else if (status === 'canceled') {
          if (record.dueAt !== null) await this.#finishCancel(record);
        } else {
          // A crash between storing the batch's status and letting its messages go.
          await this.#gateway.resumeGroup(record.id);
          this.#watch(record);
        }
      }
    }
    this.#timer = setInterval(() => void this.#check(), this.#o.checkIntervalMs);
    this.#timer.unref();
  }

  /**
   * An upload whose gateway is gone (stopped or dead) fails; one still uploading, here or
   * elsewhere, goes on. (A process's uploads die with it: those a restarted gateway finds
   * have another instance's id.)
   */
  async #failOrphanUpload(record: BatchRecord, live: readonly string[]): Promise<void> {
    const uploader = record.data.uploader;
    if (uploader !== undefined && live.includes(uploader)) return;
    await this.#failUpload(record, {
      code: 'interrupted',
      message: 'the gateway that uploaded the batch stopped before the upload ended',
    });
  }

  /**
   * Every batch in the store, now and then: uploads whose gateway died fail, running and
   * scheduled batches nobody here watches are watched, and watched ones are counted again
   * even when this gateway heard nothing of their messages.
   */
  async #lookAtStore(now: number): Promise<void> {
    const live = await this.#store.liveInstances();
    for await (const record of this.#records('loading')) await this.#failOrphanUpload(record, live);
    for (const status of ['running', 'scheduled'] as const)
      for await (const record of this.#records(status)) if (!this.#active.has(record.id)) this.#watch(record);
    for (const active of this.#active.values())
      if (now - active.countedAt >= sharedLookMs) active.changed = true;
  }

  stop(): void {
    this.#gateway.off('status', this.#onStatus);
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * Stores a batch and its recipients (or, for a dry run, only counts them). Resolves once
   * every row is durable; refuses the whole batch on bad input, storing nothing.
   */
  async create(
    account: Account,
    spec: BatchSpec,
    recipients: AsyncIterable<RecipientRow> | Iterable<RecipientRow>,
    source: 'json' | 'csv',
  ): Promise<Record<string, unknown>> {
    const now = this.#o.now();
    // `{{to}}` is always there (the recipient's number); every other variable a row must give.
    const variables = templateVariables(spec.text).filter((v) => v !== 'to');
    // The batch's country, else the account's, reads numbers written without `+`.
    const country = spec.country ?? account.defaultCountry;
    const from = senderOf(spec.from, account.defaultFrom, country);
    const { dryRun, ...kept } = spec;
    // A dry run builds every message as it would be made (priced, routed), storing nothing.
    const staging = dryRun ? null : this.#store.staging;
    // The account's rate bounds its batches too; a batch may ask for less.
    const mps = [spec.mps, account.mps].filter((r) => r > 0).reduce((a, b) => Math.min(a, b), Infinity);
    const pace: Pace = { paceFrom: Math.max(now, spec.sendAt ?? now), mps: Number.isFinite(mps) ? mps : 0 };
    const timing: Timing = { ...pace, quiet: spec.quietHours ? new QuietWindow(spec.quietHours) : null };
    const data: BatchData = {
      ...kept,
      from,
      source,
      rows: 0,
      total: 0,
      skipped: { duplicate: 0, opted_out: 0, invalid: 0 },
      errors: [],
      startedAt: null,
      pausedAt: null,
      completedAt: null,
      canceledAt: null,
      failure: null,
      uploader: this.#store.instanceId,
      ...(staging ? { staged: { rows: 0, expanded: 0, ...pace } } : {}),
    };
    const id = newId(now);
    const preview = {
      encodings: {} as Record<string, number>,
      segments: 0,
      routes: new Map<string, number>(),
      /** What the batch would cost (micro-units), in the currencies of its messages' prices. */
      price: 0,
      currencies: new Set<string>(),
    };

    let record: BatchRecord | null = dryRun
      ? null
      : await this.#store.putRecord<BatchData>(
          {
            kind,
            id,
            accountId: account.id,
            ref: null,
            status: 'loading',
            // Due at once: found by the next start if this one dies mid-upload.
            dueAt: now,
            createdAt: now,
            updatedAt: now,
            data,
          },
          0,
        );

    const skip = (reason: string, row: number, to: string, variable?: string) => {
      data.skipped[reason] = (data.skipped[reason] ?? 0) + 1;
      if (data.errors.length < maxErrorsKept)
        data.errors.push({ row, to: to.slice(0, 64), reason, ...(variable ? { variable } : {}) });
    };
    // A dry run's rows, checked a chunk at a time.
    let chunk: Array<{ row: number; request: SubmitRequest }> = [];
    const check = async () => {
      if (chunk.length === 0) return;
      const requests = chunk.map((c) => c.request);
      const results = await this.#gateway.checkMany(account.id, requests, { defaultFrom: from });
      for (const [i, result] of results.entries()) {
        if ('error' in result) {
          skip(skipReason(result.error.code), chunk[i]!.row, chunk[i]!.request.to);
          continue;
        }
        data.total++;
        const m = result.message;
        preview.encodings[m.encoding] = (preview.encodings[m.encoding] ?? 0) + 1;
        preview.segments += m.segments;
        preview.price += m.priceMicros ?? 0;
        if (m.currency && m.priceMicros) preview.currencies.add(m.currency);
        const route = result.connectors.join(',');
        preview.routes.set(route, (preview.routes.get(route) ?? 0) + m.segments);
      }
      chunk = [];
    };

    // Staged rows: one chunk is written while the next is read, each written once the one
    // before is durable (the upload waits for the store, and others' writes go in between).
    // Opt-outs are looked up a chunk at a time, in one read (the rows' numbers are distinct).
    let rows: Array<Omit<StagedRecipient, 'seq'> & { row: number }> = [];
    let staging$: Promise<void> = Promise.resolve();
    const suppressions = this.#gateway.suppressions;
    const stage = async () => {
      const optedOut = await suppressions.suppressedAmong(
        account.id,
        rows.map((r) => r.to),
        from,
      );
      const kept = rows.filter((r) => {
        if (optedOut.has(r.to)) skip('opted_out', r.row, r.to);
        return !optedOut.has(r.to);
      });
      rows = [];
      await staging$;
      if (kept.length === 0) return;
      const firstSeq = data.total + 1;
      data.total += kept.length;
      staging$ = staging!.stage(id, firstSeq, kept);
    };

    const seen = new NumberSet();
    let paced = 0;
    try {
      for await (const recipient of recipients) {
        const row = ++data.rows;
        if (row > this.#o.maxRows)
          throw new GatewayError(
            'too_many_recipients',
            `a batch holds at most ${this.#o.maxRows} recipients`,
            'recipients',
            413,
          );
        const to = normaliseNumber(recipient.to, country);
        if (to === undefined) {
          skip('invalid', row, recipient.to);
          continue;
        }
        // A variable with no value would be sent blank ("Hi , ..."): the row is skipped
        // instead, before it counts as the number's row (a later full row may still go).
        const missing = variables.find((v) => !recipient.vars[v]?.trim());
        if (missing !== undefined) {
          skip('missing_variable', row, to, missing);
          continue;
        }
        if (!seen.add(numberKey(to))) {
          skip('duplicate', row, to);
          continue;
        }
        if (staging) {
          // Only the variables the text uses are kept.
          rows.push({
            row,
            to,
            vars:
              variables.length === 0
                ? null
                : Object.fromEntries(variables.map((v) => [v, recipient.vars[v]!])),
          });
          if (rows.length >= this.#o.stageChunkSize) await stage();
          continue;
        }
        chunk.push({ row, request: this.#request(id, data, timing, to, recipient.vars, ++paced, now) });
        if (chunk.length >= this.#o.chunkSize) await check();
      }
      if (staging) {
        await stage();
        await staging$;
      } else await check();
    } catch (err) {
      if (record) {
        // Its last chunk settles first: what it wrote is then dropped with the rest.
        await staging$.catch(() => {});
        const failure =
          err instanceof GatewayError
            ? { code: err.code, message: err.message }
            : { code: 'upload_failed', message: (err as Error).message };
        await this.#failUpload({ ...record, data }, failure).catch(() => {});
      }
      throw err;
    }

    data.errors.sort((a, b) => a.row - b.row);
    if (dryRun) {
      return {
        id: null,
        status: 'dry_run',
        dryRun: true,
        total: data.total,
        rows: data.rows,
        skipped: data.skipped,
        errors: data.errors,
        encodings: preview.encodings,
        segments: preview.segments,
        routes: [...preview.routes].map(([connectors, segments]) => ({
          connectors: connectors.split(','),
          segments,
        })),
        // Priced as the messages would be (null when priced in several currencies).
        price: preview.currencies.size > 1 ? null : fromMicros(preview.price),
        currency: preview.currencies.size > 1 ? null : ([...preview.currencies][0] ?? null),
      };
    }
    data.staged!.rows = data.total;
    const status: BatchStatus =
      data.total === 0 ? 'completed' : spec.sendAt !== null && spec.sendAt > now ? 'scheduled' : 'running';
    const done = this.#o.now();
    data.startedAt = done;
    if (status === 'completed') data.completedAt = done;
    record = await this.#store.putRecord<BatchData>(
      { ...record!, status, dueAt: null, updatedAt: done, data },
      record!.version,
    );
    if (status === 'completed') this.#o.onEvent?.(account.id, 'batch.completed', this.#view(record, {}));
    else {
      this.#watch(record);
      if (status === 'running') void this.#expand(id);
    }
    return {
      id,
      status,
      total: data.total,
      rows: data.rows,
      skipped: data.skipped,
      errors: data.errors,
      createdAt: new Date(record.createdAt).toISOString(),
    };
  }

  /**
   * The message of the batch's `place`th accepted row (from 1): the pace spreads send times a
   * second apart per `mps` messages from when the batch starts; quiet hours defer.
   */
  #request(
    id: string,
    d: BatchData,
    timing: Timing,
    to: string,
    vars: Record<string, string> | null,
    place: number,
    now: number,
  ): SubmitRequest {
    const { paceFrom, mps, quiet } = timing;
    let sendAt = mps > 0 ? paceFrom + Math.floor((place - 1) / mps) * 1000 : paceFrom;
    if (quiet) sendAt = quiet.defer(to, sendAt);
    return {
      to,
      from: d.from,
      text: fillTemplate(d.text, { to, ...vars }),
      priority: d.priority,
      sendAt: sendAt > now ? sendAt : undefined,
      validitySeconds: d.validitySeconds ?? undefined,
      callbackUrl: d.callbackUrl ?? undefined,
      groupId: id,
      meta: d.statusWebhooks ? undefined : { statusWebhooks: false },
      tags: d.tags ?? undefined,
      origin: 'http',
    };
  }

  /**
   * Makes the next chunks of a running batch's staged rows messages, in order, while fewer
   * than `expandWindow` of its messages made here wait to leave; again as they leave (see
   * #observe) and on each check. One gateway expands a batch: the one that uploaded it, or,
   * once that one is gone, the first to take it over.
   */
  async #expand(id: string): Promise<void> {
    const staging = this.#store.staging;
    if (this.#expanding.has(id)) return;
    this.#expanding.add(id);
    try {
      for (;;) {
        let record = await this.#store.getRecord<BatchData>(kind, id);
        const staged = record?.data.staged;
        if (!record || !staged || record.status !== 'running' || staged.expanded >= staged.rows) return;
        if ((this.#waiting.get(id) ?? 0) >= this.#o.expandWindow) return;
        if (record.data.uploader !== this.#store.instanceId) {
          const live = await this.#store.liveInstances();
          if (record.data.uploader !== undefined && live.includes(record.data.uploader)) return;
          record = await this.#update(id, (r) =>
            r.data.uploader === record!.data.uploader
              ? this.#put(r, r.status as BatchStatus, { uploader: this.#store.instanceId }, r.dueAt)
              : null,
          );
          if (!record) return;
        }
        const rows = await staging.read(id, staged.expanded, this.#o.chunkSize);
        const made = await this.#makeMessages(record, rows);
        this.#waiting.set(id, (this.#waiting.get(id) ?? 0) + made.stored);
        const last = rows.at(-1)?.seq ?? staged.rows;
        const done = made.limit !== null || last >= staged.rows;
        await this.#update(id, (r) => {
          const s = r.data.staged!;
          const skipped = { ...r.data.skipped };
          let total = r.data.total;
          for (const [reason, n] of made.refused) {
            skipped[reason] = (skipped[reason] ?? 0) + n;
            total -= n;
          }
          // The account can take no more: the rest of the rows are skipped for the same reason.
          if (made.limit !== null) {
            const rest = s.rows - last;
            skipped[made.limit] = (skipped[made.limit] ?? 0) + rest;
            total -= rest;
          }
          return this.#put(
            r,
            r.status as BatchStatus,
            { total, skipped, staged: { ...s, expanded: done ? s.rows : last } },
            r.dueAt,
          );
        });
        await staging.drop(id, done ? undefined : last);
        this.#activeChanged(id);
        if (done) {
          this.#waiting.delete(id);
          return;
        }
      }
    } catch {
      // The store is unavailable, or the chunk's messages were stored already (see
      // #makeMessages): the next check tries again if the batch is still this gateway's,
      // first looking for the messages of a chunk stored without being recorded.
      this.#resumed.delete(id);
    } finally {
      this.#expanding.delete(id);
    }
  }

  /**
   * Stores the messages of staged rows. After a restart, the first rows of a batch may be
   * messages already (stored before the crash, not yet recorded as expanded): those are not
   * stored again.
   */
  async #makeMessages(
    record: BatchRecord,
    rows: StagedRecipient[],
  ): Promise<{ stored: number; refused: Map<string, number>; limit: string | null }> {
    let pending = rows;
    if (!this.#resumed.has(record.id)) {
      this.#resumed.add(record.id);
      const stored = new Set<string>();
      for (let i = 0; i < rows.length; i += 500) {
        const tos = rows.slice(i, i + 500).map((r) => r.to);
        const page = await this.#store.listMessages({ groupId: record.id, anyOf: tos }, null, tos.length);
        for (const m of page.data) stored.add(m.to);
      }
      pending = rows.filter((r) => !stored.has(r.to));
    }
    const now = this.#o.now();
    const d = record.data;
    const timing: Timing = { ...d.staged!, quiet: d.quietHours ? new QuietWindow(d.quietHours) : null };
    const requests = pending.map((r) => this.#request(record.id, d, timing, r.to, r.vars, r.seq, now));
    const results =
      requests.length === 0
        ? []
        : await this.#gateway.submitMany(record.accountId, requests, {
            defaultFrom: record.data.from,
            // The same row always makes the same id: a chunk made again (by a gateway that
            // stalled past its lease while another took the batch over) is refused whole.
            ids: pending.map((r) => derivedId(record.createdAt, `${record.id}:${r.seq}`)),
          });
    const refused = new Map<string, number>();
    let limit: string | null = null;
    let stored = 0;
    for (const result of results) {
      if ('message' in result) {
        stored++;
        continue;
      }
      const reason = skipReason(result.error.code);
      refused.set(reason, (refused.get(reason) ?? 0) + 1);
      if (accountLimits.has(result.error.code)) limit = reason;
    }
    return { stored, refused, limit };
  }

  /** A watched batch changed: looked at again at the next check. */
  #activeChanged(id: string): void {
    const active = this.#active.get(id);
    if (active) active.changed = true;
  }

  /** The batch with live counts, rate and ETA; null when the account has no such batch. */
  async get(accountId: string, id: string): Promise<Record<string, unknown> | null> {
    const record = await this.#store.getRecord<BatchData>(kind, id);
    if (!record || record.accountId !== accountId) return null;
    return this.#view(record, await this.#counts(record, 1000));
  }

  /**
   * The batch's messages by status, read again when the last read is older than `maxAgeMs`;
   * of a staged batch, with its rows not yet made messages counted as the status they
   * would have now (see unexpandedStatus): the counts always add up to its total.
   */
  async #counts(record: BatchRecord, maxAgeMs: number): Promise<Partial<Record<MessageStatus, number>>> {
    const { data } = record;
    const counts = await this.#storedCounts(record, maxAgeMs);
    const as = unexpandedStatus[record.status as BatchStatus];
    if (data.staged === undefined || as === null) return counts;
    const stored = Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
    const unexpanded = Math.max(0, data.total - stored);
    return unexpanded === 0 ? counts : { ...counts, [as]: (counts[as] ?? 0) + unexpanded };
  }

  /** The batch's stored messages by status (see #counts). */
  async #storedCounts(
    record: BatchRecord,
    maxAgeMs: number,
  ): Promise<Partial<Record<MessageStatus, number>>> {
    const { id, data } = record;
    const now = this.#o.now();
    const last = this.#counted.get(id);
    let counts: Partial<Record<MessageStatus, number>>;
    if (last && (last.settled || now - last.at < maxAgeMs)) counts = last.counts;
    else {
      counts = await this.#store.countByStatus(id);
      // Once every message is stored and in a final status, the counts cannot change: kept,
      // not re-read (a list of large finished batches would otherwise count them all every
      // second). None counted yet may be a batch still being uploaded; a staged batch's
      // rows may not all be messages yet, unless it has ended.
      const counted = Object.entries(counts).filter(([, n]) => (n ?? 0) > 0);
      const stored = counted.reduce((sum, [, n]) => sum + (n ?? 0), 0);
      const settled =
        counted.every(([s]) => finalStatuses.has(s as MessageStatus)) &&
        (data.staged === undefined
          ? counted.length > 0
          : record.status === 'canceled' ||
            record.status === 'failed' ||
            (record.status !== 'loading' && stored >= data.total));
      this.#counted.set(id, { at: now, counts, settled });
      if (this.#counted.size > 1000) this.#counted.delete(this.#counted.keys().next().value!);
    }
    return counts;
  }

  async list(
    accountId: string,
    filter: { status?: string },
    cursor: string | null,
    limit: number,
  ): Promise<{ data: Array<Record<string, unknown>>; nextCursor: string | null }> {
    const page = await this.#store.listRecords<BatchData>(
      kind,
      { accountId, ...(filter.status ? { status: filter.status } : {}) },
      cursor,
      limit,
    );
    // Each item as GET shows it, counts from the same second-old cache: a console polling
    // the list reads each batch's messages once a second at most, not once per poll.
    const data = await Promise.all(page.data.map(async (r) => this.#view(r, await this.#counts(r, 1000))));
    return { data, nextCursor: page.nextCursor };
  }

  /** Holds every unsent message back; the batch stays paused until resumed. */
  pause(accountId: string, id: string): Promise<Record<string, unknown>> {
    return this.#transition(accountId, id, 'pause', async (record) => {
      if (record.status === 'paused') return null;
      if (record.status !== 'running' && record.status !== 'scheduled') return 'cannot';
      // Stored first: a crash before the messages are held is finished at the next start.
      const paused = await this.#put(record, 'paused', { pausedAt: this.#o.now() });
      this.#active.delete(id);
      await this.#gateway.pauseGroup(id);
      return paused;
    });
  }

  resume(accountId: string, id: string): Promise<Record<string, unknown>> {
    return this.#transition(accountId, id, 'resume', async (record) => {
      if (record.status === 'running' || record.status === 'scheduled') return null;
      if (record.status !== 'paused') return 'cannot';
      const now = this.#o.now();
      const status = record.data.sendAt !== null && record.data.sendAt > now ? 'scheduled' : 'running';
      const staged = record.data.staged;
      // The rows still staged are paced from now, not from when the batch started.
      const paced =
        staged && staged.mps > 0 && status === 'running'
          ? { staged: { ...staged, paceFrom: now - Math.floor(staged.expanded / staged.mps) * 1000 } }
          : {};
      const resumed = await this.#put(record, status, { pausedAt: null, ...paced });
      await this.#gateway.resumeGroup(id);
      this.#watch(resumed);
      if (status === 'running') void this.#expand(id);
      return resumed;
    });
  }

  /** Cancels every unsent message; those already with the carrier go on to their receipts. */
  cancel(accountId: string, id: string): Promise<Record<string, unknown>> {
    return this.#transition(accountId, id, 'cancel', async (record) => {
      if (record.status === 'canceled') return null;
      if (!['running', 'scheduled', 'paused'].includes(record.status as string)) return 'cannot';
      // Due until its messages are canceled: a crash in between is finished at the next start.
      const canceled = await this.#put(record, 'canceled', { canceledAt: this.#o.now() }, this.#o.now());
      this.#active.delete(id);
      await this.#finishCancel(canceled);
      return canceled;
    });
  }

  async #transition(
    accountId: string,
    id: string,
    action: keyof typeof refusal,
    apply: (record: BatchRecord) => Promise<BatchRecord | null | 'cannot'>,
  ): Promise<Record<string, unknown>> {
    for (;;) {
      const record = await this.#store.getRecord<BatchData>(kind, id);
      if (!record || record.accountId !== accountId)
        throw new GatewayError('not_found', `no batch ${id}`, 'id', 404);
      try {
        const outcome = await apply(record);
        if (outcome === 'cannot')
          throw new GatewayError(refusal[action], `batch ${id} is ${record.status}`, undefined, 409);
        return this.#view(outcome ?? record, await this.#counts(outcome ?? record, 0));
      } catch (err) {
        // Another change (completion, a second request) came first: look again.
        if (!(err instanceof StoreConflictError)) throw err;
      }
    }
  }

  #put(
    record: BatchRecord,
    status: BatchStatus,
    patch: Partial<BatchData>,
    dueAt: number | null = null,
  ): Promise<BatchRecord> {
    return this.#store.putRecord<BatchData>(
      { ...record, status, dueAt, updatedAt: this.#o.now(), data: { ...record.data, ...patch } },
      record.version,
    );
  }

  /**
   * Cancels the batch's unsent messages; its rows not yet made messages are dropped, and
   * count as canceled (see #counts).
   */
  async #finishCancel(record: BatchRecord): Promise<void> {
    await this.#gateway.cancelGroup(record.id);
    await this.#store.staging.drop(record.id);
    // Its expansion may have recorded a last chunk meanwhile.
    const done = await this.#update(record.id, (r) =>
      r.dueAt === null ? null : this.#store.putRecord<BatchData>({ ...r, dueAt: null }, r.version),
    );
    if (done)
      this.#o.onEvent?.(record.accountId, 'batch.canceled', this.#view(done, await this.#counts(done, 0)));
  }

  /** An upload that could not finish: what it stored is canceled, the batch says why. */
  async #failUpload(record: BatchRecord, failure: { code: string; message: string }): Promise<void> {
    await this.#gateway.cancelGroup(record.id);
    await this.#store.staging.drop(record.id);
    await this.#store.putRecord<BatchData>({
      ...record,
      status: 'failed',
      dueAt: null,
      updatedAt: this.#o.now(),
      data: { ...record.data, failure },
    });
  }

  async *#records(status: BatchStatus): AsyncGenerator<BatchRecord> {
    let cursor: string | null = null;
    do {
      const page: { data: BatchRecord[]; nextCursor: string | null } =
        await this.#store.listRecords<BatchData>(kind, { status }, cursor, 500);
      yield* page.data;
      cursor = page.nextCursor;
    } while (cursor !== null);
  }

  #watch(record: BatchRecord): void {
    this.#active.set(record.id, {
      accountId: record.accountId,
      status: record.status as Active['status'],
      sendAt: record.data.sendAt,
      changed: true,
      countedAt: 0,
    });
    if (!this.#meters.has(record.id)) this.#meters.set(record.id, new RateMeter());
  }

  /** A message of a watched batch moved: count what left the gateway, look at the batch soon. */
  #observe(m: Message): void {
    if (m.groupId === null) return;
    const active = this.#active.get(m.groupId);
    if (!active) return;
    active.changed = true;
    const left = m.status === 'submitted' || (finalStatuses.has(m.status) && m.submittedAt === null);
    if (left && m.status !== 'canceled') this.#meters.get(m.groupId)?.add(this.#o.now());
    const waiting = this.#waiting.get(m.groupId);
    if (left && waiting !== undefined) {
      this.#waiting.set(m.groupId, waiting - 1);
      // Half the window gone: the next rows are made messages while the rest still go.
      if (waiting - 1 <= this.#o.expandWindow / 2) void this.#expand(m.groupId);
    }
  }

  /** Starts scheduled batches whose time came; completes those with nothing left to send. */
  async #check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      const now = this.#o.now();
      if (now - this.#lookedAt >= sharedLookMs) {
        this.#lookedAt = now;
        await this.#lookAtStore(now);
      }
      for (const [id, active] of this.#active) {
        if (active.status === 'scheduled' && (active.sendAt ?? 0) <= now) {
          await this.#update(id, (r) => (r.status === 'scheduled' ? this.#put(r, 'running', {}) : null));
          active.status = 'running';
          active.changed = true;
        }
        if (!active.changed) continue;
        active.changed = false;
        active.countedAt = now;
        const record = await this.#store.getRecord<BatchData>(kind, id);
        if (!record) continue;
        const stored = await this.#storedCounts(record, 0);
        const counts = await this.#counts(record, Infinity);
        const staged = record.data.staged;
        if (staged && record.status === 'running' && staged.expanded < staged.rows) {
          // What the store says waits (a restart forgets what was made here before it).
          this.#waiting.set(id, (stored.queued ?? 0) + (stored.scheduled ?? 0) + (stored.sending ?? 0));
          void this.#expand(id);
        }
        if (pendingStatuses.some((s) => (counts[s] ?? 0) > 0)) continue;
        const completed = await this.#update(id, (r) =>
          r.status === 'running' ? this.#put(r, 'completed', { completedAt: now }) : null,
        );
        this.#active.delete(id);
        this.#waiting.delete(id);
        this.#resumed.delete(id);
        if (completed)
          this.#o.onEvent?.(completed.accountId, 'batch.completed', this.#view(completed, counts));
      }
      // Meters of batches no longer watched are kept a minute for GET's rate, then dropped.
      for (const [id, meter] of this.#meters)
        if (!this.#active.has(id) && meter.idleSince(now) > 60_000) this.#meters.delete(id);
    } catch {
      // The store is unavailable: the next look tries again.
    } finally {
      this.#checking = false;
    }
  }

  /** Applies a change to the stored batch, again if another write came first. */
  async #update(
    id: string,
    change: (record: BatchRecord) => Promise<BatchRecord> | null,
  ): Promise<BatchRecord | null> {
    for (;;) {
      const record = await this.#store.getRecord<BatchData>(kind, id);
      const pending = record ? change(record) : null;
      if (!pending) return null;
      try {
        return await pending;
      } catch (err) {
        if (!(err instanceof StoreConflictError)) throw err;
      }
    }
  }

  #view(record: BatchRecord, stored: Partial<Record<MessageStatus, number>>): Record<string, unknown> {
    const d = record.data;
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const meter = this.#meters.get(record.id);
    const rate = meter ? meter.rate(this.#o.now()) : 0;
    const pending = pendingStatuses.reduce((n, s) => n + (stored[s] ?? 0), 0);
    const etaSeconds =
      record.status === 'running' && rate > 0 ? Math.ceil(pending / rate) : pending === 0 ? 0 : null;
    return {
      id: record.id,
      name: d.name,
      status: record.status,
      from: d.from,
      text: d.text,
      priority: d.priority,
      total: d.total,
      rows: d.rows,
      counts: Object.fromEntries(countedStatuses.map((s) => [s, stored[s] ?? 0])),
      rate: Math.round(rate * 10) / 10,
      eta: etaSeconds === null ? null : iso(this.#o.now() + etaSeconds * 1000),
      etaSeconds,
      skipped: d.skipped,
      errors: d.errors,
      mps: d.mps,
      country: d.country,
      quietHours: d.quietHours,
      sendAt: iso(d.sendAt),
      validitySeconds: d.validitySeconds,
      statusWebhooks: d.statusWebhooks,
      source: d.source,
      failure: d.failure,
      createdAt: iso(record.createdAt),
      startedAt: iso(d.startedAt),
      pausedAt: iso(d.pausedAt),
      completedAt: iso(d.completedAt),
      canceledAt: iso(d.canceledAt),
    };
  }
}

/**
 * The variables a batch text uses (`{{name}}`); a brace that is not part of one is refused
 * rather than sent as it is.
 */
export function templateVariables(text: string): string[] {
  if (/\{\{|\}\}/.test(fillTemplate(text, {})))
    throw new GatewayError(
      'invalid_template',
      'text has a {{ or }} that is not a variable like {{name}} (letters, digits, _ . -)',
      'text',
    );
  return templateNames(text);
}

/** The error code of an action the batch's status does not allow. */
const refusal = { pause: 'not_pausable', resume: 'not_resumable', cancel: 'not_cancelable' } as const;

/** A refusal's reason as the batch counts it. */
function skipReason(code: string): string {
  if (code === 'recipient_opted_out') return 'opted_out';
  if (code === 'invalid_number') return 'invalid';
  return code;
}
