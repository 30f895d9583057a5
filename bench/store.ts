// Durable writes per second through the SQLite store on a temp file: inserts (the 202 path)
// and status updates, with 1 to 1000 concurrent calls per tick as many HTTP requests or
// SMPP responses would make, at synchronous=FULL (the default: survives power loss) and
// NORMAL (survives a process crash). Calls made together share one commit, so the latency
// of a call is that of its batch's commit. While inserting, the main thread is watched:
// how long its event loop stalls (what an HTTP request or SMPP PDU would wait) and its CPU
// time per insert (what the store leaves for the rest of the gateway), with writes on the
// writer `auto` (the default: on the main thread while commits take little of it, on the
// writer thread once they take more), `thread` and `main`.
// A second table offers inserts at a steady rate without waiting for earlier ones, as a
// loaded gateway does, so commits overlap with new calls: the main thread's CPU share there
// includes this bench's own loop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Message } from '../src/core/message.ts';
import { SqliteStore, type SynchronousMode, type WriterMode } from '../src/store/index.ts';
import { formatRate, percentile, printTable } from './report.ts';

const runMs = Number(process.env.BENCH_STORE_MS ?? 700);
const perTickCounts = [1, 10, 100, 1000];
const modes: SynchronousMode[] = ['FULL', 'NORMAL'];
const writers: WriterMode[] = ['auto', 'thread', 'main'];
/** Steady offered rates, in inserts per second. */
const offeredRates = [10_000, 30_000];

function message(n: number): Message {
  const now = Date.now();
  return {
    id: `bench-${n}`,
    accountId: `acc-${n % 10}`,
    direction: 'mt',
    status: 'queued',
    to: `4477009${String(n % 100_000).padStart(5, '0')}`,
    from: 'MyBank',
    text: 'Your verification code is 482913. It expires in 10 minutes. Never share it, not even with us.',
    binary: null,
    udh: null,
    encoding: 'gsm7',
    segments: 1,
    priority: n % 2 ? 'bulk' : 'otp',
    clientRef: `ref-${n}`,
    callbackUrl: null,
    flash: false,
    origin: 'http',
    receiptRequested: false,
    connectorId: null,
    createdAt: now,
    sendAt: null,
    validUntil: now + 86_400_000,
    submittedAt: null,
    doneAt: null,
    attempts: 0,
    nextAttemptAt: null,
    error: null,
    groupId: null,
    meta: null,
  };
}

/** The main thread over a run: how long its event loop stalled, and its CPU time. */
function watchMainThread() {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const startCpu = process.threadCpuUsage();
  const start = performance.now();
  return (calls: number) => {
    delay.disable();
    const { user, system } = process.threadCpuUsage(startCpu);
    const cpuUs = user + system;
    return {
      stallMs: `${(delay.percentile(99) / 1e6).toFixed(1)} / ${(delay.max / 1e6).toFixed(1)}`,
      cpuUsPerCall: cpuUs / calls,
      cpuShare: cpuUs / 1000 / (performance.now() - start),
    };
  };
}

/** Runs ticks of `perTick` concurrent calls for about runMs; returns calls/s and tick latencies. */
async function drive(perTick: number, call: (n: number) => Promise<unknown>) {
  const latenciesMs: number[] = [];
  let n = 0;
  const watched = watchMainThread();
  const start = performance.now();
  let now = start;
  while (now - start < runMs) {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < perTick; i++) calls.push(call(n++));
    await Promise.all(calls);
    const end = performance.now();
    latenciesMs.push(end - now);
    now = end;
  }
  return { perSecond: (n / (now - start)) * 1000, count: n, latenciesMs, ...watched(n) };
}

/** Starts calls at `perSecond`, each millisecond, for about runMs; returns completions/s. */
async function offer(perSecond: number, call: (n: number) => Promise<unknown>) {
  const latenciesMs: number[] = [];
  let started = 0;
  let done = 0;
  const watched = watchMainThread();
  const start = performance.now();
  for (let now = start; now - start < runMs; now = performance.now()) {
    for (const due = ((now - start) / 1000) * perSecond; started < due; ) {
      const at = performance.now();
      void call(started++).then(() => {
        latenciesMs.push(performance.now() - at);
        done++;
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const counted = done;
  const elapsed = performance.now() - start;
  const main = watched(counted);
  while (done < started) await new Promise((resolve) => setTimeout(resolve, 1));
  return { perSecond: (counted / elapsed) * 1000, latenciesMs, ...main };
}

const ms = (values: number[], p: number) => percentile(values, p).toFixed(1);

export async function benchStore(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-bench-store-'));
  const rows: string[][] = [];
  const offeredRows: string[][] = [];
  try {
    for (const synchronous of modes) {
      for (const writer of writers) {
        const open = async (name: string) => {
          const file = join(dir, `${synchronous}-${writer}-${name}.db`);
          const store = new SqliteStore(file, { synchronous, writer });
          await store.migrate();
          return store;
        };
        for (const perTick of perTickCounts) {
          const store = await open(String(perTick));
          const inserts = await drive(perTick, (n) => store.insertMessages([message(n)]));
          const updates = await drive(perTick, (n) => {
            const at = Date.now();
            return store.updateMessage(
              `bench-${n % inserts.count}`,
              { status: 'submitted', connectorId: 'smsc-1', submittedAt: at, attempts: 1 },
              { at, type: 'submitted', detail: { connector: 'smsc-1', smscIds: [`${n.toString(16)}`] } },
            );
          });
          await store.close();
          rows.push([
            synchronous,
            writer,
            String(perTick),
            formatRate(inserts.perSecond),
            `${ms(inserts.latenciesMs, 50)} / ${ms(inserts.latenciesMs, 99)}`,
            inserts.stallMs,
            inserts.cpuUsPerCall.toFixed(1),
            formatRate(updates.perSecond),
            `${ms(updates.latenciesMs, 50)} / ${ms(updates.latenciesMs, 99)}`,
          ]);
        }
        for (const rate of offeredRates) {
          const store = await open(`offered-${rate}`);
          const inserts = await offer(rate, (n) => store.insertMessages([message(n)]));
          await store.close();
          offeredRows.push([
            synchronous,
            writer,
            formatRate(rate),
            formatRate(inserts.perSecond),
            `${ms(inserts.latenciesMs, 50)} / ${ms(inserts.latenciesMs, 99)}`,
            inserts.stallMs,
            `${Math.round(inserts.cpuShare * 100)}%`,
          ]);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(
    `SQLite store (node:sqlite, WAL, temp file): durable writes, calls made together share a commit, ${runMs} ms per cell`,
    [
      'synchronous',
      'writes on',
      'calls/tick',
      'inserts/s',
      'insert ms p50 / p99',
      'main stall ms p99 / max',
      'main CPU µs/insert',
      'updates/s',
      'update ms p50 / p99',
    ],
    rows,
  );
  printTable(
    `SQLite store, inserts offered at a steady rate, started every millisecond without waiting, ${runMs} ms per cell`,
    [
      'synchronous',
      'writes on',
      'offered/s',
      'inserts/s',
      'insert ms p50 / p99',
      'main stall ms p99 / max',
      'main thread CPU',
    ],
    offeredRows,
  );
}
