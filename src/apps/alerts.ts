// Emergency alerts: one text to every recipient (numbers, contact groups, CSV), accepted in
// one transaction at `emergency` priority, which the dispatcher sends ahead of everything
// else and spreads over every connector of each route; progress is counted from the
// alert's messages (its id is their groupId); cancel takes back what has not left.
import type { FastifyInstance } from 'fastify';
import { cursorRefused, type HttpPlugin, readJsonUploads, uploadSlots } from '../api/index.ts';
import type { Connector } from '../connectors/index.ts';
import type { Message, MessageStatus, SubmitRequest } from '../core/index.ts';
import { GatewayError, newId, normaliseNumber } from '../core/index.ts';
import type { StoredRecord } from '../store/index.ts';
import { type ContactsService, csvContactRows } from './contacts.ts';
import { type AppContext, countryOf, Fields, iso, KeyedLock, notFound, pageOf } from './shared.ts';

export const alertKind = 'alert';
const maxRecipients = 100_000;
const failedStatuses = new Set<MessageStatus>(['undelivered', 'expired', 'rejected', 'failed']);

/** A cell broadcast of the alert on one connector. */
export interface AlertBroadcast {
  connector: string;
  status: 'accepted' | 'failed';
  broadcastId: string | null;
  failedAreas: string[];
  error: { code: string; message: string } | null;
}

export interface Alert {
  text: string;
  flash: boolean;
  from: string | null;
  groups: string[];
  total: number;
  /** Recipients left out: unreadable, given twice, opted out, refused otherwise (no route...). */
  skipped: { invalid: number; duplicate: number; opted_out: number; refused: number };
  completedAt: number | null;
  canceledAt: number | null;
  /** Areas it was broadcast to, and how each broadcast-capable connector answered. */
  areas: string[];
  broadcasts: AlertBroadcast[];
}

export class AlertsService {
  readonly #ctx: AppContext;
  readonly #contacts: ContactsService;
  readonly #lock = new KeyedLock();
  /** Alerts with a completion check pending. */
  readonly #checks = new Set<string>();

  constructor(ctx: AppContext, contacts: ContactsService) {
    this.#ctx = ctx;
    this.#contacts = contacts;
  }

  async create(accountId: string, body: unknown): Promise<StoredRecord<Alert>> {
    const f = new Fields(body);
    const text = f.requiredString('text', 1600);
    const flash = f.boolean('flash') ?? false;
    const from = f.string('from', 20);
    const recipients = f.stringList('recipients', maxRecipients, 32);
    const groups = f.stringList('groups', 100, 64) ?? [];
    const csv = f.string('csv', 20 * 1_048_576);
    const broadcast = broadcastOf(f);
    if (!recipients && groups.length === 0 && csv === undefined && !broadcast)
      throw new GatewayError('missing_field', 'give recipients, groups, csv or broadcast', 'recipients');
    const broadcasters = broadcast ? this.#broadcasters(broadcast.connectors) : [];

    const numbers = new Set<string>();
    const skipped = { invalid: 0, duplicate: 0, opted_out: 0, refused: 0 };
    const country = countryOf(this.#ctx, accountId);
    const add = (raw: string) => {
      const to = normaliseNumber(raw, country);
      if (!to) skipped.invalid++;
      else if (numbers.has(to)) skipped.duplicate++;
      else if (numbers.size >= maxRecipients)
        throw new GatewayError('too_many_recipients', `an alert reaches at most ${maxRecipients} numbers`);
      else numbers.add(to);
    };
    for (const r of recipients ?? []) add(r);
    if (csv !== undefined) {
      for await (const { raw } of csvContactRows(csv)) add(raw);
    }
    for await (const to of this.#contacts.numbersOf(accountId, groups)) add(to);
    if (numbers.size === 0 && !broadcast)
      throw new GatewayError('no_recipients', 'no valid recipient', 'recipients');

    const now = this.#ctx.now();
    const id = newId(now);
    const defaultFrom = this.#ctx.accounts.get(accountId)?.defaultFrom ?? undefined;
    const requests: SubmitRequest[] = [...numbers].map((to) => ({
      to,
      from,
      text,
      flash,
      priority: 'emergency',
      groupId: id,
      meta: { alert: id },
    }));
    const results =
      requests.length > 0 ? await this.#ctx.gateway.submitMany(accountId, requests, { defaultFrom }) : [];
    const refusals = results.flatMap((r) => ('error' in r ? [r.error] : []));
    // Refused for every recipient (a bad sender, text too long): the request is at fault.
    if (refusals.length > 0 && refusals.length === results.length) throw refusals[0]!;
    skipped.opted_out = refusals.filter((e) => e.code === 'recipient_opted_out').length;
    skipped.refused = refusals.length - skipped.opted_out;
    const broadcasts = await Promise.all(
      broadcasters.map(async ([connector, send]): Promise<AlertBroadcast> => {
        const result = await send({
          from: from ?? defaultFrom ?? '',
          text,
          areas: broadcast!.areas,
          repetitions: broadcast!.repetitions,
          frequencySeconds: broadcast!.frequencySeconds,
          validUntil: null,
        });
        return result.ok
          ? {
              connector,
              status: 'accepted',
              broadcastId: result.broadcastId,
              failedAreas: result.failedAreas,
              error: null,
            }
          : {
              connector,
              status: 'failed',
              broadcastId: null,
              failedAreas: broadcast!.areas,
              error: { code: result.code, message: result.message },
            };
      }),
    );
    return this.#ctx.store.putRecord<Alert>(
      {
        kind: alertKind,
        id,
        accountId,
        ref: null,
        status: 'sending',
        dueAt: null,
        createdAt: now,
        updatedAt: now,
        data: {
          text,
          flash,
          from: from ?? null,
          groups,
          total: results.length - refusals.length,
          skipped,
          completedAt: null,
          canceledAt: null,
          areas: broadcast?.areas ?? [],
          broadcasts,
        },
      },
      0,
    );
  }

  /** Connectors that can broadcast (`broadcast: true`), all of them or those named. */
  #broadcasters(named: string[] | undefined): Array<[string, NonNullable<Connector['broadcast']>]> {
    const all = [...this.#ctx.gateway.connectors.values()].flatMap((c) =>
      c.broadcast ? [[c.id, c.broadcast] as [string, NonNullable<Connector['broadcast']>]] : [],
    );
    const chosen = named ? all.filter(([id]) => named.includes(id)) : all;
    if (chosen.length === 0)
      throw new GatewayError(
        'broadcast_unavailable',
        'no connector is configured for cell broadcast (SMPP 5.0, broadcast: true)',
        'broadcast',
      );
    return chosen;
  }

  async get(accountId: string, id: string): Promise<StoredRecord<Alert>> {
    const record = await this.#ctx.store.getRecord<Alert>(alertKind, id);
    if (!record || record.accountId !== accountId) throw notFound('alert', id);
    return record;
  }

  list(accountId: string, query: unknown) {
    const { limit, cursor } = pageOf(query);
    return this.#ctx.store.listRecords<Alert>(alertKind, { accountId }, cursor, limit).catch(cursorRefused);
  }

  /** The alert with its message counts; `sending` becomes `completed` once nothing is left to send. */
  async view(record: StoredRecord<Alert>): Promise<Record<string, unknown>> {
    const counts = await this.#ctx.store.countByStatus(record.id);
    let current = record;
    if (record.status === 'sending' && !counts.queued && !counts.scheduled) {
      current = await this.#lock.run(record.id, async () => {
        const latest = (await this.#ctx.store.getRecord<Alert>(alertKind, record.id))!;
        if (latest.status !== 'sending') return latest;
        const now = this.#ctx.now();
        const completed = await this.#ctx.store.putRecord<Alert>(
          { ...latest, status: 'completed', updatedAt: now, data: { ...latest.data, completedAt: now } },
          latest.version,
        );
        // Once, under the lock: whoever completes it tells the account.
        await this.#ctx
          .notify(completed.accountId, 'alert.completed', alertView(completed, counts))
          .catch(() => {});
        return completed;
      });
    }
    return alertView(current, counts);
  }

  /**
   * A message of an alert left the queue: the alert is looked at (at most every quarter
   * second) and completed once nothing is left to send, with an `alert.completed` webhook.
   */
  onStatus(m: Message): void {
    const id = m.meta?.alert;
    if (typeof id !== 'string' || m.status === 'queued' || m.status === 'scheduled' || this.#checks.has(id))
      return;
    this.#checks.add(id);
    setTimeout(() => {
      this.#checks.delete(id);
      this.#ctx.store
        .getRecord<Alert>(alertKind, id)
        .then((r) => (r?.status === 'sending' ? this.view(r) : undefined))
        .catch(() => {});
    }, 250).unref();
  }

  /** Sent, delivered and failed per minute, read from the alert's messages. */
  async progress(accountId: string, id: string) {
    const record = await this.get(accountId, id);
    const minutes = new Map<number, { sent: number; delivered: number; failed: number }>();
    const bucket = (t: number) => {
      const minute = t - (t % 60_000);
      let b = minutes.get(minute);
      if (!b) {
        b = { sent: 0, delivered: 0, failed: 0 };
        minutes.set(minute, b);
      }
      return b;
    };
    let cursor: string | null = null;
    do {
      const page: { data: Message[]; nextCursor: string | null } = await this.#ctx.store.listMessages(
        { accountId, groupId: id },
        cursor,
        500,
      );
      for (const m of page.data) {
        if (m.submittedAt !== null) bucket(m.submittedAt).sent++;
        if (m.doneAt === null) continue;
        if (m.status === 'delivered') bucket(m.doneAt).delivered++;
        else if (failedStatuses.has(m.status)) bucket(m.doneAt).failed++;
      }
      cursor = page.nextCursor;
    } while (cursor);
    return {
      id: record.id,
      total: record.data.total,
      perMinute: [...minutes.entries()]
        .sort(([a], [b]) => a - b)
        .map(([minute, counts]) => ({ minute: iso(minute), ...counts })),
    };
  }

  /**
   * Stops the alert: every message not yet on its way is canceled. Returns the alert as
   * shown, with `canceledMessages`; the account is told the same.
   */
  async cancel(accountId: string, id: string): Promise<Record<string, unknown>> {
    await this.get(accountId, id);
    const record = await this.#lock.run(id, async () => {
      const latest = await this.get(accountId, id);
      if (latest.status !== 'sending')
        throw new GatewayError('not_cancelable', `alert is ${latest.status}`, undefined, 409);
      const now = this.#ctx.now();
      return this.#ctx.store.putRecord<Alert>(
        { ...latest, status: 'canceled', updatedAt: now, data: { ...latest.data, canceledAt: now } },
        latest.version,
      );
    });
    // In one store operation, the group held first: nothing of it leaves meanwhile.
    const canceled = await this.#ctx.gateway.cancelGroup(id);
    const view = {
      ...alertView(record, await this.#ctx.store.countByStatus(id)),
      canceledMessages: canceled,
    };
    await this.#ctx.notify(accountId, 'alert.canceled', view).catch(() => {});
    return view;
  }
}

/** `broadcast: {areas, repetitions?, frequencySeconds?, connectors?}` of an alert request. */
function broadcastOf(f: Fields) {
  const raw = f.raw('broadcast');
  if (raw === undefined || raw === null) return undefined;
  const b = new Fields(raw);
  const areas = b.stringList('areas', 100, 100);
  if (!areas || areas.length === 0 || areas.some((a) => a.length === 0))
    throw new GatewayError('invalid_field', 'broadcast.areas must name 1..100 areas', 'broadcast');
  return {
    areas,
    repetitions: b.integer('repetitions', 1, 65_535) ?? 1,
    frequencySeconds: b.integer('frequencySeconds', 0, 65_535) ?? 60,
    connectors: b.stringList('connectors', 100, 64),
  };
}

export function alertView(
  r: StoredRecord<Alert>,
  counts: Partial<Record<MessageStatus, number>>,
): Record<string, unknown> {
  return {
    id: r.id,
    status: r.status,
    total: r.data.total,
    counts,
    skipped: r.data.skipped,
    text: r.data.text,
    flash: r.data.flash,
    groups: r.data.groups,
    areas: r.data.areas ?? [],
    broadcasts: r.data.broadcasts ?? [],
    createdAt: iso(r.createdAt),
    completedAt: iso(r.data.completedAt),
    canceledAt: iso(r.data.canceledAt),
  };
}

export function alertRoutes(service: AlertsService): HttpPlugin {
  return async (app: FastifyInstance) => {
    const idOf = (req: { params: unknown }) => (req.params as { id: string }).id;
    // An alert's body may list recipients (20 MB of JSON, parsed whole): an account creates
    // at most 4 at once, counted before the body is read, and its bytes count as it is.
    const creations = uploadSlots(app, 4, 'alerts');
    readJsonUploads(app);
    app.post(
      '/v1/alerts',
      { bodyLimit: 20 * 1_048_576, onRequest: creations.take },
      creations.holding(async (req, reply) => {
        const record = await service.create(req.account.id, req.body);
        return reply
          .code(202)
          .send({ ...(await service.view(record)), id: record.id, total: record.data.total });
      }),
    );
    app.get('/v1/alerts', async (req) => {
      const page = await service.list(req.account.id, req.query);
      return { data: await Promise.all(page.data.map((r) => service.view(r))), nextCursor: page.nextCursor };
    });
    app.get('/v1/alerts/:id', async (req) => service.view(await service.get(req.account.id, idOf(req))));
    app.get('/v1/alerts/:id/progress', async (req) => service.progress(req.account.id, idOf(req)));
    app.post('/v1/alerts/:id/cancel', async (req) => {
      return service.cancel(req.account.id, idOf(req));
    });
  };
}
