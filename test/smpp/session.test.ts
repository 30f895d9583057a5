// The session layer over real TCP: our client against our server, and each of them
// against a hand-driven raw peer that sends exactly the bytes a test wants.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { BoundSession, Pdu } from '../../src/smpp/index.ts';
import { CommandStatus, SmppClient, SmppError, SmppServer } from '../../src/smpp/index.ts';
import { bindPdu, RawPeer, rawServer, submitSm } from './raw-peer.ts';

const closers: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function startServer(options: Partial<ConstructorParameters<typeof SmppServer>[0]> = {}) {
  const server = new SmppServer({
    authenticate: (req) =>
      req.password === 'pw' ? { status: 0, context: req.systemId } : { status: CommandStatus.ESME_RINVPASWD },
    ...options,
  });
  const { port } = await server.listen(0);
  closers.push(() => server.close());
  return { server, port };
}

function client(port: number, options: Partial<ConstructorParameters<typeof SmppClient>[0]> = {}) {
  const c = new SmppClient({
    host: '127.0.0.1',
    port,
    systemId: 'esme',
    password: 'pw',
    bindType: 'transceiver',
    reconnect: false,
    ...options,
  });
  closers.push(() => c.stop());
  return c;
}

/** Answers every submit_sm with message id "m<n>". */
function answerSubmits(server: SmppServer) {
  let n = 0;
  server.on('request', (pdu, bound) => {
    if (pdu.command === 'submit_sm') bound.session.respond(pdu, 0, { messageId: `m${++n}` });
  });
}

describe('SMPP session: client and server', () => {
  test('binds as transceiver, submits, and gets the message id back', async () => {
    const { server, port } = await startServer();
    answerSubmits(server);
    const bound: BoundSession[] = [];
    server.on('bound', (b) => bound.push(b));
    const c = client(port);
    c.start();
    const session = await c.waitBound();
    assert.equal(session.bindType, 'transceiver');
    assert.equal(bound.length, 1);
    assert.equal(bound[0]!.systemId, 'esme');
    assert.equal(bound[0]!.context, 'esme');
    const resp = await c.request(submitSm());
    assert.equal(resp.command, 'submit_sm_resp');
    assert.equal(resp.commandStatus, 0);
    assert.equal((resp as Pdu & { messageId: string }).messageId, 'm1');
  });

  test('a refused bind reports the SMSC status and stops without reconnect', async () => {
    const { port } = await startServer();
    const c = client(port, { password: 'wrong' });
    const failed = new Promise<number>((r) => c.once('bindFailed', r));
    c.start();
    assert.equal(await failed, CommandStatus.ESME_RINVPASWD);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.state, 'stopped');
    await assert.rejects(c.request(submitSm()), (err: SmppError) => err.code === 'not_bound');
  });

  test('never has more than the window outstanding, and every request resolves', async () => {
    const { server, port } = await startServer();
    let inFlight = 0;
    let maxInFlight = 0;
    server.on('request', (pdu, bound) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        bound.session.respond(pdu, 0, { messageId: String(pdu.sequenceNumber) });
      }, 2);
    });
    const c = client(port, { window: 10 });
    c.start();
    const session = await c.waitBound();
    const results = await Promise.all(Array.from({ length: 300 }, () => session.request(submitSm())));
    assert.equal(results.length, 300);
    assert.ok(results.every((r) => r.commandStatus === 0));
    assert.ok(maxInFlight <= 10, `max in flight ${maxInFlight}`);
    assert.equal(maxInFlight, 10, 'the window was kept full');
    const ids = new Set(results.map((r) => (r as Pdu & { messageId: string }).messageId));
    assert.equal(ids.size, 300, 'each response matched its own request');
  });

  test('a request with no answer times out and frees its window slot', async () => {
    const { server, port } = await startServer();
    let seen = 0;
    server.on('request', (pdu, bound) => {
      if (++seen > 1) bound.session.respond(pdu, 0, { messageId: 'late' });
    });
    const c = client(port, { window: 1, requestTimeoutMs: 200 });
    c.start();
    const session = await c.waitBound();
    const first = session.request(submitSm());
    const second = session.request(submitSm());
    await assert.rejects(first, (err: SmppError) => err.code === 'timeout');
    const resp = await second;
    assert.equal(resp.commandStatus, 0);
  });

  test('ESME_RTHROTTLED pauses sending before the next request goes out', async () => {
    const { server, port } = await startServer();
    const arrivals: number[] = [];
    server.on('request', (pdu, bound) => {
      arrivals.push(Date.now());
      const status = arrivals.length === 1 ? CommandStatus.ESME_RTHROTTLED : 0;
      bound.session.respond(pdu, status, { messageId: 'x' });
    });
    const c = client(port, { window: 1, throttleBackoffMs: { min: 150, max: 1_000 } });
    const throttled: number[] = [];
    c.on('throttled', (status) => throttled.push(status));
    c.start();
    const session = await c.waitBound();
    const [a, b] = await Promise.all([session.request(submitSm()), session.request(submitSm())]);
    assert.equal(a.commandStatus, CommandStatus.ESME_RTHROTTLED);
    assert.equal(b.commandStatus, 0);
    assert.deepEqual(throttled, [CommandStatus.ESME_RTHROTTLED]);
    assert.ok(
      arrivals[1]! - arrivals[0]! >= 140,
      `second request came ${arrivals[1]! - arrivals[0]!} ms after`,
    );
  });

  test('orderly unbind waits for outstanding answers, then unbinds', async () => {
    const { server, port } = await startServer();
    server.on('request', (pdu, bound) => {
      setTimeout(() => bound.session.respond(pdu, 0, { messageId: 'slow' }), 100);
    });
    const unbound = new Promise<BoundSession>((r) => server.once('unbound', r));
    const c = client(port);
    c.start();
    const session = await c.waitBound();
    const pending = session.request(submitSm());
    await c.stop();
    assert.equal((await pending).commandStatus, 0);
    assert.equal((await unbound).systemId, 'esme');
    assert.equal(session.state, 'closed');
  });

  test('a lost connection rejects everything outstanding and the client reconnects', async () => {
    const { server, port } = await startServer();
    let dropped = false;
    server.on('request', (pdu, bound) => {
      if (!dropped) {
        dropped = true;
        bound.session.close();
        return;
      }
      bound.session.respond(pdu, 0, { messageId: 'ok' });
    });
    const c = client(port, { reconnect: { minMs: 20, maxMs: 100 } });
    c.start();
    const session = await c.waitBound();
    const rebound = new Promise((r) => c.once('bound', r));
    await assert.rejects(session.request(submitSm()), (err: SmppError) => err.code === 'connection_lost');
    await rebound;
    assert.equal(c.stats.binds, 2);
    assert.equal((await c.request(submitSm())).commandStatus, 0);
  });

  test('the server enforces max binds per system_id', async () => {
    const { port } = await startServer({ maxBindsPerSystemId: 1 });
    const first = client(port);
    first.start();
    await first.waitBound();
    const second = client(port);
    const refused = new Promise<number>((r) => second.once('bindFailed', r));
    second.start();
    assert.equal(await refused, CommandStatus.ESME_RBINDFAIL);
  });

  test('requests written in one tick leave in one socket write', async () => {
    const peers: RawPeer[] = [];
    const raw = await rawServer((peer) => {
      peers.push(peer);
      peer.socket.on('data', () => {
        for (const pdu of peer.received.splice(0)) {
          if (pdu.command === 'bind_transceiver') {
            peer.send({
              command: 'bind_transceiver_resp',
              commandStatus: 0,
              sequenceNumber: pdu.sequenceNumber,
              systemId: 'raw',
            });
          }
        }
      });
    });
    closers.push(() => raw.close());
    const c = client(raw.port);
    c.start();
    const session = await c.waitBound();
    const peer = peers[0]!;
    const chunksBefore = peer.chunks;
    for (let i = 0; i < 100; i++) session.request(submitSm()).catch(() => {});
    await new Promise((r) => setTimeout(r, 100));
    const chunks = peer.chunks - chunksBefore;
    assert.ok(chunks >= 1 && chunks <= 3, `100 submits arrived in ${chunks} reads`);
    session.close();
  });

  test('a peer that stops answering enquire_link is detected as dead', async () => {
    const raw = await rawServer((peer) => {
      peer.socket.on('data', () => {
        for (const pdu of peer.received.splice(0)) {
          if (pdu.command === 'bind_transceiver') {
            peer.send({
              command: 'bind_transceiver_resp',
              commandStatus: 0,
              sequenceNumber: pdu.sequenceNumber,
              systemId: 'mute',
            });
          }
          // enquire_link is read and never answered.
        }
      });
    });
    closers.push(() => raw.close());
    const c = client(raw.port, { enquireLinkMs: 100, requestTimeoutMs: 200 });
    c.start();
    const session = await c.waitBound();
    const closed = new Promise<Error | undefined>((r) => session.once('close', r));
    const err = await closed;
    assert.ok(err instanceof SmppError);
    assert.equal(err.code, 'dead_peer');
  });
});

describe('SMPP server: bind states and bad input from a raw ESME', () => {
  test('submit_sm before bind is refused with ESME_RINVBNDSTS', async () => {
    const { port } = await startServer();
    const peer = await RawPeer.connect(port);
    closers.push(() => peer.close());
    peer.send(submitSm({ sequenceNumber: 7 }));
    await peer.until((r) => r.length === 1);
    assert.equal(peer.received[0]!.command, 'submit_sm_resp');
    assert.equal(peer.received[0]!.commandStatus, CommandStatus.ESME_RINVBNDSTS);
    assert.equal(peer.received[0]!.sequenceNumber, 7);
  });

  test('submit_sm on a receiver bind is refused; a second bind is ESME_RALYBND', async () => {
    const { port } = await startServer();
    const peer = await RawPeer.connect(port);
    closers.push(() => peer.close());
    peer.send(bindPdu('bind_receiver', 1));
    await peer.until((r) => r.length === 1);
    assert.equal(peer.received[0]!.command, 'bind_receiver_resp');
    assert.equal(peer.received[0]!.commandStatus, 0);
    peer.send(submitSm({ sequenceNumber: 2 }));
    peer.send(bindPdu('bind_transceiver', 3));
    await peer.until((r) => r.length === 3);
    assert.equal(peer.received[1]!.commandStatus, CommandStatus.ESME_RINVBNDSTS);
    assert.equal(peer.received[2]!.command, 'bind_transceiver_resp');
    assert.equal(peer.received[2]!.commandStatus, CommandStatus.ESME_RALYBND);
  });

  test('an unknown command id gets generic_nack and the session stays up', async () => {
    const { port } = await startServer();
    const peer = await RawPeer.connect(port);
    closers.push(() => peer.close());
    const unknown = Buffer.alloc(16);
    unknown.writeUInt32BE(16, 0);
    unknown.writeUInt32BE(0x000000ab, 4);
    unknown.writeUInt32BE(0, 8);
    unknown.writeUInt32BE(42, 12);
    peer.sendBytes(unknown);
    peer.send(bindPdu('bind_transceiver', 43));
    await peer.until((r) => r.length === 2);
    assert.equal(peer.received[0]!.command, 'generic_nack');
    assert.equal(peer.received[0]!.commandStatus, CommandStatus.ESME_RINVCMDID);
    assert.equal(peer.received[0]!.sequenceNumber, 42);
    assert.equal(peer.received[1]!.commandStatus, 0);
  });

  test('a command_length below 16 closes the connection, and the server keeps serving', async () => {
    const { port } = await startServer();
    const bad = await RawPeer.connect(port);
    bad.sendBytes(Buffer.from([0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1]));
    await bad.waitClosed();
    const good = await RawPeer.connect(port);
    closers.push(() => good.close());
    good.send(bindPdu('bind_transmitter', 1));
    await good.until((r) => r.length === 1);
    assert.equal(good.received[0]!.commandStatus, 0);
  });

  test('wrong password gets ESME_RINVPASWD', async () => {
    const { port } = await startServer();
    const peer = await RawPeer.connect(port);
    closers.push(() => peer.close());
    peer.send(bindPdu('bind_transmitter', 1, 'nope'));
    await peer.until((r) => r.length === 1);
    assert.equal(peer.received[0]!.commandStatus, CommandStatus.ESME_RINVPASWD);
  });

  test('a connection that never binds is closed after the bind timeout', async () => {
    const { port } = await startServer({ bindTimeoutMs: 100 });
    const peer = await RawPeer.connect(port);
    await peer.waitClosed(2_000);
  });

  test('above the per-bind request rate the server answers ESME_RTHROTTLED', async () => {
    const { server, port } = await startServer({ maxRequestsPerSecond: 5 });
    answerSubmits(server);
    const c = client(port, { window: 20 });
    c.start();
    const session = await c.waitBound();
    const results = await Promise.all(Array.from({ length: 8 }, () => session.request(submitSm())));
    const statuses = results.map((r) => r.commandStatus);
    assert.equal(statuses.filter((s) => s === 0).length, 5);
    assert.equal(statuses.filter((s) => s === CommandStatus.ESME_RTHROTTLED).length, 3);
  });
});
