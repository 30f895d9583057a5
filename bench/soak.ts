// `npm run bench -- soak`: one smsgw process takes a long REST → SMPP run (400,000
// messages), measured in slices. A slice slower than the first ones, or memory that keeps
// growing, is a steady-state fault the short head-to-head runs (a fresh process each)
// cannot show: a cache bounded at 200,000 entries once made every message past the
// 200,000th cost 85 µs more (docs/PERFORMANCE.md).
import { formatRate, printTable } from './report.ts';
import { runCase } from './runs.ts';
import { headToHeadConcurrency, headToHeadLink } from './vs-kannel.ts';

const smoke = process.env.BENCH_SMOKE === '1';
const messages = Number(process.env.BENCH_SOAK_MESSAGES ?? (smoke ? 400 : 400_000));
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
  printTable(
    `Soak: smsgw REST → SMPP, one process, ${messages.toLocaleString('en-US')} messages in ${slices} slices after a warm-up (${headToHeadConcurrency} keep-alive HTTP connections, ${headToHeadLink.binds} binds × window ${headToHeadLink.window}); whole run ${formatRate(r.messagesPerSecond)} msgs/s, ${(r.cpuSecondsPer1k * 1000).toFixed(0)} CPU µs / msg, peak ${r.peakMemoryMb.toFixed(0)} MB`,
    ['slice', 'messages so far', 'msgs/s'],
    r.sliceRates.map((rate, i) => [
      String(i + 1),
      Math.min(messages, (i + 1) * per).toLocaleString('en-US'),
      formatRate(rate),
    ]),
  );
}
