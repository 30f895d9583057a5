// The UCP session over real sockets: the TRN window, TRNs wrapping 99 → 00, timeouts,
// keep-alive alerts, and NAcks for broken operations.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import type { UcpFrame } from '../../src/ucp/index.ts';
import {
  decodeFrame,
  encodeFrame,
  readResult,
  UcpFramer,
  UcpSession,
  type UcpSessionError,
} from '../../src/ucp/index.ts';
import { waitFor } from '../connectors/helpers.ts';

const closers: Array<() => void> = [];
after(() => {
  for (const c of closers) c();
});

/** A peer on a raw socket: records the frames it gets and answers as `answer` says. */
async function rawPeer(answer: (frame: UcpFrame, socket: net.Socket) => void = () => {}) {
  const frames: UcpFrame[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    const framer = new UcpFramer((body) => {
      const frame = decodeFrame(body);
      frames.push(frame);
      answer(frame, socket);
    });
    socket.on('data', (chunk) => framer.push(chunk));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  return { frames, sockets, port };
}

async function sessionTo(port: number, options: ConstructorParameters<typeof UcpSession>[1] = {}) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const session = new UcpSession(socket, options);
  closers.push(() => session.destroy());
  return session;
}

const ack = (frame: UcpFrame, sm = '') =>
  encodeFrame({ trn: frame.trn, kind: 'R', ot: frame.ot, fields: ['A', '', sm] });

test('no more operations on the wire than the window; each result settles its own TRN', async () => {
  const held: UcpFrame[] = [];
  const peer = await rawPeer((frame) => held.push(frame));
  const session = await sessionTo(peer.port, { window: 3 });
  const results = [1, 2, 3, 4, 5].map((n) => session.request(51, [`${n}`]));
  await waitFor(() => held.length === 3);
  // Nothing more goes until a result frees a slot.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(held.length, 3);
  assert.equal(session.inFlight, 3);
  // Answered out of order: each result goes to the operation with its TRN.
  peer.sockets[0]!.write(ack(held[2]!, 'third'));
  peer.sockets[0]!.write(ack(held[0]!, 'first'));
  await waitFor(() => held.length === 5);
  for (const frame of held.slice(1)) peer.sockets[0]!.write(ack(frame, `n${frame.fields[0]}`));
  const answers = (await Promise.all(results)).map((r) => readResult(r).sm);
  assert.deepEqual(answers, ['first', 'n2', 'third', 'n4', 'n5']);
  assert.equal(new Set(held.slice(0, 3).map((f) => f.trn)).size, 3, 'outstanding TRNs differ');
});

test('TRNs run 00..99 and wrap to 00, skipping any still outstanding', async () => {
  let holdTrn = -1;
  const peer = await rawPeer((frame, socket) => {
    if (frame.trn !== holdTrn) socket.write(ack(frame, String(frame.trn)));
  });
  const session = await sessionTo(peer.port, { window: 10 });
  // TRN 00 stays outstanding while the others go round.
  holdTrn = 0;
  const held = session.request(51, ['held']);
  for (let i = 1; i <= 120; i++) {
    const result = await session.request(51, [String(i)]);
    assert.equal(readResult(result).sm, String(result.trn));
  }
  const trns = peer.frames.map((f) => f.trn);
  assert.deepEqual(trns.slice(0, 3), [0, 1, 2]);
  assert.equal(trns[99], 99);
  assert.equal(trns[100], 1, 'after 99 comes 00, but 00 is outstanding: 01');
  assert.equal(trns.filter((t) => t === 0).length, 1);
  peer.sockets[0]!.write(ack(peer.frames[0]!, 'late'));
  assert.equal(readResult(await held).sm, 'late');
});

test('an operation not answered in time is rejected with timeout', async () => {
  const peer = await rawPeer();
  const session = await sessionTo(peer.port, { requestTimeoutMs: 100 });
  await assert.rejects(session.request(51, ['x']), (e: UcpSessionError) => e.code === 'timeout');
  assert.equal(session.inFlight, 0);
});

test('an idle session sends alerts (31) with its address; a dead peer is dropped', async () => {
  const peer = await rawPeer((frame, socket) => {
    if (peer.frames.length <= 2)
      socket.write(encodeFrame({ trn: frame.trn, kind: 'R', ot: 31, fields: ['A', ''] }));
  });
  const session = await sessionTo(peer.port, {
    keepAliveMs: 60,
    keepAliveAddress: 'gw',
    requestTimeoutMs: 200,
  });
  await waitFor(() => peer.frames.length >= 3, 5_000);
  assert.deepEqual(
    peer.frames.map((f) => [f.ot, f.kind, f.fields]),
    [
      [31, 'O', ['gw', '0539']],
      [31, 'O', ['gw', '0539']],
      [31, 'O', ['gw', '0539']],
    ],
  );
  // The third alert went unanswered: the session closes.
  await waitFor(() => session.closed, 5_000);
});

test('a broken operation is answered with NAck 01 (checksum) or 02 (syntax); a good one is handed up', async () => {
  const peer = await rawPeer();
  const session = await sessionTo(peer.port);
  const operations: UcpFrame[] = [];
  session.on('operation', (frame) => {
    operations.push(frame);
    session.respond(frame, { ack: true });
  });
  session.on('protocolError', () => {});
  const socket = peer.sockets[0] ?? (await waitFor(() => peer.sockets[0]));
  socket.write('\x0202/00035/O/31/0234765439845/0139/A1\x03');
  socket.write(encodeFrame({ trn: 3, kind: 'O', ot: 52, fields: ['only', 'three', 'fields'] }));
  socket.write('\x0202/00035/O/31/0234765439845/0139/A0\x03');
  await waitFor(() => peer.frames.length === 3);
  assert.deepEqual(
    peer.frames.map((f) => [f.trn, f.kind, f.ot, f.fields]),
    [
      [2, 'R', 31, ['N', '01', '']],
      [3, 'R', 52, ['N', '02', '']],
      [2, 'R', 31, ['A', '']],
    ],
  );
  assert.equal(operations.length, 1);
});
