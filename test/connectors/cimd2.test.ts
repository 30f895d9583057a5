// The cimd2 connector against our CIMD2 SMS centre simulator: submits answered with a
// destination and timestamp that name the receipts of every part, long text split with a
// UDH, long inbound messages reassembled, a refused login told in the state, and the REST
// API end to end (a long message delivered once every part's status report is in).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import type { Cimd2Packet } from '../../src/cimd2/index.ts';
import {
  Cimd2Framer,
  Cimd2Session,
  cimd2ToText,
  decodePacket,
  encodePacket,
  intParam,
  param,
} from '../../src/cimd2/index.ts';
import type { Cimd2ConnectorConfig } from '../../src/config/types.ts';
import { Cimd2Connector } from '../../src/connectors/cimd2.ts';
import { Cimd2Simulator } from '../../src/simulator/index.ts';
import { parseUdh } from '../../src/sms/index.ts';
import { api, gatewayFrom, waitFor as waitForAsync } from '../e2e/helpers.ts';
import { cimd2Config, outbound, RecordingSink, waitFor } from './helpers.ts';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function simulator(options: ConstructorParameters<typeof Cimd2Simulator>[0] = {}) {
  const sim = new Cimd2Simulator({ deliveryDelayMs: 20, ...options });
  const { port } = await sim.listen(0);
  closers.push(() => sim.close());
  return { sim, port };
}

async function started(port: number, fields: Partial<Cimd2ConnectorConfig> = {}) {
  const sink = new RecordingSink();
  const connector = new Cimd2Connector(cimd2Config(port, fields), sink, undefined, {
    reconnect: { minMs: 20, maxMs: 100 },
    reassemblyTimeoutMs: 2_000,
  });
  closers.push(() => connector.stop());
  await connector.start();
  return { connector, sink };
}

const longText = (label: string) => `${label} ${'0123456789'.repeat(36)}`.slice(0, 400);

test('a long message goes in parts with a UDH, each asking for a report; each report finds its part', async () => {
  const { sim, port } = await simulator();
  const { connector, sink } = await started(port);
  await waitFor(() => connector.state().status === 'up');
  const result = await connector.send(outbound({ text: longText('hello'), receipt: true }));
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.smscIds.length, 3);
  const submitted = [...sim.messages.values()];
  assert.equal(submitted.length, 3);
  for (const [i, m] of submitted.entries()) {
    assert.equal(m.to, '+447700900001');
    assert.equal(m.statusReportRequest, 14, 'expired, failed and delivered are asked for');
    const concat = parseUdh(Buffer.concat([m.udh!, m.userData]))!.concat!;
    assert.equal(concat.sequence, i + 1);
    assert.equal(concat.total, 3);
    assert.equal(result.smscIds[i], `447700900001:${m.timestamp}`);
  }
  assert.equal(new Set(result.smscIds).size, 3, 'parts to one destination have distinct timestamps');
  await waitFor(() => sink.receipts.length === 3);
  assert.deepEqual(sink.receipts.map((r) => r.smscId).sort(), [...result.smscIds].sort());
  assert.ok(sink.receipts.every((r) => r.status === 'delivered' && r.stat === 'DELIVRD'));
});

test('GSM text with special characters and the extension table arrives as sent; UCS-2 goes binary', async () => {
  const { sim, port } = await simulator();
  const { connector } = await started(port, { checksum: true });
  await waitFor(() => connector.state().status === 'up');
  const text = 'Äpfel_é@£$ {€} [x] ~^|\\';
  assert.ok((await connector.send(outbound({ text }))).ok);
  assert.ok((await connector.send(outbound({ text: 'Привет 😀', encoding: 'ucs2' }))).ok);
  const [gsm, ucs] = [...sim.messages.values()];
  assert.equal(gsm!.text, `_A"pfel_--_e'_Oa_L-$ _XX(_XXe_XX) _XX<x_XX> _XX=_XX_gl_XX_!!_XX/`);
  assert.equal(cimd2ToText(gsm!.text!), text);
  assert.equal(ucs!.dataCoding, 8);
  assert.equal(Buffer.from(ucs!.userData).swap16().toString('utf16le'), 'Привет 😀');
});

test('a refused submit fails the message with the error code; an undelivered report says so', async () => {
  const { port } = await simulator({ outcomes: [{ to: '+4477009009*', stat: 'UNDELIV', err: '001' }] });
  const { connector, sink } = await started(port);
  await waitFor(() => connector.state().status === 'up');
  const refused = await connector.send(outbound({ to: '+447700900999', from: 'Far Too Long Sender' }));
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.code, 'invalid_message');
  const sent = await connector.send(outbound({ to: '+447700900901', receipt: true }));
  assert.ok(sent.ok);
  const receipt = await waitFor(() => sink.receipts[0]);
  assert.equal(receipt.smscId, sent.smscIds[0]);
  assert.equal(receipt.status, 'undelivered');
  assert.equal(receipt.err, '001');
});

test('a long inbound message is reassembled from its parts; a short one comes whole', async () => {
  const { sim, port } = await simulator();
  const { connector, sink } = await started(port);
  await waitFor(() => connector.state().status === 'up');
  const text = `Long reply with ümlauts and {braces} ${'abcdefghij'.repeat(30)}`;
  assert.equal(sim.injectInbound({ from: '+447700900002', to: '12345', text }), 3);
  sim.injectInbound({ from: '+447700900003', to: '12345', text: 'short € one' });
  await waitFor(() => sink.inbounds.length === 2);
  const long = sink.inbounds.find((s) => s.from === '+447700900002')!;
  assert.equal(long.text, text);
  assert.equal(long.segments, 3);
  assert.equal(long.complete, true);
  assert.equal(long.to, '12345');
  assert.equal(sink.inbounds.find((s) => s.from === '+447700900003')!.text, 'short € one');
  const unicode = 'Ответ 😀';
  sim.injectInbound({ from: '+447700900004', to: '12345', text: unicode });
  await waitFor(() => sink.inbounds.find((s) => s.from === '+447700900004'));
  assert.equal(sink.inbounds.find((s) => s.from === '+447700900004')!.text, unicode);
});

test('a refused login leaves the connector down with the reason; it logs in once allowed', async () => {
  const { port } = await simulator({ accounts: [{ systemId: 'user', password: 'right' }] });
  const { connector } = await started(port, { password: 'wrong' });
  const state = await waitFor(() => {
    const s = connector.state();
    return s.status === 'down' && s.lastError ? s : undefined;
  });
  assert.equal(state.lastError, 'login refused: error 100 (invalid login)');
  assert.equal(state.binds[0]!.state === 'bound', false);
  const result = await connector.send(outbound());
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.code, 'not_bound');

  const good = await started(port, { password: 'right' });
  await waitFor(() => good.connector.state().status === 'up');
  assert.equal(good.connector.state().lastError, null);
});

test('a dropped link is logged in again, and sends go on', async () => {
  const { sim, port } = await simulator();
  const { connector } = await started(port);
  await waitFor(() => connector.state().status === 'up');
  sim.dropAll();
  await waitFor(() => sim.stats.binds === 2 && connector.state().status === 'up');
  const result = await connector.send(outbound());
  assert.ok(result.ok);
});

test('REST end to end: a long message is delivered once every part has its status report', async () => {
  const { sim, port } = await simulator();
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultCountry: GB }
connectors:
  - { id: nokia, type: cimd2, host: 127.0.0.1, port: ${port}, username: u, password: p, window: 4 }
routes:
  mt: [{ connectors: [nokia] }]
  mo: [{ account: acme }]
`);
  closers.push(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  await waitForAsync(async () => (await fetch(`${gw.base}/ready`)).status === 200, 10_000, 'ready');
  const res = await call('POST', '/v1/messages', {
    to: '+447700900123',
    from: 'ACME',
    text: longText('rest'),
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.segments, 3);
  const done = await waitForAsync(
    async () => {
      const m = await call('GET', `/v1/messages/${res.body.id}`);
      return m.body.status === 'delivered' ? m.body : undefined;
    },
    10_000,
    'delivered',
  );
  assert.equal(done.status, 'delivered');
  assert.equal(sim.stats.submits, 3);
  assert.equal(sim.stats.receiptsSent, 3);

  // The connector shows in /ready and the admin view like any other.
  const ready = (await (await fetch(`${gw.base}/ready`)).json()) as {
    connectors: Array<{ id: string; state: string; binds: number }>;
  };
  assert.deepEqual(
    ready.connectors.map((c) => [c.id, c.state, c.binds]),
    [['nokia', 'up', 1]],
  );
  const admin = await api(gw.base, 'admin-key-123')('GET', '/v1/admin/connectors');
  assert.equal(admin.body.data[0].type, 'cimd2');
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.match(metrics, /connector="nokia"/);

  // A long reply from a handset, reassembled, is the account's inbound message.
  const reply = `Thanks! ${'A reply long enough for three parts. '.repeat(10)}`;
  assert.equal(sim.injectInbound({ from: '+447700900123', to: '+447700900200', text: reply }), 3);
  const inbound = await waitForAsync(
    async () => {
      const list = await call('GET', '/v1/messages?direction=inbound');
      return (list.body.data as Array<{ text: string; from: string; connector: string }>)[0];
    },
    10_000,
    'the inbound message',
  );
  assert.equal(inbound.text, reply);
  assert.equal(inbound.from, '+447700900123');
  assert.equal(inbound.connector, 'nokia');
});

/** An SMS centre driven by hand: it logs in anyone, and the test sends what it likes. */
async function handSmsc() {
  const sessions: Cimd2Session[] = [];
  const server = net.createServer((socket) => {
    // The connector drops a link it gave up on: a reset is expected, not a fault of the test.
    socket.on('error', () => {});
    const session = new Cimd2Session(socket, { role: 'server', window: 8 });
    session.on('request', (p) => {
      if (p.operation === 1) {
        session.respond(p);
        sessions.push(session);
      } else session.respond(p);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(r)));
  return { port: (server.address() as net.AddressInfo).port, sessions };
}

/** Writes a request of the SMS centre under a packet number of the test's choosing; resolves with the answer. */
async function sendAs(session: Cimd2Session, packet: Cimd2Packet): Promise<Cimd2Packet> {
  const framer = new Cimd2Framer();
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      for (const frame of framer.push(chunk)) {
        const answer = decodePacket(frame);
        if (answer.packetNumber === packet.packetNumber && answer.operation === packet.operation + 50) {
          session.socket.off('data', onData);
          resolve(answer);
        }
      }
    };
    session.socket.on('data', onData);
    session.socket.write(encodePacket(packet));
  });
}

test('a deliver message sent again under its packet number is answered again, not taken twice', async () => {
  const smsc = await handSmsc();
  const { connector, sink } = await started(smsc.port);
  await waitFor(() => connector.state().status === 'up');
  const session = smsc.sessions[0]!;
  const mo: Cimd2Packet = {
    operation: 20,
    packetNumber: 4,
    params: [
      [21, '12345'],
      [23, '+447700900005'],
      [60, '261205101010'],
      [33, 'once only'],
    ],
  };
  const first = await sendAs(session, mo);
  const again = await sendAs(session, mo);
  assert.equal(param(first, 900), undefined);
  assert.equal(param(again, 900), undefined);
  assert.equal(sink.inbounds.length, 1);

  // Refused once (the store was down): the same packet again is taken afresh.
  sink.refuseInbound = (_sms, call) => call === 2;
  const refusedMo: Cimd2Packet = {
    ...mo,
    packetNumber: 6,
    params: [...mo.params.slice(0, 3), [33, 'second']],
  };
  assert.equal(intParam(await sendAs(session, refusedMo), 900), 10);
  assert.equal(param(await sendAs(session, refusedMo), 900), undefined);
  assert.deepEqual(
    sink.inbounds.map((s) => s.text),
    ['once only', 'second'],
  );
});

test('an SMS centre that stops answering alive is dropped and logged in to again', async () => {
  // It answers logins, then nothing at all.
  let logins = 0;
  const server = net.createServer((socket) => {
    // The connector drops a link it gave up on: a reset is expected, not a fault of the test.
    socket.on('error', () => {});
    const framer = new Cimd2Framer();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of framer.push(chunk)) {
        const p = decodePacket(frame);
        if (p.operation === 1) {
          logins++;
          socket.write(encodePacket({ operation: 51, packetNumber: p.packetNumber, params: [] }));
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(r)));
  const sink = new RecordingSink();
  const connector = new Cimd2Connector(
    cimd2Config((server.address() as net.AddressInfo).port, { requestTimeoutSeconds: 1 }),
    sink,
    undefined,
    { reconnect: { minMs: 20, maxMs: 50 }, aliveMs: 50 },
  );
  closers.push(() => connector.stop());
  // Every reason told, as it is told: the next login clears it again.
  const reasons: string[] = [];
  connector.on('state', (s) => {
    if (s.lastError) reasons.push(s.lastError);
  });
  await connector.start();
  await waitFor(() => reasons.length > 0, 10_000);
  assert.equal(reasons[0], 'no answer to alive');
  await waitFor(() => logins >= 2, 10_000);
});
