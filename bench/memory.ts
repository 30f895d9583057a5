// `npm run bench -- memory`: what `smsgw serve` holds resident (VmRSS, its threads
// included) idle after start, and at its peak under the head-to-head's full REST → SMPP
// load, with and without a receipt and webhook per message; then the same load within a
// 256 MB memory limit (a systemd scope), where the system allows one. Targets (issue #21):
// idle ≤ 80 MB, peak ≤ 200 MB; the soak part checks that memory stays flat.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRate, printTable } from './report.ts';
import { type RunCase, runCase } from './runs.ts';
import { memoryLimit, residentMemoryMb, sleep, startSink, startSmsgw } from './systems.ts';
import { headToHeadConcurrency, headToHeadLink } from './vs-kannel.ts';

const smoke = process.env.BENCH_SMOKE === '1';
const messages = smoke ? 400 : 60_000;
const withReceipts = smoke ? 200 : 20_000;
const idleTarget = 80;
const peakTarget = 200;
const limitMb = 256;

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

async function idleMb(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-idle-'));
  const sink = await startSink(false);
  try {
    const system = await startSmsgw(dir, sink.port, headToHeadLink);
    try {
      return await settledRss(system.pids[0]!);
    } finally {
      await system.close();
    }
  } finally {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

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
  // Twice: the first start writes the compile cache, as an installation's first start does.
  await idleMb();
  const idle = await idleMb();
  const rest = await runCase(base);
  const receipts = await runCase({ ...base, receipts: true, messages: withReceipts });
  const limit = memoryLimit(limitMb);
  const limited = 'within' in limit ? await runCase({ ...base, within: limit.within }) : null;
  const rows = [
    ['idle, after start (settled)', idle.toFixed(0), '–', `≤ ${idleTarget} MB: ${met(idle <= idleTarget)}`],
    [
      `REST → SMPP, ${messages.toLocaleString('en-US')} messages, peak`,
      rest.peakMemoryMb.toFixed(0),
      formatRate(rest.messagesPerSecond),
      `≤ ${peakTarget} MB: ${met(rest.peakMemoryMb <= peakTarget)}`,
    ],
    [
      `REST + receipt + webhook, ${withReceipts.toLocaleString('en-US')} messages, peak`,
      receipts.peakMemoryMb.toFixed(0),
      formatRate(receipts.messagesPerSecond),
      `≤ ${peakTarget} MB: ${met(receipts.peakMemoryMb <= peakTarget)}`,
    ],
  ];
  if (limited)
    rows.push([
      `REST → SMPP within MemoryMax=${limitMb}M, peak`,
      limited.peakMemoryMb.toFixed(0),
      formatRate(limited.messagesPerSecond),
      limited.lost === 0 && limited.refused === 0 ? 'ran to the end' : `${limited.lost} lost: killed?`,
    ]);
  printTable(
    `Memory: smsgw serve (bin/smsgw, SQLite), resident set of the process and its threads (VmRSS; peak: VmHWM); load: ${headToHeadConcurrency} keep-alive HTTP connections, ${headToHeadLink.binds} binds × window ${headToHeadLink.window}`,
    ['case', 'MB', 'msgs/s', 'target'],
    rows,
  );
  if ('missing' in limit)
    process.stdout.write(
      `\nNo ${limitMb} MB limit could be set here (${limit.missing}); the peaks above say whether the gateway fits in one.\n`,
    );
}
