// What every HTTP provider is, to the connector: how one SMS becomes a request, how the
// answer reads, and how the receipts and inbound messages it pushes back read. Presets and
// the generic (configured) provider each implement it; the connector does the rest
// (connections, rate, timeouts, retries, authentication of pushes).
import type { TextEncoding } from '../../core/index.ts';
import type { ReceiptStatus } from '../types.ts';

/** One request's worth of SMS: the whole message, or one part for a provider that does not split. */
export interface ProviderSms {
  /** The gateway's message id. */
  id: string;
  to: string;
  from: string;
  /** Null when `binary` carries the octets. */
  text: string | null;
  binary: Buffer | null;
  udh: Buffer | null;
  encoding: TextEncoding;
  receipt: boolean;
}

/** Where the provider pushes back to, with the connector's secret in the query. */
export interface PushUrls {
  receiptUrl: string;
  inboundUrl: string;
}

export interface ProviderRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

export type ProviderAnswer =
  | { ok: true; ids: string[] }
  | { ok: false; temporary: boolean; code: string; message: string };

/** A receipt or inbound message as the provider pushed it. */
export interface Push {
  method: string;
  /** The URL as the provider called it (the public base URL, path and query). */
  url: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** The body read as fields (JSON object or form), merged over the query's. */
  fields: Record<string, unknown>;
}

export interface PushedReceipt {
  smscId: string;
  status: ReceiptStatus;
  /** The provider's own words for status and error. */
  stat: string;
  err: string;
}

export interface PushedInbound {
  from: string;
  to: string;
  text: string;
}

export interface Provider {
  request(sms: ProviderSms, urls: PushUrls): ProviderRequest;
  /** Reads a 2xx-4xx answer (429 and 5xx are the connector's: temporary). */
  answer(status: number, body: string): ProviderAnswer;
  /**
   * Checks the provider's own signature on a push; present on providers that sign, whose
   * pushes are then authenticated by it rather than by the secret in the URL.
   */
  verify?(push: Push): boolean;
  /** The receipts a push carries (none: not a receipt this gateway acts on). */
  receipts(push: Push): PushedReceipt[];
  inbound(push: Push): PushedInbound | null;
  /** The answer the provider expects to a push (Twilio: TwiML). */
  readonly pushAnswer?: { contentType: string; body: string };
}

/** The value at a dotted path (`messages.0.message-id`), or undefined. */
export function valueAt(root: unknown, path: string): unknown {
  let at = root;
  for (const key of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** The value at `path` as text: a string or number as it is, anything else undefined. */
export function textAt(root: unknown, path: string): string | undefined {
  const v = valueAt(root, path);
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** The values a template may name (`{{to}}`...), for one SMS. */
export function templateValues(sms: ProviderSms, urls: PushUrls): Record<string, string> {
  return {
    id: sms.id,
    to: sms.to,
    from: sms.from,
    text: sms.text ?? '',
    toDigits: sms.to.replace(/^\+/, ''),
    fromDigits: sms.from.replace(/^\+/, ''),
    receiptUrl: urls.receiptUrl,
    inboundUrl: urls.inboundUrl,
  };
}

/** `{{name}}` replaced by its value; an unknown name is left as written. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
}

/** A body as JSON, or undefined when it is not JSON. */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** A refusal the provider will refuse again: failed for good. */
export function refused(status: number, message: string, code = `http_${status}`): ProviderAnswer {
  return {
    ok: false,
    temporary: false,
    code,
    message: `provider answered ${status}: ${message}`.slice(0, 300),
  };
}

/** The first of a header's values. */
export function header(push: Push, name: string): string | undefined {
  const v = push.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Form fields as an object (the last of repeated names). */
export function formFields(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

/** Basic auth's header value. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
