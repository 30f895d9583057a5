// `smsgw simulate smsc --protocol ucp`: the UCP/EMI simulator as a process, driven by a bare
// UCP client — logins with and without the right credentials, notifications only when the
// submit asks (NRq, NT), inbound from the control API, and the stats.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { UcpSmscSimulator } from '../../src/simulator/index.ts';
import type { UcpFrame } from '../../src/ucp/index.ts';
import {
  decodeIra,
  encodeIra,
  fieldsOf,
  namedFields,
  Ot,
  op5xFields,
  readResult,
  UcpClient,
  UcpSession,
} from '../../src/ucp/index.ts';
import { waitFor } from '../connectors/helpers.ts';
import { runSimulateSmsc, startSimulateSmsc } from './cli.ts';

const closers: Array<() => unknown> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function startCli(...extra: string[]) {
  const { listenLine, port, control } = await startSimulateSmsc(
    ['--protocol', 'ucp', '--port', '0', '--http', '127.0.0.1:0', ...extra],
    closers,
  );
  assert.match(listenLine, /UCP\/EMI/);
  return { port, control: control! };
}

function client(port: number, username: string, password: string) {
  const operations: UcpFrame[] = [];
  const c = new UcpClient({
    host: '127.0.0.1',
    port,
    username,
    password,
    reconnect: { minMs: 50, maxMs: 200 },
  });
  const refusals: string[] = [];
  c.on('loginFailed', (ec) => refusals.push(ec));
  c.on('operation', (frame, session) => {
    operations.push(frame);
    session.respond(frame, { ack: true });
  });
  c.start();
  closers.push(() => c.stop());
  return { c, operations, refusals };
}

const submit = (fields: Record<string, string>) =>
  fieldsOf(op5xFields, { AdC: '447700900001', OAdC: '12345', MT: '3', Msg: encodeIra('hello'), ...fields });

describe('smsgw simulate smsc --protocol ucp', () => {
  test('logs in only the given credentials, notifies when NRq and NT ask, injects inbound', async () => {
    const { port, control } = await startCli(
      '--system-id',
      'cli',
      '--password',
      'pw',
      '--delivery-delay-ms',
      '10',
      '--outcome',
      '+44770090009*=UNDELIV:107',
    );
    const wrong = client(port, 'cli', 'nope');
    await waitFor(() => wrong.refusals.length > 0, 5_000);
    assert.equal(wrong.refusals[0], '07');
    await wrong.c.stop();

    const { c, operations } = client(port, 'cli', 'pw');
    await waitFor(() => c.session ?? undefined, 5_000);
    const session = c.session!;
    const first = readResult(await session.request(Ot.SUBMIT, submit({ NRq: '1', NT: '3' })));
    assert.ok(first.ack);
    const [adc, scts] = first.sm.split(':');
    assert.equal(adc, '447700900001');
    assert.match(scts!, /^\d{12}$/);
    const notification = await waitFor(() => operations.find((f) => f.ot === Ot.NOTIFICATION), 5_000);
    const op = namedFields(op5xFields, notification.fields);
    assert.deepEqual([op.OAdC, op.SCTS, op.Dst, op.AdC], ['447700900001', scts, '0', '12345']);
    assert.match(decodeIra(op.Msg!), /delivered/);

    // Without NRq, or with an NT that leaves out failures, no notification comes.
    assert.ok(readResult(await session.request(Ot.SUBMIT, submit({}))).ack);
    assert.ok(
      readResult(await session.request(Ot.SUBMIT, submit({ AdC: '447700900091', NRq: '1', NT: '1' }))).ack,
    );
    const failed = readResult(
      await session.request(Ot.SUBMIT, submit({ AdC: '447700900092', NRq: '1', NT: '2' })),
    );
    const undelivered = await waitFor(
      () => operations.find((f) => f.ot === Ot.NOTIFICATION && f.fields[1] === '447700900092'),
      5_000,
    );
    assert.equal(namedFields(op5xFields, undelivered.fields).Rsn, '107');
    assert.equal(namedFields(op5xFields, undelivered.fields).SCTS, failed.sm.split(':')[1]);

    const res = await fetch(`${control}/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+447700900999', to: '12345', text: 'hi from the network' }),
    });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { parts: 1 });
    const deliver = await waitFor(() => operations.find((f) => f.ot === Ot.DELIVER), 5_000);
    const mo = namedFields(op5xFields, deliver.fields);
    assert.deepEqual(
      [mo.OAdC, mo.OTOA, mo.AdC, decodeIra(mo.Msg!)],
      ['447700900999', '1139', '12345', 'hi from the network'],
    );
    const stats = (await (await fetch(`${control}/stats`)).json()) as Record<string, number>;
    assert.deepEqual([stats.binds, stats.submits, stats.receiptsSent, stats.inboundSent], [1, 4, 2, 1]);
    const message = (await (await fetch(`${control}/messages/${first.sm}`)).json()) as { text: string };
    assert.equal(message.text, 'hello');
  });

  test('without credentials it takes any login; a bad --protocol exits 2', async () => {
    const { port } = await startCli();
    const { c } = client(port, 'anyone', 'anything');
    await waitFor(() => c.session ?? undefined, 5_000);
    const { code, stderr } = await runSimulateSmsc(['--protocol', 'x25']);
    assert.equal(code, 2);
    assert.match(stderr, /--protocol: expected smpp, ucp or cimd2, got 'x25'/);
  });
});

test('with no logins to check, inbound waiting for an SMT goes to one that connects without logging in', async () => {
  const sim = new UcpSmscSimulator();
  const { port } = await sim.listen(0);
  closers.push(() => sim.close());
  assert.equal(sim.injectInbound({ from: '+447700900999', to: '12345', text: 'waited' }), 1);
  const socket = net.connect(port, '127.0.0.1');
  const session = new UcpSession(socket);
  closers.push(() => session.destroy());
  const delivers: UcpFrame[] = [];
  session.on('operation', (frame) => {
    delivers.push(frame);
    session.respond(frame, { ack: true });
  });
  const deliver = await waitFor(() => delivers[0], 5_000);
  assert.equal(decodeIra(namedFields(op5xFields, deliver.fields).Msg!), 'waited');
});
