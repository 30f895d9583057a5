// Twilio's Messaging API (CONTRACT §6): /2010-04-01/Accounts/{AccountSid}/Messages.json and
// /Messages/{Sid}.json (create, fetch, list with Twilio's paging, update to cancel or redact,
// delete), Twilio's JSON and error bodies, status callbacks signed with X-Twilio-Signature,
// and inbound messages POSTed to the account's smsUrl with a TwiML <Message> reply sent back.
import type { XMLParser } from 'fast-xml-parser';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpPlugin } from '../api/index.ts';
import type { Account, Message } from '../core/index.ts';
import {
  GatewayError,
  messagePrice,
  normaliseNumber,
  normaliseSender,
  StoreUnavailableError,
} from '../core/index.ts';
import { chooseEncoding } from '../sms/index.ts';
import type { WebhookDelivery } from '../store/index.ts';
import { twilioSignature } from '../webhooks/index.ts';
import { type CompatContext, guardedLogin, maxKeptChars } from './context.ts';
import { FormParams, rawBodies } from './form.ts';

const apiVersion = '2010-04-01';
const idAlphabet = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Our ids are 26 base32 digits of which only 128 bits are used (a 48-bit time, good for
 * thousands of years, and 80 random bits): a Message SID is those bits in hex, both ways.
 */
export function sidOf(id: string, prefix = 'SM'): string {
  let n = 0n;
  for (const ch of id) n = n * 32n + BigInt(idAlphabet.indexOf(ch));
  return `${prefix}${n.toString(16).padStart(32, '0')}`;
}

/** The id a sid of one of `prefixes` (Message SIDs by default) stands for. */
export function idOfSid(sid: string, prefixes: readonly string[] = ['SM', 'MM']): string | undefined {
  if (!/^[A-Z]{2}[0-9a-f]{32}$/.test(sid) || !prefixes.includes(sid.slice(0, 2))) return undefined;
  let n = BigInt(`0x${sid.slice(2)}`);
  let id = '';
  for (let i = 0; i < 26; i++) {
    id = idAlphabet[Number(n % 32n)] + id;
    n /= 32n;
  }
  return id;
}

/** Kept with each message sent through this API (Message.meta.twilio). */
interface TwilioMeta {
  statusCallback?: string;
  messagingServiceSid?: string;
  redacted?: boolean;
  deleted?: boolean;
}

export class TwilioError extends Error {
  readonly status: number;
  readonly code: number;
  constructor(status: number, code: number, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const notFound = (path: string) =>
  new TwilioError(404, 20404, `The requested resource ${path} was not found`);

/**
 * Refuses a parameter the operation does not act on, rather than dropping it: one not in
 * `known`, or one of `fixed` (a Twilio option this gateway does not offer) given with
 * another value than the one it acts as. `code`: the API's code for a bad parameter
 * (Messaging 20001, Verify 60200).
 */
export function refuseUnknownParams(
  p: FormParams,
  known: ReadonlySet<string>,
  fixed: Readonly<Record<string, string>> = {},
  code = 20001,
): void {
  for (const name of p.names()) {
    const only = fixed[name];
    if (only === undefined && !known.has(name))
      throw new TwilioError(400, code, `Unknown parameter: ${name} is not supported by this gateway`);
    if (only !== undefined && p.get(name)?.toLowerCase() !== only)
      throw new TwilioError(
        400,
        code,
        `Invalid parameter ${name}: only ${only} is supported by this gateway`,
      );
  }
}

const createParams = new Set([
  'To',
  'From',
  'Body',
  'MessagingServiceSid',
  'StatusCallback',
  'ValidityPeriod',
  'SendAt',
  'ScheduleType',
  'SmartEncoded',
  'MediaUrl',
]);
/** Options of Messages create taken only as what this gateway does anyway. */
const createFixed = {
  ShortenUrls: 'false',
  ProvideFeedback: 'false',
  SendAsMms: 'false',
  ForceDelivery: 'false',
  ContentRetention: 'retain',
  AddressRetention: 'retain',
  RiskCheck: 'disable',
};
const updateParams = new Set(['Status', 'Body']);
const listParams = new Set([
  'To',
  'From',
  'DateSent',
  'DateSent<',
  'DateSent>',
  'PageSize',
  'Page',
  'PageToken',
]);

/** Our refusals in Twilio's terms, by code string (the field tells which of a pair). */
function twilioErrorOf(err: GatewayError): TwilioError {
  switch (err.code) {
    case 'invalid_number':
      return new TwilioError(400, 21211, `Invalid 'To' Phone Number: ${err.message}`);
    case 'invalid_sender':
      return new TwilioError(400, 21212, `Invalid 'From' Phone Number: ${err.message}`);
    case 'missing_field':
      return err.field === 'from'
        ? new TwilioError(400, 21603, "A 'From' phone number is required.")
        : err.field === 'to'
          ? new TwilioError(400, 21604, "A 'To' phone number is required.")
          : new TwilioError(400, 21602, 'Message body is required.');
    case 'empty_text':
      return new TwilioError(400, 21602, 'Message body is required.');
    case 'too_many_parts':
    case 'text_too_long':
      return new TwilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    case 'sender_not_allowed':
      return new TwilioError(
        400,
        21606,
        `The 'From' phone number is not a valid, SMS-capable phone number for your account: ${err.message}`,
      );
    case 'no_sender':
      return new TwilioError(
        400,
        21704,
        `The Messaging Service has no sender for this number: ${err.message}`,
      );
    case 'not_mobile':
      return new TwilioError(400, 21614, `'To' number is not a valid mobile number: ${err.message}`);
    case 'recipient_opted_out':
      return new TwilioError(400, 21610, 'Attempt to send to unsubscribed recipient');
    case 'no_route':
      return new TwilioError(400, 21612, `The 'To' phone number is not currently reachable: ${err.message}`);
    case 'invalid_send_at':
      return new TwilioError(400, 35114, 'Scheduling does not support this timestamp');
    case 'invalid_validity':
      return new TwilioError(400, 90007, 'Invalid validity period value');
    case 'not_cancelable':
      return new TwilioError(400, 20009, `Message cannot be canceled: ${err.message}`);
    case 'rate_limited':
      return new TwilioError(429, 20429, 'Too Many Requests');
    case 'insufficient_balance':
      return new TwilioError(402, 20005, `Account not active: insufficient funds (${err.message})`);
    case 'destination_not_allowed':
      return new TwilioError(
        400,
        21408,
        `Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${err.message}`,
      );
    case 'quota_exceeded':
      return new TwilioError(429, 63038, `Account exceeded the messages limit: ${err.message}`);
    case 'destination_rate_limited':
      return new TwilioError(429, 14107, `Message rate limit exceeded: ${err.message}`);
    default:
      return new TwilioError(err.httpStatus, err.httpStatus === 503 ? 20503 : 20001, err.message);
  }
}

const twilioStatus: Record<Message['status'], string> = {
  scheduled: 'scheduled',
  queued: 'queued',
  // Held with its batch (paused or uploading): waiting to go, as Twilio's queue is.
  paused: 'queued',
  sending: 'sending',
  submitted: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  expired: 'failed',
  rejected: 'failed',
  failed: 'failed',
  canceled: 'canceled',
  received: 'received',
};

/** Twilio's numeric error code for a message that did not get through. */
function errorCodeOf(m: Message): number | null {
  if (!m.error) return null;
  switch (m.status) {
    case 'undelivered':
      return 30003;
    case 'expired':
      return 30036;
    case 'rejected':
      return 30007;
    case 'failed':
      return 30008;
    default:
      return null;
  }
}

/** RFC 2822, as Twilio writes dates: `Thu, 24 Aug 2023 05:01:45 +0000`. */
function rfc2822(t: number | null): string | null {
  return t === null ? null : new Date(t).toUTCString().replace('GMT', '+0000');
}

function messageJson(m: Message, accountSid: string) {
  const meta = (m.meta?.twilio ?? {}) as TwilioMeta;
  const sid = sidOf(m.id);
  const uri = `/${apiVersion}/Accounts/${accountSid}/Messages/${sid}`;
  const errorCode = errorCodeOf(m);
  return {
    account_sid: accountSid,
    api_version: apiVersion,
    body: meta.redacted ? '' : (m.text ?? m.binary?.toString('hex') ?? ''),
    date_created: rfc2822(m.createdAt),
    date_sent: rfc2822(m.direction === 'mo' ? m.createdAt : m.submittedAt),
    date_updated: rfc2822(Math.max(m.createdAt, m.submittedAt ?? 0, m.doneAt ?? 0)),
    direction: m.direction === 'mt' ? 'outbound-api' : 'inbound',
    error_code: errorCode,
    error_message: errorCode === null ? null : (m.error?.message ?? null),
    from: m.from,
    messaging_service_sid: meta.messagingServiceSid ?? null,
    num_media: '0',
    num_segments: String(m.segments),
    // Twilio writes what a message cost as a negative decimal string.
    price: m.priceMicros ? (-messagePrice(m)!).toFixed(5) : null,
    price_unit: m.currency ?? 'USD',
    sid,
    status: twilioStatus[m.status],
    subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
    to: m.to,
    uri: `${uri}.json`,
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    twilioAccount: Account & { twilio: { accountSid: string } };
  }
}

/**
 * What every Twilio API scope has: form bodies kept raw, Twilio's error bodies, and Basic
 * auth as `AccountSid:apiKey` (an `:AccountSid` in the path must be the same account).
 */
export function twilioScope(app: FastifyInstance, ctx: CompatContext): void {
  rawBodies(app);
  app.decorateRequest('twilioAccount', null as unknown as FastifyRequest['twilioAccount']);
  const send = (reply: FastifyReply, e: TwilioError) =>
    reply.code(e.status).send({
      code: e.code,
      message: e.message,
      more_info: `https://www.twilio.com/docs/errors/${e.code}`,
      status: e.status,
    });
  app.setErrorHandler(async (err: Error & { statusCode?: number }, _req, reply) => {
    // As on the REST API: an unexpected error while the store cannot write is the store's.
    if (!(err instanceof TwilioError || err instanceof GatewayError) && !err.statusCode) {
      if (!(await ctx.gateway.checkStore())) err = new StoreUnavailableError();
    }
    if (err instanceof TwilioError) return send(reply, err);
    if (err instanceof StoreUnavailableError) reply.header('retry-after', String(err.retryAfterSeconds));
    if (err instanceof GatewayError) return send(reply, twilioErrorOf(err));
    if (err.statusCode && err.statusCode < 500)
      return send(reply, new TwilioError(err.statusCode, 20001, err.message));
    app.log.error(err);
    return send(reply, new TwilioError(500, 20500, 'Internal Server Error'));
  });
  app.addHook('onRequest', async (req, reply) => {
    const auth = req.headers.authorization ?? '';
    const decoded = /^basic[ \t]/i.test(auth) ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const sid = decoded.slice(0, colon);
    const key = decoded.slice(colon + 1);
    const authenticate = () => {
      reply.header('www-authenticate', 'Basic realm="Twilio API"');
      return new TwilioError(401, 20003, 'Authenticate');
    };
    if (colon <= 0) throw authenticate();
    const account = await guardedLogin(
      ctx,
      req,
      reply,
      `twilio:${sid}`,
      () => {
        const found = ctx.accounts.byApiKey(key);
        return found?.twilio?.accountSid === sid ? found : undefined;
      },
      { locked: () => new TwilioError(429, 20429, 'Too Many Requests'), refused: authenticate },
      key,
    );
    const { AccountSid } = (req.params ?? {}) as { AccountSid?: string };
    if (AccountSid !== undefined && AccountSid !== sid) throw notFound(req.url.split('?')[0]!);
    // An account with no configured key still gets signed callbacks while it runs.
    if (!ctx.authTokens.has(account.id)) ctx.authTokens.set(account.id, key);
    req.twilioAccount = account as FastifyRequest['twilioAccount'];
  });
}

export function twilioApi(ctx: CompatContext): HttpPlugin {
  return async (app) => {
    twilioScope(app, ctx);
    const prefix = `/${apiVersion}/Accounts/:AccountSid`;
    app.post(`${prefix}/Messages.json`, async (req, reply) => create(ctx, req, reply));
    app.get(`${prefix}/Balance.json`, async (req) => {
      const billing = ctx.billing ? await ctx.billing.balance(req.twilioAccount.id) : null;
      return {
        account_sid: req.twilioAccount.twilio.accountSid,
        balance: (billing?.balance ?? 0).toFixed(2),
        currency: billing?.currency ?? 'USD',
      };
    });
    app.get(`${prefix}/Messages.json`, async (req) => list(ctx, req));
    app.get(`${prefix}/Messages/:MessageSid.json`, async (req) => {
      const m = await ownMessage(ctx, req);
      return messageJson(ctx.gateway.live(m), req.twilioAccount.twilio.accountSid);
    });
    app.post(`${prefix}/Messages/:MessageSid.json`, async (req) => update(ctx, req));
    app.delete(`${prefix}/Messages/:MessageSid.json`, async (req, reply) => {
      const m = ctx.gateway.live(await ownMessage(ctx, req));
      if (
        m.status === 'queued' ||
        m.status === 'paused' ||
        m.status === 'sending' ||
        m.status === 'submitted' ||
        m.status === 'scheduled'
      )
        throw new TwilioError(400, 20009, 'Cannot delete message because delivery has not been completed.');
      // Kept for the gateway's own accounting, but gone from this API and its text erased.
      await ctx.gateway.store.updateMessage(m.id, {
        text: m.text === null ? null : '',
        meta: { ...m.meta, twilio: { ...(m.meta?.twilio as TwilioMeta), redacted: true, deleted: true } },
      });
      return reply.code(204).send();
    });
  };
}

async function ownMessage(ctx: CompatContext, req: FastifyRequest): Promise<Message> {
  const { MessageSid } = req.params as { MessageSid: string };
  const id = idOfSid(MessageSid);
  const m = id === undefined ? null : await ctx.gateway.store.getMessage(id);
  if (!m || m.accountId !== req.twilioAccount.id || (m.meta?.twilio as TwilioMeta | undefined)?.deleted)
    throw notFound(req.url.split('?')[0]!);
  return m;
}

async function create(ctx: CompatContext, req: FastifyRequest, reply: FastifyReply) {
  const account = req.twilioAccount;
  const p = FormParams.ofRequest(req);
  // No MMS: media is refused even beside a body, never dropped.
  if (p.has('MediaUrl')) throw new TwilioError(400, 21620, 'Media messages (MMS) are not supported');
  refuseUnknownParams(p, createParams, createFixed);
  const to = p.get('To');
  if (!to) throw new TwilioError(400, 21604, "A 'To' phone number is required.");
  const messagingServiceSid = p.get('MessagingServiceSid');
  // A service of the account's (`services`, by its sid or id) picks the sender when From is
  // not given; one it does not have is echoed, and From defaults to the account's defaultFrom.
  const service =
    messagingServiceSid !== undefined && ctx.gateway.hasService(account.id, messagingServiceSid)
      ? messagingServiceSid
      : undefined;
  const from = p.get('From') ?? (messagingServiceSid ? (account.defaultFrom ?? undefined) : undefined);
  if (!from && !account.defaultFrom && !service)
    throw new TwilioError(400, 21603, "A 'From' phone number is required.");
  const written = p.get('Body');
  if (written === undefined || written.length === 0)
    throw new TwilioError(400, 21602, 'Message body is required.');
  const smartEncoded = p.get('SmartEncoded')?.toLowerCase();
  if (smartEncoded !== undefined && smartEncoded !== 'true' && smartEncoded !== 'false')
    throw new TwilioError(400, 20001, 'Invalid parameter SmartEncoded: true or false');
  // Smart encoding: look-alike characters become GSM ones where that avoids UCS-2.
  const body = smartEncoded === 'true' ? chooseEncoding(written, { smartReplace: true }).text : written;
  if (body.length > 1600)
    throw new TwilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
  const statusCallback = p.get('StatusCallback');
  if (statusCallback !== undefined && statusCallback.length > maxKeptChars)
    throw new TwilioError(400, 21609, `The StatusCallback URL is longer than ${maxKeptChars} characters.`);
  if (statusCallback !== undefined && !/^https?:\/\/[^\s]+$/.test(statusCallback))
    throw new TwilioError(400, 21609, `The StatusCallback URL ${statusCallback} is not a valid URL.`);
  const callbackRefusal = statusCallback === undefined ? null : await ctx.callbacks.refusal(statusCallback);
  if (callbackRefusal !== null)
    throw new TwilioError(
      400,
      21609,
      `The StatusCallback URL ${statusCallback} is not allowed: it ${callbackRefusal}.`,
    );
  const validity = p.get('ValidityPeriod');
  if (
    validity !== undefined &&
    !(/^\d+$/.test(validity) && Number(validity) >= 1 && Number(validity) <= 36000)
  )
    throw new TwilioError(400, 90007, 'Invalid validity period value: give whole seconds 1..36000');
  const sendAtText = p.get('SendAt');
  let sendAt: number | undefined;
  if (sendAtText === undefined && p.has('ScheduleType'))
    throw new TwilioError(400, 35111, 'SendAt is required to schedule a message');
  if (sendAtText !== undefined) {
    if (p.get('ScheduleType') !== 'fixed')
      throw new TwilioError(400, 35111, "ScheduleType must be 'fixed' to schedule a message");
    sendAt = Date.parse(sendAtText);
    if (!Number.isFinite(sendAt) || sendAt > Date.now() + 35 * 24 * 3600_000)
      throw new TwilioError(400, 35114, 'Scheduling does not support this timestamp');
  }
  const wait = ctx.limits.take(account);
  if (wait > 0) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(wait / 1000))));
    throw new TwilioError(429, 20429, 'Too Many Requests');
  }
  const meta: TwilioMeta = {
    ...(statusCallback ? { statusCallback } : {}),
    ...(messagingServiceSid ? { messagingServiceSid } : {}),
  };
  const submitting = ctx.gateway.submit(
    account.id,
    {
      to,
      from: service && p.get('From') === undefined ? undefined : from,
      ...(service ? { service } : {}),
      text: body,
      ...(validity !== undefined ? { validitySeconds: Number(validity) } : {}),
      ...(sendAt !== undefined ? { sendAt } : {}),
      origin: 'http',
      meta: { twilio: meta },
    },
    { defaultFrom: account.defaultFrom ?? undefined, country: account.defaultCountry },
  );
  // Only accepted messages use the account's rate.
  submitting.catch(() => ctx.limits.giveBack(account));
  const message = await submitting;
  return reply.code(201).send(messageJson(message, account.twilio.accountSid));
}

/** Cancels a message not yet sent (Status=canceled) or erases its text (Body=""). */
async function update(ctx: CompatContext, req: FastifyRequest) {
  const account = req.twilioAccount;
  const m = await ownMessage(ctx, req);
  const p = FormParams.ofRequest(req);
  refuseUnknownParams(p, updateParams);
  const status = p.get('Status');
  const body = p.get('Body');
  if (status !== undefined && body !== undefined)
    throw new TwilioError(400, 20001, 'Give Status or Body, not both');
  if (status !== undefined) {
    if (status !== 'canceled') throw new TwilioError(400, 20001, "Status may only be set to 'canceled'");
    const canceled = await ctx.gateway.cancel(account.id, m.id);
    return messageJson(canceled ?? m, account.twilio.accountSid);
  }
  if (body !== undefined) {
    if (body !== '')
      throw new TwilioError(400, 20001, 'Body may only be set to the empty string (redaction)');
    const live = ctx.gateway.live(m);
    if (['queued', 'paused', 'sending', 'scheduled'].includes(live.status))
      throw new TwilioError(400, 20009, 'Cannot redact a message that has not been sent yet.');
    const meta = { ...m.meta, twilio: { ...(m.meta?.twilio as TwilioMeta), redacted: true } };
    await ctx.gateway.store.updateMessage(m.id, { text: m.text === null ? null : '', meta });
    return messageJson({ ...live, text: m.text === null ? null : '', meta }, account.twilio.accountSid);
  }
  return messageJson(ctx.gateway.live(m), account.twilio.accountSid);
}

const maxPageSize = 1000;

async function list(ctx: CompatContext, req: FastifyRequest) {
  const account = req.twilioAccount;
  const sid = account.twilio.accountSid;
  const p = FormParams.ofRequest(req);
  refuseUnknownParams(p, listParams);
  const pageSize = Number(p.get('PageSize') ?? '50');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxPageSize)
    throw new TwilioError(400, 20001, `PageSize must be an integer 1..${maxPageSize}`);
  const page = Number(p.get('Page') ?? '0');
  if (!Number.isInteger(page) || page < 0) throw new TwilioError(400, 20001, 'Page must be a whole number');
  const token = p.get('PageToken') ?? null;
  // Pages are read by token: a page number alone cannot be jumped to.
  if (page > 0 && token === null)
    throw new TwilioError(400, 20001, 'Page needs its PageToken: follow next_page_uri');
  const toText = p.get('To');
  const to = toText === undefined ? undefined : (normaliseNumber(toText, account.defaultCountry) ?? toText);
  const fromText = p.get('From');
  const from =
    fromText === undefined ? undefined : (normaliseSender(fromText, account.defaultCountry) ?? fromText);
  const day = (name: string) => {
    const v = p.get(name);
    if (v === undefined) return undefined;
    const t = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
    if (!Number.isFinite(t)) throw new TwilioError(400, 20001, `${name} must be a date (YYYY-MM-DD)`);
    return t;
  };
  const on = day('DateSent');
  const before = day('DateSent<');
  const after = day('DateSent>');
  const sentAt = (m: Message) => (m.direction === 'mo' ? m.createdAt : (m.submittedAt ?? m.createdAt));
  const wanted = (m: Message) =>
    !(m.meta?.twilio as TwilioMeta | undefined)?.deleted &&
    (from === undefined || m.from === from) &&
    (on === undefined || (sentAt(m) >= on && sentAt(m) < on + 86_400_000)) &&
    (before === undefined || sentAt(m) < before + 86_400_000) &&
    (after === undefined || sentAt(m) >= after);
  const found = await ctx.gateway.store
    .listMessages({ accountId: account.id, ...(to !== undefined ? { to } : {}) }, token, pageSize)
    .catch(() => {
      throw new TwilioError(400, 20001, 'PageToken is not valid');
    });
  const messages = found.data.filter(wanted).map((m) => messageJson(ctx.gateway.live(m), sid));

  const path = `/${apiVersion}/Accounts/${sid}/Messages.json`;
  const query = (extra: Record<string, string>) => {
    const q = new URLSearchParams();
    for (const name of ['To', 'From', 'DateSent', 'DateSent<', 'DateSent>']) {
      const v = p.get(name);
      if (v !== undefined) q.set(name, v);
    }
    q.set('PageSize', String(pageSize));
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    return `${path}?${q}`;
  };
  const start = page * pageSize;
  return {
    end: messages.length === 0 ? start : start + messages.length - 1,
    first_page_uri: query({ Page: '0' }),
    next_page_uri: found.nextCursor ? query({ Page: String(page + 1), PageToken: found.nextCursor }) : null,
    page,
    page_size: pageSize,
    previous_page_uri: null,
    messages,
    start,
    uri: query({ Page: String(page), ...(token ? { PageToken: token } : {}) }),
  };
}

const callbackStatuses = new Set<Message['status']>([
  'submitted',
  'delivered',
  'undelivered',
  'expired',
  'rejected',
  'failed',
  'canceled',
]);

/** Enqueues the signed status callback a message's StatusCallback asks for, if any. */
export async function twilioStatusCallback(ctx: CompatContext, m: Message): Promise<void> {
  const meta = m.meta?.twilio as TwilioMeta | undefined;
  const account = ctx.accounts.get(m.accountId);
  if (!meta?.statusCallback || !account?.twilio || !callbackStatuses.has(m.status)) return;
  const sid = sidOf(m.id);
  const status = twilioStatus[m.status];
  const errorCode = errorCodeOf(m);
  const params: Record<string, string> = {
    MessageSid: sid,
    SmsSid: sid,
    AccountSid: account.twilio.accountSid,
    From: m.from,
    To: m.to,
    MessageStatus: status,
    SmsStatus: status,
    ApiVersion: apiVersion,
    ...(errorCode !== null ? { ErrorCode: String(errorCode) } : {}),
    ...(meta.messagingServiceSid ? { MessagingServiceSid: meta.messagingServiceSid } : {}),
    ...((m.status === 'delivered' || m.status === 'undelivered') && m.doneAt
      ? { RawDlrDoneDate: new Date(m.doneAt).toISOString().replace(/\D/g, '').slice(2, 12) }
      : {}),
  };
  await enqueueSigned(ctx, m.accountId, meta.statusCallback, params);
}

async function enqueueSigned(
  ctx: CompatContext,
  accountId: string,
  url: string,
  params: Record<string, string>,
  reply?: string,
): Promise<void> {
  const token = ctx.authTokens.get(accountId);
  await ctx.webhooks.enqueueRequest(accountId, {
    url,
    method: 'POST',
    body: new URLSearchParams(params).toString(),
    contentType: 'application/x-www-form-urlencoded',
    headers: token ? { 'x-twilio-signature': twilioSignature(token, url, params) } : {},
    ...(reply ? { reply } : {}),
  });
}

/** The reply handler name under which TwiML answers to inbound webhooks are read. */
export const twimlReply = 'twilio-twiml';

/** POSTs an inbound message to the account's smsUrl as Twilio does; the answer is TwiML. */
export async function twilioInbound(ctx: CompatContext, m: Message): Promise<void> {
  const account = ctx.accounts.get(m.accountId);
  if (!account?.twilio?.smsUrl) return;
  const sid = sidOf(m.id);
  await enqueueSigned(
    ctx,
    m.accountId,
    account.twilio.smsUrl,
    {
      MessageSid: sid,
      SmsSid: sid,
      SmsMessageSid: sid,
      AccountSid: account.twilio.accountSid,
      From: m.from,
      To: m.to,
      Body: m.text ?? '',
      NumMedia: '0',
      NumSegments: String(m.segments),
      SmsStatus: 'received',
      ApiVersion: apiVersion,
    },
    twimlReply,
  );
}

let twiml: XMLParser | undefined;

/** Loaded with the first TwiML answer: few gateways get one. */
async function twimlParser(): Promise<XMLParser> {
  const { XMLParser } = await import('fast-xml-parser');
  twiml ??= new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseTagValue: false,
    isArray: (name) => name === 'Message' || name === 'Body',
  });
  return twiml;
}

/** Sends each TwiML <Message> of an inbound webhook's answer back to the sender. */
export async function sendTwimlReplies(
  ctx: CompatContext,
  delivery: WebhookDelivery,
  answer: { body: string },
): Promise<void> {
  if (!answer.body.includes('<Message')) return;
  const inbound = FormParams.parse(delivery.body);
  const doc = (await twimlParser()).parse(answer.body) as { Response?: { Message?: unknown[] } };
  const textOf = (node: unknown): string =>
    typeof node === 'string' ? node : String((node as Record<string, unknown> | undefined)?.['#text'] ?? '');
  for (const node of doc.Response?.Message ?? []) {
    const attrs = (typeof node === 'object' && node ? node : {}) as Record<string, unknown>;
    const body = Array.isArray(attrs.Body) ? attrs.Body.map(textOf).join('') : textOf(node);
    if (body.length === 0) continue;
    await ctx.gateway
      .submit(delivery.accountId, {
        to: typeof attrs['@to'] === 'string' ? attrs['@to'] : inbound.get('From')!,
        from: typeof attrs['@from'] === 'string' ? attrs['@from'] : inbound.get('To')!,
        text: body,
        origin: 'http',
        // A receiver's answer is up to 64 KB; a callback longer than a client may give is not kept.
        ...(typeof attrs['@statusCallback'] === 'string' && attrs['@statusCallback'].length <= maxKeptChars
          ? { meta: { twilio: { statusCallback: attrs['@statusCallback'] } } }
          : {}),
      })
      .catch(() => {});
  }
}
