// Bounds on what one HTTP client can make the gateway hold. Node already stops reading a
// connection whose responses are not being taken, but only after it has parsed the whole
// chunk it is in: one 64 KiB read of pipelined `GET`s is thousands of requests, each
// answered into memory. So a connection may have only so many requests in flight, a
// connection whose writes stay blocked is closed, and connections are counted. A request
// whose client stops sending its body, or sends it slower than a floor, is cut: Fastify
// sets no request timeout, so a thousand half-sent bodies held every connection, and a
// half-sent upload its slot, for ever. What Node's parser refuses (slow or oversized
// headers, bytes that are not HTTP) is answered in the API's error shape.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/index.ts';
import { ConnectionsPerAddress } from '../net/index.ts';

// Required, not imported: an ES import of node:http reads every export, and three of them
// (WebSocket, CloseEvent, MessageEvent) load Node's bundled undici (a 760 KB script) to
// answer, for classes the gateway never uses: 2 MB of the idle gateway's heaps
// (docs/PERFORMANCE.md, "twelfth").
const { maxHeaderSize, STATUS_CODES } = createRequire(import.meta.url)(
  'node:http',
) as typeof import('node:http');

export interface HttpConnectionLimits {
  /** Connections open at once; more are refused by the listener. */
  maxConnections?: number;
  /** Connections open at once from one remote address; more are closed as they arrive (default: no such limit). */
  maxConnectionsPerAddress?: number;
  /** Requests read on one connection and not yet answered; one more closes the connection. */
  maxPipelined?: number;
  /** A connection whose responses have stayed unread this long is closed. */
  writeStallMs?: number;
  /** Uploads (batches, imports, alerts) read or worked on at once, all accounts (uploads.ts). */
  maxUploads?: number;
  /** Body bytes the uploads running may have read before the later ones wait (uploads.ts). */
  maxUploadBytes?: number;
  /** Body bytes the requests over 16 KiB (uploads aside) may hold before one more is refused 503 (body-bytes.ts). */
  maxBodyBytes?: number;
  /** A request whose client sends less than `bodyMinBytesPerSecond` of its body this long, while it could, is cut (408). */
  bodyIdleMs?: number;
  /** The slowest a body may come, averaged over `bodyIdleMs` (0: any byte will do). */
  bodyMinBytesPerSecond?: number;
}

export const httpLimitDefaults = {
  maxConnections: 1_000,
  maxPipelined: 16,
  writeStallMs: 30_000,
  maxUploads: 16,
  maxUploadBytes: 64 * 1_048_576,
  maxBodyBytes: 32 * 1_048_576,
  bodyIdleMs: 60_000,
  bodyMinBytesPerSecond: 500,
};

/** Installs the limits on the app's server (right after it is made). */
export function limitConnections(app: FastifyInstance, limits: HttpConnectionLimits = {}): void {
  const maxPipelined = limits.maxPipelined ?? httpLimitDefaults.maxPipelined;
  const writeStallMs = limits.writeStallMs ?? httpLimitDefaults.writeStallMs;
  const bodyIdleMs = limits.bodyIdleMs ?? httpLimitDefaults.bodyIdleMs;
  const minBytesPerSecond = limits.bodyMinBytesPerSecond ?? httpLimitDefaults.bodyMinBytesPerSecond;
  // What a body must bring in each `bodyIdleMs` the gateway could read it: at least a byte.
  const bodyMinBytes = Math.max(1, Math.ceil((minBytesPerSecond * bodyIdleMs) / 1000));
  app.server.maxConnections = limits.maxConnections ?? httpLimitDefaults.maxConnections;
  if (limits.maxConnectionsPerAddress !== undefined) {
    const perAddress = new ConnectionsPerAddress(limits.maxConnectionsPerAddress);
    app.server.on('connection', (socket: Socket) => {
      if (!perAddress.admit(socket)) socket.destroy();
    });
  }

  const inFlight = new Map<Socket, number>();
  // What each socket had waiting to be written, and since when it has been exactly that:
  // a peer taking any of it changes the figure. (http's writes leave writableNeedDrain
  // unset, so 'drain' cannot tell.)
  const waiting = new Map<Socket, { octets: number; since: number }>();
  // The request whose body each socket is receiving, and since when the gateway could
  // take more of it, with the bytes read then: with nothing buffered unread, the wait is
  // the client's (time the gateway holds a body back itself leaves it buffered).
  const receiving = new Map<
    Socket,
    { req: IncomingMessage; res: ServerResponse; bytesRead: number; since: number }
  >();
  // Fastify's handler is wrapped rather than hooked: the rest of a chunk from a connection
  // already dropped is then let go before fastify builds anything for it.
  const server = app.server;
  const watched = new WeakSet<Socket>();
  const handlers = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req, res) => {
    // The socket the requests arrive on (under TLS not the one 'connection' gives).
    const socket = req.socket;
    if (socket.destroyed) return;
    const n = (inFlight.get(socket) ?? 0) + 1;
    if (n > maxPipelined) {
      // A client this far ahead of its answers is not reading them: nothing it sent on
      // this connection is worth working on.
      socket.destroy();
      return;
    }
    if (!watched.has(socket)) {
      watched.add(socket);
      socket.once('close', () => {
        waiting.delete(socket);
        inFlight.delete(socket);
        receiving.delete(socket);
      });
      // Node calls it once the last answer is written: the body still coming decides how.
      socket.destroySoon = () => closeAfterBody(socket, receiving.get(socket)?.req);
    }
    inFlight.set(socket, n);
    if (!req.complete) receiving.set(socket, { req, res, bytesRead: socket.bytesRead, since: Date.now() });
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      if (left > 0) inFlight.set(socket, left);
      else inFlight.delete(socket);
    });
    for (const handler of handlers) handler.call(server, req, res);
  });
  server.removeAllListeners('clientError');
  server.on('clientError', (err: Error, socket: Duplex) =>
    refuseClientError(err, socket, !inFlight.has(socket as Socket), server.headersTimeout),
  );

  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const socket of inFlight.keys()) {
        const octets = socket.writableLength;
        const before = waiting.get(socket);
        if (octets === 0) waiting.delete(socket);
        else if (before?.octets !== octets) waiting.set(socket, { octets, since: now });
        else if (now - before.since >= writeStallMs) socket.destroy();
      }
      for (const [socket, body] of receiving) {
        if (body.req.complete) receiving.delete(socket);
        else if (body.req.readableLength > 0) {
          body.bytesRead = socket.bytesRead;
          body.since = now;
        } else if (now - body.since >= bodyIdleMs) {
          // Too little came in the time the gateway could read: a client sending a byte now
          // and then would otherwise hold its connection, and an upload's turn, for ever.
          if (socket.bytesRead - body.bytesRead < bodyMinBytes) {
            receiving.delete(socket);
            cutBody(body.req, body.res, bodyIdleMs, minBytesPerSecond);
          } else {
            body.bytesRead = socket.bytesRead;
            body.since = now;
          }
        }
      }
    },
    Math.min(1_000, writeStallMs / 4, bodyIdleMs / 4),
  );
  sweep.unref();
  app.addHook('onClose', (_app, done) => {
    clearInterval(sweep);
    done();
  });
}

/** How long a connection closed with its request's body still coming is read before it is reset. */
const lingerMs = 10_000;

/**
 * Closes a connection once its last answer is written (Node's `destroySoon`), given the
 * request whose body it was receiving, if any. With that body still coming (answered early:
 * 413, 503, a parse error) the close lingers (`linger`).
 */
function closeAfterBody(socket: Socket, req: IncomingMessage | undefined): void {
  if (!req || req.complete) {
    Socket.prototype.destroySoon.call(socket);
    return;
  }
  // Node's parser still gives the body to the request, refused or destroyed (a destroyed
  // one makes it stop reading): dumped, it drops it.
  (req as IncomingMessage & { _dump(): void })._dump();
  linger(socket);
}

/**
 * Closes a connection whose client may still be sending. Destroyed at once, the kernel
 * resets the connection on the next bytes that arrive, and the client, still writing, may
 * see the reset before it reads the answer (fetch: "write EPIPE"). So the close lingers
 * (RFC 9112 §9.6): the answer and a FIN go out, what the client still sends is read and
 * dropped, and the socket goes when the client closes its side, or after `lingerMs`.
 */
function linger(socket: Duplex): void {
  socket.end();
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  socket.once('close', () => clearTimeout(timer));
}

/** Answers a request whose body stopped coming, or came too slowly, `408 body_timeout`, and closes its connection. */
function cutBody(req: IncomingMessage, res: ServerResponse, idleMs: number, minBytesPerSecond: number): void {
  const message =
    minBytesPerSecond > 0
      ? `the request body came slower than ${minBytesPerSecond} bytes a second for ${idleMs / 1000} s`
      : `no part of the request body came for ${idleMs / 1000} s`;
  // Once answered, Node no longer ends the request when its connection closes: whatever
  // reads the body (an upload's handler) is told here, once the answer is on its way.
  const abandon = () => req.destroy(new GatewayError('body_timeout', message, undefined, 408));
  if (res.headersSent) {
    abandon();
    return;
  }
  const answer = JSON.stringify({ error: { code: 'body_timeout', message } });
  res.writeHead(408, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(answer),
    connection: 'close',
  });
  res.end(answer, abandon);
}

/**
 * Answers what Node's HTTP parser refused before a request was made of it — headers that
 * took longer than the server's `headersTimeout`, headers over `maxHeaderSize`, bytes that
 * are not HTTP — in the API's error shape (fastify's own answer has another), and closes
 * the connection. Only when `answer`: not while a request of the connection is still to
 * be answered, as this answer, written first, would be taken for that one's.
 */
function refuseClientError(
  err: Error & { code?: string },
  socket: Duplex,
  answer: boolean,
  headersTimeoutMs: number,
): void {
  // A connection already closing (lingering: the parser refuses each chunk it still reads)
  // is left to its close.
  if (err.code === 'ECONNRESET' || socket.destroyed || socket.writableEnded) return;
  const [status, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', `the request's headers did not all come within ${headersTimeoutMs / 1000} s`]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', `the request's headers are over ${maxHeaderSize} bytes`]
        : [400, 'bad_request', `not a valid HTTP/1.1 request (${err.code ?? err.message})`];
  const answering = answer && socket.writable;
  if (answering) socket.write(errorAnswer(status, code, message));
  // Headers too large often come with a body behind them: lingering lets the client finish
  // writing and read the answer. A client too slow to send its headers is not sending much
  // more, and one not answered has nothing to read: let go at once.
  if (answering && status !== 408) linger(socket);
  else socket.destroy(err);
}

function errorAnswer(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: { code, message } });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}
