// HTTP clients that do not read what they asked for (src/api/http-limits.ts): too many
// pipelined requests close the connection, a response left unread closes it after
// `http.writeStallSeconds`, and `http.maxConnections` caps connections. A client that
// reads its answers is unaffected however many requests it sends on one connection.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { createLogger } from '../../src/app/index.ts';
import { api, gatewayFrom, partialPost, waitFor } from './helpers.ts';

function connect(port: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** `count` pipelined GETs of `path` in one write; nothing is read. */
function pipeline(socket: net.Socket, path: string, count: number): void {
  socket.pause();
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`.repeat(count));
}

/** Connections the gateway's HTTP server holds open. */
function openConnections(gw: Awaited<ReturnType<typeof gatewayFrom>>): Promise<number> {
  return new Promise((resolve, reject) =>
    gw.app.http.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
}

test('HTTP: a connection with more requests in flight than maxPipelined is closed', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0, maxPipelined: 8, maxConnections: 6 }
`);
  t.after(() => gw.close());
  const port = gw.app.httpAddress.port;

  await t.test('2,000 pipelined requests, none read', async () => {
    const socket = await connect(port);
    pipeline(socket, '/openapi.json', 2_000);
    await waitFor(async () => (await openConnections(gw)) === 0, 10_000, 'the connection closed');
    socket.destroy();
  });

  await t.test('a client that reads may send any number of requests on one connection', async () => {
    const socket = await connect(port);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    for (let i = 1; i <= 40; i++) {
      socket.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
      await waitFor(() => received.split('HTTP/1.1 200').length - 1 === i, 10_000, `answer ${i}`);
    }
    // Eight at once (the limit) are answered too.
    socket.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n'.repeat(8));
    await waitFor(() => received.split('HTTP/1.1 200').length - 1 === 48, 10_000, 'eight pipelined answers');
    socket.destroy();
  });

  await t.test('connections past maxConnections are refused', async () => {
    await waitFor(async () => (await openConnections(gw)) === 0, 10_000, 'no connection left');
    const open = await Promise.all(Array.from({ length: 6 }, () => connect(port)));
    await waitFor(async () => (await openConnections(gw)) === 6, 10_000, 'six connections taken');
    const extra = await connect(port);
    extra.on('error', () => {});
    let answered = false;
    extra.on('data', () => {
      answered = true;
    });
    extra.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise<void>((resolve) => extra.once('close', () => resolve()));
    assert.equal(answered, false);
    for (const s of open) s.destroy();
  });
});

test('HTTP: connections past maxConnectionsPerAddress from one address are closed, others still taken', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0, maxConnectionsPerAddress: 3 }
`);
  t.after(() => gw.close());
  const port = gw.app.httpAddress.port;
  /** Whether a request on the socket is answered (else the gateway closed it unanswered). */
  const answered = (socket: net.Socket) => {
    socket.on('error', () => {});
    const answer = answerOf(socket);
    socket.write('GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    return answer.closed.then(() => answer.text().startsWith('HTTP/1.1 200'));
  };
  const held = await Promise.all(Array.from({ length: 3 }, () => connect(port)));
  await waitFor(async () => (await openConnections(gw)) === 3, 10_000, 'three connections taken');
  assert.equal(await answered(await connect(port)), false, 'a fourth from 127.0.0.1');
  // Another address (loopback's 127.0.0.2) has its own three.
  assert.equal(await answered(await connect(port, '127.0.0.2')), true, 'one from 127.0.0.2');
  // A connection that ends gives its place back.
  held[0]!.destroy();
  await waitFor(async () => (await openConnections(gw)) === 2, 10_000, 'one connection gone');
  assert.equal(await answered(await connect(port)), true, 'a third from 127.0.0.1 again');
  for (const s of held) s.destroy();
});

test('HTTP: a connection whose answers stay unread is closed after writeStallSeconds', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0, maxPipelined: 1000, writeStallSeconds: 1 }
`);
  t.after(() => gw.close());
  const socket = await connect(gw.app.httpAddress.port);
  // 500 answers of ~47 kB: far more than the loopback buffers hold, so the writes block.
  pipeline(socket, '/openapi.json', 500);
  await waitFor(async () => (await openConnections(gw)) === 1, 10_000, 'the connection taken');
  await waitFor(async () => (await openConnections(gw)) === 0, 20_000, 'the stalled connection closed');
  socket.destroy();
});

/** A gateway with the accounts acme and beta and a simulator, and these `http` limits. */
function acmeWithLimits(limits: string): string {
  return `
http: { listen: 127.0.0.1:0, ${limits} }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
  - { id: beta, apiKeys: [beta-key-1], defaultFrom: BETA }
connectors:
  - { id: sim, type: simulator }
routes:
  mt: [{ connectors: [sim] }]
`;
}

/** The head of a message POST by acme whose body is `length` bytes. */
function head(length: number): string {
  return (
    'POST /v1/messages HTTP/1.1\r\nhost: x\r\nauthorization: Bearer acme-key-1\r\n' +
    `content-type: application/json\r\ncontent-length: ${length}\r\n\r\n`
  );
}

/** What comes back on the socket, and when it closes. */
function answerOf(socket: net.Socket) {
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  return {
    text: () => received,
    closed: new Promise<void>((resolve) => socket.once('close', () => resolve())),
  };
}

test("HTTP: what is not HTTP, or has headers over Node's limit, is answered in the API's error shape and closed", async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
`);
  t.after(() => gw.close());
  const port = gw.app.httpAddress.port;
  /** Sends `bytes` on a new connection; what came back once the gateway closed it. */
  const exchange = async (bytes: string) => {
    const socket = await connect(port);
    socket.on('error', () => {});
    const answer = answerOf(socket);
    socket.write(bytes);
    await answer.closed;
    return answer.text();
  };
  const errorOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error;

  const garbage = await exchange('HELLO THERE\r\n\r\n');
  assert.match(garbage, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(garbage, /\r\nconnection: close\r\n/);
  assert.equal(errorOf(garbage).code, 'bad_request');
  assert.match(errorOf(garbage).message, /not a valid HTTP\/1\.1 request \(HPE_/);

  const big = await exchange(`GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.deepEqual(errorOf(big), {
    code: 'headers_too_large',
    message: "the request's headers are over 16384 bytes",
  });

  // With a request still to be answered on the connection, nothing is written ahead of its
  // answer: the connection is only closed.
  const behind = await exchange('GET /health HTTP/1.1\r\nhost: x\r\n\r\nHELLO THERE\r\n\r\n');
  assert.ok(!behind.includes('400 Bad Request'), behind);
  // Once its answers are out, a kept-alive connection's garbage is answered as a new one's.
  const socket = await connect(port);
  const answer = answerOf(socket);
  socket.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
  await waitFor(() => answer.text().includes('"status":"ok"'), 10_000, 'the first answer');
  socket.write('HELLO THERE\r\n\r\n');
  await answer.closed;
  assert.match(answer.text(), /^HTTP\/1\.1 200 OK\r\n.*HTTP\/1\.1 400 Bad Request\r\n/s);
});

test('HTTP: a request whose body stops coming is answered 408 after bodyIdleSeconds; one sent slowly is not', async (t) => {
  const gw = await gatewayFrom(acmeWithLimits('bodyIdleSeconds: 3, bodyMinBytesPerSecond: 0'));
  t.after(() => gw.close());
  const port = gw.app.httpAddress.port;
  const body = JSON.stringify({ to: '+447700900001', text: 'slowly' });

  await t.test('a body sent a few bytes at a time, never 3 s apart, is taken', async () => {
    const socket = await connect(port);
    const answer = answerOf(socket);
    socket.write(head(Buffer.byteLength(body)));
    for (let at = 0; at < body.length; at += 6) {
      await new Promise((r) => setTimeout(r, 300));
      socket.write(body.slice(at, at + 6));
    }
    await waitFor(() => answer.text().includes('\r\n\r\n{'), 10_000, 'the answer');
    assert.match(answer.text(), /^HTTP\/1\.1 202 /);
    socket.destroy();
  });

  await t.test('a body that stops half-way is answered 408 body_timeout, its connection closed', async () => {
    const socket = await connect(port);
    const answer = answerOf(socket);
    socket.write(head(Buffer.byteLength(body)) + body.slice(0, 10));
    await answer.closed; // by the gateway
    assert.match(answer.text(), /^HTTP\/1\.1 408 /);
    assert.match(answer.text(), /\r\nconnection: close\r\n/i);
    const error = JSON.parse(answer.text().slice(answer.text().indexOf('\r\n\r\n') + 4)).error;
    assert.equal(error.code, 'body_timeout');
    assert.equal(await openConnections(gw), 0);
  });
});

test('HTTP: a body that comes slower than bodyMinBytesPerSecond over bodyIdleSeconds is answered 408', async (t) => {
  const gw = await gatewayFrom(acmeWithLimits('bodyIdleSeconds: 2, bodyMinBytesPerSecond: 1000'));
  t.after(() => gw.close());
  const port = gw.app.httpAddress.port;
  // A message padded with spaces to 12,000 bytes, sent `size` bytes every `everyMs`.
  const body = JSON.stringify({ to: '+447700900001', text: 'paced' }).padEnd(12_000, ' ');
  const send = async (socket: net.Socket, from: number, size: number, everyMs: number) => {
    for (let at = from; at < body.length && !socket.destroyed; at += size) {
      socket.write(body.slice(at, at + size));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };

  await t.test('20 KB a second is taken', async () => {
    const socket = await connect(port);
    const answer = answerOf(socket);
    socket.write(head(body.length));
    await send(socket, 0, 1_000, 50);
    await waitFor(() => answer.text().includes('\r\n\r\n{'), 10_000, 'the answer');
    assert.match(answer.text(), /^HTTP\/1\.1 202 /);
    socket.destroy();
  });

  for (const [what, first] of [
    ['500 bytes a second', 0],
    ['half at once, then 500 bytes a second', 6_000],
  ] as const) {
    await t.test(`${what} is answered 408 body_timeout, its connection closed`, async () => {
      const socket = await connect(port);
      socket.on('error', () => {});
      const answer = answerOf(socket);
      socket.write(head(body.length) + body.slice(0, first));
      const started = Date.now();
      void send(socket, first, 100, 200);
      await answer.closed; // by the gateway, long before the body's end (12 s at this pace)
      assert.ok(Date.now() - started < 8_000, `cut after ${Date.now() - started} ms`);
      assert.match(answer.text(), /^HTTP\/1\.1 408 /);
      const error = JSON.parse(answer.text().slice(answer.text().indexOf('\r\n\r\n') + 4)).error;
      assert.equal(error.code, 'body_timeout');
      assert.match(error.message, /slower than 1000 bytes a second/);
    });
  }
});

/** The answer to a POST whose headers promise more body than `first`, which alone is sent. */
async function answerToPartialPost(
  base: string,
  path: string,
  headers: Record<string, string | number>,
  first: string,
) {
  const post = partialPost(base, path, headers, first);
  const timer = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer to ${path} before its body`)), 10_000).unref(),
  );
  try {
    return await Promise.race([post.answer, timer]);
  } finally {
    post.req.destroy();
  }
}

test('HTTP: a request refused while its body still comes gets its answer and a FIN, not a reset', async (t) => {
  const gw = await gatewayFrom(acmeWithLimits(''));
  t.after(() => gw.close());
  const port = gw.app.httpAddress.port;
  const accepted: net.Socket[] = [];
  gw.app.http.server.on('connection', (socket: net.Socket) => accepted.push(socket));
  const chunk = Buffer.from(`8000\r\n${'x'.repeat(0x8000)}\r\n`);
  /**
   * Streams a chunked body to `path` until the gateway answers, then 300 ms more; what came
   * back, whether a write failed, and whether the gateway's FIN came before the client ended.
   */
  const refusedWhileSending = async (path: string, opening: string, halfOpen = false, headers = '') => {
    const socket = new net.Socket({ allowHalfOpen: halfOpen });
    await new Promise<void>((resolve, reject) => {
      socket.connect(port, '127.0.0.1', resolve);
      socket.once('error', reject);
    });
    const errors: string[] = [];
    socket.on('error', (err) => errors.push(err.message));
    let finReceived = false;
    socket.on('end', () => {
      finReceived = true;
    });
    const answer = answerOf(socket);
    socket.write(
      `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer acme-key-1\r\n${headers}` +
        'content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n' +
        `${Buffer.byteLength(opening).toString(16)}\r\n${opening}\r\n`,
    );
    let answeredAt = 0;
    while (!socket.destroyed && (answeredAt === 0 || Date.now() - answeredAt < 300)) {
      if (answeredAt === 0 && answer.text().includes('\r\n\r\n{')) answeredAt = Date.now();
      if (!socket.write(chunk)) await new Promise((r) => setTimeout(r, 5));
      else await new Promise((r) => setImmediate(r));
    }
    return { socket, answer, errors, finReceived: () => finReceived };
  };

  for (const [name, path, opening, headers, status, code] of [
    [
      'a message body past 1 MiB (read whole)',
      '/v1/messages',
      '{"to":"+447700900001","text":"',
      '',
      413,
      'payload_too_large',
    ],
    [
      'a batch body past 64 MiB (parsed as it comes)',
      '/v1/batches',
      '{"text":"Hi","recipients":["',
      '',
      413,
      'payload_too_large',
    ],
    [
      "headers over 16 KiB with a body behind them (Node's parser refuses)",
      '/v1/messages',
      '{"text":"',
      `x-padding: ${'p'.repeat(20_000)}\r\n`,
      431,
      'headers_too_large',
    ],
  ] as const) {
    await t.test(name, async () => {
      const { socket, answer, errors, finReceived } = await refusedWhileSending(
        path,
        opening,
        false,
        headers,
      );
      assert.match(answer.text(), new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.match(answer.text(), /\r\nconnection: close\r\n/i);
      assert.match(answer.text(), new RegExp(`"code":"${code}"`));
      assert.deepEqual(errors, [], 'what the client sent after the answer was read, not reset');
      await waitFor(() => finReceived(), 10_000, "the gateway's FIN after its answer");
      socket.end();
      await answer.closed;
      await waitFor(async () => (await openConnections(gw)) === 0, 10_000, 'the connection let go');
      assert.equal(accepted.at(-1)!.bytesRead, socket.bytesWritten, 'all the client sent was read');
    });
  }

  await t.test('a client that neither sends nor closes is let go after 10 s', async () => {
    const { socket, answer, errors, finReceived } = await refusedWhileSending(
      '/v1/messages',
      '{"text":"',
      true,
    );
    assert.match(answer.text(), /^HTTP\/1\.1 413 /);
    assert.deepEqual(errors, []);
    await waitFor(() => finReceived(), 10_000, "the gateway's FIN after its answer");
    assert.equal(await openConnections(gw), 1, 'held while the client may still be sending');
    await waitFor(async () => (await openConnections(gw)) === 0, 30_000, 'the connection let go');
    socket.destroy();
  });
});

test('HTTP: a body read before its sender is known is small (compat APIs 128 KiB, provider pushes 64 KiB)', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
connectors:
  - { id: sim, type: simulator }
  - id: prov
    type: http
    url: http://127.0.0.1:9/sms
    secret: push-secret-1
    body: { to: "{{to}}", text: "{{text}}" }
    accepted: { idPath: messageId }
    receipts: { idPath: msgid, statusPath: state, statuses: { OK: delivered } }
routes:
  mt: [{ connectors: [sim] }]
`);
  t.after(() => gw.close());
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  // Kannel's and Jasmin's credentials may come in the body: a larger one is refused on its
  // headers, before any of it is read.
  const kannel = await answerToPartialPost(
    gw.base,
    '/cgi-bin/sendsms',
    { ...form, 'content-length': 128 * 1024 + 1 },
    'username=',
  );
  assert.equal(kannel.status, 413);
  assert.equal(kannel.body, 'Request too large, rejected');
  const jasmin = await answerToPartialPost(
    gw.base,
    '/send',
    { ...form, 'content-length': 200_000 },
    'username=',
  );
  assert.equal(jasmin.status, 413);
  // Sent without a length, it is read up to the limit and no further.
  const chunked = await answerToPartialPost(
    gw.base,
    '/cgi-bin/sendsms',
    { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
    'x'.repeat(200 * 1024),
  );
  assert.equal(chunked.status, 413);
  // A push is read only for a connector that exists, and up to 64 KiB.
  const unknown = await answerToPartialPost(
    gw.base,
    '/v1/connectors/nope/receipts',
    { 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 },
    '{"id":',
  );
  assert.equal(unknown.status, 404);
  assert.equal(JSON.parse(unknown.body).error.code, 'not_found');
  const large = await answerToPartialPost(
    gw.base,
    '/v1/connectors/prov/receipts',
    { 'content-type': 'application/json', 'content-length': 64 * 1024 + 1 },
    '{"id":',
  );
  assert.equal(large.status, 413);
});

test('HTTP: bodies over 16 KiB held at once are bounded by maxBodyMegabytes, shared evenly; one more is refused 503 before its body', async (t) => {
  const logged: Array<Record<string, unknown>> = [];
  const gw = await gatewayFrom(acmeWithLimits('maxBodyMegabytes: 1'), {
    log: createLogger('info', { write: (line: string) => void logged.push(JSON.parse(line)) }),
  });
  t.after(() => gw.close());
  const json = { authorization: 'Bearer acme-key-1', 'content-type': 'application/json' };
  const figures = async () => {
    const text = await (await fetch(`${gw.base}/metrics`)).text();
    const value = (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    return { bytes: value('smsgw_body_bytes'), refused: value('smsgw_bodies_refused_total') };
  };
  // A message padded with spaces past 16 KiB: valid, and counted.
  const padded = (to: string) => `{"to":"${to}","text":"after"}${' '.repeat(20 * 1024)}`;

  // Two half-sent bodies of 512 KiB hold the MiB, as their client keeps them.
  const half = 512 * 1024;
  const held = [1, 2].map(() =>
    partialPost(
      gw.base,
      '/v1/messages',
      { ...json, 'content-length': half },
      '{"to":"+447700900001","text":"',
    ),
  );
  await waitFor(async () => (await figures()).bytes === 2 * half, 10_000, 'both bodies counted');

  // A third of acme's is refused on its headers and its connection closed; so is one of
  // unknown length (it would take up to the route's limit).
  const third = await answerToPartialPost(
    gw.base,
    '/v1/messages',
    { ...json, 'content-length': half },
    '{"to":',
  );
  assert.equal(third.status, 503);
  assert.equal(JSON.parse(third.body).error.code, 'server_busy');
  assert.equal(third.headers['retry-after'], '5');
  assert.equal(third.headers.connection, 'close');
  const chunked = await answerToPartialPost(
    gw.base,
    '/v1/messages',
    { ...json, 'transfer-encoding': 'chunked' },
    '{"to":',
  );
  assert.equal(chunked.status, 503);
  // Bodies not yet known to be an account's (the Kannel API's carry their credentials)
  // hold for their remote address: up to an even share, half the MiB, they are let in
  // still; past it, refused in Kannel's words.
  const form = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': 100_000 };
  const kannelHeld = [1, 2, 3, 4, 5].map(() => partialPost(gw.base, '/cgi-bin/sendsms', form, 'username='));
  t.after(() => {
    for (const post of kannelHeld) post.req.destroy();
  });
  await waitFor(
    async () => (await figures()).bytes === 2 * half + 500_000,
    10_000,
    'five Kannel bodies counted, within their share',
  );
  const kannel = await answerToPartialPost(gw.base, '/cgi-bin/sendsms', form, 'username=');
  assert.equal(kannel.status, 503);
  assert.equal(kannel.body, 'Temporal failure, try again later.');
  assert.deepEqual(await figures(), { bytes: 2 * half + 500_000, refused: 3 });
  // From another address, another holder: let in (below its share of a third).
  const elsewhere = partialPost(gw.base, '/cgi-bin/sendsms', form, 'username=', '127.0.0.2');
  await waitFor(
    async () => (await figures()).bytes === 2 * half + 600_000,
    10_000,
    'a Kannel body from 127.0.0.2 counted',
  );
  elsewhere.req.destroy();
  await waitFor(async () => (await figures()).bytes === 2 * half + 500_000, 10_000, 'and let go');
  // Said once, not once a refusal.
  const said = logged.filter((l) => String(l.msg).startsWith('request bodies refused (503 server_busy)'));
  assert.equal(said.length, 1);
  assert.equal(said[0]!.level, 'warn');
  assert.equal(said[0]!.heldBytes, 2 * half);
  for (const post of kannelHeld) post.req.destroy();
  await waitFor(async () => (await figures()).bytes === 2 * half, 10_000, 'the Kannel bodies let go');
  // Another account, below its share, is let in: acme's slow bodies do not shut it out.
  const beta = await fetch(`${gw.base}/v1/messages`, {
    method: 'POST',
    headers: { ...json, authorization: 'Bearer beta-key-1' },
    body: padded('+447700900004'),
  });
  assert.equal(beta.status, 202, await beta.clone().text());
  // One longer than its route takes is still refused as too large.
  const tooLarge = await answerToPartialPost(
    gw.base,
    '/v1/messages',
    { ...json, 'content-length': 2 * 1_048_576 },
    '{"to":',
  );
  assert.equal(tooLarge.status, 413);

  // Small bodies are not counted, and an upload has a budget of its own: both are taken.
  const call = api(gw.base, 'acme-key-1');
  const small = await call('POST', '/v1/messages', { to: '+447700900002', text: 'small' });
  assert.equal(small.status, 202);
  const csv = `to\n${Array.from({ length: 2_000 }, (_, i) => `+4477009${String(10_000 + i)}`).join('\n')}\n`;
  assert.ok(csv.length > 16 * 1024);
  const upload = await fetch(`${gw.base}/v1/batches?text=Hi&dryRun=true`, {
    method: 'POST',
    headers: { authorization: 'Bearer acme-key-1', 'content-type': 'text/csv' },
    body: csv,
  });
  assert.equal(upload.status, 202, await upload.clone().text());
  assert.equal(((await upload.json()) as { total: number }).total, 2_000);

  // A body that goes lets its bytes go: a large one is then read and answered.
  held[0]!.req.destroy();
  await held[0]!.closed;
  await waitFor(async () => (await figures()).bytes === half, 10_000, 'the first body let go');
  const after = await fetch(`${gw.base}/v1/messages`, {
    method: 'POST',
    headers: json,
    body: padded('+447700900003'),
  });
  assert.equal(after.status, 202, await after.clone().text());
  assert.equal((await figures()).bytes, half);
  held[1]!.req.destroy();
  await held[1]!.closed;
  await waitFor(async () => (await figures()).bytes === 0, 10_000, 'the second body let go');
});
