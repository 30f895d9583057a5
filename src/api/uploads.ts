// Uploads running at once (batches, contact and suppression imports, alerts: requests
// whose large bodies are read and held): so many per account and route, and so many in
// all on the gateway, as each may hold tens of megabytes. The slot is taken in the route's
// onRequest hook, after authentication and before the body is read: a large body is never
// read, let alone parsed, for an account or a gateway already at its limit.
//
// A count alone did not bound memory: one account's 16 uploads at once (4 batches, alerts,
// contact and suppression imports) took the gateway to 662 MB. So the bytes the
// running uploads have read are counted too: past `maxBytes` an upload's reading waits
// (its client is held back by TCP) until one ends. The oldest always reads on, so one
// always ends; an upload's first MiB never waits, so small ones do not queue behind large;
// and an account that has read less than its even share of `maxBytes` reads on, so one
// account's uploads do not hold another's back.
// An import stored as it is read holds no more as it grows: its bytes are not counted.
import { pipeline, Readable, Transform } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../core/index.ts';

type Handler<T> = (req: FastifyRequest, reply: FastifyReply) => Promise<T>;

export interface UploadSlots {
  /** The route's onRequest hook: a slot, or a 429 with Retry-After. */
  take(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** The route's handler, holding the slot until it returns even when the client has gone. */
  holding<T>(handler: Handler<T>): Handler<T>;
}

/** Uploads running on one gateway, over all routes and accounts. */
interface GatewayUploads {
  readonly max: number;
  readonly maxBytes: number;
  readonly log?: UploadLog;
  /** Body bytes read by the uploads running. */
  bytes: number;
  /** The uploads running, oldest first. */
  readonly running: Set<Upload>;
  /** Readings waiting for bytes to be let go, each retried when an upload ends. */
  readonly waiting: Set<() => void>;
}

type UploadLog = { info(obj: object, msg?: string): void };

/** One request's upload: its slot is held while its response is open or its handler runs. */
interface Upload {
  readonly gateway: GatewayUploads;
  readonly accountId: string;
  count: number;
  release: () => void;
  bytes: number;
  readonly reqId: string;
  /** Whether what it reads counts (its reader holds more as it reads). */
  counted: boolean;
  /** Whether its reading has waited (said once in the log). */
  waited: boolean;
}

/** An upload's first bytes, read without waiting whatever the others hold. */
const bytesNeverHeld = 1024 * 1024;

/** Each gateway's uploads, found from any of its routes' scopes through the shared server. */
const gatewayUploads = new WeakMap<object, GatewayUploads>();
/** Each request's upload, for its body's stream to count what it reads. */
const uploadOf = new WeakMap<FastifyRequest, Upload>();

/** Sets the gateway-wide limits; called once as the app is made (`http.maxUploads`...). */
export function limitUploads(
  app: FastifyInstance,
  limits: { max: number; maxBytes: number; log?: UploadLog },
): void {
  gatewayUploads.set(app.server, noUploads(limits));
}

function noUploads(limits: { max: number; maxBytes: number; log?: UploadLog }): GatewayUploads {
  return { ...limits, bytes: 0, running: new Set(), waiting: new Set() };
}

/** The uploads running, the body bytes they have read, and those whose reading waits. */
export interface UploadFigures {
  running: number;
  bytes: number;
  waiting: number;
}

/** What the gateway's uploads hold now, for the metrics. */
export function uploadsRunning(app: FastifyInstance): UploadFigures {
  const g = gatewayUploads.get(app.server);
  return { running: g?.running.size ?? 0, bytes: g?.bytes ?? 0, waiting: g?.waiting.size ?? 0 };
}

/** Whether the request is an upload, its body counted against the uploads' own bytes. */
export function isUpload(req: FastifyRequest): boolean {
  return uploadOf.has(req);
}

/**
 * `max` per account on this route; `what` names the uploads in the 429's message
 * ("batches"). `app` is the route's scope: the gateway-wide count is its server's.
 */
export function uploadSlots(app: FastifyInstance, max: number, what: string): UploadSlots {
  const running = new Map<string, number>();
  const everywhere =
    gatewayUploads.get(app.server) ??
    noUploads({ max: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY });
  const acquire = (upload: Upload) => {
    const { accountId } = upload;
    running.set(accountId, (running.get(accountId) ?? 0) + 1);
    everywhere.running.add(upload);
    everywhere.bytes += upload.bytes;
    return () => {
      everywhere.running.delete(upload);
      everywhere.bytes -= upload.bytes;
      const left = (running.get(accountId) ?? 1) - 1;
      if (left > 0) running.set(accountId, left);
      else running.delete(accountId);
      for (const retry of [...everywhere.waiting]) retry();
    };
  };
  const letGo = (upload: Upload) => {
    if (--upload.count === 0) upload.release();
  };
  return {
    async take(req, reply) {
      const full =
        (running.get(req.account.id) ?? 0) >= max
          ? `at most ${max} ${what} may upload at once`
          : everywhere.running.size >= everywhere.max
            ? `the gateway is running its ${everywhere.max} uploads at once; retry shortly`
            : null;
      if (full !== null) {
        reply.header('retry-after', '5');
        throw new GatewayError('too_many_uploads', full, undefined, 429);
      }
      const upload: Upload = {
        gateway: everywhere,
        accountId: req.account.id,
        count: 1,
        release: () => {},
        bytes: 0,
        reqId: req.id,
        counted: true,
        waited: false,
      };
      upload.release = acquire(upload);
      uploadOf.set(req, upload);
      // 'close' comes once the answer is sent, and also when the client goes mid-body.
      reply.raw.once('close', () => letGo(upload));
    },
    holding(handler) {
      return async (req, reply) => {
        const upload = uploadOf.get(req)!;
        // The client went after its body was read: the work still runs, so it still counts.
        if (upload.count++ === 0) upload.release = acquire(upload);
        try {
          return await handler(req, reply);
        } finally {
          letGo(upload);
        }
      };
    },
  };
}

/** Calls `read` once the upload may count `size` more bytes read, at once or when one ends. */
function whenMayRead(upload: Upload, size: number, read: () => void): () => void {
  const g = upload.gateway;
  const attempt = () => {
    const held =
      upload.bytes >= bytesNeverHeld &&
      g.bytes >= g.maxBytes &&
      g.running.has(upload) &&
      oldestCounted(g) !== upload &&
      !belowShare(g, upload.accountId);
    if (held) {
      if (!upload.waited)
        g.log?.info(
          { reqId: upload.reqId, read: upload.bytes, uploadsRead: g.bytes, uploadsRunning: g.running.size },
          'upload waits: the uploads running have read http.maxUploadMegabytes',
        );
      upload.waited = true;
      g.waiting.add(attempt);
      return;
    }
    g.waiting.delete(attempt);
    upload.bytes += size;
    if (g.running.has(upload)) g.bytes += size;
    read();
  };
  attempt();
  return () => g.waiting.delete(attempt);
}

/**
 * Whether the account's counted uploads have read less than its share of the bytes, split
 * evenly between the accounts uploading: an account whose upload heads the others, and
 * then comes slowly, does not hold every other account's back for as long as it lasts.
 */
function belowShare(g: GatewayUploads, accountId: string): boolean {
  const accounts = new Set<string>();
  let read = 0;
  for (const upload of g.running) {
    if (!upload.counted) continue;
    accounts.add(upload.accountId);
    if (upload.accountId === accountId) read += upload.bytes;
  }
  return read < g.maxBytes / accounts.size;
}

function oldestCounted(g: GatewayUploads): Upload | undefined {
  for (const upload of g.running) if (upload.counted) return upload;
  return undefined;
}

/**
 * An upload's body (the request stream, or a string from a JSON field) as a stream of at
 * most `maxBytes`, for a parser to read as it arrives: a string goes in slices, so it is
 * taken with back-pressure as a stream is; a body that says it is larger is refused before
 * anything is read, and one that turns out larger fails the stream there, both `413
 * payload_too_large`. Given the request of an upload, what it reads counts against the
 * gateway's upload bytes, and waits while they are full; unless `counted` is false, for a
 * reader that holds no more as it reads (an import stored 1,000 rows at a time).
 */
export function uploadStream(
  source: string | Readable,
  maxBytes: number,
  req?: FastifyRequest,
  { counted = true } = {},
): Readable {
  if (req && Number(req.headers['content-length']) > maxBytes) throw tooLarge(maxBytes);
  const input = typeof source === 'string' ? Readable.from(slices(source)) : source;
  const found = req && uploadOf.get(req);
  if (found && !counted) found.counted = false;
  const upload = counted ? found : undefined;
  let bytes = 0;
  let stopWaiting = () => {};
  const limit = new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      bytes += size;
      if (bytes > maxBytes) done(tooLarge(maxBytes));
      else if (!upload) done(null, chunk);
      else stopWaiting = whenMayRead(upload, size, () => done(null, chunk));
    },
    destroy(err, done) {
      stopWaiting();
      done(err);
    },
  });
  // The reader's pipeline destroys `limit` when it stops early; this one then the source.
  return pipeline(input, limit, () => {});
}

/**
 * Makes the scope's JSON bodies be read through `uploadStream` (an upload's count against
 * the gateway's upload bytes as they arrive; the route's bodyLimit holds) and then parsed
 * whole by Fastify's own parser.
 */
export function readJsonUploads(app: FastifyInstance): void {
  const parse = wholeJsonParser(app);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', async (req: FastifyRequest, payload: Readable) => {
    const chunks: Buffer[] = [];
    for await (const chunk of uploadStream(
      payload,
      req.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit!,
      req,
    ))
      chunks.push(chunk);
    return parse(req, Buffer.concat(chunks).toString('utf8'));
  });
}

/** Fastify's own JSON parser (prototype poisoning refused), for a body read whole. */
export function wholeJsonParser(
  app: FastifyInstance,
): (req: FastifyRequest, text: string) => Promise<unknown> {
  const parse = app.getDefaultJsonParser('error', 'error');
  return (req, text) =>
    new Promise((resolve, reject) => parse(req, text, (err, body) => (err ? reject(err) : resolve(body))));
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(
    'payload_too_large',
    `request body is larger than ${maxBytes} bytes`,
    undefined,
    413,
  );
}

function* slices(text: string, size = 64 * 1024): Generator<string> {
  for (let at = 0; at < text.length; at += size) yield text.slice(at, at + size);
}
