// Jasmin's HTTP API: /send (GET or POST, form or JSON) answering `Success "<id>"`, DLRs to
// dlr-url by dlr-method at dlr-level (1: SMSC, 2: terminal, 3: both) with Jasmin's
// parameters, and /balance, /rate and /ping.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpPlugin } from '../api/index.ts';
import type { Account, Message, SubmitRequest } from '../core/index.ts';
import { GatewayError, internationalDigits, StoreUnavailableError } from '../core/index.ts';
import { parseSmppTime } from '../smpp/index.ts';
import { calculateSegments } from '../sms/index.ts';
import { type CompatContext, guardedLogin, maxKeptChars } from './context.ts';
import { deliveryFacts, FormParams, priorityOf, rawBodies } from './form.ts';

interface JasminMeta {
  url: string;
  level: 1 | 2 | 3;
  method: 'GET' | 'POST';
}

/** Jasmin's `Error "..."` answer with its HTTP status. */
class JasminError extends Error {
  readonly status: number;
  constructor(status: number, text: string) {
    super(text);
    this.status = status;
  }
}

const invalid = (name: string, value: string) =>
  new JasminError(400, `Argument [${name}] has an invalid value: [${value}].`);

const credentials = ['username', 'password'];
const contentArgs = ['to', 'from', 'coding', 'content', 'hex-content'];
/** The arguments each endpoint acts on; any other is refused as Jasmin refuses one. */
const sendArgs = new Set([
  ...credentials,
  ...contentArgs,
  'priority',
  'sdt',
  'validity-period',
  'dlr',
  'dlr-url',
  'dlr-level',
  'dlr-method',
]);
const rateArgs = new Set([...credentials, ...contentArgs]);
const balanceArgs = new Set(credentials);

function refuseUnknownArgs(params: FormParams, known: ReadonlySet<string>): void {
  for (const name of params.names())
    if (!known.has(name)) throw new JasminError(400, `Argument [${name}] is unknown.`);
}

export function jasminApi(ctx: CompatContext): HttpPlugin {
  return async (app) => {
    rawBodies(app);
    app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      const [status, text] =
        err instanceof JasminError
          ? [err.status, err.message]
          : err instanceof GatewayError
            ? [
                err.code === 'no_route'
                  ? 412
                  : err.httpStatus === 429 || err.code === 'insufficient_balance'
                    ? 403
                    : err.httpStatus,
                err.message,
              ]
            : err.statusCode && err.statusCode < 500
              ? [err.statusCode, err.message]
              : [500, 'Cannot send submit_sm, check SMPPClientManagerPB log file for details'];
      if (err instanceof StoreUnavailableError) reply.header('retry-after', String(err.retryAfterSeconds));
      else if (status >= 500) app.log.error(err);
      return reply.code(status).header('content-type', 'text/plain').send(`Error "${text}"`);
    });
    const send = (req: FastifyRequest, reply: FastifyReply) => sendMessage(ctx, req, reply);
    app.get('/send', send);
    app.post('/send', send);
    const balance = async (req: FastifyRequest, reply: FastifyReply) => {
      const params = paramsOf(req);
      const account = await authenticate(ctx, params, req, reply);
      refuseUnknownArgs(params, balanceArgs);
      // An account without billing: Jasmin's answer for a user without quotas.
      const billed = ctx.billing?.currencyOf(account.id) ? await ctx.billing.balance(account.id) : null;
      return reply
        .header('content-type', 'application/json')
        .send({ balance: billed ? billed.balance : 'ND', sms_count: 'ND' });
    };
    app.get('/balance', balance);
    app.post('/balance', balance);
    const rate = async (req: FastifyRequest, reply: FastifyReply) => {
      const params = paramsOf(req);
      const account = await authenticate(ctx, params, req, reply);
      refuseUnknownArgs(params, rateArgs);
      const to = params.get('to');
      if (to === undefined) throw new JasminError(400, 'Mandatory argument [to] is not found.');
      if (!/^\+?\d+$/.test(to)) throw invalid('to', to);
      const content = contentOf(params);
      const parts =
        'text' in content && content.text
          ? calculateSegments(content.text, { encoding: content.encoding ?? 'auto' }).segments
          : 'binary' in content && content.binary
            ? Math.max(1, Math.ceil(content.binary.length / 134))
            : 1;
      return reply
        .header('content-type', 'application/json')
        .send({ submit_sm_count: parts, unit_rate: ctx.billing?.unitRate(account.id, to) ?? 0.0 });
    };
    app.get('/rate', rate);
    app.post('/rate', rate);
    app.get('/ping', async (_req, reply) => reply.header('content-type', 'text/plain').send('Jasmin/PONG'));
  };
}

/** Query, form body, or a JSON object body (Jasmin takes all three). */
function paramsOf(req: FastifyRequest): FormParams {
  const params = FormParams.ofRequest(req);
  if (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) {
    for (const [name, value] of Object.entries(req.body as Record<string, unknown>)) {
      if (value === null || value === undefined) continue;
      // A list or an object is no argument value Jasmin takes.
      if (typeof value === 'object') throw invalid(name, JSON.stringify(value));
      params.add(name, Buffer.from(String(value)));
    }
  }
  return params;
}

function authenticate(
  ctx: CompatContext,
  params: FormParams,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<Account> {
  for (const name of ['username', 'password']) {
    if (!params.has(name)) throw new JasminError(400, `Mandatory argument [${name}] is not found.`);
  }
  const username = params.get('username')!;
  return guardedLogin(
    ctx,
    req,
    reply,
    `account:${username}`,
    () => {
      const account = ctx.accounts.byApiKey(params.get('password')!);
      return account?.id === username ? account : undefined;
    },
    {
      locked: () => new JasminError(429, 'Too many failed logins, try again later'),
      refused: () => new JasminError(403, `Authentication failure for username:${username}`),
    },
    params.get('password'),
  );
}

/** `content` (text) or `hex-content` (octets), read by `coding` as Jasmin's SMSCs would. */
function contentOf(params: FormParams): Pick<SubmitRequest, 'text' | 'binary' | 'encoding'> {
  const coding = params.get('coding') ?? '0';
  if (!/^(0|1|2|3|4|5|6|7|8|9|10|13|14)$/.test(coding)) throw invalid('coding', coding);
  const hex = params.get('hex-content');
  const raw = params.bytes('content');
  if (hex !== undefined && raw !== undefined)
    throw new JasminError(400, 'content and hex-content cannot be used both in same request.');
  if (hex !== undefined && !/^([0-9a-fA-F]{2})*$/.test(hex))
    throw new JasminError(400, `Invalid hex-content data: '${hex}'`);
  const octets = hex !== undefined ? Buffer.from(hex, 'hex') : raw;
  if (octets === undefined) return {};
  switch (coding) {
    case '8':
      return { text: ucs2Text(octets, hex !== undefined), encoding: 'ucs2' };
    case '3':
      return {
        text: hex !== undefined ? octets.toString('latin1') : octets.toString('utf8'),
        encoding: 'latin1',
      };
    case '0':
    case '1':
      return {
        text: hex !== undefined ? octets.toString('latin1') : octets.toString('utf8'),
        encoding: 'auto',
      };
    case '2':
    case '4':
      return { binary: octets, encoding: 'binary' };
    default: {
      // A national character set no connector here sends as such: its text is read and sent
      // in the encoding the gateway picks. JIS (5, 13) and pictograms (9) cannot be read.
      const charset = nationalCharsets[coding];
      if (!charset) throw new JasminError(400, `coding ${coding} is not supported by this gateway`);
      try {
        return { text: new TextDecoder(charset, { fatal: true }).decode(octets), encoding: 'auto' };
      } catch {
        throw invalid(hex !== undefined ? 'hex-content' : 'content', octets.toString('latin1'));
      }
    }
  }
}

/** SMPP data_coding values that name a character set text can be read in. */
const nationalCharsets: Record<string, string> = {
  '6': 'iso-8859-5',
  '7': 'iso-8859-8',
  '10': 'iso-2022-jp',
  '14': 'euc-kr',
};

/**
 * Jasmin passes coding 8 content through as UCS-2 octets, and its documented clients send
 * them so; a client that sends UTF-8 text instead (control-free, valid UTF-8) gets that text.
 */
function ucs2Text(octets: Buffer, fromHex: boolean): string {
  const looksUtf16 = octets.some((b) => b < 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (!fromHex && !looksUtf16) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(octets);
    } catch {
      // Not UTF-8: read as UCS-2 below.
    }
  }
  if (octets.length % 2 !== 0) throw new JasminError(400, 'coding 8 content must be whole UCS-2 characters');
  return new TextDecoder('utf-16be').decode(octets);
}

async function sendMessage(ctx: CompatContext, req: FastifyRequest, reply: FastifyReply) {
  const params = paramsOf(req);
  if (params.names().length === 0)
    throw new JasminError(400, 'Mandatory arguments not found, please refer to the HTTPAPI specifications.');
  const to = params.get('to');
  if (to === undefined) throw new JasminError(400, 'Mandatory argument [to] is not found.');
  if (!/^\+?\d+$/.test(to)) throw invalid('to', to);
  const priority = params.get('priority');
  if (priority !== undefined && !/^[0-3]$/.test(priority)) throw invalid('priority', priority);
  const validity = params.get('validity-period');
  if (validity !== undefined && !/^\d+$/.test(validity)) throw invalid('validity-period', validity);
  const sdt = params.get('sdt');
  if (sdt !== undefined && !/^\d{12}\d\d{2}[+\-R]$/.test(sdt)) throw invalid('sdt', sdt);
  const dlrUrl = params.get('dlr-url');
  if (dlrUrl !== undefined && dlrUrl.length > maxKeptChars)
    throw new JasminError(400, `Argument [dlr-url] is longer than ${maxKeptChars} characters.`);
  if (dlrUrl !== undefined && !/^https?:\/\/.*$/.test(dlrUrl)) throw invalid('dlr-url', dlrUrl);
  const level = params.get('dlr-level');
  if (level !== undefined && !/^[1-3]$/.test(level)) throw invalid('dlr-level', level);
  const method = params.get('dlr-method');
  if (method !== undefined && !/^(get|post)$/i.test(method)) throw invalid('dlr-method', method);
  // dlr-url or dlr-level alone ask for DLRs; an explicit dlr=no is honoured.
  const dlr = params.get('dlr') ?? (dlrUrl !== undefined || level !== undefined ? 'yes' : 'no');
  if (dlr !== 'yes' && dlr !== 'no') throw invalid('dlr', dlr);
  if (dlr === 'yes' && dlrUrl === undefined)
    throw new JasminError(400, 'Argument [dlr-url] is mandatory if dlr is set to yes.');
  const account = await authenticate(ctx, params, req, reply);
  refuseUnknownArgs(params, sendArgs);
  const dlrRefusal = dlrUrl === undefined ? null : await ctx.callbacks.refusal(dlrUrl);
  if (dlrRefusal !== null) throw new JasminError(400, `Argument [dlr-url] is not allowed: it ${dlrRefusal}.`);
  const content = contentOf(params);
  if (!params.has('content') && !params.has('hex-content'))
    throw new JasminError(400, 'content or hex-content not present.');

  const sendAt = sdt === undefined ? undefined : parseSmppTime(sdt)?.getTime();
  if (sdt !== undefined && sendAt === undefined) throw invalid('sdt', sdt);
  const wait = ctx.limits.take(account);
  if (wait > 0) throw new JasminError(403, 'Cannot charge submit_sm, throughput exceeded');
  const meta: JasminMeta | undefined =
    dlr === 'yes' && dlrUrl !== undefined
      ? {
          url: dlrUrl,
          level: Number(level ?? '1') as 1 | 2 | 3,
          method: (method ?? 'POST').toUpperCase() as 'GET' | 'POST',
        }
      : undefined;
  const submitting = ctx.gateway.submit(
    account.id,
    {
      // Jasmin clients write international numbers as bare digits.
      to: internationalDigits(to),
      from: params.has('from') ? internationalDigits(params.get('from')!) : undefined,
      ...content,
      ...(validity !== undefined && Number(validity) > 0 ? { validitySeconds: Number(validity) * 60 } : {}),
      ...(sendAt !== undefined ? { sendAt } : {}),
      ...(priority !== undefined ? { priority: priorityOf(Number(priority)) } : {}),
      origin: 'http',
      ...(meta ? { meta: { jasmin: meta } } : {}),
    },
    { defaultFrom: account.defaultFrom ?? undefined, country: account.defaultCountry },
  );
  // Only accepted messages use the account's rate.
  submitting.catch(() => ctx.limits.giveBack(account));
  const message = await submitting;
  return reply.header('content-type', 'text/plain').send(`Success "${message.id}"`);
}

/** The SMPP command status a level 1 DLR reports for a message the SMSC answered or refused. */
function submitStatus(m: Message): string {
  if (m.status === 'submitted') return 'ESME_ROK';
  const code = m.error?.code ?? '';
  return code.startsWith('smpp_ESME_') ? code.slice(5) : 'ESME_RSUBMITFAIL';
}

/** Enqueues a message's Jasmin DLR for this status change, when its level asks for it. */
export async function jasminDlr(ctx: CompatContext, m: Message): Promise<void> {
  const meta = m.meta?.jasmin as JasminMeta | undefined;
  if (!meta) return;
  const base = { id: m.id, level: String(meta.level), connector: m.connectorId ?? '' };
  let args: Record<string, string> | undefined;
  // Level 1 reports the SMSC's answer: accepted, or refused before a receipt could come.
  const smscAnswer = m.status === 'submitted' || m.status === 'rejected' || m.status === 'failed';
  if (smscAnswer && meta.level !== 2) {
    args = { ...base, message_status: submitStatus(m) };
  } else if (
    (m.status === 'delivered' || m.status === 'undelivered' || m.status === 'expired') &&
    meta.level !== 1
  ) {
    const facts = deliveryFacts(m, await ctx.gateway.store.listEvents(m.id));
    const yymmddhhmm = (t: number) => new Date(t).toISOString().replace(/\D/g, '').slice(2, 12);
    args = {
      ...base,
      message_status: facts.stat,
      id_smsc: facts.smscId,
      sub: '001',
      dlvrd: m.status === 'delivered' ? '001' : '000',
      subdate: yymmddhhmm(facts.submittedAt),
      donedate: yymmddhhmm(facts.doneAt),
      err: facts.err,
      text: (m.text ?? '').slice(0, 20),
    };
  }
  if (!args) return;
  const form = new URLSearchParams(args).toString();
  await ctx.webhooks.enqueueRequest(
    m.accountId,
    meta.method === 'GET'
      ? { url: `${meta.url}${meta.url.includes('?') ? '&' : '?'}${form}`, method: 'GET', body: '' }
      : { url: meta.url, method: 'POST', body: form, contentType: 'application/x-www-form-urlencoded' },
  );
}
