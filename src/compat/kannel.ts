// Kannel's sendsms interface (CONTRACT §6): GET or POST /cgi-bin/sendsms with Kannel's
// parameters (or, on a text/plain or octet-stream POST, X-Kannel-* headers and the body
// as text), Kannel's plain-text answers, and delivery reports to the message's dlr-url
// with Kannel's escape codes filled in, for the dlr-mask events asked for.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpPlugin } from '../api/index.ts';
import type { Account, Message, SubmitRequest } from '../core/index.ts';
import {
  fillKannelEscapes,
  GatewayError,
  internationalDigits,
  StoreUnavailableError,
} from '../core/index.ts';
import { formatReceipt } from '../smpp/index.ts';
import { type CompatContext, guardedLogin, maxKeptChars } from './context.ts';
import { deliveryFacts, FormParams, priorityOf, rawBodies } from './form.ts';

/** dlr-mask bits (Kannel's dlr.h). */
export const dlrBits = {
  delivered: 1,
  failed: 2,
  buffered: 4,
  smscAccepted: 8,
  smscRejected: 16,
} as const;

/** Kept with each message sent here (Message.meta.kannel). */
interface KannelMeta {
  dlrUrl: string;
  dlrMask: number;
  /** The numbers as the client wrote them: %p and %P give them back so. */
  to: string;
  from: string;
  /** `account` and `binfo` as the client gave them: %o and %B give them back. */
  account?: string;
  binfo?: string;
}

/** Kannel reports one refusal per request, in plain text with its HTTP status. */
class KannelRefusal extends Error {
  readonly status: number;
  constructor(status: number, text: string) {
    super(text);
    this.status = status;
  }
}

/** Kannel's answer when it cannot take a message now (its queue is full). */
const temporalFailure = 'Temporal failure, try again later.';
const misformed = (field: string) => new KannelRefusal(400, `${field} field misformed, rejected`);
const tooLong = (field: string) =>
  new KannelRefusal(400, `${field} field longer than ${maxKeptChars} characters, rejected`);

/** sendsms parameters this gateway acts on (Kannel's aliases included). */
const knownParams = new Set([
  'username',
  'user',
  'password',
  'pass',
  'from',
  'to',
  'text',
  'charset',
  'coding',
  'udh',
  'smsc',
  'mclass',
  'validity',
  'deferred',
  'priority',
  'dlr-mask',
  'dlrmask',
  'dlr-url',
  'dlrurl',
  'account',
  'binfo',
]);
/**
 * Kannel options that change the PDU in ways no connector here sends (message waiting
 * indicator, compression, protocol id, alternative coding, reply path, SMPP TLVs): taken
 * only unset (empty, or -1 / 0 as Kannel's "none"), refused otherwise.
 */
const unsupportedParams = new Map<string, string>(
  Object.entries({
    mwi: 'MWI',
    compress: 'Compress',
    pid: 'PID',
    'alt-dcs': 'Alt-DCS',
    rpi: 'RPI',
    'meta-data': 'Meta-Data',
  }),
);

/** X-Kannel-* headers as sendsms parameter names. */
const headerParams = new Map<string, string>(
  Object.entries({
    'x-kannel-username': 'username',
    'x-kannel-password': 'password',
    'x-kannel-from': 'from',
    'x-kannel-to': 'to',
    'x-kannel-udh': 'udh',
    'x-kannel-smsc': 'smsc',
    'x-kannel-mclass': 'mclass',
    'x-kannel-coding': 'coding',
    'x-kannel-validity': 'validity',
    'x-kannel-deferred': 'deferred',
    'x-kannel-dlr-mask': 'dlr-mask',
    'x-kannel-dlr-url': 'dlr-url',
    'x-kannel-account': 'account',
    'x-kannel-priority': 'priority',
    'x-kannel-charset': 'charset',
    'x-kannel-binfo': 'binfo',
    'x-kannel-mwi': 'mwi',
    'x-kannel-compress': 'compress',
    'x-kannel-pid': 'pid',
    'x-kannel-alt-dcs': 'alt-dcs',
    'x-kannel-rpi': 'rpi',
    'x-kannel-meta-data': 'meta-data',
  }),
);

export function kannelApi(ctx: CompatContext): HttpPlugin {
  return async (app) => {
    rawBodies(app, true);
    app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      if (err instanceof KannelRefusal) return plain(reply, err.status, err.message);
      if (err instanceof StoreUnavailableError) reply.header('retry-after', String(err.retryAfterSeconds));
      // The store out of reach, or the gateway too busy to read the body (server_busy).
      if (err instanceof GatewayError && err.httpStatus === 503) return plain(reply, 503, temporalFailure);
      if (err instanceof GatewayError) return plain(reply, err.httpStatus === 429 ? 503 : 400, err.message);
      if (err.statusCode === 413) return plain(reply, 413, 'Request too large, rejected');
      if (err.statusCode && err.statusCode < 500) return plain(reply, err.statusCode, err.message);
      app.log.error(err);
      return plain(reply, 500, 'Sending failed.');
    });
    const handler = (req: FastifyRequest, reply: FastifyReply) => sendsms(ctx, req, reply);
    app.get('/cgi-bin/sendsms', handler);
    app.post('/cgi-bin/sendsms', handler);
  };
}

function plain(reply: FastifyReply, status: number, text: string) {
  return reply.code(status).header('content-type', 'text/plain; charset=utf-8').send(text);
}

async function sendsms(ctx: CompatContext, req: FastifyRequest, reply: FastifyReply) {
  const params = requestParams(req);
  const username = params.get('username') ?? params.get('user');
  const password = params.get('password') ?? params.get('pass');
  const refused = () => new KannelRefusal(403, 'Authorization failed for sendsms');
  if (username === undefined || password === undefined) throw refused();
  const account = await guardedLogin(
    ctx,
    req,
    reply,
    `account:${username}`,
    () => {
      const candidate = ctx.accounts.byApiKey(password);
      return candidate?.id === username ? candidate : undefined;
    },
    { locked: () => new KannelRefusal(429, 'Too many failed logins, try again later'), refused },
    password,
  );

  for (const name of params.names()) {
    const field = unsupportedParams.get(name);
    const value = params.get(name)?.trim() ?? '';
    if (field !== undefined && !['', '-1', '0'].includes(value))
      throw new KannelRefusal(400, `${field} not supported, rejected`);
    if (field === undefined && !knownParams.has(name))
      throw new KannelRefusal(400, `Unknown parameter '${name}', rejected`);
  }
  const smsc = params.get('smsc');
  // Only a connector one of the account's routes may use; an unknown one is refused alike.
  if (smsc && !ctx.gateway.accountMayUse(account.id, smsc))
    throw new KannelRefusal(403, `SMSC '${smsc}' not allowed for this user, rejected`);
  const to = params.get('to');
  if (to === undefined) throw new KannelRefusal(400, 'Missing receiver number, rejected');
  const receivers = to.split(/\s+/).filter((r) => r.length > 0);
  if (receivers.length === 0) throw new KannelRefusal(400, 'Empty receiver number not allowed, rejected');
  if (receivers.length > 1000) throw new KannelRefusal(400, 'Too many receivers, rejected');

  const base = messageOf(params, account);
  const dlrRefusal = base.dlr ? await ctx.callbacks.refusal(base.dlr.dlrUrl) : null;
  if (dlrRefusal !== null) throw new KannelRefusal(400, `DLR-URL not allowed (it ${dlrRefusal}), rejected`);
  const limitWait = ctx.limits.take(account, receivers.length);
  if (limitWait > 0) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(limitWait / 1000))));
    throw new KannelRefusal(503, temporalFailure);
  }
  const submitting = ctx.gateway.submitMany(
    account.id,
    receivers.map((receiver) => ({
      ...base.request,
      // Kannel clients write international numbers as bare digits.
      to: internationalDigits(receiver),
      ...(base.dlr || smsc
        ? {
            meta: {
              ...(base.dlr ? { kannel: { ...base.dlr, to: receiver } satisfies KannelMeta } : {}),
              // Sent through that connector only (see MtRouter.match).
              ...(smsc ? { via: smsc } : {}),
            },
          }
        : {}),
    })),
    { defaultFrom: account.defaultFrom ?? undefined, country: account.defaultCountry },
  );
  // Only accepted messages use the account's rate.
  submitting.catch(() => ctx.limits.giveBack(account, receivers.length));
  const results = await submitting;
  const denied = receivers.filter((_, i) => 'error' in results[i]!);
  ctx.limits.giveBack(account, denied.length);
  if (denied.length === receivers.length) {
    const first = results[0] as { error: GatewayError };
    throw receivers.length === 1
      ? first.error
      : new KannelRefusal(400, `Sending failed. Failed receivers are: ${denied.join(' ')}`);
  }
  const answer =
    denied.length > 0
      ? `0: Accepted for delivery. Denied receivers are: ${denied.join(' ')}`
      : '0: Accepted for delivery';
  return plain(reply, 202, answer);
}

/** Query, form body, or X-Kannel headers with the body as the text. */
function requestParams(req: FastifyRequest): FormParams {
  const params = FormParams.ofRequest(req);
  if (req.method !== 'POST') return params;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return params;
  if (type !== 'text/plain' && type !== 'application/octet-stream')
    throw new KannelRefusal(400, 'Invalid content-type');
  const fromHeaders = new FormParams();
  for (const [name, value] of Object.entries(req.headers)) {
    const param = headerParams.get(name);
    if (!param || value === undefined) continue;
    const text = (Array.isArray(value) ? value[0]! : value).trim();
    // X-Kannel-UDH is hex (or, failing that, URL-encoded).
    fromHeaders.add(
      param,
      param === 'udh' && /^([0-9a-fA-F]{2})+$/.test(text)
        ? Buffer.from(text, 'hex')
        : param === 'udh'
          ? FormParams.parse(`v=${text}`).bytes('v')!
          : Buffer.from(text, 'latin1'),
    );
  }
  const charset = /charset=([^;]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
  if (charset && !fromHeaders.has('charset')) fromHeaders.add('charset', Buffer.from(charset.trim()));
  if (type === 'application/octet-stream' && !fromHeaders.has('coding'))
    fromHeaders.add('coding', Buffer.from('1'));
  fromHeaders.add('text', Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
  fromHeaders.merge(params);
  return fromHeaders;
}

/** Kannel's integer fields: sscanf("%d") of the value, undefined when absent. */
function integer(params: FormParams, name: string, field: string): number | undefined {
  const v = params.get(name);
  if (v === undefined) return undefined;
  const n = /^\s*[-+]?\d+/.exec(v);
  if (!n) throw misformed(field);
  return Number(n[0]);
}

function messageOf(
  params: FormParams,
  account: Account,
): { request: Omit<SubmitRequest, 'to'>; dlr: Omit<KannelMeta, 'to'> | undefined } {
  const dlrMask = integer(params, params.has('dlr-mask') ? 'dlr-mask' : 'dlrmask', 'DLR-Mask');
  if (dlrMask !== undefined && (dlrMask < -1 || dlrMask > 63)) throw misformed('DLR-Mask');
  const dlrUrl = params.get('dlr-url') ?? params.get('dlrurl');
  if (dlrUrl && !/^https?:\/\/./i.test(dlrUrl)) throw misformed('DLR-URL');
  if (dlrUrl && dlrUrl.length > maxKeptChars) throw tooLong('DLR-URL');
  const mclass = integer(params, 'mclass', 'MClass');
  if (mclass !== undefined && (mclass < -1 || mclass > 3)) throw misformed('MClass');
  // Class 0 is a flash message; no connector here sets the other classes.
  if (mclass !== undefined && mclass > 0)
    throw new KannelRefusal(400, `MClass ${mclass} not supported, rejected`);
  const coding = integer(params, 'coding', 'Coding');
  if (coding !== undefined && (coding < -1 || coding > 2)) throw misformed('Coding');
  const validity = integer(params, 'validity', 'Validity');
  if (validity !== undefined && validity < -1) throw misformed('Validity');
  const deferred = integer(params, 'deferred', 'Deferred');
  if (deferred !== undefined && deferred < -1) throw misformed('Deferred');
  const priority = integer(params, 'priority', 'Priority');
  if (priority !== undefined && priority !== -1 && (priority < 0 || priority > 3))
    throw misformed('Priority');

  const udh = params.bytes('udh');
  if (udh !== undefined && udh.length > 0 && udh.length !== udh[0]! + 1)
    throw new KannelRefusal(400, 'UDH field misformed, rejected');
  const header = udh !== undefined && udh.length > 0 ? udh : undefined;
  // Kannel's default: 8-bit when a header is given, 7-bit otherwise.
  const effectiveCoding = coding === undefined || coding === -1 ? (header ? 1 : 0) : coding;
  const raw = params.bytes('text') ?? Buffer.alloc(0);
  const content: Pick<SubmitRequest, 'text' | 'binary' | 'encoding'> =
    effectiveCoding === 1
      ? { binary: raw, encoding: 'binary' }
      : { text: decodeText(raw, params.get('charset')), encoding: effectiveCoding === 2 ? 'ucs2' : 'auto' };

  const from = params.get('from');
  const sender = from && from.length > 0 ? from : account.defaultFrom;
  if (!sender) throw new KannelRefusal(400, 'Sender missing and no global set, rejected');
  const now = Date.now();
  return {
    request: {
      from: internationalDigits(sender),
      ...content,
      ...(header ? { udh: header } : {}),
      ...(validity !== undefined && validity > 0 ? { validitySeconds: validity * 60 } : {}),
      ...(deferred !== undefined && deferred > 0 ? { sendAt: now + deferred * 60_000 } : {}),
      ...(priority !== undefined && priority >= 0 ? { priority: priorityOf(priority) } : {}),
      flash: mclass === 0,
      origin: 'http',
    },
    dlr:
      dlrUrl && dlrMask !== undefined && dlrMask > 0
        ? { dlrUrl, dlrMask, from: sender, ...tags(params) }
        : undefined,
  };
}

/** `account` and `binfo`, kept for %o and %B. */
function tags(params: FormParams): Pick<KannelMeta, 'account' | 'binfo'> {
  const account = params.get('account');
  const binfo = params.get('binfo');
  if (account && account.length > maxKeptChars) throw tooLong('Account');
  if (binfo && binfo.length > maxKeptChars) throw tooLong('BInfo');
  return { ...(account ? { account } : {}), ...(binfo ? { binfo } : {}) };
}

/** The text in the charset the client named (UTF-8 when none). */
function decodeText(raw: Buffer, charset: string | undefined): string {
  const label = (charset ?? 'UTF-8').trim().toLowerCase();
  const name = label === 'ucs-2' || label === 'ucs2' || label === 'utf-16' ? 'utf-16be' : label;
  try {
    return new TextDecoder(name, { fatal: true }).decode(raw);
  } catch {
    throw new KannelRefusal(400, 'Charset or body misformed, rejected');
  }
}

/** The dlr-mask event a status change is, if any. */
function dlrTypeOf(m: Message, mask: number): number | undefined {
  switch (m.status) {
    case 'queued':
    case 'scheduled':
      return mask & dlrBits.buffered ? dlrBits.buffered : undefined;
    case 'submitted':
      return mask & dlrBits.smscAccepted ? dlrBits.smscAccepted : undefined;
    case 'delivered':
      return mask & dlrBits.delivered ? dlrBits.delivered : undefined;
    case 'undelivered':
    case 'expired':
      return mask & dlrBits.failed ? dlrBits.failed : undefined;
    case 'rejected':
    case 'failed':
      // Never accepted by the SMSC: Kannel reports that as 16 to a mask asking for 16 or 2.
      return mask & (dlrBits.smscRejected | dlrBits.failed) ? dlrBits.smscRejected : undefined;
    default:
      return undefined;
  }
}

/** Enqueues the GET of a message's dlr-url for this status change, if its mask asks. */
export async function kannelDlr(ctx: CompatContext, m: Message): Promise<void> {
  const meta = m.meta?.kannel as KannelMeta | undefined;
  if (!meta) return;
  const type = dlrTypeOf(m, meta.dlrMask);
  if (type === undefined) return;
  // The SMSC's id and the receipt's words are in the events: read only when asked for.
  const facts = /%[AF]/.test(meta.dlrUrl)
    ? deliveryFacts(m, await ctx.gateway.store.listEvents(m.id))
    : undefined;
  const reportText = (): string => {
    if (type === dlrBits.smscAccepted) return 'ACK/';
    if (type === dlrBits.smscRejected) return `NACK/${m.error?.code ?? ''}/${m.error?.message ?? ''}`;
    if (type === dlrBits.buffered || !facts) return '';
    return formatReceipt({
      id: facts.smscId,
      submitDate: new Date(facts.submittedAt),
      doneDate: new Date(facts.doneAt),
      stat: facts.stat as Parameters<typeof formatReceipt>[0]['stat'],
      err: facts.err,
      text: m.text ?? '',
    });
  };
  const plus = (n: string) => (n.startsWith('00') ? `+${n.slice(2)}` : n);
  const at = Math.floor((m.doneAt ?? Date.now()) / 1000);
  const values: Record<string, () => string> = {
    d: () => String(type),
    p: () => meta.to,
    P: () => meta.from,
    q: () => plus(meta.to),
    Q: () => plus(meta.from),
    T: () => String(at),
    t: () => new Date(at * 1000).toISOString().slice(0, 19).replace('T', ' '),
    A: reportText,
    i: () => m.connectorId ?? '',
    I: () => m.id,
    F: () => facts?.smscId ?? '',
    n: () => m.accountId,
    o: () => meta.account ?? m.accountId,
    B: () => meta.binfo ?? '',
  };
  const url = fillKannelEscapes(meta.dlrUrl, values);
  await ctx.webhooks.enqueueRequest(m.accountId, { url, method: 'GET', body: '' });
}
