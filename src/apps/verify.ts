// One-time passwords (Verify, statuses as Twilio Verify's): a code from a CSPRNG is sent at
// `otp` priority with the code's own validity, kept only as a salted scrypt hash in the
// verification's record (so checks survive a restart) and compared in constant time.
// Abuse (SMS pumping) meets a send limit per number, velocity limits per destination prefix
// and per account, and an allowed/blocked countries list.
import { randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { cursorRefused, type HttpPlugin } from '../api/index.ts';
import type { VerifySettingsConfig } from '../config/index.ts';
import type { Message } from '../core/index.ts';
import {
  countryOfNumber,
  destinationOf,
  fillTemplate,
  finalStatuses,
  GatewayError,
  hashPassword,
  newId,
  normaliseNumber,
  templateNames,
  type VelocityBudget,
  VelocityLimits,
  verifyPassword,
} from '../core/index.ts';
import type { StoredRecord } from '../store/index.ts';
import { type AppContext, countryOf, Fields, iso, KeyedLock, notFound, pageOf } from './shared.ts';

export type VerifySettings = Required<Omit<VerifySettingsConfig, 'from' | 'templates'>> &
  Pick<VerifySettingsConfig, 'from'> & { templates: Record<string, string> };

/** Twilio Verify's defaults where it has them: 6 digits, 10 minutes, 5 checks, 5 sends per 10 minutes. */
export const verifyDefaults: VerifySettings = {
  codeLength: 6,
  ttlSeconds: 600,
  maxChecks: 5,
  maxSends: 5,
  sendWindowSeconds: 600,
  prefixDigits: 8,
  maxPerPrefix: 30,
  maxPerAccount: 10_000,
  velocityWindowSeconds: 3600,
  allowedCountries: [],
  blockedCountries: [],
  template: 'Your verification code is {{code}}. It expires in {{minutes}} minutes.',
  templates: {
    en: 'Your verification code is {{code}}. It expires in {{minutes}} minutes.',
    fr: 'Votre code de vérification est {{code}}. Il expire dans {{minutes}} minutes.',
    de: 'Ihr Bestätigungscode lautet {{code}}. Er läuft in {{minutes}} Minuten ab.',
    es: 'Tu código de verificación es {{code}}. Caduca en {{minutes}} minutos.',
  },
};

/** The built-in texts as they read for a code valid one minute (looked up by the plural text). */
const builtInSingulars = new Map<string, string>([
  [verifyDefaults.templates.en!, 'Your verification code is {{code}}. It expires in {{minutes}} minute.'],
  [
    verifyDefaults.templates.fr!,
    'Votre code de vérification est {{code}}. Il expire dans {{minutes}} minute.',
  ],
  [verifyDefaults.templates.de!, 'Ihr Bestätigungscode lautet {{code}}. Er läuft in {{minutes}} Minute ab.'],
  [verifyDefaults.templates.es!, 'Tu código de verificación es {{code}}. Caduca en {{minutes}} minuto.'],
]);

export const verifyKind = 'verify';
export const verifyStatuses = ['pending', 'approved', 'canceled', 'max_attempts_reached', 'expired'] as const;
export type VerifyStatus = (typeof verifyStatuses)[number];

export interface Verification {
  to: string;
  /** `scrypt$salt$hash` of the code last sent (a resend replaces it). */
  codeHash: string;
  codeLength: number;
  /** Each code's lifetime; a resend starts it again. */
  ttlSeconds: number;
  expiresAt: number;
  checks: number;
  maxChecks: number;
  /** When each code was sent: the per-number send limit counts these. */
  sends: number[];
  messageIds: string[];
  locale: string | null;
  /** What the codes are sent with (a resend uses them again). */
  template: string;
  from: string | null;
  /** What an API groups verifications by (a Twilio Verify Service sid); null for none. */
  tag: string | null;
}

export interface StartVerification {
  to: string;
  codeLength?: number;
  ttlSeconds?: number;
  template?: string;
  locale?: string;
  from?: string;
  tag?: string;
  /**
   * The code to send and check, chosen by the caller (Twilio Verify's CustomCode, validated
   * there); by default a random one of `codeLength` digits. A resend sends a random one.
   */
  code?: string;
  /** Android SMS Retriever's app hash, put on a line of its own at the end of the text. */
  appHash?: string;
}

/** Refused for now; the HTTP layer adds `Retry-After`. */
export class RetryLater extends GatewayError {
  readonly retryAfterSeconds: number;

  constructor(code: string, message: string, waitMs: number) {
    super(code, message, 'to', 429);
    this.retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  }
}

export class VerifyService {
  readonly #ctx: AppContext;
  readonly #settings: (accountId: string) => VerifySettings;
  /** Velocity per destination prefix and per account (memory: a restart forgives). */
  // In a cluster, this gateway's share of each limit.
  readonly #velocity = new VelocityLimits(() => this.#ctx.gateway.shares.fraction);
  readonly #lock = new KeyedLock();

  constructor(ctx: AppContext, settings: (accountId: string) => VerifySettings) {
    this.#ctx = ctx;
    this.#settings = settings;
  }

  async start(accountId: string, req: StartVerification): Promise<StoredRecord<Verification>> {
    const s = this.#settings(accountId);
    const to = destinationOf(req.to, countryOf(this.#ctx, accountId));
    if (!to.startsWith('+'))
      throw new GatewayError('invalid_number', `'${req.to}' is not an international phone number`, 'to');
    const country = countryOfNumber(to);
    if (
      !country ||
      s.blockedCountries.includes(country) ||
      (s.allowedCountries.length > 0 && !s.allowedCountries.includes(country))
    ) {
      throw new GatewayError(
        'country_not_allowed',
        `verifications to ${country ?? 'this destination'} are not allowed for this account`,
        'to',
        403,
      );
    }
    const codeLength = req.code?.length ?? req.codeLength ?? s.codeLength;
    const ttlSeconds = req.ttlSeconds ?? s.ttlSeconds;
    const template =
      (req.template ?? (req.locale ? templateFor(s, req.locale) : s.template)) +
      (req.appHash ? `\n${req.appHash}` : '');
    return this.#lock.run(`${accountId}\0${to}`, async () => {
      const now = this.#ctx.now();
      const previous = await this.#recent(accountId, to);
      this.#checkSendLimit(s, previous, now);
      this.#checkVelocity(accountId, s, to);
      const code = req.code ?? newCode(codeLength);
      const record = await this.#ctx.store.putRecord<Verification>(
        {
          kind: verifyKind,
          id: newId(now),
          accountId,
          ref: to,
          status: 'pending',
          dueAt: null,
          createdAt: now,
          updatedAt: now,
          data: {
            to,
            codeHash: await hashPassword(code),
            codeLength,
            ttlSeconds,
            expiresAt: now + ttlSeconds * 1000,
            checks: 0,
            maxChecks: s.maxChecks,
            sends: [now],
            messageIds: [],
            locale: req.locale ?? null,
            template,
            from: req.from ?? s.from ?? null,
            tag: req.tag ?? null,
          },
        },
        0,
      );
      const sent = await this.#send(accountId, record, code, {
        status: 'canceled',
        data: { ...record.data, sends: [] },
      });
      // Only the newest code for a number is worth guessing at: older ones stop working.
      for (const old of previous) {
        if (old.status === 'pending')
          await this.#ctx.store
            .putRecord({ ...old, status: 'canceled', updatedAt: now }, old.version)
            .catch(() => {});
      }
      return sent;
    });
  }

  /** A new code for a pending verification (the old one stops working); counts as a send. */
  async resend(accountId: string, id: string): Promise<StoredRecord<Verification>> {
    const s = this.#settings(accountId);
    return this.#locked(accountId, id, async (record) => {
      if (record.status !== 'pending')
        throw new GatewayError('not_pending', `verification is ${record.status}`, undefined, 409);
      const now = this.#ctx.now();
      this.#checkSendLimit(s, await this.#recent(accountId, record.data.to), now);
      this.#checkVelocity(accountId, s, record.data.to);
      const code = newCode(record.data.codeLength);
      const updated = await this.#ctx.store.putRecord<Verification>(
        {
          ...record,
          updatedAt: now,
          data: {
            ...record.data,
            codeHash: await hashPassword(code),
            expiresAt: now + record.data.ttlSeconds * 1000,
            sends: [...record.data.sends, now],
          },
        },
        record.version,
      );
      return this.#send(accountId, updated, code, record);
    });
  }

  /**
   * The account's verifications, newest first; `to` only those to one number. A pending one
   * past its time reads `expired`, as `get` has it (without writing it so).
   */
  async list(accountId: string, query: unknown) {
    const to = new Fields(query ?? {}).string('to', 32);
    const { limit, cursor } = pageOf(query);
    const now = this.#ctx.now();
    const page = await this.#ctx.store
      .listRecords<Verification>(
        verifyKind,
        {
          accountId,
          ref: to === undefined ? undefined : (normaliseNumber(to, countryOf(this.#ctx, accountId)) ?? to),
        },
        cursor,
        limit,
      )
      .catch(cursorRefused);
    return {
      data: page.data.map((r) =>
        r.status === 'pending' && now >= r.data.expiresAt ? { ...r, status: 'expired' } : r,
      ),
      nextCursor: page.nextCursor,
    };
  }

  /** The verification as it is now (a pending one past its time reads `expired`). */
  async get(accountId: string, id: string): Promise<StoredRecord<Verification>> {
    const record = await this.#ctx.store.getRecord<Verification>(verifyKind, id);
    if (!record || record.accountId !== accountId) throw notFound('verification', id);
    if (record.status === 'pending' && this.#ctx.now() >= record.data.expiresAt) {
      return this.#ctx.store
        .putRecord({ ...record, status: 'expired', updatedAt: this.#ctx.now() }, record.version)
        .catch(() => ({ ...record, status: 'expired' }));
    }
    return record;
  }

  async check(
    accountId: string,
    id: string,
    code: string,
  ): Promise<{ record: StoredRecord<Verification>; valid: boolean }> {
    return this.#locked(accountId, id, async (record) => {
      if (record.status === 'approved' || record.status === 'canceled')
        // As Twilio: a verification that is over cannot be checked again.
        throw new GatewayError('not_found', `verification ${id} is ${record.status}`, 'id', 404);
      if (record.status !== 'pending') return { record, valid: false };
      const matches = await verifyPassword(code, record.data.codeHash);
      const checks = record.data.checks + 1;
      const status: VerifyStatus = matches
        ? 'approved'
        : checks >= record.data.maxChecks
          ? 'max_attempts_reached'
          : 'pending';
      const updated = await this.#ctx.store.putRecord<Verification>(
        { ...record, status, updatedAt: this.#ctx.now(), data: { ...record.data, checks } },
        record.version,
      );
      return { record: updated, valid: matches };
    });
  }

  async cancel(accountId: string, id: string): Promise<StoredRecord<Verification>> {
    return this.#locked(accountId, id, async (record) => {
      if (record.status !== 'pending')
        throw new GatewayError('not_pending', `verification is ${record.status}`, undefined, 409);
      const lastMessage = record.data.messageIds.at(-1);
      if (lastMessage) await this.#ctx.gateway.cancel(accountId, lastMessage).catch(() => {});
      return this.#ctx.store.putRecord<Verification>(
        { ...record, status: 'canceled', updatedAt: this.#ctx.now() },
        record.version,
      );
    });
  }

  /**
   * Once a code's message has left (or will not), its stored text loses the code: the code
   * lives on only as its hash. Called before the status goes to webhooks, which then show
   * the masked text too. (While queued, the message must keep its text to be sent.)
   */
  redact(m: Message): void {
    const masked = m.meta?.masked;
    if (m.direction !== 'mt' || !m.meta?.verify || typeof masked !== 'string' || m.text === masked) return;
    if (m.status !== 'submitted' && !finalStatuses.has(m.status)) return;
    m.text = masked;
    this.#ctx.store.updateMessage(m.id, { text: masked }).catch(() => {});
  }

  /**
   * Runs `task` on the verification as it is once every earlier operation on its number
   * (a start, resend, check, cancel) is done: its compare-and-set writes never collide.
   */
  async #locked<T>(
    accountId: string,
    id: string,
    task: (r: StoredRecord<Verification>) => Promise<T>,
  ): Promise<T> {
    const { to } = (await this.get(accountId, id)).data;
    return this.#lock.run(`${accountId}\0${to}`, async () => task(await this.get(accountId, id)));
  }

  /** The account's recent verifications to this number, newest first. */
  async #recent(accountId: string, to: string): Promise<StoredRecord<Verification>[]> {
    return (await this.#ctx.store.listRecords<Verification>(verifyKind, { accountId, ref: to }, null, 100))
      .data;
  }

  /** At most maxSends codes to one number per window, counted from the stored records. */
  #checkSendLimit(s: VerifySettings, recent: StoredRecord<Verification>[], now: number): void {
    const since = now - s.sendWindowSeconds * 1000;
    const sends = recent
      .flatMap((r) => r.data.sends)
      .filter((t) => t > since)
      .sort((a, b) => a - b);
    if (sends.length < s.maxSends) return;
    throw new RetryLater(
      'max_send_attempts_reached',
      `at most ${s.maxSends} codes to one number per ${s.sendWindowSeconds} s`,
      sends[sends.length - s.maxSends]! + s.sendWindowSeconds * 1000 - now,
    );
  }

  /** Takes one send from the prefix's and the account's budgets, or refuses if either is spent. */
  #checkVelocity(accountId: string, s: VerifySettings, to: string): void {
    const window = s.velocityWindowSeconds;
    const prefix = to.slice(1, 1 + s.prefixDigits);
    const budgets: Array<VelocityBudget & { what: string }> = [];
    if (s.maxPerPrefix > 0)
      budgets.push({
        key: `p\0${accountId}\0${prefix}`,
        max: s.maxPerPrefix,
        windowSeconds: window,
        what: `at most ${s.maxPerPrefix} codes per ${window} s to numbers starting +${prefix}`,
      });
    if (s.maxPerAccount > 0)
      budgets.push({
        key: `a\0${accountId}`,
        max: s.maxPerAccount,
        windowSeconds: window,
        what: `at most ${s.maxPerAccount} codes per ${window} s for this account`,
      });
    const spent = this.#velocity.take(budgets);
    if (spent)
      throw new RetryLater(
        'verify_rate_limited',
        (spent.budget as (typeof budgets)[number]).what,
        spent.waitMs,
      );
  }

  async #send(
    accountId: string,
    record: StoredRecord<Verification>,
    code: string,
    /** What the record goes back to when the message is refused. */
    unsent: Pick<StoredRecord<Verification>, 'status' | 'data'>,
  ): Promise<StoredRecord<Verification>> {
    const { ttlSeconds } = record.data;
    const minutes = Math.max(1, Math.round(ttlSeconds / 60));
    const template = (minutes === 1 && builtInSingulars.get(record.data.template)) || record.data.template;
    const fill = (shownCode: string) => fillTemplate(template, { code: shownCode, minutes: String(minutes) });
    const text = fill(code);
    let message: Awaited<ReturnType<AppContext['gateway']['submit']>>;
    try {
      message = await this.#ctx.gateway.submit(
        accountId,
        {
          to: record.data.to,
          from: record.data.from ?? undefined,
          text,
          priority: 'otp',
          // A code is worth nothing once it expired: the carrier may drop it then too.
          validitySeconds: ttlSeconds,
          groupId: record.id,
          // What the stored text becomes once it has left (see redact).
          meta: { verify: record.id, masked: fill('*'.repeat(code.length)) },
        },
        { defaultFrom: this.#ctx.accounts.get(accountId)?.defaultFrom ?? undefined },
      );
    } catch (err) {
      // Nothing went out: the send does not count and the new code does not stand.
      await this.#ctx.store
        .putRecord({ ...record, status: unsent.status, data: unsent.data }, record.version)
        .catch(() => {});
      throw err;
    }
    return this.#ctx.store.putRecord<Verification>(
      { ...record, data: { ...record.data, messageIds: [...record.data.messageIds, message.id] } },
      record.version,
    );
  }
}

function newCode(length: number): string {
  return String(randomInt(0, 10 ** length)).padStart(length, '0');
}

function templateFor(s: VerifySettings, locale: string): string {
  return s.templates[locale] ?? s.templates[locale.split('-')[0]!.toLowerCase()] ?? s.template;
}

export function verificationView(r: StoredRecord<Verification>): Record<string, unknown> {
  return {
    id: r.id,
    to: r.data.to,
    status: r.status,
    channel: 'sms',
    codeLength: r.data.codeLength,
    attempts: r.data.checks,
    maxAttempts: r.data.maxChecks,
    sends: r.data.sends.length,
    locale: r.data.locale,
    messageId: r.data.messageIds.at(-1) ?? null,
    expiresAt: iso(r.data.expiresAt),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

export function verifyRoutes(service: VerifyService): HttpPlugin {
  return async (app: FastifyInstance) => {
    app.addHook('onError', async (_req, reply, err) => {
      if (err instanceof RetryLater) reply.header('retry-after', String(err.retryAfterSeconds));
    });
    app.post('/v1/verify', async (req, reply) => {
      const f = new Fields(req.body);
      const template = f.string('template', 480);
      if (template !== undefined && !templateNames(template).includes('code'))
        throw new GatewayError('invalid_template', 'template must hold {{code}}', 'template');
      const locale = f.string('locale', 16);
      if (locale !== undefined && !/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/.test(locale))
        throw new GatewayError('invalid_field', 'locale must be a language tag (en, pt-BR)', 'locale');
      const record = await service.start(req.account.id, {
        to: f.requiredString('to', 32),
        codeLength: f.integer('codeLength', 4, 10),
        ttlSeconds: f.integer('ttlSeconds', 30, 86_400),
        template,
        locale,
        from: f.string('from', 20),
      });
      return reply.code(201).send(verificationView(record));
    });
    app.get('/v1/verify', async (req) => {
      const page = await service.list(req.account.id, req.query);
      return { data: page.data.map(verificationView), nextCursor: page.nextCursor };
    });
    app.get('/v1/verify/:id', async (req) =>
      verificationView(await service.get(req.account.id, (req.params as { id: string }).id)),
    );
    app.post('/v1/verify/:id/check', async (req) => {
      const f = new Fields(req.body);
      const raw = f.raw('code');
      const { id } = req.params as { id: string };
      // A code given as a JSON number lost its leading zeros: they are put back.
      const code =
        typeof raw === 'number' && Number.isInteger(raw) && raw >= 0
          ? String(raw).padStart((await service.get(req.account.id, id)).data.codeLength, '0')
          : f.requiredString('code', 32);
      const { record, valid } = await service.check(req.account.id, id, code);
      return { ...verificationView(record), valid };
    });
    app.post('/v1/verify/:id/resend', async (req) =>
      verificationView(await service.resend(req.account.id, (req.params as { id: string }).id)),
    );
    app.post('/v1/verify/:id/cancel', async (req) =>
      verificationView(await service.cancel(req.account.id, (req.params as { id: string }).id)),
    );
  };
}
