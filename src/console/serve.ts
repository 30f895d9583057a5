// Serves the web console (CONTRACT §7: `/console`): a fixed set of static files read once
// from public/ at start-up. Only names in that set are answered, so no request path is
// ever joined onto the file system and `..` in any spelling finds nothing. The browser
// code is plain .js with JSDoc rather than .ts: it is served byte for byte (no transform
// per request, no experimental node:module API), and the project's tsconfig has no DOM
// library to check browser code against; the Chromium tests in test/console cover it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../core/index.ts';

const publicDir = join(import.meta.dirname, 'public');
/** uPlot (the charts), served from its package by the gateway itself: the console uses no CDN. */
const uplotDir = dirname(fileURLToPath(import.meta.resolve('uplot')));
const uplotFiles = ['uPlot.esm.js', 'uPlot.min.css'];

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The console is a client of /v1 on the same origin: scripts, styles and requests from
 * here only, nothing inline (every value is rendered as text, never as markup), no
 * framing, no forms posted anywhere.
 */
export const consoleSecurityHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  // Revalidated on every load (cheap with the ETag), so an upgraded gateway serves its own console.
  'cache-control': 'no-cache',
};

interface ConsoleFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

function loadFiles(): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  const add = (name: string, path: string) => {
    const body = readFileSync(path);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    files.set(name, { body, contentType: contentTypes[extname(name)]!, etag });
  };
  for (const entry of readdirSync(publicDir, { withFileTypes: true })) {
    if (entry.isFile() && contentTypes[extname(entry.name)]) add(entry.name, join(publicDir, entry.name));
  }
  for (const name of uplotFiles) add(name, join(uplotDir, name));
  return files;
}

/** The fastify plugin for the `public` scope of buildHttpApi: GET /console and its files. */
export function consolePlugin(): (app: FastifyInstance) => Promise<void> {
  // Read at the first request for the console, not at start: a gateway nobody opens the
  // console of holds none of it.
  let files: Map<string, ConsoleFile> | undefined;
  const send = (name: string, req: FastifyRequest, reply: FastifyReply) => {
    files ??= loadFiles();
    const file = files.get(name);
    if (!file) throw new GatewayError('not_found', `no console file ${name}`, undefined, 404);
    reply.headers(consoleSecurityHeaders).header('etag', file.etag);
    if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.type(file.contentType).send(file.body);
  };
  return async (app) => {
    app.get('/console', (req, reply) => send('index.html', req, reply));
    app.get('/console/', (req, reply) => send('index.html', req, reply));
    app.get('/console/:file', (req, reply) => send((req.params as { file: string }).file, req, reply));
  };
}
