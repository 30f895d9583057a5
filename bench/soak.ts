// `npm run bench -- soak`: one smsgw process takes a long REST → SMPP run (2,000,000
// messages), measured in slices. A slice slower than the first ones, or memory that keeps
// growing, is a steady-state fault the short head-to-head runs (a fresh process each)
// cannot show: a cache bounded at 200,000 entries once made every message past the
// 200,000th cost 85 µs more, and held ~850 MB after 1,000,000 messages (docs/PERFORMANCE.md).
// Flat: the resident memory after the last slice is at most the first slice's + 10%.
import { formatRate, printTable } from './report.ts';
import { runCase } from './runs.ts';
import { headToHeadConcurrency, headToHeadLink } from './vs-kannel.ts';

const smoke = process.env.BENCH_SMOKE === '1';
const messages = Number(process.env.BENCH_SOAK_MESSAGES ?? (smoke ? 400 : 2_000_000));
const slices = 8;

export async function benchSoak(): Promise<void> {
  const r = await runCase({
    system: 'smsgw-rest',
    link: headToHeadLink,
    receipts: false,
    parts: 1,
    messages,
    concurrency: headToHeadConcurrency,
    slices,
  });
  const per = Math.ceil(messages / slices);
  const first = r.sliceMemoryMb[0] ?? Number.NaN;
  const last = r.sliceMemoryMb.at(-1) ?? Number.NaN;
  printTable(
    `Soak: smsgw REST → SMPP, one process, ${messages.toLocaleString('en-US')} messages in ${slices} slices after a warm-up (${headToHeadConcurrency} keep-alive HTTP connections, ${headToHeadLink.binds} binds × window ${headToHeadLink.window}); whole run ${formatRate(r.messagesPerSecond)} msgs/s, ${(r.cpuSecondsPer1k * 1000).toFixed(0)} CPU µs / msg, peak ${r.peakMemoryMb.toFixed(0)} MB`,
    ['slice', 'messages so far', 'msgs/s', 'RSS at its end MB'],
    r.sliceRates.map((rate, i) => [
      String(i + 1),
      Math.min(messages, (i + 1) * per).toLocaleString('en-US'),
      formatRate(rate),
      (r.sliceMemoryMb[i] ?? Number.NaN).toFixed(0),
    ]),
  );
  process.stdout.write(
    `\nRSS flat (last slice ≤ first slice + 10%): ${last.toFixed(0)} MB against ${first.toFixed(0)} MB × 1.1 = ${(first * 1.1).toFixed(0)} MB: ${last <= first * 1.1 ? 'met' : 'NOT met'}\n`,
  );
}
