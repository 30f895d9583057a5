// Request body bytes held by the gateway, bounded over all requests at once. A body is
// held from its first byte read until its answer is sent (Fastify keeps the chunks, then
// the parse, while the handler runs), and its client chooses how slowly it comes: 400
// half-sent 1 MiB bodies from one API key took the gateway from 147 to 549 MB.
//
// So a body over 16 KiB, or of unknown length, reserves its length (unknown: the route's
// limit) before it is read, until its answer is sent; while the reservations come to
// `maxBytes`, one more is refused, 503 `server_busy` with Retry-After and its connection
// closed, and the rest of it is never read. (Holding it back instead, as uploads are held,
// still keeps what its socket and streams have taken in, ~200 KiB a connection.) An
// account with less than an even share of `maxBytes` is let in still, so one account's
// slow bodies do not shut out another's; a request not yet known to be an account's (the
// compat APIs' bodies carry their credentials) holds for its remote address. Small
// bodies, nearly all of the traffic, are not counted and cost nothing here. Uploads have a
// budget of their own (uploads.ts): they are read by their route as they arrive.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '../core/index.ts';

/** A body up to this size is read without a reservation: every message request fits. */
export const bodyBytesNeverCounted = 16 * 1024;

/** The bytes reserved by the bodies being read or answered, and the ones refused. */
export interface BodyFigures {
  bytes: number;
  refused: number;
}

const gatewayBodies = new WeakMap<object, BodyFigures>();

/**
 * Holds the app's request bodies over `bodyBytesNeverCounted` to `maxBytes` reserved at
 * once, except those `ownBudget` says are counted elsewhere (uploads).
 */
export function limitBodies(
  app: FastifyInstance,
  maxBytes: number,
  ownBudget: (req: FastifyRequest) => boolean,
  log?: { warn(obj: object, msg?: string): void },
): void {
  const held: BodyFigures = { bytes: 0, refused: 0 };
  gatewayBodies.set(app.server, held);
  // What each holder has reserved: an account, or the remote address of requests not yet
  // known to be an account's (behind a proxy all of those share the proxy's).
  const byHolder = new Map<string, number>();
  const reserve = (holder: string, size: number) => {
    const now = (byHolder.get(holder) ?? 0) + size;
    if (now === 0) byHolder.delete(holder);
    else byHolder.set(holder, now);
    held.bytes += size;
  };
  // A line when refusals start, then at most one every 10 s while they go on, with how many.
  let quietUntil = 0;
  let refusedAtLine = 0;
  const said = (reqId: string) => {
    const now = Date.now();
    if (now < quietUntil) return;
    quietUntil = now + 10_000;
    log?.warn(
      { reqId, heldBytes: held.bytes, refused: held.refused - refusedAtLine },
      'request bodies refused (503 server_busy): the bodies being read hold http.maxBodyMegabytes',
    );
    refusedAtLine = held.refused;
  };
  app.addHook('preParsing', (req, reply, payload, done) => {
    const length = req.headers['content-length'];
    // No length and not chunked: no body. Fastify reads no more than the route's limit, and
    // answers a longer Content-Length 413 before reading any of it.
    const limit = req.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit!;
    const size =
      length !== undefined ? Number(length) : req.headers['transfer-encoding'] !== undefined ? limit : 0;
    if (size <= bodyBytesNeverCounted || size > limit || ownBudget(req)) return done(null, payload);
    // With none held, a body is let in whatever its size: a limit set below a route's
    // largest body must not refuse that body for ever. Past the limit, a holder with less
    // than an even share of it (between the holders) is let in still: one account's slow
    // bodies do not shut out another's. So about twice the limit at most is held.
    const holder = req.account ? `account ${req.account.id}` : `address ${req.socket.remoteAddress}`;
    const mine = byHolder.get(holder) ?? 0;
    const share = maxBytes / (byHolder.size + (mine === 0 ? 1 : 0));
    if (held.bytes > 0 && held.bytes + size > maxBytes && mine + size > share) {
      held.refused++;
      said(req.id);
      reply.header('retry-after', '5');
      reply.header('connection', 'close');
      return done(
        new GatewayError(
          'server_busy',
          'the gateway holds as many request bodies as http.maxBodyMegabytes lets it; retry shortly',
          undefined,
          503,
        ),
      );
    }
    reserve(holder, size);
    // 'close' comes once the answer is sent, and also when the client goes mid-body.
    reply.raw.once('close', () => reserve(holder, -size));
    done(null, payload);
  });
}

/** What the bodies counted by `limitBodies` hold now and have been refused, for the metrics. */
export function bodiesHeld(app: FastifyInstance): BodyFigures {
  return gatewayBodies.get(app.server) ?? { bytes: 0, refused: 0 };
}
