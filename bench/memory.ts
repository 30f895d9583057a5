// `npm run bench -- memory`: what `smsgw serve` holds resident (VmRSS, its threads
// included) idle after start, and at its peak under the head-to-head's full REST → SMPP
// load, with and without a receipt and webhook per message; then every smsgw row of the
// head-to-head (REST and SMPP, with and without receipts, and through ab) within a 256 MB
// memory limit (a systemd scope, else a cgroup: systems.ts, memoryLimit), where the system
// allows one. Targets (issue #21): idle ≤ 80 MB, peak ≤ 200 MB; the soak part checks
// that memory stays flat. Beside the idle gateway, the stack it is built on with no gateway
// code (bench/stack-floor.ts): the floor under the idle row. BENCH_HEAP=1 also takes a V8 heap snapshot of the gateway idle and
// one a few seconds into the REST → SMPP load, and prints what holds each heap by module and
// by constructor (bench/heap-holders.ts); the snapshots stay in .bench/heap/. Writing a
// snapshot takes memory of its own: with BENCH_HEAP=1 the REST → SMPP peak is not a figure.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { formatHeapHolders, heapHolders } from './heap-holders.ts';
import { formatRate, printTable } from './report.ts';
import { type RunCase, type RunResult, runCase } from './runs.ts';
import {
  abInstalled,
  type MemoryLimit,
  memoryLimit,
  residentMemoryMb,
  sleep,
  startSink,
  startSmsgw,
} from './systems.ts';
import { headToHeadConcurrency, headToHeadLink, headToHeadRows } from './vs-kannel.ts';

const smoke = process.env.BENCH_SMOKE === '1';
const messages = smoke ? 400 : 60_000;
const withReceipts = smoke ? 200 : 20_000;
// The gateway gives a burst's memory back after 10 s quiet (src/app/memory.ts); V8 by itself
// after up to 100 s.
const quietAfterMs = 20_000;
// A gateway left idle: what start-up alone needed (the config validators, held a minute after
// their last use: src/config/load.ts) has been let go and collected.
const idleLaterMs = smoke ? 2_000 : 120_000;
const idleTarget = 80;
const peakTarget = 200;
const limitMb = 256;
const heapDir = process.env.BENCH_HEAP === '1' ? join(process.cwd(), '.bench', 'heap') : null;
/** Node writes a heap snapshot into heapDir on this signal. */
const heapEnv: Record<string, string> = heapDir
  ? { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${heapDir}` }
  : {};

/** Signals `pid` to write a heap snapshot, waits for it and names it `name`.heapsnapshot. */
async function heapSnapshot(pid: number, name: string): Promise<string> {
  const dir = heapDir!;
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  let written: string | undefined;
  // Node writes the file under its final name as it goes: done once its size holds still.
  for (let last = -1; ; await sleep(1_000)) {
    written ??= readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!written) continue;
    const size = statSync(join(dir, written)).size;
    if (size > 0 && size === last) break;
    last = size;
  }
  const file = join(dir, `${name}.heapsnapshot`);
  renameSync(join(dir, written), file);
  return file;
}

/** RSS once it has settled: read every second until two readings differ by under 1%. */
async function settledRss(pid: number): Promise<number> {
  let previous = residentMemoryMb(pid);
  for (let i = 0; i < 30; i++) {
    await sleep(1_000);
    const now = residentMemoryMb(pid);
    if (Math.abs(now - previous) < previous * 0.01) return now;
    previous = now;
  }
  return previous;
}

/**
 * RSS idle once settled after start, and `laterMs` after start (0: not read); `storeOptions`:
 * the SQLite store URL's query (`?writer=thread`).
 */
async function idleMb(laterMs = 0, storeOptions = ''): Promise<{ settled: number; later: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-idle-'));
  const sink = await startSink(false);
  try {
    const system = await startSmsgw(dir, sink.port, headToHeadLink, {
      env: heapEnv,
      store: `sqlite:${dir}/gw.db${storeOptions}`,
    });
    const startedAt = Date.now();
    try {
      const settled = await settledRss(system.pids[0]!);
      // The default store's: the one bench/heap-holders.ts reads as idle.
      if (heapDir && storeOptions === '') await heapSnapshot(system.pids[0]!, 'idle');
      if (laterMs === 0) return { settled, later: Number.NaN };
      await sleep(Math.max(0, startedAt + laterMs - Date.now()));
      return { settled, later: residentMemoryMb(system.pids[0]!) };
    } finally {
      await system.close();
    }
  } finally {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * RSS of the stack alone (bench/stack-floor.ts), settled after start, started as bin/smsgw
 * starts serve: its V8 flags, two malloc arenas, the compile cache (the first start fills it).
 */
async function stackFloorMb(): Promise<number> {
  let rss = 0;
  for (const settle of [false, true]) {
    const dir = mkdtempSync(join(tmpdir(), 'smsgw-floor-'));
    const child = spawn(
      process.execPath,
      ['--max-semi-space-size=8', '--heap-growing-percent=30', '--expose-gc', 'bench/stack-floor.ts', dir],
      {
        env: {
          ...process.env,
          MALLOC_ARENA_MAX: '2',
          NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'node-compile-cache'),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      for await (const line of createInterface({ input: child.stdout! })) if (line === 'ready') break;
      if (settle) rss = await settledRss(child.pid!);
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rss;
}

const cpuUs = (run: RunResult) => (run.cpuSecondsPer1k * 1000).toFixed(0);
const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

export async function benchMemory(): Promise<void> {
  const base: RunCase = {
    system: 'smsgw-rest',
    link: headToHeadLink,
    receipts: false,
    parts: 1,
    messages,
    concurrency: headToHeadConcurrency,
  };
  if (heapDir) mkdirSync(heapDir, { recursive: true });
  // Twice: the first start writes the compile cache, as an installation's first start does.
  await idleMb();
  const { settled: idle, later: idleLater } = await idleMb(idleLaterMs);
  const { settled: idleWriterThread } = await idleMb(0, '?writer=thread');
  const floor = await stackFloorMb();
  let loadSnapshot: Promise<string> | undefined;
  const rest = await runCase({
    ...base,
    env: heapEnv,
    quietAfterMs,
    onLoad: heapDir
      ? (pids) => {
          loadSnapshot = sleep(smoke ? 200 : 3_000).then(() => heapSnapshot(pids[0]!, 'load'));
        }
      : undefined,
  });
  const receipts = await runCase({ ...base, receipts: true, messages: withReceipts });
  const limit = memoryLimit(limitMb);
  // Every smsgw row of the head-to-head (bench/vs-kannel.ts), each a gateway in the limit.
  const limited: Array<[string, RunResult | string]> = [];
  let cgroup: ReturnType<MemoryLimit['usage']> = null;
  if ('within' in limit) {
    try {
      for (const row of headToHeadRows.filter(
        (r) => r.system.startsWith('smsgw') && (abInstalled || r.loadTool !== 'ab'),
      )) {
        const name = `${row.system === 'smsgw-rest' ? 'REST' : 'SMPP'} → SMPP${row.receipts ? ' + receipt' : ''}${row.loadTool ? ` (${row.loadTool})` : ''}`;
        try {
          const run = await runCase({
            ...base,
            system: row.system,
            receipts: row.receipts,
            loadTool: row.loadTool,
            messages: row.receipts ? withReceipts : messages,
            within: limit.within,
          });
          limited.push([name, run]);
        } catch (err) {
          // The gateway gone mid-run (killed at the limit) fails the run's /proc reads.
          limited.push([name, (err as Error).message]);
        }
      }
    } finally {
      cgroup = limit.usage();
      limit.close();
    }
  }
  const rows = [
    [
      'idle, after start (settled)',
      idle.toFixed(0),
      '–',
      '–',
      `≤ ${idleTarget} MB: ${met(idle <= idleTarget)}`,
    ],
    [
      `idle, ${idleLaterMs / 1000} s after start`,
      idleLater.toFixed(0),
      '–',
      '–',
      `≤ ${idleTarget} MB: ${met(idleLater <= idleTarget)}`,
    ],
    [
      'idle, store ?writer=thread (a writer thread from the start), after start (settled)',
      idleWriterThread.toFixed(0),
      '–',
      '–',
      `≤ ${idleTarget} MB: ${met(idleWriterThread <= idleTarget)}`,
    ],
    [
      'the stack alone, idle: Node, fastify, pino, prom-client, node:sqlite; no gateway code (bench/stack-floor.ts)',
      floor.toFixed(0),
      '–',
      '–',
      `the floor: ${(idle - floor).toFixed(0)} MB of the idle gateway's are its own`,
    ],
    [
      `REST → SMPP, ${messages.toLocaleString('en-US')} messages, peak`,
      rest.peakMemoryMb.toFixed(0),
      formatRate(rest.messagesPerSecond),
      cpuUs(rest),
      `≤ ${peakTarget} MB: ${met(rest.peakMemoryMb <= peakTarget)}`,
    ],
    [
      `the same, ${quietAfterMs / 1000} s after its load`,
      rest.quietMemoryMb!.toFixed(0),
      '–',
      '–',
      `gave back ${(rest.peakMemoryMb - rest.quietMemoryMb!).toFixed(0)} of the ${(rest.peakMemoryMb - idle).toFixed(0)} MB over idle`,
    ],
    [
      `REST + receipt + webhook, ${withReceipts.toLocaleString('en-US')} messages, peak`,
      receipts.peakMemoryMb.toFixed(0),
      formatRate(receipts.messagesPerSecond),
      cpuUs(receipts),
      `≤ ${peakTarget} MB: ${met(receipts.peakMemoryMb <= peakTarget)}`,
    ],
  ];
  for (const [name, run] of limited)
    rows.push(
      typeof run === 'string'
        ? [`${name} within ${limitMb} MB`, '–', '–', '–', `did not run to the end: ${run}`]
        : [
            `${name} within ${limitMb} MB, peak`,
            run.peakMemoryMb.toFixed(0),
            formatRate(run.messagesPerSecond),
            cpuUs(run),
            run.lost === 0 && run.refused === 0
              ? 'survived: ran to the end'
              : `${run.refused} refused, ${run.lost} lost: killed?`,
          ],
    );
  printTable(
    `Memory: smsgw serve (bin/smsgw, SQLite), resident set of the process and its threads (VmRSS; peak: VmHWM); load: ${headToHeadConcurrency} keep-alive HTTP connections, ${headToHeadLink.binds} binds × window ${headToHeadLink.window}${heapDir ? '; the REST → SMPP peak includes writing a heap snapshot (BENCH_HEAP=1)' : ''}`,
    ['case', 'MB', 'msgs/s', 'CPU µs/msg', 'target'],
    rows,
  );
  if ('missing' in limit)
    process.stdout.write(
      `\nNo ${limitMb} MB limit could be set here (${limit.missing}); the peaks above say whether the gateway fits in one.\n`,
    );
  else {
    const survived = limited.every(
      ([, run]) => typeof run !== 'string' && run.lost === 0 && run.refused === 0,
    );
    process.stdout.write(
      `\n${limitMb} MB limit: ${limit.how}. The head-to-head's ${limited.length} smsgw rows inside it: ${survived ? 'survived, every message through' : 'NOT survived'}.\n`,
    );
    if (cgroup)
      process.stdout.write(
        `The cgroup's own count (page cache included): peak ${cgroup.peakMb.toFixed(0)} MB, limit reached ${cgroup.limitHits} times, ${cgroup.oomKills} processes killed.\n`,
      );
  }
  if (heapDir) {
    for (const [name, file] of [
      ['idle', join(heapDir, 'idle.heapsnapshot')],
      ['at load', await loadSnapshot],
    ] as const)
      if (file)
        process.stdout.write(
          `\nV8 heap of smsgw serve ${name} (${file}):\n${formatHeapHolders(heapHolders(file))}`,
        );
  }
}
