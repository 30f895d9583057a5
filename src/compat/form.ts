// What the compat APIs share: form/query parameters kept as bytes (Kannel and Jasmin
// clients send text in the charset they name, percent-encoded byte by byte), the body
// parsers their clients need, and what a message's delivery history says about it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Message, MessageEvent, Priority } from '../core/index.ts';

/** Parameters of a query string or form body; the first value of a name wins. */
export class FormParams {
  readonly #values = new Map<string, Buffer[]>();

  /** `raw` as sent on the wire: `a=1&b=%E2%82%AC+x`. */
  static parse(raw: Buffer | string): FormParams {
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
    const params = new FormParams();
    let start = 0;
    while (start <= bytes.length) {
      let end = bytes.indexOf(0x26, start); // '&'
      if (end < 0) end = bytes.length;
      if (end > start) {
        const pair = bytes.subarray(start, end);
        const eq = pair.indexOf(0x3d); // '='
        const name = percentDecode(eq < 0 ? pair : pair.subarray(0, eq)).toString('utf8');
        params.add(name, percentDecode(eq < 0 ? Buffer.alloc(0) : pair.subarray(eq + 1)));
      }
      start = end + 1;
    }
    return params;
  }

  /** The query string of a request, then (for a form POST) its body. */
  static ofRequest(req: FastifyRequest): FormParams {
    const q = req.url.indexOf('?');
    const params = FormParams.parse(q < 0 ? '' : req.url.slice(q + 1));
    if (Buffer.isBuffer(req.body) && isForm(req)) params.merge(FormParams.parse(req.body));
    return params;
  }

  add(name: string, value: Buffer): void {
    const list = this.#values.get(name);
    if (list) list.push(value);
    else this.#values.set(name, [value]);
  }

  merge(other: FormParams): void {
    for (const [name, values] of other.#values) for (const v of values) this.add(name, v);
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  bytes(name: string): Buffer | undefined {
    return this.#values.get(name)?.[0];
  }

  /** UTF-8 text of the first value. */
  get(name: string): string | undefined {
    return this.bytes(name)?.toString('utf8');
  }

  names(): string[] {
    return [...this.#values.keys()];
  }

  /** Every name with its first value as text (Twilio's signed parameter set). */
  toObject(): Record<string, string> {
    return Object.fromEntries([...this.#values].map(([k, v]) => [k, v[0]!.toString('utf8')]));
  }
}

function percentDecode(bytes: Buffer): Buffer {
  const hex = (c: number) =>
    c >= 0x30 && c <= 0x39
      ? c - 0x30
      : c >= 0x41 && c <= 0x46
        ? c - 55
        : c >= 0x61 && c <= 0x66
          ? c - 87
          : -1;
  const out = Buffer.alloc(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x2b)
      out[n++] = 0x20; // '+'
    else if (c === 0x25 && i + 2 < bytes.length && hex(bytes[i + 1]!) >= 0 && hex(bytes[i + 2]!) >= 0) {
      out[n++] = hex(bytes[i + 1]!) * 16 + hex(bytes[i + 2]!);
      i += 2;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}

function isForm(req: FastifyRequest): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/**
 * What a compatibility API's request body may be: a message and its parameters (Kannel's
 * largest, 255 binary parts URL-encoded, is about 107 KB). Their credentials may come in
 * the body, so it is read before anyone is known: at the API's 1 MiB, 200 connections'
 * half-sent bodies took 170 MB without a password.
 */
const maxCompatBodyBytes = 128 * 1024;

/**
 * Bodies kept as raw bytes in this plugin's scope: forms (decoded by FormParams, charset
 * aware) and, with `anyType`, every other type (Kannel's text/plain and octet-stream POSTs);
 * none larger than `maxCompatBodyBytes` (413). Called before the scope's routes.
 */
export function rawBodies(app: FastifyInstance, anyType = false): void {
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= maxCompatBodyBytes;
  });
  const keep = (_req: FastifyRequest, body: Buffer, done: (err: null, body: Buffer) => void) =>
    done(null, body);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, keep);
  if (anyType) {
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser('*', { parseAs: 'buffer' }, keep);
  }
}

/** Kannel's and Jasmin's 0..3 priority, lowest first, as the gateway's dispatch classes. */
export function priorityOf(level: number): Priority {
  return (['bulk', 'transactional', 'otp', 'emergency'] as const)[level] ?? 'transactional';
}

/** A delivery as the SMSC told it: its id there, the receipt's stat and err, when. */
export interface DeliveryFacts {
  smscId: string;
  stat: string;
  err: string;
  submittedAt: number;
  doneAt: number;
}

const statOf: Partial<Record<Message['status'], string>> = {
  delivered: 'DELIVRD',
  undelivered: 'UNDELIV',
  expired: 'EXPIRED',
  rejected: 'REJECTD',
  failed: 'UNDELIV',
  canceled: 'DELETED',
};

/** Reads the SMSC's id (first part) and the receipt's words from a message's events. */
export function deliveryFacts(m: Message, events: MessageEvent[]): DeliveryFacts {
  const submitted = events.find((e) => e.type === 'submitted');
  const smscIds = submitted?.detail?.smscIds;
  const receipt = events.findLast((e) => e.detail?.receipt)?.detail?.receipt as
    | { stat?: string; err?: string }
    | undefined;
  return {
    smscId: Array.isArray(smscIds) && typeof smscIds[0] === 'string' ? smscIds[0] : '',
    stat: receipt?.stat || statOf[m.status] || 'ENROUTE',
    err: receipt?.err || '000',
    submittedAt: m.submittedAt ?? m.createdAt,
    doneAt: m.doneAt ?? Date.now(),
  };
}
