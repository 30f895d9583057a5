// The gateway end to end, each side in its own process: load generator (this process),
// `smsgw serve` (durable SQLite, synchronous=FULL), and an SMSC (`smsgw simulate smsc`).
//  1. REST → SMPP: single-message POSTs over many keep-alive connections, counted when
//     they reach the SMSC;
//  2. SMPP server → SMPP: an ESME submitting with registered_delivery, counted when its
//     receipt comes back;
//  3. latency from the POST to submit_sm at the SMSC at a fixed rate (SMSC in this process).
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmscSimulator } from '../src/simulator/index.ts';
import type { Pdu } from '../src/smpp/index.ts';
import { SmppClient, shortMessagePdu } from '../src/smpp/index.ts';
import { LeanHttpConnection } from './http-client.ts';
import { formatRate, percentile, printTable } from './report.ts';
import { spawnLines } from './systems.ts';

const runMs = Number(process.env.BENCH_GATEWAY_MS ?? 5_000);

async function startGateway(dir: string, smscPort: number) {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'smsgw.yaml');
  writeFileSync(
    config,
    `
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:${dir}/gw.db
accounts:
  - { id: bench, apiKeys: [bench-key-1], defaultFrom: BENCH, smpp: { systemId: bench, password: pw, maxBinds: 8 } }
connectors:
  - { id: smsc, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: gw, password: pw, binds: 2, window: 128 }
routes:
  mt: [{ connectors: [smsc] }]
`,
  );
  const { child, found } = await spawnLines(
    ['src/cli/main.ts', 'serve', '--config', config],
    [/HTTP http:\/\/[^:]+:(\d+)/, /SMPP [^:]+:(\d+)/],
  );
  return { child, httpPort: Number(found[0]), smppPort: Number(found[1]) };
}

async function startSmsc(): Promise<{ child: ChildProcess; port: number; control: string }> {
  const { child, found } = await spawnLines(
    [
      'src/cli/main.ts',
      'simulate',
      'smsc',
      '--port',
      '0',
      '--http',
      '127.0.0.1:0',
      '--delivery-delay-ms',
      '10',
    ],
    [/:(\d+) /, /(http:\/\/\S+)/],
  );
  return { child, port: Number(found[0]), control: found[1]!.replace(/\/$/, '') };
}

async function smscSubmits(control: string): Promise<number> {
  const res = await fetch(`${control}/stats`);
  return ((await res.json()) as { submits: number }).submits;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function post(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/messages',
        method: 'POST',
        agent,
        headers: {
          authorization: 'Bearer bench-key-1',
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function restThroughput(httpPort: number, control: string, connections: number) {
  const start = await smscSubmits(control);
  const pool = await Promise.all(
    Array.from({ length: connections }, () => LeanHttpConnection.connect(httpPort)),
  );
  const head =
    'POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer bench-key-1\r\ncontent-type: application/json\r\n';
  let stop = false;
  let accepted = 0;
  let refused = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  let n = 0;
  await Promise.all(
    pool.map(async (connection) => {
      while (!stop) {
        const t = performance.now();
        const status = await connection.request(head, `{"to":"+447700900123","text":"bench ${n++}"}`);
        if (status === 202) accepted++;
        else refused++;
        if ((accepted & 7) === 0) latencies.push(performance.now() - t);
        if (performance.now() - t0 > runMs) stop = true;
      }
    }),
  );
  for (const connection of pool) connection.close();
  const acceptMs = performance.now() - t0;
  // Then wait until the SMSC has everything that was accepted.
  while ((await smscSubmits(control)) - start < accepted && performance.now() - t0 < acceptMs + 60_000)
    await new Promise((r) => setTimeout(r, 50));
  const endToEndMs = performance.now() - t0;
  return {
    accepted,
    refused,
    acceptRate: (accepted / acceptMs) * 1000,
    endToEndRate: (((await smscSubmits(control)) - start) / endToEndMs) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function smppThroughput(smppPort: number) {
  const client = new SmppClient({
    host: '127.0.0.1',
    port: smppPort,
    systemId: 'bench',
    password: 'pw',
    bindType: 'transceiver',
    reconnect: false,
    window: 256,
  });
  let receipts = 0;
  client.on('request', (pdu: Pdu, session) => {
    if (pdu.command === 'deliver_sm') receipts++;
    session.respond(pdu);
  });
  client.start();
  await client.waitBound();
  let submitted = 0;
  let stop = false;
  const t0 = performance.now();
  const body = Buffer.from('Your code is 123456');
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (!stop) {
        const resp = await client.request(
          shortMessagePdu('submit_sm', {
            sourceAddrTon: 5,
            sourceAddr: 'BENCH',
            destAddrTon: 1,
            destAddrNpi: 1,
            destinationAddr: '447700900123',
            registeredDelivery: 1,
            shortMessage: body,
          }),
        );
        if (resp.commandStatus === 0) submitted++;
        if (performance.now() - t0 > runMs) stop = true;
      }
    }),
  );
  const submitMs = performance.now() - t0;
  while (receipts < submitted && performance.now() - t0 < submitMs + 60_000)
    await new Promise((r) => setTimeout(r, 50));
  const total = performance.now() - t0;
  await client.stop();
  return {
    submitted,
    receipts,
    submitRate: (submitted / submitMs) * 1000,
    receiptRate: (receipts / total) * 1000,
  };
}

async function latencyAtRate(dir: string, rate: number) {
  const sim = new SmscSimulator({ deliveryDelayMs: 10 });
  const { port } = await sim.listen(0);
  const gw = await startGateway(join(dir, 'latency'), port).catch(async (err) => {
    await sim.close();
    throw err;
  });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  sim.on('submit', (m) => {
    const t = sentAt.get(m.shortMessage.toString('latin1'));
    if (t !== undefined) latencies.push(performance.now() - t);
  });
  const total = Math.round((rate * runMs) / 1000);
  const t0 = performance.now();
  const pending: Promise<number>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const text = `latency ${i}`;
    sentAt.set(text, performance.now());
    pending.push(post(gw.httpPort, `{"to":"+447700900123","text":"${text}"}`));
  }
  await Promise.all(pending);
  const deadline = performance.now() + 30_000;
  while (latencies.length < total && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  gw.child.kill('SIGTERM');
  await sim.close();
  return { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export async function benchGateway(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-bench-'));
  const smsc = await startSmsc();
  const gw = await startGateway(dir, smsc.port);
  try {
    const rows: string[][] = [];
    for (const connections of [16, 64, 256]) {
      const r = await restThroughput(gw.httpPort, smsc.control, connections);
      rows.push([
        String(connections),
        formatRate(r.acceptRate),
        formatRate(r.endToEndRate),
        `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}`,
        String(r.refused),
      ]);
    }
    printTable(
      'Gateway REST → SMPP (durable: SQLite synchronous=FULL; separate processes: client, gateway, SMSC)',
      ['HTTP connections', '202s/s', 'at SMSC msgs/s (end to end)', 'POST p50 / p99 ms', 'non-202'],
      rows,
    );
    const s = await smppThroughput(gw.smppPort);
    printTable(
      'Gateway SMPP server → SMPP, with receipts back to the ESME (one bind, window 256)',
      ['submit_sm_resp/s', 'receipts/s (end to end)', 'submitted', 'receipts'],
      [[formatRate(s.submitRate), formatRate(s.receiptRate), String(s.submitted), String(s.receipts)]],
    );
  } finally {
    gw.child.kill('SIGTERM');
    smsc.child.kill('SIGTERM');
  }
  const rows: string[][] = [];
  for (const rate of [500, 2000]) {
    const l = await latencyAtRate(dir, rate);
    rows.push([formatRate(rate), String(l.count), `${l.p50.toFixed(2)} / ${l.p99.toFixed(2)}`]);
  }
  printTable(
    'Latency from POST to submit_sm at the SMSC, at a fixed rate',
    ['messages/s offered', 'measured', 'p50 / p99 ms'],
    rows,
  );
  rmSync(dir, { recursive: true, force: true });
}
