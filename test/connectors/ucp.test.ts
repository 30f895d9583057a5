// The ucp connector against the UCP/EMI simulator over real sockets: submits and their
// notifications, every part of a long message asking for one, long inbound messages
// reassembled, a refused login, windows and keep-alive.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { type ConfigError, parseConfig } from '../../src/config/index.ts';
import type { UcpConnectorConfig } from '../../src/config/types.ts';
import { UcpConnector } from '../../src/connectors/ucp.ts';
import type { UcpSimulatedMessage } from '../../src/simulator/index.ts';
import { UcpSmscSimulator } from '../../src/simulator/index.ts';
import type { UcpFrame } from '../../src/ucp/index.ts';
import {
  decodeIra,
  fieldsOf,
  namedFields,
  Ot,
  op5xFields,
  op60Fields,
  readResult,
  UcpSession,
} from '../../src/ucp/index.ts';
import { outbound, RecordingSink, waitFor } from './helpers.ts';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function simulator(options: ConstructorParameters<typeof UcpSmscSimulator>[0] = {}) {
  const sim = new UcpSmscSimulator({ deliveryDelayMs: 20, ...options });
  const { port } = await sim.listen(0);
  closers.push(() => sim.close());
  return { sim, port };
}

function ucpConfig(port: number, fields: Partial<UcpConnectorConfig> = {}): UcpConnectorConfig {
  return {
    id: 'emi',
    type: 'ucp',
    host: '127.0.0.1',
    port,
    username: 'gw',
    password: 'secret',
    binds: 1,
    window: 8,
    tps: 0,
    keepAliveSeconds: 30,
    requestTimeoutSeconds: 5,
    ...fields,
  };
}

async function connector(port: number, fields: Partial<UcpConnectorConfig> = {}, sink = new RecordingSink()) {
  const c = new UcpConnector(ucpConfig(port, fields), sink, undefined, {
    reconnect: { minMs: 20, maxMs: 100 },
  });
  closers.push(() => c.stop());
  await c.start();
  return { c, sink };
}

test('a submit gets AdC:SCTS as its id, and the notification (53) settles it delivered', async () => {
  const { sim, port } = await simulator({ accounts: [{ systemId: 'gw', password: 'secret' }] });
  const { c, sink } = await connector(port);
  await waitFor(() => c.state().status === 'up');
  const result = await c.send(outbound({ text: 'Hello @ UCP', from: 'ACME', receipt: true }));
  assert.ok(result.ok);
  assert.equal(result.smscIds.length, 1);
  assert.match(result.smscIds[0]!, /^447700900001:\d{12}$/);
  const message = sim.findMessage(result.smscIds[0]!)!;
  assert.equal(message.text, 'Hello @ UCP');
  assert.equal(message.operation.OTOA, '5039');
  assert.equal(message.operation.NRq, '1');
  const receipt = await waitFor(() => sink.receipts[0]);
  assert.equal(receipt.smscId, result.smscIds[0]);
  assert.equal(receipt.status, 'delivered');
  assert.equal(receipt.stat, 'DELIVRD');
  assert.ok(receipt.doneAt);
});

test('every part of a long message asks for a notification and gets its own id', async () => {
  const { sim, port } = await simulator({ outcomes: [{ to: '+44770090002*', stat: 'UNDELIV', err: '107' }] });
  const submits: UcpSimulatedMessage[] = [];
  sim.on('submit', (m) => submits.push(m));
  const { c, sink } = await connector(port);
  await waitFor(() => c.state().status === 'up');
  const text = 'A long message about UCP, EMI and SMSCs, split in parts. '.repeat(6);
  const result = await c.send(outbound({ text, receipt: true }));
  assert.ok(result.ok);
  assert.equal(result.smscIds.length, 3);
  assert.equal(new Set(result.smscIds).size, 3, 'each part has its own SCTS');
  assert.deepEqual(
    submits.map((m) => [m.operation.NRq, m.operation.NT, m.operation.XSer?.slice(0, 4)]),
    Array(3).fill(['1', '3', '0106']),
  );
  await waitFor(() => sink.receipts.length === 3);
  assert.deepEqual(new Set(sink.receipts.map((r) => r.smscId)), new Set(result.smscIds));

  const failing = await c.send(outbound({ to: '+447700900021', text: 'no', receipt: true }));
  assert.ok(failing.ok);
  const undelivered = await waitFor(() => sink.receipts.find((r) => r.smscId === failing.smscIds[0]));
  assert.equal(undelivered.status, 'undelivered');
  assert.equal(undelivered.err, '107');
});

test('a long inbound message (52 parts) is reassembled; each part gets its ACK once kept', async () => {
  const { sim, port } = await simulator();
  const { c, sink } = await connector(port);
  await waitFor(() => c.state().status === 'up');
  const text = 'Inbound over EMI, long enough to need three parts of a concatenated SMS. '.repeat(5);
  assert.equal(sim.injectInbound({ from: '+447700900005', to: '12345', text }), 3);
  const sms = await waitFor(() => sink.inbounds[0]);
  assert.equal(sms.text, text);
  assert.equal(sms.segments, 3);
  assert.equal(sms.from, '+447700900005');
  assert.equal(sms.to, '12345');
  assert.ok(sms.complete);
  // UCS-2 goes as MT 4 and comes back as text.
  sim.injectInbound({ from: 'INFO', to: '12345', text: 'Привет €' });
  const ucs2 = await waitFor(() => sink.inbounds[1]);
  assert.equal(ucs2.text, 'Привет €');
  assert.equal(ucs2.from, 'INFO');
  assert.equal(sim.stats.deliveriesDropped, 0);
});

test('an inbound part the sink refuses is NAcked, and the SMSC’s retry delivers the message once', async () => {
  const { sim, port } = await simulator();
  const sink = new RecordingSink();
  sink.refuseInbound = (_sms, call) => call === 1;
  const { c } = await connector(port, {}, sink);
  await waitFor(() => c.state().status === 'up');
  sim.injectInbound({ from: '+447700900005', to: '12345', text: 'x'.repeat(200) });
  const sms = await waitFor(() => sink.inbounds[0], 10_000);
  assert.equal(sms.text, 'x'.repeat(200));
  assert.equal(sink.inboundCalls, 2);
});

test('a refused login leaves the connector down with the reason in lastError', async () => {
  const { port } = await simulator({ accounts: [{ systemId: 'gw', password: 'right' }] });
  const { c } = await connector(port, { password: 'wrong' });
  const state = await waitFor(() => {
    const s = c.state();
    return s.status === 'down' && s.lastError ? s : undefined;
  });
  assert.equal(state.lastError, 'login refused: 07 authentication failure');
  assert.equal(state.binds[0]!.state, 'down');
  const result = await c.send(outbound());
  assert.deepEqual(result.ok ? null : [result.temporary, result.code], [true, 'not_bound']);
});

test('binds and windows add up to the capacity; a lost connection comes back', async () => {
  const { sim, port } = await simulator();
  const { c } = await connector(port, { binds: 2, window: 5 });
  await waitFor(() => c.state().binds.every((b) => b.state === 'bound'));
  assert.equal(c.capacity(), 10);
  assert.equal(sim.stats.binds, 2);
  // Drop every connection: the binds log in again.
  await sim.close();
  await waitFor(() => c.state().status === 'down');
  const again = new UcpSmscSimulator();
  await again.listen(port);
  closers.push(() => again.close());
  await waitFor(() => c.state().status === 'up', 10_000);
  const result = await c.send(outbound({ text: 'after the reconnect' }));
  assert.ok(result.ok);
});

test('an idle connector sends alerts (31) with its username, and the SMSC sees its login fields', async () => {
  const operations: UcpFrame[] = [];
  const server = net.createServer((socket) => {
    // The connector drops a link it gave up on: a reset is expected, not a fault of the test.
    socket.on('error', () => {});
    const session = new UcpSession(socket);
    session.on('operation', (frame) => {
      operations.push(frame);
      session.respond(frame, { ack: true });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(r)));
  const { port } = server.address() as net.AddressInfo;
  const { c } = await connector(port, { keepAliveSeconds: 1 });
  await waitFor(() => c.state().status === 'up');
  await waitFor(() => operations.filter((f) => f.ot === Ot.ALERT).length >= 2, 10_000);
  const login = namedFields(op60Fields, operations[0]!.fields);
  assert.deepEqual(
    [login.OAdC, login.OTON, login.ONPI, login.STYP, decodeIra(login.PWD!), login.VERS],
    ['gw', '6', '5', '1', 'secret', '0100'],
  );
  assert.deepEqual(operations.find((f) => f.ot === Ot.ALERT)!.fields, ['gw', '0539']);
  assert.equal(c.state().status, 'up');
});

test('config: type ucp takes host, port, username, password, with window, tps, binds optional', () => {
  const config = parseConfig(`
connectors:
  - { id: emi, type: ucp, host: 127.0.0.1, port: 3000, username: gw, password: pw }
routes:
  mt: [{ connectors: [emi] }]
`);
  assert.deepEqual(config.connectors[0], {
    id: 'emi',
    type: 'ucp',
    host: '127.0.0.1',
    port: 3000,
    username: 'gw',
    password: 'pw',
    binds: 1,
    window: 32,
    tps: 0,
    keepAliveSeconds: 30,
    requestTimeoutSeconds: 10,
  });
  assert.throws(
    () =>
      parseConfig(`
connectors:
  - { id: emi, type: ucp, host: 127.0.0.1, port: 3000, username: gw, window: 101 }
routes:
  mt: [{ connectors: [emi] }]
`),
    (err: ConfigError) =>
      err.problems.includes('connectors[0].password: required') &&
      err.problems.includes('connectors[0].window: expected integer 1..100'),
  );
});

test('a notification matches its submit when the SMSC writes the recipient with 00 in one and not the other', async () => {
  const server = net.createServer((socket) => {
    // The connector drops a link it gave up on: a reset is expected, not a fault of the test.
    socket.on('error', () => {});
    const session = new UcpSession(socket);
    session.on('operation', (frame) => {
      if (frame.ot !== Ot.SUBMIT) return session.respond(frame, { ack: true });
      session.respond(frame, { ack: true, sm: '447700900001:051226210409' });
      void session
        .request(
          Ot.NOTIFICATION,
          fieldsOf(op5xFields, {
            AdC: '447700900000',
            OAdC: '00447700900001',
            SCTS: '051226210409',
            Dst: '0',
            Rsn: '000',
            DSCTS: '051226210411',
            MT: '3',
          }),
        )
        .then((answer) => assert.ok(readResult(answer).ack));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(r)));
  const { port } = server.address() as net.AddressInfo;
  const { c, sink } = await connector(port);
  await waitFor(() => c.state().status === 'up');
  const result = await c.send(outbound({ receipt: true }));
  assert.ok(result.ok);
  const receipt = await waitFor(() => sink.receipts[0]);
  assert.equal(receipt.smscId, result.smscIds[0]);
  assert.equal(receipt.doneAt, Date.UTC(2026, 11, 5, 21, 4, 11));
});
