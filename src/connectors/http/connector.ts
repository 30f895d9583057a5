// `type: http`: an upstream SMS provider reached over HTTP, behind the connector interface.
// The provider (a preset or the generic one) shapes requests and reads answers and pushes;
// this class keeps kept-alive connections (undici), the rate (tps), the requests in flight,
// timeouts, and the pause a provider asks for (429/503 with Retry-After). Receipts and
// inbound messages the provider pushes to /v1/connectors/{id}/… come in through `push`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Agent } from 'undici';
import { type HttpConnectorConfig, isCredentialHeader } from '../../config/index.ts';
import { calculateSegments, decodeText, splitMessage } from '../../sms/index.ts';
import { verifyWebhook } from '../../webhooks/index.ts';
import { StatusHistory } from '../health.ts';
import { type ConnectorLogger, silentLogger } from '../logger.ts';
import { SendTracker } from '../sends.ts';
import { TpsBudget } from '../tps.ts';
import type {
  Connector,
  ConnectorEvents,
  ConnectorSink,
  ConnectorState,
  OutboundSms,
  SubmitResult,
} from '../types.ts';
import { genericProvider } from './generic.ts';
import { kannelProvider } from './kannel.ts';
import type { Provider, ProviderSms, Push, PushUrls } from './provider.ts';
import { smsgwProvider } from './smsgw.ts';
import { twilioProvider } from './twilio.ts';
import { vonageProvider } from './vonage.ts';

export interface HttpConnectorOptions {
  /** The base URL at which providers reach this gateway (`http.publicUrl`), asked at each send. */
  publicUrl: () => string;
}

/** What the gateway answers a push with. */
export interface PushAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** A pause asked for by Retry-After is kept to this at most. */
const maxPauseMs = 10 * 60_000;
/** Answers longer than this are cut: an SMS API's answer is small. */
const maxAnswerChars = 64 * 1024;

/** The provider a config describes. */
function providerFor(c: HttpConnectorConfig): Provider {
  const need = (value: string | undefined) => value ?? '';
  switch (c.preset) {
    case 'twilio':
      return twilioProvider({ url: c.url, accountSid: need(c.accountSid), authToken: need(c.authToken) });
    case 'kannel':
      return kannelProvider({ url: need(c.url), username: need(c.username), password: need(c.password) });
    case 'smsgw':
      return smsgwProvider({ url: need(c.url), apiKey: need(c.apiKey) });
    case 'vonage':
      return vonageProvider({ url: c.url, apiKey: need(c.apiKey), apiSecret: need(c.apiSecret) });
    default:
      return genericProvider(c);
  }
}

/**
 * The secret in the URLs handed to the provider: the configured one, or one derived from
 * the connector's credentials (so it is the same after a restart and on every gateway of a
 * cluster); null when there is nothing secret to derive it from.
 */
function pushSecret(c: HttpConnectorConfig): string | null {
  if (c.secret) return c.secret;
  const material = [
    c.password,
    c.authToken,
    c.apiKey,
    c.apiSecret,
    c.auth?.password,
    c.auth?.token,
    c.auth?.secret,
    ...Object.entries(c.headers ?? {})
      .filter(([name]) => isCredentialHeader(name))
      .map(([, value]) => value),
  ].filter((v): v is string => typeof v === 'string' && v.length > 0);
  if (material.length === 0) return null;
  return createHmac('sha256', JSON.stringify(material))
    .update(`smsgw http connector pushes: ${c.id}`)
    .digest('base64url')
    .slice(0, 32);
}

export class HttpConnector extends EventEmitter<ConnectorEvents> implements Connector {
  readonly id: string;
  readonly type = 'http';

  readonly #config: HttpConnectorConfig;
  readonly #sink: ConnectorSink;
  readonly #log: ConnectorLogger;
  readonly #options: HttpConnectorOptions;
  readonly #provider: Provider;
  readonly #secret: string | null;
  /** The provider splits long text: it gets it whole. */
  readonly #splits: boolean;
  readonly #tps: TpsBudget;
  /**
   * Requests it may have outstanding: `concurrency`, or this gateway's share of it in a
   * cluster (see `share`; 0: standby, the other gateways send).
   */
  #concurrency: number;
  /** What the provider allows in all, shared by the gateways of a cluster. */
  readonly budget: { binds: number; tps: number };
  #agent: Agent | null = null;
  #status: ConnectorState['status'] = 'starting';
  #inFlight = 0;
  /** Until when the provider asked not to be sent to (epoch ms). */
  #pausedUntil = 0;
  #wakeTimer: NodeJS.Timeout | null = null;
  readonly #sends = new SendTracker();
  readonly #history = new StatusHistory();

  constructor(
    config: HttpConnectorConfig,
    sink: ConnectorSink,
    logger: ConnectorLogger = silentLogger,
    options: HttpConnectorOptions = { publicUrl: () => 'http://127.0.0.1:8080' },
  ) {
    super();
    this.id = config.id;
    this.#config = config;
    this.#sink = sink;
    this.#log = logger;
    this.#options = options;
    this.#provider = providerFor(config);
    this.#secret = pushSecret(config);
    this.#splits = config.longMessages === 'whole';
    this.#tps = new TpsBudget(config.tps);
    this.#concurrency = config.concurrency;
    this.budget = { binds: config.concurrency, tps: config.tps };
  }

  /** A cluster's share: `binds` requests outstanding at once, `tps` per second. */
  async share(binds: number, tps: number): Promise<void> {
    this.#concurrency = Math.max(0, Math.min(this.#config.concurrency, binds));
    this.#tps.share(tps);
    this.emit('state', this.state());
    this.emit('ready');
  }

  /** The URLs the provider is handed for its receipts and inbound messages. */
  pushUrls(): PushUrls {
    const base = `${this.#options.publicUrl().replace(/\/+$/, '')}/v1/connectors/${encodeURIComponent(this.id)}`;
    const query = this.#secret === null ? '' : `?secret=${encodeURIComponent(this.#secret)}`;
    return { receiptUrl: `${base}/receipts${query}`, inboundUrl: `${base}/inbound${query}` };
  }

  async start(): Promise<void> {
    if (this.#status === 'up') return;
    const { Agent } = await import('undici');
    const timeout = this.#config.timeoutSeconds * 1000;
    this.#agent = new Agent({
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connect: { timeout },
      connections: this.#config.concurrency,
    });
    this.#status = 'up';
    this.#history.lastError = null;
    this.#log.info({ connector: this.id }, 'connector bind up');
    this.emit('state', this.state());
    this.emit('ready');
  }

  async stop(): Promise<void> {
    if (this.#status === 'stopped') return;
    this.#status = 'stopped';
    await this.#sends.settled();
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = null;
    const agent = this.#agent;
    this.#agent = null;
    await agent?.close();
    this.#log.info({ connector: this.id }, 'connector stopped');
    this.emit('state', this.state());
  }

  capacity(): number {
    if (this.#status !== 'up') return 0;
    const now = Date.now();
    if (this.#pausedUntil > now) {
      this.#wakeIn(this.#pausedUntil - now);
      return 0;
    }
    const free = Math.max(0, this.#concurrency - this.#inFlight);
    return this.#tps.limit(free, now, (ms) => this.#wakeIn(ms));
  }

  send(sms: OutboundSms): Promise<SubmitResult> {
    return this.#sends.track(this.#send(sms), () => this.emit('ready'));
  }

  state(): ConnectorState {
    const status = this.#status === 'up' && this.#concurrency === 0 ? 'standby' : this.#status;
    return {
      id: this.id,
      type: this.type,
      status,
      binds: [
        {
          index: 0,
          state: status === 'up' ? 'bound' : status === 'starting' ? 'connecting' : 'stopped',
          inFlight: this.#inFlight,
          window: this.#concurrency,
        },
      ],
      inFlight: this.#inFlight,
      sent: this.#sends.sent,
      failed: this.#sends.failed,
      lastError: this.#history.lastError,
      since: this.#history.since(status),
    };
  }

  /**
   * A receipt or inbound message the provider pushed: authenticated (its signature, or the
   * secret in the URL), read, and handed to the sink; answered once the sink has it (a
   * refusal is a 503, so the provider pushes it again).
   */
  async push(kind: 'receipts' | 'inbound', push: Push): Promise<PushAnswer> {
    const denied = this.#authenticate(push);
    if (denied) return denied;
    const ok = this.#provider.pushAnswer ?? { contentType: 'application/json', body: '{"ok":true}' };
    try {
      if (kind === 'receipts') {
        const receipts = this.#provider.receipts(push);
        if (receipts.length === 0) return problem(400, 'invalid_receipt', 'no receipt this connector reads');
        const now = Date.now();
        for (const r of receipts) {
          await this.#sink.receipt({
            connectorId: this.id,
            smscId: r.smscId,
            status: r.status,
            stat: r.stat,
            err: r.err,
            doneAt: now,
            networkErrorCode: /^\d+$/.test(r.err) ? Number(r.err) : null,
          });
        }
      } else {
        const sms = this.#provider.inbound(push);
        if (!sms) return problem(400, 'invalid_inbound', 'no inbound message this connector reads');
        const counted = calculateSegments(sms.text);
        await this.#sink.inbound({
          connectorId: this.id,
          from: sms.from,
          to: sms.to,
          text: sms.text,
          binary: null,
          encoding: counted.encoding === 'ucs2' ? 'ucs2' : 'gsm7',
          segments: counted.segments,
          complete: true,
          receivedAt: Date.now(),
        });
      }
    } catch (err) {
      this.#log.warn(
        { connector: this.id, kind, err },
        'sink refused a push; the provider is asked to push again',
      );
      return problem(503, 'store_unavailable', 'not stored; push it again later');
    }
    return { status: 200, ...ok };
  }

  #authenticate(push: Push): PushAnswer | null {
    if (this.#provider.verify) {
      if (this.#provider.verify(push)) return null;
      return push.headers['x-twilio-signature'] === undefined
        ? problem(401, 'unauthorized', 'the provider signature is missing')
        : problem(403, 'forbidden', 'the provider signature does not match');
    }
    // Nothing to check a push against (generic settings without credentials or secret): none is taken.
    if (this.#secret === null)
      return problem(401, 'unauthorized', 'this connector takes no pushes: it has no secret');
    const given = push.query.get('secret');
    const signature = push.headers['smsgw-signature'];
    if (given === null && typeof signature !== 'string')
      return problem(401, 'unauthorized', 'the secret is missing');
    if (given !== null && sameText(given, this.#secret)) return null;
    if (
      typeof signature === 'string' &&
      verifyWebhook(this.#secret, push.rawBody, signature, Math.floor(Date.now() / 1000))
    )
      return null;
    return problem(403, 'forbidden', 'the secret does not match');
  }

  async #send(sms: OutboundSms): Promise<SubmitResult> {
    if (this.#status !== 'up' || this.#agent === null)
      return { ok: false, temporary: true, code: 'not_bound', message: `connector is ${this.#status}` };
    let requests: ProviderSms[];
    try {
      requests = this.#split(sms);
    } catch (err) {
      return { ok: false, temporary: false, code: 'invalid_message', message: (err as Error).message };
    }
    this.#inFlight++;
    try {
      const smscIds: string[] = [];
      for (const part of requests) {
        await this.#tps.take();
        const result = await this.#request(part);
        if (!result.ok) return smscIds.length > 0 ? { ...result, smscIds } : result;
        smscIds.push(...result.smscIds);
      }
      return { ok: true, smscIds };
    } finally {
      this.#inFlight--;
    }
  }

  /** The whole message for a provider that splits; its parts' texts for one that does not. */
  #split(sms: OutboundSms): ProviderSms[] {
    const whole: ProviderSms = {
      id: sms.messageId,
      to: sms.to,
      from: sms.from,
      text: sms.text,
      binary: sms.binary,
      udh: sms.udh,
      encoding: sms.encoding,
      receipt: sms.receipt,
    };
    if (this.#splits || sms.text === null || sms.udh !== null) return [whole];
    const split = splitMessage(sms.text, { encoding: sms.encoding, mode: 'sar', maxParts: 255 });
    if (split.parts.length === 1) return [whole];
    return split.parts.map((part) => ({
      ...whole,
      text: decodeText(part.payload, split.encoding, split.shift),
    }));
  }

  async #request(sms: ProviderSms): Promise<SubmitResult> {
    let request: ReturnType<Provider['request']>;
    try {
      request = this.#provider.request(sms, this.pushUrls());
    } catch (err) {
      return { ok: false, temporary: false, code: 'unsupported_content', message: (err as Error).message };
    }
    const url = new URL(request.url);
    let status: number;
    let retryAfter: string | undefined;
    let body = '';
    try {
      const res = await this.#agent!.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers: request.headers,
        body: request.body,
      });
      status = res.statusCode;
      const ra = res.headers['retry-after'];
      retryAfter = Array.isArray(ra) ? ra[0] : ra;
      res.body.setEncoding('utf8');
      for await (const chunk of res.body as AsyncIterable<string>) {
        if (body.length < maxAnswerChars) body += chunk;
      }
    } catch (err) {
      const reason = describeFailure(err, this.#config.timeoutSeconds);
      this.#noteError(reason);
      return { ok: false, temporary: true, code: 'provider_unreachable', message: reason };
    }
    if (status === 429 || status >= 500) {
      const pause = retryAfterMs(retryAfter);
      if (pause > 0) this.#pause(pause);
      const reason = `provider answered ${status}${body ? `: ${body.slice(0, 200)}` : ''}`;
      this.#noteError(reason);
      return {
        ok: false,
        temporary: true,
        code: status === 429 ? 'throttled' : `http_${status}`,
        message: reason,
      };
    }
    const answer = this.#provider.answer(status, body);
    if (!answer.ok) return answer;
    this.#history.lastError = null;
    // A provider that names no id of its own (Kannel) has its receipts carry the gateway's.
    return { ok: true, smscIds: answer.ids.length > 0 ? answer.ids : [sms.id] };
  }

  #noteError(reason: string): void {
    if (this.#history.lastError === reason) return;
    this.#history.lastError = reason;
    this.#log.warn({ connector: this.id, reason }, 'provider request failed');
    this.emit('state', this.state());
  }

  #pause(ms: number): void {
    const until = Date.now() + Math.min(ms, maxPauseMs);
    if (until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#log.warn(
      { connector: this.id, pauseMs: until - Date.now() },
      'provider asked for a pause (Retry-After)',
    );
  }

  #wakeIn(ms: number): void {
    if (this.#wakeTimer !== null) return;
    this.#wakeTimer = setTimeout(
      () => {
        this.#wakeTimer = null;
        this.emit('ready');
      },
      Math.max(1, ms),
    );
  }
}

function problem(status: number, code: string, message: string): PushAnswer {
  return { status, contentType: 'application/json', body: JSON.stringify({ error: { code, message } }) };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Retry-After in ms: delta-seconds or an HTTP date; 0 when absent or unreadable. */
function retryAfterMs(value: string | undefined, now = Date.now()): number {
  if (!value) return 0;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}

function describeFailure(err: unknown, timeoutSeconds: number): string {
  const code = (err as { code?: string }).code;
  if (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  )
    return `no answer within ${timeoutSeconds} s`;
  return `${code ? `${code}: ` : ''}${(err as Error).message}`;
}
