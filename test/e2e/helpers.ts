// Shared pieces of the end-to-end tests: a gateway started from a config in a temp dir,
// a webhook receiver, and polling.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GatewayApp, type StartOptions, startGateway } from '../../src/app/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import type { Message } from '../../src/core/index.ts';
import type { Pdu, SmppClientOptions } from '../../src/smpp/index.ts';
import { SmppClient } from '../../src/smpp/index.ts';

export interface ReceivedHook {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
}

/** An HTTP server that records every POST; `status` decides the answer. */
export async function webhookReceiver(status: () => number = () => 200) {
  const hooks: ReceivedHook[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const code = status();
      if (code >= 200 && code < 300) hooks.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      res.statusCode = code;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    hooks,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Starts a gateway from YAML (`DIR` in it becomes a fresh temp dir). */
export async function gatewayFrom(
  yaml: string,
  options: StartOptions = {},
): Promise<{
  app: GatewayApp;
  base: string;
  dir: string;
  /** Stops it in order and starts it again on the same config and store. */
  restart(): Promise<void>;
  close(): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-e2e-'));
  const start = () => startGateway(parseConfig(yaml.replaceAll('DIR', dir)), options);
  const app = await start();
  const gw = {
    app,
    dir,
    base: `http://127.0.0.1:${app.httpAddress.port}`,
    async restart() {
      await gw.app.close();
      gw.app = await start();
      gw.base = `http://127.0.0.1:${gw.app.httpAddress.port}`;
    },
    async close() {
      await gw.app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return gw;
}

export async function waitFor<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface PartialPost {
  req: http.ClientRequest;
  answer: Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>;
  /** The connection has closed, whichever side closed it. */
  closed: Promise<void>;
}

/**
 * A POST whose headers go with `first` of its body; the rest is the caller's to send
 * (`req.write`, `req.end`) or not. Its answer may come before the body is whole.
 */
export function partialPost(
  base: string,
  path: string,
  headers: Record<string, string | number>,
  first: string,
  localAddress?: string,
): PartialPost {
  const url = new URL(base + path);
  const req = http.request({
    host: url.hostname,
    port: url.port,
    localAddress,
    path: url.pathname + url.search,
    method: 'POST',
    agent: false,
    headers,
  });
  const answer = new Promise<Awaited<PartialPost['answer']>>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
  answer.catch(() => {}); // a request aborted on purpose has no answer
  const closed = new Promise<void>((resolve) => req.on('socket', (s) => s.once('close', () => resolve())));
  req.write(first);
  return { req, answer, closed };
}

export function api(base: string, key: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };
}

/**
 * Our SMPP client as an ESME of the gateway, not yet started: every request it gets is
 * answered and kept in `received`.
 */
export function esme(
  port: number,
  options: Partial<SmppClientOptions> & { systemId: string; password: string },
) {
  const client = new SmppClient({
    host: '127.0.0.1',
    port,
    bindType: 'transceiver',
    reconnect: false,
    ...options,
  });
  const received: Pdu[] = [];
  client.on('request', (pdu, session) => {
    received.push(pdu);
    session.respond(pdu);
  });
  return { client, received };
}

/** Every stored message of an account's group (a batch), read page by page. */
export async function groupMessages(app: GatewayApp, accountId: string, groupId: string): Promise<Message[]> {
  const all: Message[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: Message[]; nextCursor: string | null } = await app.store.listMessages(
      { accountId, groupId },
      cursor,
      500,
    );
    all.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}
