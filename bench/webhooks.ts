// `npm run bench -- webhooks`: does a webhook receiver that fails slow sending? smsgw REST →
// SMPP (the head-to-head set-up, no receipts) with the bench account's webhook (every status)
// at a receiver that refuses connections, one that never answers, one that answers in 2 s,
// one that answers at once (what a webhook costs in itself), and with no webhook; runs
// alternated, the median of each. One message in ten comes from a
// second account whose webhook answers at once: its latency shows whether the bad receiver
// slows other accounts' webhooks. 60,000 messages per run: at 20,000 two runs of the same
// row differed by 7% of CPU per message on a quiet 2-core machine, more than the 5% asked of
// each row. BENCH_SMOKE=1 makes it tiny (for CI: no figures to trust).
import http from 'node:http';
import { freePort } from '../test/peers/ports.ts';
import { formatRate, printTable } from './report.ts';
import { type RunResult, runCase } from './runs.ts';
import { headToHeadConcurrency, headToHeadLink, median } from './vs-kannel.ts';

const smoke = process.env.BENCH_SMOKE === '1';
const messages = Number(process.env.BENCH_WEBHOOK_MESSAGES ?? (smoke ? 200 : 60_000));
const rounds = Number(process.env.BENCH_WEBHOOK_ROUNDS ?? (smoke ? 1 : 3));
/** The rows to run, comma-separated (`none,refusing`, say, to profile one against the baseline); default all. */
const onlyRows = process.env.BENCH_WEBHOOK_RECEIVERS?.split(',');

type Receiver = 'none' | 'healthy' | 'refusing' | 'hanging' | 'slow';

const receiverLabel: Record<Receiver, string> = {
  none: 'no webhook',
  healthy: 'webhook receiver answers at once',
  refusing: 'webhook receiver refuses connections',
  hanging: 'webhook receiver never answers',
  slow: 'webhook receiver answers in 2 s',
};

/** An HTTP receiver that answers each request after `delayMs` (0: at once), or never (null). */
async function lateReceiver(delayMs: number | null): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    if (delayMs === 0) res.end('ok');
    else if (delayMs !== null) setTimeout(() => res.end('ok'), delayMs).unref();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    close() {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function runWith(receiver: Receiver): Promise<RunResult> {
  const delayMs = { none: undefined, healthy: 0, refusing: undefined, hanging: null, slow: 2000 }[receiver];
  const late = delayMs === undefined ? null : await lateReceiver(delayMs);
  // Nothing listens on a port just freed: each connection is refused.
  const webhookUrl =
    receiver === 'refusing' ? `http://127.0.0.1:${await freePort()}/hooks` : (late?.url ?? undefined);
  try {
    return await runCase({
      system: 'smsgw-rest',
      link: headToHeadLink,
      receipts: false,
      parts: 1,
      messages,
      concurrency: headToHeadConcurrency,
      bystander: { webhookUrl },
    });
  } finally {
    await late?.close();
  }
}

export async function benchWebhooks(): Promise<void> {
  const receivers = (['none', 'healthy', 'refusing', 'hanging', 'slow'] as const).filter(
    (r) => r === 'none' || !onlyRows || onlyRows.includes(r),
  );
  const results = new Map<Receiver, RunResult[]>(receivers.map((r) => [r, []]));
  for (let round = 0; round < rounds; round++)
    for (const receiver of receivers) results.get(receiver)!.push(await runWith(receiver));
  const of = (receiver: Receiver, figure: (r: RunResult) => number) =>
    median(results.get(receiver)!.map(figure));
  const baseline = of('none', (r) => r.messagesPerSecond);
  const healthy = results.has('healthy') ? of('healthy', (r) => r.messagesPerSecond) : Number.NaN;
  printTable(
    `Webhook receivers vs sending: smsgw REST → SMPP, ${rounds} alternated round(s), median; ${messages.toLocaleString('en-US')} messages per run (one in ten from a bystander account whose webhook answers at once); SMPP: ${headToHeadLink.binds} binds × window ${headToHeadLink.window}; load: ${headToHeadConcurrency} keep-alive HTTP connections`,
    [
      "the bench account's webhook",
      'msgs/s',
      'msgs/s each round',
      '/ no webhook',
      '/ receiver answering at once',
      'CPU s / 1k msgs',
      'CPU / no webhook',
      'peak MB',
      "bystander's webhook p50 ms",
      'p99 ms',
      'refused / lost',
    ],
    receivers.map((receiver) => {
      const rate = of(receiver, (r) => r.messagesPerSecond);
      const runs = results.get(receiver)!;
      return [
        receiverLabel[receiver],
        formatRate(rate),
        runs.map((r) => formatRate(r.messagesPerSecond)).join(', '),
        `${(rate / baseline).toFixed(2)}×`,
        receiver === 'none' || !results.has('healthy') ? '–' : `${(rate / healthy).toFixed(2)}×`,
        of(receiver, (r) => r.cpuSecondsPer1k).toFixed(3),
        `${(of(receiver, (r) => r.cpuSecondsPer1k) / of('none', (r) => r.cpuSecondsPer1k)).toFixed(2)}×`,
        of(receiver, (r) => r.peakMemoryMb).toFixed(0),
        of(receiver, (r) => r.bystanderP50Ms ?? Number.NaN).toFixed(1),
        of(receiver, (r) => r.bystanderP99Ms ?? Number.NaN).toFixed(1),
        `${runs.reduce((sum, r) => sum + r.refused, 0)} / ${runs.reduce((sum, r) => sum + r.lost, 0)}`,
      ];
    }),
  );
}
