// Bounds against hostile peers at the session and server level: a peer that sends without
// reading is paused and then dropped (both roles), connections are capped, and a bind
// whose connection dies while it is being checked is never counted.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import type { Pdu } from '../../src/smpp/index.ts';
import { CommandStatus, encodePdu, SmppClient, SmppServer } from '../../src/smpp/index.ts';
import { bindPdu, RawPeer, rawServer } from './raw-peer.ts';

const closers: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function startServer(options: Partial<ConstructorParameters<typeof SmppServer>[0]> = {}) {
  const server = new SmppServer({ authenticate: () => ({ status: 0 }), ...options });
  const { port } = await server.listen(0);
  closers.push(() => server.close());
  return { server, port };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

const floodLimit = 64 * 1024 * 1024;

/** 4,096 enquire_links in one buffer. */
const enquireLinks = Buffer.concat(
  Array.from({ length: 4096 }, (_, i) =>
    encodePdu({ command: 'enquire_link', commandStatus: 0, sequenceNumber: i + 1 } as Pdu),
  ),
);

/**
 * Writes enquire_links (as fast as the socket takes them) and reads nothing, until the
 * other end closes. Resolves with the octets written; rejects if the connection is still
 * open after `limitBytes` (the other end went on reading and answering without bound).
 */
async function floodWithoutReading(socket: net.Socket, limitBytes: number): Promise<number> {
  socket.pause();
  socket.on('error', () => {});
  let written = 0;
  while (!socket.destroyed && written < limitBytes) {
    written += enquireLinks.length;
    if (!socket.write(enquireLinks)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  }
  if (!socket.destroyed) throw new Error(`still open after ${written} octets sent without reading`);
  return written;
}

describe('SMPP: peers that do not read', () => {
  test('the server stops reading an ESME that floods without reading, then drops it', async () => {
    const { server, port } = await startServer({ writeStallMs: 300 });
    const socket = await connect(port);
    // Without the bound the server reads and answers all of it; with it, reading stops
    // once its answers are stuck (about 10 MB in, on loopback) and the peer is dropped.
    await floodWithoutReading(socket, floodLimit);
    await closed(socket);
    assert.equal(server.connections, 0);
  });

  test('a bound ESME that floods without reading is dropped too, and its bind released', async () => {
    const { server, port } = await startServer({ writeStallMs: 300, maxBindsPerSystemId: 1 });
    const socket = await connect(port);
    socket.write(encodePdu(bindPdu('bind_transceiver')));
    while (server.bound.size === 0) await new Promise((r) => setTimeout(r, 10));
    await floodWithoutReading(socket, floodLimit);
    while (server.bound.size > 0) await new Promise((r) => setTimeout(r, 10));
    const again = await RawPeer.connect(port);
    closers.push(() => again.close());
    again.send(bindPdu('bind_transceiver'));
    await again.until((r) => r.length === 1);
    assert.equal(again.received[0]!.commandStatus, CommandStatus.ESME_ROK);
  });

  test('our client drops an SMSC that floods it without reading', async () => {
    const smsc = await rawServer((peer) => {
      peer.socket.once('data', (chunk) => {
        // Answer the bind, then flood enquire_links and never read again.
        const bindSequence = chunk.readUInt32BE(12);
        peer.socket.write(
          encodePdu({
            command: 'bind_transceiver_resp',
            commandStatus: 0,
            sequenceNumber: bindSequence,
            systemId: 'smsc',
          } as Pdu),
        );
        void floodWithoutReading(peer.socket, floodLimit).catch(() => {});
      });
    });
    closers.push(() => smsc.close());
    const client = new SmppClient({
      host: '127.0.0.1',
      port: smsc.port,
      systemId: 'esme',
      password: 'pw',
      reconnect: false,
      writeStallMs: 300,
    });
    closers.push(() => client.stop());
    const lost = new Promise<Error | undefined>((resolve) => client.once('unbound', resolve));
    client.start();
    const err = await lost;
    assert.equal((err as { code?: string } | undefined)?.code, 'slow_peer');
  });
});

describe('SMPP server: connection limits', () => {
  test('connections past the per-address limit are closed at once; a freed slot is reused', async () => {
    const { server, port } = await startServer({ maxConnectionsPerAddress: 2 });
    const first = await RawPeer.connect(port);
    const second = await RawPeer.connect(port);
    closers.push(() => second.close());
    while (server.connections < 2) await new Promise((r) => setTimeout(r, 10));
    const third = await RawPeer.connect(port);
    await third.waitClosed();
    first.close();
    while (server.connections > 1) await new Promise((r) => setTimeout(r, 10));
    const fourth = await RawPeer.connect(port);
    closers.push(() => fourth.close());
    fourth.send(bindPdu('bind_transmitter'));
    await fourth.until((r) => r.length === 1);
    assert.equal(fourth.received[0]!.commandStatus, CommandStatus.ESME_ROK);
  });

  test('connections past the total limit are closed at once', async () => {
    const { server, port } = await startServer({ maxConnections: 1 });
    const first = await RawPeer.connect(port);
    closers.push(() => first.close());
    while (server.connections < 1) await new Promise((r) => setTimeout(r, 10));
    const second = await RawPeer.connect(port);
    await second.waitClosed();
    assert.equal(first.closed, false);
  });
});

describe('SMPP server: binds of connections that die while binding', () => {
  test('a connection closed before its bind is answered is not counted as a bind', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let checking = 0;
    const { server, port } = await startServer({
      maxBindsPerSystemId: 1,
      authenticate: async () => {
        checking++;
        if (checking === 1) await gate;
        return { status: 0 };
      },
    });
    const bound: string[] = [];
    server.on('bound', (b) => bound.push(b.systemId));
    const dropped = await RawPeer.connect(port);
    dropped.send(bindPdu('bind_transceiver'));
    while (checking === 0) await new Promise((r) => setTimeout(r, 5));
    dropped.close();
    while (server.connections > 0) await new Promise((r) => setTimeout(r, 5));
    release();
    await new Promise((r) => setImmediate(r));

    assert.equal(server.bound.size, 0);
    assert.deepEqual(bound, []);
    const next = await RawPeer.connect(port);
    closers.push(() => next.close());
    next.send(bindPdu('bind_transceiver'));
    await next.until((r) => r.length === 1);
    assert.equal(next.received[0]!.commandStatus, CommandStatus.ESME_ROK);
  });

  test('a session closed by whoever hears of its bind first releases that bind', async () => {
    const { server, port } = await startServer({ maxBindsPerSystemId: 1 });
    let closes = 1;
    server.on('bound', (b) => {
      if (closes-- > 0) b.session.close();
    });
    const dropped = await RawPeer.connect(port);
    dropped.send(bindPdu('bind_transceiver'));
    await dropped.waitClosed();
    assert.equal(server.bound.size, 0);
    const next = await RawPeer.connect(port);
    closers.push(() => next.close());
    next.send(bindPdu('bind_transceiver'));
    await next.until((r) => r.length === 1);
    assert.equal(next.received[0]!.commandStatus, CommandStatus.ESME_ROK);
  });
});
