// Draining HTTP: a request that came before the drain gets its answer with
// `Connection: close` and its kept-alive connection ends; a new one gets 503.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { buildHttpApi } from '../../src/api/index.ts';
import type { AccountLimits, AccountRegistry, Gateway } from '../../src/core/index.ts';

test('draining: answers in flight close their connection; new requests get 503 shutting_down', async (t) => {
  let draining = false;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let arrived: () => void = () => {};
  const inHandler = new Promise<void>((r) => (arrived = r));
  const app = await buildHttpApi({
    gateway: {} as Gateway,
    accounts: {} as AccountRegistry,
    adminKeyHashes: [],
    metrics: { contentType: 'text/plain', render: async () => '' },
    limits: {} as AccountLimits,
    routes: {},
    draining: () => draining,
    plugins: {
      public: [
        async (scope) => {
          scope.get('/slow', async () => {
            arrived();
            await gate;
            return { ok: true };
          });
        },
      ],
    },
  });
  t.after(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const get = (path: string) =>
    new Promise<{ status: number; connection?: string; body: string; closed: Promise<void> }>(
      (resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path, agent }, (res) => {
            const closed = new Promise<void>((r) => res.socket.once('close', () => r()));
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c) => (body += c));
            res.on('end', () =>
              resolve({ status: res.statusCode!, connection: res.headers.connection, body, closed }),
            );
          })
          .on('error', reject);
      },
    );

  const before = await get('/openapi.json');
  assert.equal(before.status, 200);
  assert.equal(before.connection, 'keep-alive');

  const slow = get('/slow');
  await inHandler;
  draining = true;
  release();
  const answered = await slow;
  assert.equal(answered.status, 200);
  assert.equal(answered.connection, 'close', 'the answer of a request from before the drain closes');
  await answered.closed;

  const refused = await get('/openapi.json');
  assert.equal(refused.status, 503);
  assert.equal(refused.connection, 'close');
  assert.equal(JSON.parse(refused.body).error.code, 'shutting_down');
});
