// The CIMD2 session over a real socket, against a raw peer that answers by hand: the window,
// odd packet numbers wrapping past 255, timeouts, alive, and NACK for a bad checksum.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import type { Cimd2Packet } from '../../src/cimd2/index.ts';
import { Cimd2Error, Cimd2Framer, Cimd2Session, decodePacket, encodePacket } from '../../src/cimd2/index.ts';
import { waitFor } from '../connectors/helpers.ts';

const closers: Array<() => void> = [];
after(() => {
  for (const c of closers) c();
});

/** A listening raw peer: every packet it gets, and its socket to answer on. */
async function rawPeer() {
  const received: Cimd2Packet[] = [];
  let socket: net.Socket | null = null;
  const server = net.createServer((s) => {
    socket = s;
    const framer = new Cimd2Framer();
    s.on('data', (chunk: Buffer) => {
      for (const frame of framer.push(chunk)) received.push(decodePacket(frame));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((r) => client.once('connect', r));
  await waitFor(() => socket !== null);
  closers.push(() => client.destroy());
  return {
    client,
    received,
    answer(packet: Cimd2Packet, params: Cimd2Packet['params'] = []) {
      socket!.write(
        encodePacket({ operation: packet.operation + 50, packetNumber: packet.packetNumber, params }),
      );
    },
    write(bytes: Buffer) {
      socket!.write(bytes);
    },
  };
}

test('no more requests than the window are outstanding; an answer lets the next go', async () => {
  const peer = await rawPeer();
  const session = new Cimd2Session(peer.client, { role: 'client', window: 3 });
  const answers = Array.from({ length: 5 }, () => session.request(3, [[21, '123']]));
  await waitFor(() => peer.received.length === 3);
  assert.deepEqual(
    peer.received.map((p) => p.packetNumber),
    [1, 3, 5],
  );
  assert.equal(session.inFlight, 3);
  peer.answer(peer.received[1]!, [[60, '261205120000']]);
  await waitFor(() => peer.received.length === 4);
  assert.equal(peer.received[3]!.packetNumber, 7);
  const second = await answers[1]!;
  assert.equal(second.operation, 53);
  assert.equal(second.params[0]![1], '261205120000');
  for (const p of peer.received.filter((x) => x.packetNumber !== 3)) peer.answer(p);
  await waitFor(() => peer.received.length === 5);
  peer.answer(peer.received[4]!);
  await Promise.all(answers);
  session.close();
});

test('packet numbers are odd from the application and wrap from 255 to 001', async () => {
  const peer = await rawPeer();
  const session = new Cimd2Session(peer.client, { role: 'client', window: 1 });
  for (let i = 0; i < 130; i++) {
    const answered = session.request(40);
    await waitFor(() => peer.received.length === i + 1);
    peer.answer(peer.received[i]!);
    await answered;
  }
  const numbers = peer.received.map((p) => p.packetNumber);
  assert.ok(numbers.every((n) => n % 2 === 1));
  assert.deepEqual(numbers.slice(126, 130), [253, 255, 1, 3]);
  session.close();
});

test('a number still awaiting its answer is skipped when the count comes round', async () => {
  const peer = await rawPeer();
  const session = new Cimd2Session(peer.client, { role: 'client', window: 128 });
  const slow = session.request(3, [[21, '1']]); // number 1, left unanswered
  for (let i = 1; i < 128; i++) {
    const answered = session.request(40);
    await waitFor(() => peer.received.length === i + 1);
    peer.answer(peer.received[i]!);
    await answered;
  }
  const next = session.request(40);
  await waitFor(() => peer.received.length === 129);
  assert.equal(peer.received[128]!.packetNumber, 3, 'number 1 is still taken');
  peer.answer(peer.received[128]!);
  peer.answer(peer.received[0]!);
  await Promise.all([slow, next]);
  session.close();
});

test('an unanswered request times out and frees its place in the window', async () => {
  const peer = await rawPeer();
  const session = new Cimd2Session(peer.client, { role: 'client', window: 1, requestTimeoutMs: 100 });
  const first = session.request(3, [[21, '1']]);
  const second = session.request(3, [[21, '2']]);
  await assert.rejects(first, (err: Cimd2Error) => err.code === 'timeout');
  await waitFor(() => peer.received.length === 2);
  peer.answer(peer.received[1]!);
  assert.equal((await second).operation, 53);
  session.close();
});

test('alive (40) goes out when the peer is quiet; no answer to it closes the session', async () => {
  const peer = await rawPeer();
  const session = new Cimd2Session(peer.client, { role: 'client', aliveMs: 50, requestTimeoutMs: 200 });
  const closed = new Promise<Error | null>((r) => session.once('close', r));
  const alive = await waitFor(() => peer.received.find((p) => p.operation === 40));
  peer.answer(alive);
  await waitFor(() => peer.received.filter((p) => p.operation === 40).length >= 2);
  assert.equal(session.closed, false, 'an answered alive keeps it open');
  // The peer stops answering: the next alive times out and the session ends as dead.
  const err = await closed;
  assert.ok(err instanceof Cimd2Error && err.code === 'dead_peer', String(err));
});

test("the peer's alive is answered (90), a bad checksum gets a NACK (99), garbage a general error (98)", async () => {
  const peer = await rawPeer();
  const session = new Cimd2Session(peer.client, { role: 'client' });
  const requests: Cimd2Packet[] = [];
  session.on('request', (p) => requests.push(p));
  session.on('protocolError', () => {});
  peer.write(encodePacket({ operation: 40, packetNumber: 0, params: [] }));
  const bad = encodePacket({ operation: 20, packetNumber: 2, params: [[21, '1']] }, { checksum: true });
  bad[bad.length - 2] = bad[bad.length - 2] === 0x30 ? 0x31 : 0x30;
  peer.write(bad);
  peer.write(Buffer.from('\x0220:004\tnonsense\t\x03', 'latin1'));
  await waitFor(() => peer.received.length === 3);
  assert.deepEqual(
    peer.received.map((p) => [p.operation, p.packetNumber]),
    [
      [90, 0],
      [99, 2],
      [98, 4],
    ],
  );
  assert.equal(requests.length, 0);
  session.close();
});

test('a request the peer NACKs is sent again under a new number, twice at most', async () => {
  const peer = await rawPeer();
  const session = new Cimd2Session(peer.client, { role: 'client' });
  const nack = (p: Cimd2Packet) =>
    peer.write(encodePacket({ operation: 99, packetNumber: p.packetNumber, params: [] }));
  const answered = session.request(3, [[21, '1']]);
  await waitFor(() => peer.received.length === 1);
  nack(peer.received[0]!);
  await waitFor(() => peer.received.length === 2);
  assert.deepEqual(peer.received[1]!.params, [[21, '1']]);
  assert.equal(peer.received[1]!.packetNumber, 3);
  peer.answer(peer.received[1]!);
  assert.equal((await answered).operation, 53);

  const refused = session.request(3, [[21, '2']]);
  for (let i = 2; i < 5; i++) {
    await waitFor(() => peer.received.length === i + 1);
    nack(peer.received[i]!);
  }
  assert.equal((await refused).operation, 99, 'the third NACK is the answer');
  assert.equal(peer.received.length, 5);
  session.close();
});
