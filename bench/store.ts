// Durable writes per second through the SQLite store on a temp file: inserts (the 202 path)
// and status updates, with 1 to 1000 concurrent calls per tick as many HTTP requests or
// SMPP responses would make, at synchronous=FULL (the default: survives power loss) and
// NORMAL (survives a process crash). Calls in one tick share one commit, so the latency of
// a call is that of its tick's commit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '../src/core/message.ts';
import { SqliteStore, type SynchronousMode } from '../src/store/index.ts';
import { formatRate, percentile, printTable } from './report.ts';

const runMs = Number(process.env.BENCH_STORE_MS ?? 700);
const perTickCounts = [1, 10, 100, 1000];
const modes: SynchronousMode[] = ['FULL', 'NORMAL'];

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
  };
}

/** Runs ticks of `perTick` concurrent calls for about runMs; returns calls/s and tick latencies. */
async function drive(perTick: number, call: (n: number) => Promise<void>) {
  const latenciesMs: number[] = [];
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < runMs) {
    const calls: Promise<void>[] = [];
    for (let i = 0; i < perTick; i++) calls.push(call(n++));
    await Promise.all(calls);
    const end = performance.now();
    latenciesMs.push(end - now);
    now = end;
  }
  return { perSecond: (n / (now - start)) * 1000, count: n, latenciesMs };
}

const ms = (values: number[], p: number) => percentile(values, p).toFixed(1);

export async function benchStore(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-bench-store-'));
  const rows: string[][] = [];
  try {
    for (const synchronous of modes) {
      for (const perTick of perTickCounts) {
        const store = new SqliteStore(join(dir, `${synchronous}-${perTick}.db`), { synchronous });
        await store.migrate();
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
          String(perTick),
          formatRate(inserts.perSecond),
          `${ms(inserts.latenciesMs, 50)} / ${ms(inserts.latenciesMs, 99)}`,
          formatRate(updates.perSecond),
          `${ms(updates.latenciesMs, 50)} / ${ms(updates.latenciesMs, 99)}`,
        ]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(
    `SQLite store (node:sqlite, WAL, temp file): durable writes, one commit per tick, ${runMs} ms per cell`,
    ['synchronous', 'calls/tick', 'inserts/s', 'insert ms p50 / p99', 'updates/s', 'update ms p50 / p99'],
    rows,
  );
}
