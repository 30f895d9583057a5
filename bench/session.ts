// Loopback submit_sm/s through ONE session at window 1, 10 and 64: our client against our
// server, and the npm `smpp` package's client against its own server, measured the same
// way in the same run. The sink runs in a child process so each side has a core.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import smpp from 'smpp';
import { SmppClient } from '../src/smpp/index.ts';
import { formatRate, percentile, printTable } from './report.ts';

const runMs = Number(process.env.BENCH_SESSION_MS ?? 2_000);
const warmupMs = 300;
const windows = [1, 10, 64];
const text = Buffer.from('Your verification code is 123456. It expires in 10 minutes.');

interface Sample {
  count: number;
  elapsedMs: number;
  latenciesUs: number[];
}

async function startSink(impl: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['bench/smpp-sink.ts', impl], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  return { port: (JSON.parse(line) as { port: number }).port, child };
}

/** Keeps `window` submits outstanding for the run time; measures each one's round trip. */
async function drive(send: (done: () => void) => void, window: number): Promise<Sample> {
  const latenciesUs: number[] = [];
  let count = 0;
  let measuring = false;
  let stop = false;
  let measureStart = 0;
  let measureEnd = 0;
  await new Promise<void>((resolve) => {
    let outstanding = 0;
    const launch = () => {
      const t0 = performance.now();
      outstanding++;
      send(() => {
        outstanding--;
        if (measuring) {
          count++;
          if ((count & 15) === 0) latenciesUs.push((performance.now() - t0) * 1000);
        }
        if (!stop) launch();
        else if (outstanding === 0) resolve();
      });
    };
    for (let i = 0; i < window; i++) launch();
    setTimeout(() => {
      measuring = true;
      measureStart = performance.now();
    }, warmupMs);
    setTimeout(() => {
      measuring = false;
      stop = true;
      measureEnd = performance.now();
    }, warmupMs + runMs);
  });
  return { count, elapsedMs: measureEnd - measureStart, latenciesUs };
}

async function benchOurs(window: number): Promise<Sample> {
  const { port, child } = await startSink('smsgw');
  const client = new SmppClient({
    host: '127.0.0.1',
    port,
    systemId: 'b',
    password: 'b',
    window,
    enquireLinkMs: 0,
    reconnect: false,
  });
  client.start();
  const session = await client.waitBound();
  const pdu = {
    command: 'submit_sm' as const,
    serviceType: '',
    sourceAddrTon: 1,
    sourceAddrNpi: 1,
    sourceAddr: '447700900000',
    destAddrTon: 1,
    destAddrNpi: 1,
    destinationAddr: '447700900001',
    esmClass: 0,
    protocolId: 0,
    priorityFlag: 0,
    scheduleDeliveryTime: '',
    validityPeriod: '',
    registeredDelivery: 1,
    replaceIfPresentFlag: 0,
    dataCoding: 0,
    smDefaultMsgId: 0,
    shortMessage: text,
  };
  const sample = await drive((done) => {
    session.request({ ...pdu }).then(done, done);
  }, window);
  await client.stop();
  child.kill();
  return sample;
}

async function benchNodeSmpp(window: number): Promise<Sample> {
  const { port, child } = await startSink('node-smpp');
  const session = smpp.connect({ url: `smpp://127.0.0.1:${port}`, auto_enquire_link_period: 0 });
  await new Promise<void>((resolve, reject) => {
    session.bind_transceiver({ system_id: 'b', password: 'b' }, (pdu: { command_status: number }) =>
      pdu.command_status === 0 ? resolve() : reject(new Error(`bind ${pdu.command_status}`)),
    );
  });
  const sample = await drive((done) => {
    session.submit_sm(
      {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: '447700900000',
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: '447700900001',
        registered_delivery: 1,
        data_coding: 0,
        short_message: text,
      },
      done,
    );
  }, window);
  session.close();
  child.kill();
  return sample;
}

export async function benchSession(): Promise<void> {
  const rows: string[][] = [];
  for (const window of windows) {
    // Alternate the two implementations so machine noise hits both alike.
    const ours = await benchOurs(window);
    const theirs = await benchNodeSmpp(window);
    const oursRate = (ours.count / ours.elapsedMs) * 1000;
    const theirRate = (theirs.count / theirs.elapsedMs) * 1000;
    rows.push([
      String(window),
      formatRate(oursRate),
      `${percentile(ours.latenciesUs, 50).toFixed(0)} / ${percentile(ours.latenciesUs, 99).toFixed(0)}`,
      formatRate(theirRate),
      `${percentile(theirs.latenciesUs, 50).toFixed(0)} / ${percentile(theirs.latenciesUs, 99).toFixed(0)}`,
      `${(oursRate / theirRate).toFixed(2)}×`,
    ]);
  }
  printTable(
    'SMPP loopback, one session, submit_sm → submit_sm_resp (client and sink in separate processes)',
    [
      'window',
      'smsgw submit_sm/s',
      'smsgw p50/p99 µs',
      'npm smpp submit_sm/s',
      'npm smpp p50/p99 µs',
      'ratio',
    ],
    rows,
  );
}

if (import.meta.main) await benchSession();
