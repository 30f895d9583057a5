// Wireshark's CIMD dissector reads what our cimd2 connector and simulator say to each other:
// a session captured on loopback (login, a long message with status reports for each part,
// inbound parts, alive, logout) has CIMD packets in it and not one malformed frame or warning.
// The dissector is lenient (it flags little), so the test also checks that it reads our
// fields as we meant them.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Cimd2Connector } from '../../src/connectors/cimd2.ts';
import { Cimd2Simulator } from '../../src/simulator/index.ts';
import { cimd2Config, outbound, RecordingSink, waitFor } from '../connectors/helpers.ts';
import { requirePeer } from '../peers/available.ts';

test('tshark finds no malformed CIMD frame in a captured session', async (t) => {
  if (!requirePeer(t, 'tshark')) return;
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-cimd2-pcap-'));
  t.after(() => (process.env.KEEP ? undefined : rmSync(dir, { recursive: true, force: true })));
  const sim = new Cimd2Simulator({ deliveryDelayMs: 10 });
  const { port } = await sim.listen(0);
  t.after(() => sim.close());

  const file = join(dir, 'cimd2.pcapng');
  // -P -l: a line per packet as it is captured, so the test knows when the last one is in.
  const capture = spawn(
    'tshark',
    ['-i', 'lo', '-f', `tcp port ${port}`, '-w', file, '-P', '-l', '-d', `tcp.port==${port},cimd`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => capture.kill('SIGKILL'));
  let captureLog = '';
  let captured = '';
  capture.stderr.on('data', (c: Buffer) => (captureLog += c.toString()));
  capture.stdout.on('data', (c: Buffer) => (captured += c.toString()));
  await waitFor(() => /Capture started/.test(captureLog), 30_000);

  const sink = new RecordingSink();
  const connector = new Cimd2Connector(
    cimd2Config(port, { window: 4, aliveSeconds: 1, checksum: true }),
    sink,
    undefined,
    { aliveMs: 50 },
  );
  await connector.start();
  await waitFor(() => connector.state().status === 'up');
  const long = await connector.send(outbound({ text: `Ä_@{€} ${'x'.repeat(300)}`, receipt: true }));
  assert.ok(long.ok);
  assert.ok((await connector.send(outbound({ text: 'Привет', encoding: 'ucs2', receipt: true }))).ok);
  sim.injectInbound({ from: '+447700900002', to: '12345', text: `reply ${'y'.repeat(200)}` });
  await waitFor(() => sink.receipts.length === 4 && sink.inbounds.length === 1, 10_000);
  await waitFor(() => sim.alives > 0); // quiet long enough for an alive (40) and its answer
  await connector.stop();
  await waitFor(() => /Logout Resp/.test(captured), 30_000);
  const exited = new Promise((r) => capture.once('exit', r));
  capture.kill('SIGINT');
  await exited;

  const read = (filter: string, fields: string[] = []) =>
    spawnSync(
      'tshark',
      [
        '-r',
        file,
        '-d',
        `tcp.port==${port},cimd`,
        '-Y',
        filter,
        ...(fields.length > 0 ? ['-T', 'fields', ...fields.flatMap((f) => ['-e', f])] : []),
      ],
      { encoding: 'utf8' },
    ).stdout;
  const opcodes = read('cimd', ['cimd.opcode']).split(/\s+/).filter(Boolean).map(Number);
  for (const op of [1, 51, 3, 53, 23, 73, 20, 70, 40, 90, 2, 52]) {
    assert.ok(opcodes.includes(op), `operation ${op} captured (saw ${[...new Set(opcodes)].join(',')})`);
  }
  assert.equal(read('_ws.malformed || (cimd && _ws.expert.severity >= warning)'), '');
  // And the dissector reads our fields as we meant them: the login, the odd packet numbers
  // and checksums of our requests, the destination, the status report's timestamps.
  const fromUs = `cimd && tcp.dstport == ${port}`;
  assert.equal(read(`${fromUs} && cimd.opcode == 1`, ['cimd.ui']).trim(), 'user');
  const ours = read(`${fromUs} && cimd.opcode < 50`, ['cimd.pnumber', 'cimd.chksum']).trim().split('\n');
  assert.ok(ours.length >= 6);
  for (const line of ours) {
    const [number, checksum] = line.split('\t');
    assert.equal(Number(number) % 2, 1, `packet number ${number} is odd`);
    assert.match(checksum ?? '', /^(0x)?[0-9a-f]+$/i, 'a checksum on every packet');
  }
  const destinations = read(`${fromUs} && cimd.opcode == 3`, ['cimd.da']).trim().split('\n');
  assert.deepEqual(new Set(destinations), new Set(['+447700900001']));
  const reports = read('cimd.opcode == 23', ['cimd.scts']).trim().split('\n');
  assert.deepEqual(
    reports.map((r) => `447700900001:${r}`).sort(),
    [...sink.receipts.map((r) => r.smscId)].sort(),
  );
});
