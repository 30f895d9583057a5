// One measured run of a system under test against the SMPP sink, every process started
// afresh: the same load generator (keep-alive HTTP for Kannel's sendsms and smsgw's REST
// API, or an SMPP ESME for smsgw's SMPP server), the same message count, a warm-up first.
// A message counts when the sink has it, or — with receipts — when its delivery-report
// callback (HTTP, or deliver_sm to the ESME) has arrived. A message refused or never
// completed makes the bench exit 1 (the only thing it fails on).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pdu } from '../src/smpp/index.ts';
import { SmppClient, shortMessagePdu } from '../src/smpp/index.ts';
import { LeanHttpConnection } from './http-client.ts';
import { percentile } from './report.ts';
import {
  account,
  bystander,
  CallbackReceiver,
  cpuSeconds,
  machineBusySeconds,
  nowUs,
  peakMemoryMb,
  residentMemoryMb,
  type SmppLink,
  type SystemUnderTest,
  sleep,
  startKannel,
  startNullSystem,
  startSink,
  startSmsgw,
  threadCpuSeconds,
  until,
} from './systems.ts';

/** `null`: bench/null-system.ts, with receipts only (it calls back; it has no SMPP side). */
/** `smsgw-http`: REST in, an `http` connector out to bench/http-provider.ts (no receipts). */
export type SystemKind = 'kannel' | 'kannel-nostore' | 'smsgw-rest' | 'smsgw-smpp' | 'smsgw-http' | 'null';

export interface RunCase {
  system: SystemKind;
  link: SmppLink;
  /** A delivery receipt per message, and a callback per receipt (the count waits for them). */
  receipts: boolean;
  /** SMS parts per message (1, 3, 10): the text is long enough for that many GSM parts. */
  parts: number;
  messages: number;
  /** HTTP connections, or the ESME's window. */
  concurrency: number;
  /** Measured in this many equal slices, one after another (for a soak; default 1). */
  slices?: number;
  /** smsgw's store URL (default SQLite in the run's temp dir). */
  store?: string;
  /** smsgw processes sharing that store; the HTTP connections spread over them. */
  nodes?: number;
  /** Figures of something beside the system (a database), taken over the measured span only. */
  measure?: Measure;
  /**
   * smsgw-rest: route by `network` from the online lookup, at a local HLR (bench/http-provider.ts):
   * `cached` sends every message to one number (looked up once), `uncached` each to its own.
   */
  lookup?: 'cached' | 'uncached';
  /**
   * smsgw REST without receipts: one message in ten comes from the `bystander` account, whose
   * webhook (every status) goes to the callback receiver and is timed; `webhookUrl` is the
   * bench account's own webhook (every status), none when absent.
   */
  bystander?: { webhookUrl?: string };
  /** What drives the HTTP load: our lean client (default) or ApacheBench (`ab`, apache2-utils). */
  loadTool?: 'lean' | 'ab';
  /** smsgw's route runs this interceptor module on every message. */
  interceptor?: string;
  /** smsgw runs within this command (a memory limit: memoryLimit in systems.ts). */
  within?: string[];
  /** Environment variables for smsgw (systems.ts, SmsgwOptions.env). */
  env?: Record<string, string>;
  /** Called with the system's processes as the measured load starts. */
  onLoad?: (pids: number[]) => void;
  /** After the load, the system is left alone this long and its resident memory taken (quietMemoryMb). */
  quietAfterMs?: number;
}

/** Starts counting at the measured span's start; at its end, gives its figures per message. */
export interface Measure {
  start(): Promise<void>;
  end(messages: number): Promise<Record<string, number>>;
}

export interface RunResult {
  messagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuSecondsPer1k: number;
  /**
   * The same by kind of thread (its processes' threads summed): the event loop, V8's helpers
   * (the collector's marking and sweeping, the optimizing compiler), worker threads (smsgw's
   * store writer), the rest, and threads that ended within the span.
   */
  threadCpuPer1k: Record<ThreadKind, number>;
  /**
   * Cores the whole machine kept busy over the measured span (the system, the load, the sink,
   * the callback receiver, the kernel): near the core count, the machine decided the rate.
   */
  machineCoresBusy: number;
  peakMemoryMb: number;
  /** submit_sm PDUs the sink received per message (the parts the system sent). */
  pdusPerMessage: number;
  /** Requests not answered with 202 (or submits not answered with ESME_ROK). */
  refused: number;
  /** Messages that never completed (no submit at the sink, or no callback) within the wait. */
  lost: number;
  /** msgs/s of each slice, in order. */
  sliceRates: number[];
  /** The system's resident memory (VmRSS, all its processes) at the end of each slice, MB. */
  sliceMemoryMb: number[];
  /** The case's `measure` figures. */
  measured: Record<string, number>;
  /** With `quietAfterMs`: the system's resident memory (VmRSS, all its processes) that long after the load, MB. */
  quietMemoryMb?: number;
  /** With `bystander`: its webhook latency, send → webhook. */
  bystanderP50Ms?: number;
  bystanderP99Ms?: number;
}

export const threadKinds = ['main', 'v8', 'workers', 'other', 'ended'] as const;
export type ThreadKind = (typeof threadKinds)[number];

/** Thread names (Linux's comm) as Node 24 sets them. */
const kindOfThreadName: Record<string, ThreadKind> = {
  MainThread: 'main',
  V8Worker: 'v8',
  WorkerThread: 'workers',
};

/** CPU seconds of each thread of the system's processes, now. */
function threadCpu(pids: number[]): Map<string, { name: string; seconds: number }> {
  const all = new Map<string, { name: string; seconds: number }>();
  for (const pid of pids) for (const [tid, thread] of threadCpuSeconds(pid)) all.set(tid, thread);
  return all;
}

/** What each kind of thread spent between two threadCpu readings, per 1,000 messages. */
function threadCpuPer1k(
  before: Map<string, { name: string; seconds: number }>,
  after: Map<string, { name: string; seconds: number }>,
  cpu: number,
  messages: number,
): Record<ThreadKind, number> {
  const spent = Object.fromEntries(threadKinds.map((kind) => [kind, 0])) as Record<ThreadKind, number>;
  let seen = 0;
  for (const [tid, { name, seconds }] of after) {
    const used = seconds - (before.get(tid)?.seconds ?? 0);
    spent[kindOfThreadName[name] ?? 'other'] += used;
    seen += used;
  }
  spent.ended = Math.max(0, cpu - seen);
  for (const kind of threadKinds) spent[kind] = (spent[kind] / messages) * 1000;
  return spent;
}

const lengthForParts: Record<number, number> = { 1: 60, 3: 400, 10: 1500 };

/** A GSM text of the wanted length starting with the send time `T<µs>` the sink reads. */
function textOf(i: number, parts: number): string {
  const head = `T${nowUs()} bench ${i} `;
  return head.padEnd(lengthForParts[parts] ?? 60, 'x');
}

export const systemLabel: Record<SystemKind, string> = {
  kannel: 'Kannel: sendsms → bearerbox (spool store) → SMPP',
  'kannel-nostore': 'Kannel: sendsms → bearerbox (no store) → SMPP',
  'smsgw-rest': 'smsgw: REST → SMPP',
  'smsgw-smpp': 'smsgw: SMPP server → SMPP',
  'smsgw-http': 'smsgw: REST → http connector → HTTP provider',
  null: 'null system: HTTP 202 and a callback at once',
};

export async function runCase(c: RunCase): Promise<RunResult> {
  // What the previous run left to write back (a store, Kannel's spool files) is flushed
  // first: otherwise the kernel writes it during this run, and whoever runs second pays.
  execFileSync('sync');
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-vs-'));
  const sink = await startSink(c.receipts, c.system === 'smsgw-http');
  const hlr = c.lookup ? await startSink(false, true) : undefined;
  const receiver = new CallbackReceiver();
  const receiverPort = await receiver.listen();
  let system: SystemUnderTest | undefined;
  try {
    const kannel = c.system === 'kannel' || c.system === 'kannel-nostore';
    system = kannel
      ? await startKannel(dir, sink.port, c.link, c.system === 'kannel')
      : c.system === 'null'
        ? await startNullSystem(`http://127.0.0.1:${receiverPort}/smsgw`)
        : await startSmsgw(dir, sink.port, c.link, {
            // The SMPP path's callback is the deliver_sm to the ESME: no webhook besides.
            webhookUrl:
              c.receipts && c.system === 'smsgw-rest'
                ? `http://127.0.0.1:${receiverPort}/smsgw`
                : c.bystander?.webhookUrl,
            everyWebhookStatus: c.bystander !== undefined,
            bystanderWebhookUrl: c.bystander ? `http://127.0.0.1:${receiverPort}/bystander` : undefined,
            httpConnector: c.system === 'smsgw-http',
            store: c.store,
            nodes: c.nodes,
            lookupUrl: hlr ? `http://127.0.0.1:${hlr.port}/hlr/{{number}}` : undefined,
            interceptor: c.interceptor,
            within: c.within,
            env: c.env,
          });
    const load =
      c.system === 'smsgw-smpp'
        ? await smppLoad(system.smppPort!, c)
        : c.loadTool === 'ab'
          ? abLoad(system.httpPort, c, kannel, dir)
          : await httpLoad(system.httpPorts ?? [system.httpPort], c, kannel, receiverPort);
    // Callbacks or receipts count when asked for; otherwise arrival at the sink.
    const completed = async () =>
      c.receipts
        ? c.system === 'smsgw-smpp'
          ? load.receipts()
          : receiver.delivered
        : (await sink.stats()).messages;
    const wait = Math.max(30_000, c.messages * 5);

    // Long enough for V8 to have compiled the hot paths (a JIT runtime's first thousand
    // messages run mostly interpreted), the same for both systems.
    const warmup = Math.max(20, Math.min(5_000, Math.round(c.messages / 10)));
    await load.send(0, warmup);
    await until(async () => (await completed()) >= warmup, wait);
    await sink.stats(true);
    receiver.reset();
    load.resetLatencies();
    const sinkBefore = (await sink.stats()).submits;
    const completedBefore = await completed();

    await c.measure?.start();
    const cpuBefore = system.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const threadsBefore = threadCpu(system.pids);
    const machineBefore = machineBusySeconds();
    const t0 = performance.now();
    c.onLoad?.(system.pids);
    let refused = 0;
    const sliceRates: number[] = [];
    const sliceMemoryMb: number[] = [];
    const perSlice = Math.ceil(c.messages / (c.slices ?? 1));
    for (let sent = 0; sent < c.messages; sent += perSlice) {
      const count = Math.min(perSlice, c.messages - sent);
      const s0 = performance.now();
      refused += await load.send(warmup + sent, count);
      const target = completedBefore + sent + count;
      if (!(await until(async () => (await completed()) >= target, wait))) break;
      sliceRates.push(count / ((performance.now() - s0) / 1000));
      sliceMemoryMb.push(residentMb(system));
    }
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = system.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpuBefore;
    const threadsAfter = threadCpu(system.pids);
    const machineCoresBusy = (machineBusySeconds() - machineBefore) / elapsed;
    const measured = (await c.measure?.end(c.messages)) ?? {};
    const done = (await completed()) - completedBefore;
    // The bystander's webhooks trail its messages: its latency counts them all.
    if (c.bystander)
      await until(() => receiver.bystanderEvents >= bystanderMessages(warmup, c.messages), wait);
    const sinkStats = await sink.stats(true);
    const latenciesUs = c.receipts
      ? c.system === 'smsgw-smpp'
        ? load.latenciesUs()
        : receiver.latenciesUs
      : (sinkStats.latenciesUs ?? []);
    load.close();
    let quietMemoryMb: number | undefined;
    if (c.quietAfterMs !== undefined) {
      await sleep(c.quietAfterMs);
      quietMemoryMb = residentMb(system);
    }
    if (refused > 0 || done < c.messages) {
      // Not a speed figure: a message refused or lost is a fault, and the run says so.
      process.stderr.write(
        `${systemLabel[c.system]}${c.receipts ? ' with receipts' : ''}: ${refused} refused, ${c.messages - done} of ${c.messages} not completed\n`,
      );
      process.exitCode = 1;
    }
    return {
      messagesPerSecond: done / elapsed,
      p50Ms: percentile(latenciesUs, 50) / 1000,
      p99Ms: percentile(latenciesUs, 99) / 1000,
      cpuSecondsPer1k: (cpu / c.messages) * 1000,
      threadCpuPer1k: threadCpuPer1k(threadsBefore, threadsAfter, cpu, c.messages),
      machineCoresBusy,
      peakMemoryMb: system.pids.reduce((sum, pid) => sum + peakMemoryMb(pid), 0),
      pdusPerMessage: (sinkStats.submits - sinkBefore) / c.messages,
      refused,
      lost: c.messages - done,
      sliceRates,
      sliceMemoryMb,
      measured,
      quietMemoryMb,
      bystanderP50Ms: percentile(receiver.bystanderLatenciesUs, 50) / 1000,
      bystanderP99Ms: percentile(receiver.bystanderLatenciesUs, 99) / 1000,
    };
  } finally {
    await system?.close();
    await sink.close();
    await hlr?.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** VmRSS of all the system's processes, MB. */
export function residentMb(system: SystemUnderTest): number {
  return system.pids.reduce((sum, pid) => sum + residentMemoryMb(pid), 0);
}

interface Load {
  /** Sends messages `from`..`from + count - 1`; resolves when all were answered, with the refusals. */
  send(from: number, count: number): Promise<number>;
  receipts(): number;
  latenciesUs(): number[];
  resetLatencies(): void;
  close(): void;
}

/** `concurrency` keep-alive connections, each sending its next request once answered. */
async function httpLoad(ports: number[], c: RunCase, kannel: boolean, receiverPort: number): Promise<Load> {
  const pool = await Promise.all(
    Array.from({ length: c.concurrency }, (_, i) => LeanHttpConnection.connect(ports[i % ports.length]!)),
  );
  const restHead = (apiKey: string) =>
    `POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${apiKey}\r\ncontent-type: application/json\r\n`;
  const [benchHead, bystanderHead] = [restHead(account.apiKey), restHead(bystander.apiKey)];
  const request = (i: number): [string, string] => {
    const text = textOf(i, c.parts);
    // Uncached lookups: each message to a number of its own.
    const to = c.lookup === 'uncached' ? `+4474${String(i).padStart(8, '0')}` : '+447700900123';
    if (!kannel)
      return [c.bystander && isBystanders(i) ? bystanderHead : benchHead, `{"to":"${to}","text":"${text}"}`];
    const dlr = c.receipts
      ? `&dlr-mask=1&dlr-url=${encodeURIComponent(`http://127.0.0.1:${receiverPort}/kannel?t=${text.slice(1, text.indexOf(' '))}&s=%d`)}`
      : '';
    return [
      `GET /cgi-bin/sendsms?username=u&password=p&from=BENCH&to=447700900123&text=${encodeURIComponent(text)}${dlr} HTTP/1.1\r\nhost: 127.0.0.1\r\n`,
      '',
    ];
  };
  return {
    async send(from, count) {
      let next = from;
      const end = from + count;
      let refused = 0;
      await Promise.all(
        pool.map(async (connection) => {
          while (next < end) {
            const [head, body] = request(next++);
            if ((await connection.request(head, body)) !== 202) refused++;
          }
        }),
      );
      return refused;
    },
    receipts: () => 0,
    latenciesUs: () => [],
    resetLatencies: () => {},
    close: () => {
      for (const connection of pool) connection.close();
    },
  };
}

/** Message `i` of a run with a bystander is the bystander's: one in ten. */
function isBystanders(i: number): boolean {
  return i % 10 === 9;
}

/** How many of messages 0 .. warmup + messages - 1 measured from `warmup` on are the bystander's. */
function bystanderMessages(warmup: number, messages: number): number {
  let n = 0;
  for (let i = warmup; i < warmup + messages; i++) if (isBystanders(i)) n++;
  return n;
}

/**
 * ApacheBench (`ab -k`, HTTP/1.0 keep-alive) as the load: `concurrency` connections, one
 * `ab` run per `send`. It repeats one request, so the text's send time is that of the run's
 * start and the sink's latency figures mean nothing here (only throughput and CPU do).
 */
function abLoad(port: number, c: RunCase, kannel: boolean, dir: string): Load {
  const bodyFile = join(dir, 'ab-body.json');
  return {
    async send(from, count) {
      const text = textOf(from, c.parts);
      let target: string[];
      if (kannel) {
        target = [
          `http://127.0.0.1:${port}/cgi-bin/sendsms?username=u&password=p&from=BENCH&to=447700900123&text=${encodeURIComponent(text)}`,
        ];
      } else {
        writeFileSync(bodyFile, `{"to":"+447700900123","text":"${text}"}`);
        target = [
          '-p',
          bodyFile,
          '-T',
          'application/json',
          '-H',
          `Authorization: Bearer ${account.apiKey}`,
          `http://127.0.0.1:${port}/v1/messages`,
        ];
      }
      const args = ['-k', '-q', '-c', String(Math.min(c.concurrency, count)), '-n', String(count), ...target];
      const out = await new Promise<string>((resolve, reject) =>
        execFile('ab', args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
          err ? reject(new Error(`ab ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
        ),
      );
      // Answers of another length are not failures here (an id's length may vary); the
      // rest are: no connection, no answer, an exception, or a status other than 2xx.
      const figure = (pattern: RegExp) => Number(pattern.exec(out)?.[1] ?? 0);
      const answered = figure(/Complete requests: *(\d+)/);
      const failed =
        figure(/Failed requests: *(\d+)/) - figure(/\(Connect: \d+, Receive: \d+, Length: (\d+)/);
      return count - answered + failed + figure(/Non-2xx responses: *(\d+)/);
    },
    receipts: () => 0,
    latenciesUs: () => [],
    resetLatencies: () => {},
    close: () => {},
  };
}

/** One ESME bind with `concurrency` submits outstanding; receipts matched by message id. */
async function smppLoad(port: number, c: RunCase): Promise<Load> {
  const client = new SmppClient({
    host: '127.0.0.1',
    port,
    systemId: account.systemId,
    password: account.password,
    bindType: 'transceiver',
    reconnect: false,
    window: c.concurrency,
    enquireLinkMs: 0,
  });
  const sentAt = new Map<string, number>();
  const earlyReceipts = new Map<string, number>();
  let receipts = 0;
  let latencies: number[] = [];
  client.on('request', (pdu: Pdu, session) => {
    session.respond(pdu);
    if (pdu.command !== 'deliver_sm') return;
    receipts++;
    const now = nowUs();
    const id = pdu.tlvs?.receiptedMessageId;
    if (id === undefined) return;
    const t = sentAt.get(id);
    if (t === undefined) earlyReceipts.set(id, now);
    else {
      sentAt.delete(id);
      latencies.push(now - t);
    }
  });
  client.start();
  await client.waitBound();
  return {
    async send(from, count) {
      let next = from;
      const end = from + count;
      let refused = 0;
      await Promise.all(
        Array.from({ length: c.concurrency }, async () => {
          while (next < end) {
            const t = nowUs();
            const resp = await client.request(
              shortMessagePdu('submit_sm', {
                sourceAddrTon: 5,
                sourceAddr: 'BENCH',
                destAddrTon: 1,
                destAddrNpi: 1,
                destinationAddr: '447700900123',
                registeredDelivery: c.receipts ? 1 : 0,
                shortMessage: Buffer.from(textOf(next++, 1), 'latin1'),
              }),
            );
            if (resp.commandStatus !== 0 || resp.command !== 'submit_sm_resp') {
              refused++;
              continue;
            }
            if (!c.receipts) continue;
            const early = earlyReceipts.get(resp.messageId);
            if (early === undefined) sentAt.set(resp.messageId, t);
            else {
              earlyReceipts.delete(resp.messageId);
              latencies.push(early - t);
            }
          }
        }),
      );
      return refused;
    },
    receipts: () => receipts,
    latenciesUs: () => latencies,
    resetLatencies: () => {
      latencies = [];
    },
    close: () => {
      client.stop().catch(() => {});
    },
  };
}
