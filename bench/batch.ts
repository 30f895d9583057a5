// Batches: a CSV of BENCH_BATCH_ROWS recipients (default 1,000,000) streamed into
// `smsgw serve` (bin/smsgw, as operators start it; durable SQLite, a simulator carrier), made as it
// uploads so no file is written. Reports ingest rate, the gateway's resident memory through
// the upload (it must stay flat: rows are stored in chunks, duplicates found in a compact
// number set) and its peak, how long an OTP submitted halfway through the upload takes to
// leave, then the drain rate over BENCH_BATCH_DRAIN_MS of sending. The account has a
// suppression list first (BENCH_BATCH_OPTOUT_EVERY: every 100th recipient has opted out; 0:
// none), as a sender of bulk usually has: each row is checked against it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { formatRate, printTable } from './report.ts';

const smoke = process.env.BENCH_SMOKE === '1';
const rows = Number(process.env.BENCH_BATCH_ROWS ?? (smoke ? 20_000 : 1_000_000));
const drainMs = Number(process.env.BENCH_BATCH_DRAIN_MS ?? (smoke ? 2_000 : 20_000));
const optOutEvery = Number(process.env.BENCH_BATCH_OPTOUT_EVERY ?? 100);

const numberOf = (i: number) => `+4477${String(i).padStart(8, '0')}`;

function startGateway(dir: string): Promise<{ child: ChildProcess; base: string }> {
  const config = join(dir, 'smsgw.yaml');
  writeFileSync(
    config,
    `
http: { listen: 127.0.0.1:0 }
store: sqlite:${dir}/gw.db
accounts: [{ id: bench, apiKeys: [bench-key-1], defaultFrom: BENCH }]
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
`,
  );
  const child = spawn(process.execPath, ['bin/smsgw', 'serve', '--config', config], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`smsgw serve exited with ${code}`)));
    lines.on('line', (line) => {
      const m = /HTTP (http:\/\/[^\s,"]+)/.exec(line);
      if (m) resolve({ child, base: m[1]!.replace(/\/$/, '') });
    });
  });
}

/** Resident and peak resident memory of a process, in MB (Linux). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** CPU time a process (all its threads) has used, in ms (Linux; utime + stime in clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The CSV, made as it is read: header, then one row per recipient with two variables. */
function csvStream(onRows: (n: number) => void): ReadableStream<Uint8Array> {
  let i = 0;
  const encoder = new TextEncoder();
  return new ReadableStream({
    pull(controller) {
      if (i === 0) controller.enqueue(encoder.encode('to,name,code\n'));
      if (i >= rows) return controller.close();
      let lines = '';
      for (const end = Math.min(rows, i + 5000); i < end; i++)
        lines += `${numberOf(i)},Customer ${i},${i % 10_000}\n`;
      controller.enqueue(encoder.encode(lines));
      onRows(i);
    },
  });
}

/**
 * An OTP submitted now: resolves with how long its 202 took and how long it took to be
 * `submitted` (to the carrier), both from when it was sent, in ms.
 */
async function otpTiming(
  base: string,
  headers: Record<string, string>,
): Promise<{ accepted: number; submitted: number }> {
  const sentAt = performance.now();
  const res = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ to: '+447700900999', text: 'code 4711', priority: 'otp' }),
  });
  const accepted = performance.now() - sentAt;
  const { id } = (await res.json()) as { id: string };
  if (res.status !== 202) throw new Error(`OTP refused: ${res.status}`);
  for (;;) {
    const m = (await (await fetch(`${base}/v1/messages/${id}`, { headers })).json()) as {
      submittedAt: string | null;
    };
    if (m.submittedAt !== null) return { accepted, submitted: performance.now() - sentAt };
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function benchBatch(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-bench-batch-'));
  const { child, base } = await startGateway(dir);
  const headers = { authorization: 'Bearer bench-key-1' };
  try {
    const optOuts =
      optOutEvery > 0
        ? Array.from({ length: Math.floor(rows / optOutEvery) }, (_, k) => numberOf(k * optOutEvery))
        : [];
    if (optOuts.length > 0) {
      const imported = await fetch(`${base}/v1/suppressions/import`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'text/csv' },
        body: `to\n${optOuts.join('\n')}\n`,
      });
      if (imported.status !== 200)
        throw new Error(`suppression import refused: ${imported.status} ${await imported.text()}`);
    }
    const before = memoryOf(child.pid!);
    const cpuBefore = cpuMsOf(child.pid!);
    const samples: string[][] = [];
    let pulled = 0;
    let otp: Promise<{ accepted: number; submitted: number; uploading: boolean }> | null = null;
    let uploading = true;
    const started = performance.now();
    const sampler = setInterval(() => {
      const m = memoryOf(child.pid!);
      samples.push([
        ((performance.now() - started) / 1000).toFixed(0),
        pulled.toLocaleString('en-US'),
        m.rss.toFixed(0),
      ]);
    }, 5000);
    const q = new URLSearchParams({ text: 'Hello {{name}}, your code is {{code}}' });
    const res = await fetch(`${base}/v1/batches?${q}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/csv' },
      body: csvStream((n) => {
        pulled = n;
        if (otp === null && n >= rows / 2)
          otp = otpTiming(base, headers).then((timing) => ({ ...timing, uploading }));
      }),
      duplex: 'half',
    } as RequestInit);
    const created = (await res.json()) as { id: string; total: number; skipped: Record<string, number> };
    uploading = false;
    clearInterval(sampler);
    if (res.status !== 202) throw new Error(`batch refused: ${JSON.stringify(created)}`);
    const ingestS = (performance.now() - started) / 1000;
    const after = memoryOf(child.pid!);
    const cpuIngest = cpuMsOf(child.pid!) - cpuBefore;
    const otpTimes = await otp!;

    // Drain: messages that left the gateway over a fixed time, then the rest is canceled.
    const sentOf = async () => {
      const b = (await (await fetch(`${base}/v1/batches/${created.id}`, { headers })).json()) as {
        counts: Record<string, number>;
      };
      return created.total - b.counts.queued! - b.counts.scheduled! - b.counts.paused!;
    };
    const drainStart = performance.now();
    const sent0 = await sentOf();
    await new Promise((r) => setTimeout(r, drainMs));
    const sent1 = await sentOf();
    const drainS = (performance.now() - drainStart) / 1000;
    await fetch(`${base}/v1/batches/${created.id}/cancel`, { method: 'POST', headers });
    const end = memoryOf(child.pid!);

    printTable(
      `Batch ingest: ${rows.toLocaleString('en-US')} CSV rows streamed into \`smsgw serve\``,
      ['measure', 'value'],
      [
        ['recipients stored', created.total.toLocaleString('en-US')],
        [
          'skipped as opted out (suppression list)',
          `${(created.skipped['opted_out'] ?? 0).toLocaleString('en-US')} of a list of ${optOuts.length.toLocaleString('en-US')}`,
        ],
        ['ingest time', `${ingestS.toFixed(1)} s`],
        ['ingest rate (rows read)', `${formatRate(rows / ingestS)} rows/s`],
        // Load-independent: what the upload cost the gateway (both its threads), per row.
        ['gateway CPU per recipient (ingest)', `${((cpuIngest * 1000) / rows).toFixed(1)} µs`],
        ['gateway RSS before', `${before.rss.toFixed(0)} MB`],
        ['gateway RSS after ingest', `${after.rss.toFixed(0)} MB`],
        ['gateway peak RSS (ingest)', `${after.peak.toFixed(0)} MB`],
        ['OTP submitted mid-upload: its 202', `${otpTimes.accepted.toFixed(0)} ms`],
        [
          'OTP submitted mid-upload: to `submitted`',
          `${otpTimes.submitted.toFixed(0)} ms${otpTimes.uploading ? ' (before the upload ended)' : ' (the upload ended first)'}`,
        ],
        ['drain rate (simulator carrier)', `${formatRate((sent1 - sent0) / drainS)} messages/s`],
        ['gateway peak RSS (with drain)', `${end.peak.toFixed(0)} MB`],
      ],
    );
    printTable('Gateway RSS while the CSV uploads', ['s', 'rows sent', 'RSS MB'], samples);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
