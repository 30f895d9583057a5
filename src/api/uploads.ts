// Uploads running at once (batches, contact and suppression imports, alerts: requests
// whose large bodies are read and held): so many per account and route, and so many in
// all on the gateway, as each may hold tens of megabytes. The slot is taken in the route's
// onRequest hook, after authentication and before the body is read: a large body is never
// read, let alone parsed, for an account or a gateway already at its limit.
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
  running: number;
  readonly max: number;
}

/** Each gateway's count, found from any of its routes' scopes through the shared server. */
const gatewayUploads = new WeakMap<object, GatewayUploads>();

/** Sets the gateway-wide limit; called once as the app is made (`http.maxUploads`). */
export function limitUploads(app: FastifyInstance, max: number): void {
  gatewayUploads.set(app.server, { running: 0, max });
}

/**
 * `max` per account on this route; `what` names the uploads in the 429's message
 * ("batches"). `app` is the route's scope: the gateway-wide count is its server's.
 */
export function uploadSlots(app: FastifyInstance, max: number, what: string): UploadSlots {
  const running = new Map<string, number>();
  const everywhere = gatewayUploads.get(app.server) ?? { running: 0, max: Number.POSITIVE_INFINITY };
  /** What holds each request's slot: its response until closed, its handler while it runs. */
  const holds = new WeakMap<FastifyRequest, { count: number; release: () => void }>();
  const acquire = (accountId: string) => {
    running.set(accountId, (running.get(accountId) ?? 0) + 1);
    everywhere.running++;
    return () => {
      everywhere.running--;
      const left = (running.get(accountId) ?? 1) - 1;
      if (left > 0) running.set(accountId, left);
      else running.delete(accountId);
    };
  };
  const letGo = (hold: { count: number; release: () => void }) => {
    if (--hold.count === 0) hold.release();
  };
  return {
    async take(req, reply) {
      const full =
        (running.get(req.account.id) ?? 0) >= max
          ? `at most ${max} ${what} may upload at once`
          : everywhere.running >= everywhere.max
            ? `the gateway is running its ${everywhere.max} uploads at once; retry shortly`
            : null;
      if (full !== null) {
        reply.header('retry-after', '5');
        throw new GatewayError('too_many_uploads', full, undefined, 429);
      }
      const hold = { count: 1, release: acquire(req.account.id) };
      holds.set(req, hold);
      // 'close' comes once the answer is sent, and also when the client goes mid-body.
      reply.raw.once('close', () => letGo(hold));
    },
    holding(handler) {
      return async (req, reply) => {
        const hold = holds.get(req)!;
        // The client went after its body was read: the work still runs, so it still counts.
        if (hold.count++ === 0) hold.release = acquire(req.account.id);
        try {
          return await handler(req, reply);
        } finally {
          letGo(hold);
        }
      };
    },
  };
}

/**
 * An upload's body (the request stream, or a string from a JSON field) as a stream of at
 * most `maxBytes`, for a parser to read as it arrives: a string goes in slices, so it is
 * taken with back-pressure as a stream is; a body that says it is larger is refused before
 * anything is read, and one that turns out larger fails the stream there, both `413
 * payload_too_large`.
 */
export function uploadStream(source: string | Readable, maxBytes: number, req?: FastifyRequest): Readable {
  if (req && Number(req.headers['content-length']) > maxBytes) throw tooLarge(maxBytes);
  const input = typeof source === 'string' ? Readable.from(slices(source)) : source;
  let bytes = 0;
  const limit = new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (bytes > maxBytes) done(tooLarge(maxBytes));
      else done(null, chunk);
    },
  });
  // The reader's pipeline destroys `limit` when it stops early; this one then the source.
  return pipeline(input, limit, () => {});
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
