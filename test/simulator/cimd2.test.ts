// `smsgw simulate smsc --protocol cimd2`: the CIMD2 SMS centre as a process, with the SMPP
// simulator's options and control API. A raw CIMD2 session logs in (only with the given
// credentials), submits, gets its status report (23) when it asked for one (056) and the
// outcome --outcome names, and receives what /inbound injects (20).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, test } from 'node:test';
import type { Cimd2Packet } from '../../src/cimd2/index.ts';
import { Cimd2Session, cimd2ToText, intParam, param } from '../../src/cimd2/index.ts';
import { waitFor } from '../connectors/helpers.ts';
import { runSimulateSmsc, startSimulateSmsc } from './cli.ts';

const closers: Array<() => unknown> = [];
after(() => {
  for (const c of closers) c();
});

async function session(port: number) {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  const s = new Cimd2Session(socket, { role: 'client', window: 4 });
  closers.push(() => s.close());
  const requests: Cimd2Packet[] = [];
  s.on('request', (p) => {
    requests.push(p);
    s.respond(p);
  });
  return { s, requests };
}

test('simulate smsc --protocol cimd2: login, submit with a status report, inbound, stats', async () => {
  const { listenLine, httpLine, port, control } = await startSimulateSmsc(
    [
      '--protocol',
      'cimd2',
      '--port',
      '0',
      '--http',
      '127.0.0.1:0',
      '--system-id',
      'cli',
      '--password',
      'pw',
      '--delivery-delay-ms',
      '10',
      '--outcome',
      '+4477009009*=UNDELIV:009',
    ],
    closers,
  );
  assert.match(listenLine, /^CIMD2 SMSC simulator listening on .* \(user cli\)$/);
  assert.ok(port > 0 && control, `${listenLine} / ${httpLine}`);

  const wrong = await session(port);
  const refused = await wrong.s.request(1, [
    [10, 'cli'],
    [11, 'nope'],
  ]);
  assert.equal(refused.operation, 51);
  assert.equal(intParam(refused, 900), 100);

  const { s, requests } = await session(port);
  assert.equal(
    intParam(
      await s.request(1, [
        [10, 'cli'],
        [11, 'pw'],
      ]),
      900,
    ),
    undefined,
  );
  const ok = await s.request(3, [
    [21, '447700900001'],
    [33, "caf_e' _Oa"],
    [56, '14'],
  ]);
  assert.equal(ok.operation, 53);
  assert.equal(param(ok, 21), '447700900001');
  assert.match(param(ok, 60) ?? '', /^\d{12}$/);
  const failing = await s.request(3, [
    [21, '+447700900901'],
    [33, 'x'],
    [56, '14'],
  ]);
  const noReport = await s.request(3, [
    [21, '447700900002'],
    [33, 'no report wanted'],
  ]);
  assert.equal(noReport.operation, 53);
  await waitFor(() => requests.filter((p) => p.operation === 23).length === 2);
  const reports = requests.filter((p) => p.operation === 23);
  const delivered = reports.find((p) => param(p, 21) === '447700900001')!;
  assert.equal(param(delivered, 60), param(ok, 60));
  assert.equal(intParam(delivered, 61), 4);
  const undelivered = reports.find((p) => param(p, 21) === '+447700900901')!;
  assert.equal(param(undelivered, 60), param(failing, 60));
  assert.equal(intParam(undelivered, 61), 3);
  assert.equal(intParam(undelivered, 62), 9);

  const res = await fetch(`${control}/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+447700900999', to: '12345', text: 'hi from the network: ä@_' }),
  });
  assert.equal(res.status, 202);
  const mo = await waitFor(() => requests.find((p) => p.operation === 20));
  assert.equal(param(mo, 23), '+447700900999');
  assert.equal(cimd2ToText(param(mo, 33)!), 'hi from the network: ä@_');
  const stats = (await (await fetch(`${control}/stats`)).json()) as Record<string, number>;
  assert.equal(stats.submits, 3);
  assert.equal(stats.receiptsSent, 2);
  assert.equal(stats.inboundSent, 1);
  assert.equal(stats.binds, 1);
  const message = await fetch(`${control}/messages/447700900001:${param(ok, 60)}`);
  assert.equal(message.status, 200);
  assert.equal(((await message.json()) as { text: string }).text, "caf_e' _Oa");
  const logout = await s.request(2);
  assert.equal(logout.operation, 52);
});

test('simulate smsc: an unknown --protocol exits with code 2 and says so', async () => {
  const { code, stderr } = await runSimulateSmsc(['--protocol', 'x25']);
  assert.equal(code, 2);
  assert.match(stderr, /--protocol: expected smpp, ucp or cimd2/);
});
