// Appointment reminders: a message scheduled for a time (in the recipient's time zone), and
// the recipient's reply matched back to it: the reply's keyword sets the reminder's outcome,
// a `reminder.<status>` webhook tells the application, an acknowledgement may answer.
// The record is written before its message, and a sweep over due records mends whatever a
// crash or a lost event left half done (a missing message, a status not yet followed).
import type { FastifyInstance } from 'fastify';
import { cursorRefused, type HttpPlugin } from '../api/index.ts';
import type { Message } from '../core/index.ts';
import {
  destinationOf,
  finalStatuses,
  firstWord,
  foldKeyword,
  GatewayError,
  newId,
  normaliseNumber,
} from '../core/index.ts';
import type { StoredRecord } from '../store/index.ts';
import { type AppContext, countryOf, Fields, iso, KeyedLock, notFound, pageOf } from './shared.ts';

export const reminderKind = 'reminder';

export interface Reminder {
  to: string;
  from: string;
  /** When it is sent (epoch ms), and the zone the caller wrote it in. */
  at: number;
  timezone: string | null;
  text: string;
  /** Reply keyword (upper case) → the status it sets. */
  replies: Record<string, string>;
  /** Reply keyword (upper case) → the acknowledgement sent back. */
  ack: Record<string, string>;
  replyWindowSeconds: number;
  messageId: string | null;
  sentAt: number | null;
  reply: { text: string; keyword: string | null; at: number; messageId: string } | null;
  error: { code: string; message: string } | null;
}

/** Statuses the gateway sets itself; a reply's outcome may be any other word. */
const ownStatuses = ['scheduled', 'sent', 'expired', 'failed'];
const maxAheadMs = 366 * 24 * 3600_000;
/** How soon a reminder whose message is still on its way is looked at again. */
const recheckMs = 2000;
/** Message statuses that mean it reached the carrier. */
const sentStatuses = new Set<Message['status']>(['sending', 'submitted', 'delivered']);

export class RemindersService {
  readonly #ctx: AppContext;
  readonly #lock = new KeyedLock();
  #timer: NodeJS.Timeout | null = null;
  #sweeping = false;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
  }

  start(): void {
    this.#timer = setInterval(() => void this.sweep(), 1000);
    this.#timer.unref();
    void this.sweep();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async create(accountId: string, body: unknown): Promise<StoredRecord<Reminder>> {
    const f = new Fields(body);
    const toInput = f.requiredString('to', 32);
    const to = destinationOf(toInput, countryOf(this.#ctx, accountId));
    const from = f.string('from', 20) ?? this.#ctx.accounts.get(accountId)?.defaultFrom ?? undefined;
    if (!from)
      throw new GatewayError('missing_field', 'from is required (the account has no default sender)', 'from');
    const content = contentOf(f, this.#ctx.now(), null);
    const now = this.#ctx.now();
    const id = newId(now);
    // Held from the first write: the sweep must not schedule it while this does.
    return this.#lock.run(id, async () => {
      const record = await this.#ctx.store.putRecord<Reminder>(
        {
          kind: reminderKind,
          id,
          accountId,
          ref: to,
          status: 'scheduled',
          dueAt: content.at,
          createdAt: now,
          updatedAt: now,
          data: { to, from, ...content, messageId: null, sentAt: null, reply: null, error: null },
        },
        0,
      );
      try {
        return await this.#schedule(record);
      } catch (err) {
        // A message the pipeline refuses (a sender, a route) leaves no reminder behind.
        await this.#ctx.store.deleteRecord(reminderKind, id);
        throw err;
      }
    });
  }

  async get(accountId: string, id: string): Promise<StoredRecord<Reminder>> {
    const record = await this.#ctx.store.getRecord<Reminder>(reminderKind, id);
    if (!record || record.accountId !== accountId) throw notFound('reminder', id);
    return record;
  }

  async list(accountId: string, query: unknown) {
    const q = new Fields(query ?? {});
    const { limit, cursor } = pageOf(query);
    const to = q.string('to', 32);
    return this.#ctx.store
      .listRecords<Reminder>(
        reminderKind,
        {
          accountId,
          status: q.string('status', 32),
          ref: to === undefined ? undefined : (normaliseNumber(to, countryOf(this.#ctx, accountId)) ?? to),
        },
        cursor,
        limit,
      )
      .catch(cursorRefused);
  }

  /** Changes the time, text or replies of a reminder not sent yet. */
  async update(accountId: string, id: string, body: unknown): Promise<StoredRecord<Reminder>> {
    await this.get(accountId, id);
    return this.#lock.run(id, async () => {
      const record = await this.get(accountId, id);
      if (record.status !== 'scheduled')
        throw new GatewayError('not_scheduled', `reminder is ${record.status}`, undefined, 409);
      const content = contentOf(new Fields(body), this.#ctx.now(), record.data);
      // Its message is taken back first (refused with a 409 if it is already on its way).
      if (record.data.messageId) await this.#ctx.gateway.cancel(accountId, record.data.messageId);
      const updated = await this.#ctx.store.putRecord<Reminder>(
        {
          ...record,
          dueAt: content.at,
          updatedAt: this.#ctx.now(),
          data: { ...record.data, ...content, messageId: null },
        },
        record.version,
      );
      return this.#schedule(updated);
    });
  }

  async cancel(accountId: string, id: string): Promise<StoredRecord<Reminder>> {
    await this.get(accountId, id);
    return this.#lock.run(id, async () => {
      const record = await this.get(accountId, id);
      if (record.status !== 'scheduled' && record.status !== 'sent')
        throw new GatewayError('not_cancelable', `reminder is ${record.status}`, undefined, 409);
      if (record.status === 'scheduled' && record.data.messageId)
        await this.#ctx.gateway.cancel(accountId, record.data.messageId);
      return this.#settle(record, 'canceled', {});
    });
  }

  /**
   * An inbound message: if it answers a reminder of its account (the newest one sent to its
   * sender, from the number it was sent to where that tells), the reply's keyword sets the
   * outcome. Resolves true when the message was a recognised reply. The one entry point for
   * the inbound pipeline.
   */
  async matchReply(message: Message): Promise<boolean> {
    if (message.direction !== 'mo' || !message.accountId || message.text === null) return false;
    const { data: candidates } = await this.#ctx.store.listRecords<Reminder>(
      reminderKind,
      { accountId: message.accountId, ref: message.from, status: 'sent' },
      null,
      20,
    );
    const match = candidates.find((r) => r.data.from === message.to) ?? candidates[0];
    if (!match) return false;
    return this.#lock.run(match.id, async () => {
      const record = await this.#ctx.store.getRecord<Reminder>(reminderKind, match.id);
      if (record?.status !== 'sent') return false;
      const keyword = keywordOf(message.text!, record.data.replies);
      const reply = { text: message.text!, keyword, at: message.createdAt, messageId: message.id };
      if (keyword === null) {
        await this.#ctx.store.putRecord(
          { ...record, updatedAt: this.#ctx.now(), data: { ...record.data, reply } },
          record.version,
        );
        return false;
      }
      await this.#settle(record, record.data.replies[keyword]!, { reply });
      const ack = record.data.ack[keyword];
      if (ack) {
        await this.#ctx.gateway
          .submit(
            record.accountId,
            {
              to: record.data.to,
              from: record.data.from,
              text: ack,
              groupId: record.id,
              meta: { reminder: record.id },
            },
            {},
          )
          .catch(() => {});
      }
      return true;
    });
  }

  /** A message changed status: a reminder's own message makes it `sent` or `failed`. */
  onStatus(m: Message): void {
    const id = m.meta?.reminder;
    if (m.direction !== 'mt' || typeof id !== 'string') return;
    if (!sentStatuses.has(m.status) && !finalStatuses.has(m.status)) return;
    void this.#lock
      .run(id, async () => {
        const record = await this.#ctx.store.getRecord<Reminder>(reminderKind, id);
        if (record && record.data.messageId === m.id) await this.#follow(record, m);
      })
      .catch(() => {});
  }

  /** Looks at every reminder whose time has come: sends, follows, expires. */
  async sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      for (;;) {
        const due = await this.#ctx.store.dueRecords<Reminder>(reminderKind, this.#ctx.now(), 100);
        for (const r of due) {
          await this.#lock
            .run(r.id, async () => {
              const record = await this.#ctx.store.getRecord<Reminder>(reminderKind, r.id);
              if (record?.dueAt != null && record.dueAt <= this.#ctx.now()) await this.#due(record);
            })
            .catch(() => {});
        }
        if (due.length < 100) return;
      }
    } catch {
      // The store is unavailable; the next sweep tries again.
    } finally {
      this.#sweeping = false;
    }
  }

  async #due(record: StoredRecord<Reminder>): Promise<void> {
    if (record.status === 'scheduled') {
      if (!record.data.messageId) {
        await this.#schedule(record);
        return;
      }
      const message = await this.#ctx.store.getMessage(record.data.messageId);
      if (message) await this.#follow(record, this.#ctx.gateway.live(message));
      else
        await this.#settle(record, 'failed', {
          error: { code: 'message_lost', message: 'its message is gone' },
        });
      return;
    }
    if (record.status === 'sent') {
      await this.#settle(record, 'expired', {});
      return;
    }
    await this.#ctx.store.putRecord({ ...record, dueAt: null }, record.version);
  }

  /** Submits the reminder's message for its time; the record learns its id. */
  async #schedule(record: StoredRecord<Reminder>): Promise<StoredRecord<Reminder>> {
    const message = await this.#ctx.gateway.submit(record.accountId, {
      to: record.data.to,
      from: record.data.from,
      text: record.data.text,
      sendAt: record.data.at,
      groupId: record.id,
      meta: { reminder: record.id },
    });
    return this.#ctx.store.putRecord<Reminder>(
      {
        ...record,
        // Looked at again at its time, in case its status is not heard of.
        dueAt: Math.max(record.data.at, this.#ctx.now()) + recheckMs,
        data: { ...record.data, messageId: message.id },
      },
      record.version,
    );
  }

  /** The reminder's message as it is now decides whether it was sent or failed. */
  async #follow(record: StoredRecord<Reminder>, m: Message): Promise<void> {
    if (record.status !== 'scheduled' && record.status !== 'sent') return;
    if (m.status === 'delivered' || sentStatuses.has(m.status)) {
      if (record.status === 'scheduled') await this.#settle(record, 'sent', { sentAt: this.#ctx.now() });
      return;
    }
    if (finalStatuses.has(m.status)) {
      await this.#settle(record, 'failed', {
        error: m.error ?? { code: m.status, message: `its message is ${m.status}` },
      });
      return;
    }
    // Still queued or scheduled: look again a little later.
    await this.#ctx.store.putRecord(
      { ...record, dueAt: Math.max(record.data.at, this.#ctx.now()) + recheckMs },
      record.version,
    );
  }

  /** A new status, stored (compare-and-set), then told to the account's webhook. */
  async #settle(
    record: StoredRecord<Reminder>,
    status: string,
    changes: Partial<Reminder>,
  ): Promise<StoredRecord<Reminder>> {
    const now = this.#ctx.now();
    const data = { ...record.data, ...changes };
    const updated = await this.#ctx.store.putRecord<Reminder>(
      {
        ...record,
        status,
        // A sent reminder waits for its reply until the window closes; others wait for nothing.
        dueAt: status === 'sent' ? (data.sentAt ?? now) + data.replyWindowSeconds * 1000 : null,
        updatedAt: now,
        data,
      },
      record.version,
    );
    await this.#ctx.notify(record.accountId, `reminder.${status}`, reminderView(updated)).catch(() => {});
    return updated;
  }
}

/** The whole reply, or its first word, as a configured keyword (case and accents folded). */
function keywordOf(text: string, replies: Record<string, string>): string | null {
  const whole = keywordKey(text);
  if (replies[whole]) return whole;
  const first = foldKeyword(firstWord(text));
  return replies[first] ? first : null;
}

function keywordKey(text: string): string {
  return foldKeyword(text.trim().replace(/\s+/g, ' '));
}

type ReminderContent = Pick<Reminder, 'at' | 'timezone' | 'text' | 'replies' | 'ack' | 'replyWindowSeconds'>;

/** What a create (no `current`) or an update asks, checked field by field. */
function contentOf(f: Fields, now: number, current: ReminderContent | null): ReminderContent {
  const timezone = f.string('timezone', 64) ?? current?.timezone ?? null;
  if (timezone !== null && !isTimeZone(timezone))
    throw new GatewayError('invalid_timezone', `'${timezone}' is not an IANA time zone`, 'timezone');
  const atText = current ? f.string('at', 64) : f.requiredString('at', 64);
  let at = current?.at ?? 0;
  if (atText !== undefined) {
    const parsed = parseTime(atText, timezone ?? 'UTC');
    if (parsed === undefined)
      throw new GatewayError('invalid_time', 'at must be an ISO 8601 time (2026-05-04T09:30)', 'at');
    at = parsed;
  }
  if (at > now + maxAheadMs) throw new GatewayError('invalid_time', 'at is more than a year ahead', 'at');
  const text = current && !f.has('text') ? current.text : f.requiredString('text', 1600);
  const replies = f.has('replies') || !current ? keywordMap(f, 'replies', true) : current.replies;
  for (const [keyword, outcome] of Object.entries(replies)) {
    if (!/^[a-z][a-z0-9_]{0,31}$/.test(outcome) || ownStatuses.includes(outcome))
      throw new GatewayError(
        'invalid_field',
        `replies.${keyword}: an outcome is a lower-case word other than ${ownStatuses.join(', ')}`,
        'replies',
      );
  }
  const ack = f.has('ack') ? keywordMap(f, 'ack', false) : (current?.ack ?? {});
  for (const keyword of Object.keys(ack)) {
    if (!replies[keyword])
      throw new GatewayError('invalid_field', `ack.${keyword}: not one of the replies`, 'ack');
    if (ack[keyword]!.length > 1600)
      throw new GatewayError('invalid_field', `ack.${keyword} is too long`, 'ack');
  }
  const replyWindowSeconds =
    f.integer('replyWindowSeconds', 60, 30 * 86_400) ?? current?.replyWindowSeconds ?? 86_400;
  return { at, timezone, text, replies, ack, replyWindowSeconds };
}

/** `{"yes": "confirmed"}` → `{"YES": "confirmed"}`, keys and values non-empty strings. */
function keywordMap(f: Fields, field: string, required: boolean): Record<string, string> {
  const v = f.raw(field);
  if (v === undefined || v === null) {
    if (required) throw new GatewayError('missing_field', `${field} is required`, field);
    return {};
  }
  if (typeof v !== 'object' || Array.isArray(v))
    throw new GatewayError('invalid_field', `${field} must be an object of keyword: text`, field);
  const entries = Object.entries(v as Record<string, unknown>);
  if ((required && entries.length === 0) || entries.length > 50)
    throw new GatewayError('invalid_field', `${field} must have 1..50 keywords`, field);
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    const keyword = keywordKey(key);
    if (keyword.length === 0 || keyword.length > 32 || typeof value !== 'string' || value.length === 0)
      throw new GatewayError(
        'invalid_field',
        `${field}.${key} must be a keyword of 1..32 characters with a text`,
        field,
      );
    out[keyword] = value;
  }
  return out;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const localTime = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/**
 * An ISO 8601 time: with `Z` or an offset it is absolute; without, it is a wall-clock time
 * in `zone` (DST included: the zone's offset at that moment is used).
 */
export function parseTime(text: string, zone: string): number | undefined {
  const local = localTime.exec(text.trim());
  if (!local) {
    const t = Date.parse(text);
    return /[zZ]|[+-]\d{2}:?\d{2}$/.test(text.trim()) && Number.isFinite(t) ? t : undefined;
  }
  const [, y, mo, d, h, mi, s, ms] = local.map(Number) as number[];
  const wall = Date.UTC(y!, mo! - 1, d!, h!, mi!, s || 0, ms || 0);
  if (!Number.isFinite(wall) || new Date(wall).getUTCDate() !== d) return undefined;
  // The zone's offset at the guess, then at the corrected time (they differ across a DST change).
  const first = wall - zoneOffset(zone, wall);
  return wall - zoneOffset(zone, first);
}

/** How far the zone's wall clock is ahead of UTC at instant `t`, in ms. */
function zoneOffset(zone: string, t: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(t);
  const n = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return asUtc - (t - (t % 1000));
}

export function reminderView(r: StoredRecord<Reminder>): Record<string, unknown> {
  return {
    id: r.id,
    status: r.status,
    to: r.data.to,
    from: r.data.from,
    at: iso(r.data.at),
    timezone: r.data.timezone,
    text: r.data.text,
    replies: r.data.replies,
    ack: r.data.ack,
    replyWindowSeconds: r.data.replyWindowSeconds,
    reply: r.data.reply?.text ?? null,
    replyKeyword: r.data.reply?.keyword ?? null,
    repliedAt: iso(r.data.reply?.at),
    messageId: r.data.messageId,
    sentAt: iso(r.data.sentAt),
    error: r.data.error,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

export function reminderRoutes(service: RemindersService): HttpPlugin {
  return async (app: FastifyInstance) => {
    const idOf = (req: { params: unknown }) => (req.params as { id: string }).id;
    app.post('/v1/reminders', async (req, reply) =>
      reply.code(201).send(reminderView(await service.create(req.account.id, req.body))),
    );
    app.get('/v1/reminders', async (req) => {
      const page = await service.list(req.account.id, req.query);
      return { data: page.data.map(reminderView), nextCursor: page.nextCursor };
    });
    app.get('/v1/reminders/:id', async (req) => reminderView(await service.get(req.account.id, idOf(req))));
    app.patch('/v1/reminders/:id', async (req) =>
      reminderView(await service.update(req.account.id, idOf(req), req.body)),
    );
    app.post('/v1/reminders/:id/cancel', async (req) =>
      reminderView(await service.cancel(req.account.id, idOf(req))),
    );
    app.delete('/v1/reminders/:id', async (req) =>
      reminderView(await service.cancel(req.account.id, idOf(req))),
    );
  };
}
