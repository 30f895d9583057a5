// `npm run bench -- --vs kannel`: smsgw head to head with Kannel 1.4.5 (Debian's, when
// installed) on this machine, in this run: the same SMPP sink, the same load generator,
// the same message count, runs alternated (Kannel, smsgw, Kannel, smsgw, …), the median
// of each figure over the rounds. The REST → SMPP rows also run with ApacheBench (`ab`, from
// Debian's apache2-utils) as the load beside our lean client, so that the figures are seen not
// to depend on our own client. BENCH_SMOKE=1 makes it tiny (for CI: no figures to trust).
import { availableParallelism } from 'node:os';
import { SmppClient, shortMessagePdu } from '../src/smpp/index.ts';
import { formatRate, printTable } from './report.ts';
import {
  type RunCase,
  type RunResult,
  runCase,
  type SystemKind,
  systemLabel,
  type ThreadKind,
  threadKinds,
} from './runs.ts';
import { abInstalled, cpuSeconds, kannelInstalled, startSink, until } from './systems.ts';

const smoke = process.env.BENCH_SMOKE === '1';
const messages = Number(process.env.BENCH_VS_MESSAGES ?? (smoke ? 200 : 60_000));
const receiptMessages = Number(process.env.BENCH_VS_RECEIPT_MESSAGES ?? (smoke ? 100 : 20_000));
const rounds = Number(process.env.BENCH_VS_ROUNDS ?? (smoke ? 1 : 3));
/** Both systems: two SMPP binds to the sink, 64 submits outstanding on each. */
export const headToHeadLink = { binds: 2, window: 64 };
/** HTTP connections (or the ESME's window). */
export const headToHeadConcurrency = 64;

export interface Row {
  system: SystemKind;
  receipts: boolean;
  /** The HTTP load: our lean client unless `ab`. */
  loadTool?: 'ab';
}

export const headToHeadRows: Row[] = [
  { system: 'kannel', receipts: false },
  { system: 'smsgw-rest', receipts: false },
  { system: 'kannel-nostore', receipts: false },
  { system: 'smsgw-smpp', receipts: false },
  { system: 'kannel', receipts: true },
  { system: 'smsgw-rest', receipts: true },
  { system: 'smsgw-smpp', receipts: true },
  { system: 'kannel', receipts: false, loadTool: 'ab' },
  { system: 'smsgw-rest', receipts: false, loadTool: 'ab' },
];

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function medianResult(results: RunResult[]): RunResult {
  const of = (
    key: Exclude<
      keyof RunResult,
      | 'sliceRates'
      | 'sliceMemoryMb'
      | 'measured'
      | 'quietMemoryMb'
      | 'bystanderP50Ms'
      | 'bystanderP99Ms'
      | 'threadCpuPer1k'
    >,
  ) => median(results.map((r) => r[key]));
  return {
    messagesPerSecond: of('messagesPerSecond'),
    p50Ms: of('p50Ms'),
    p99Ms: of('p99Ms'),
    cpuSecondsPer1k: of('cpuSecondsPer1k'),
    threadCpuPer1k: Object.fromEntries(
      threadKinds.map((kind) => [kind, median(results.map((r) => r.threadCpuPer1k[kind]))]),
    ) as Record<ThreadKind, number>,
    machineCoresBusy: of('machineCoresBusy'),
    peakMemoryMb: of('peakMemoryMb'),
    pdusPerMessage: of('pdusPerMessage'),
    refused: results.reduce((sum, r) => sum + r.refused, 0),
    lost: results.reduce((sum, r) => sum + r.lost, 0),
    sliceRates: [],
    sliceMemoryMb: [],
    measured: {},
  };
}

function rowLabel(row: Row): string {
  if (row.loadTool === 'ab') return `${systemLabel[row.system]}, load: ab -k`;
  if (!row.receipts) return systemLabel[row.system];
  return row.system === 'kannel'
    ? 'Kannel + receipt + dlr-url callback'
    : row.system === 'smsgw-rest'
      ? 'smsgw REST + receipt + webhook'
      : 'smsgw SMPP + receipt + deliver_sm to the ESME';
}

/** What the sink takes on its own: our SMPP client straight at it, the same binds and window. */
async function sinkCeiling(receipts: boolean, count: number) {
  const sink = await startSink(receipts);
  const clients = Array.from(
    { length: headToHeadLink.binds },
    () =>
      new SmppClient({
        host: '127.0.0.1',
        port: sink.port,
        systemId: 'ceiling',
        password: 'pw',
        bindType: 'transceiver',
        reconnect: false,
        window: headToHeadLink.window,
        enquireLinkMs: 0,
      }),
  );
  let received = 0;
  for (const client of clients) {
    client.on('request', (pdu, session) => {
      session.respond(pdu);
      if (pdu.command === 'deliver_sm') received++;
    });
    client.start();
  }
  await Promise.all(clients.map((c) => c.waitBound()));
  const cpuBefore = cpuSeconds(sink.pid);
  const t0 = performance.now();
  let next = 0;
  const body = Buffer.from('Your verification code is 123456. It expires in 10 minutes.');
  await Promise.all(
    clients.flatMap((client) =>
      Array.from({ length: headToHeadLink.window }, async () => {
        while (next++ < count) {
          await client.request(
            shortMessagePdu('submit_sm', {
              sourceAddr: 'BENCH',
              destAddrTon: 1,
              destAddrNpi: 1,
              destinationAddr: '447700900123',
              registeredDelivery: receipts ? 1 : 0,
              shortMessage: body,
            }),
          );
        }
      }),
    ),
  );
  if (receipts) await until(() => received >= count, 30_000);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(sink.pid) - cpuBefore;
  await Promise.all(clients.map((c) => c.stop()));
  await sink.close();
  return { rate: count / seconds, cpuPer1k: (cpu / count) * 1000 };
}

export async function benchVsKannel(): Promise<void> {
  const ceilingCount = smoke ? 1_000 : 100_000;
  const ceiling = [await sinkCeiling(false, ceilingCount), await sinkCeiling(true, ceilingCount)];
  printTable(
    `SMPP sink ceiling (bench/smpp-sink.ts): our SMPP client straight at it, ${headToHeadLink.binds} binds × window ${headToHeadLink.window}, ${ceilingCount.toLocaleString('en-US')} messages`,
    ['sink', 'submit_sm/s', 'sink CPU µs / msg', 'one sink core would take msgs/s'],
    ceiling.map((c, i) => [
      i === 0 ? 'answers at once' : 'answers and sends a receipt (deliver_sm) at once',
      formatRate(c.rate),
      (c.cpuPer1k * 1000).toFixed(1),
      formatRate(1000 / c.cpuPer1k),
    ]),
  );

  // What the load generator and the callback receiver take on their own, here: no system
  // with a callback per message can be measured faster than this.
  const harness = await runCase({
    system: 'null',
    link: headToHeadLink,
    receipts: true,
    parts: 1,
    messages: receiptMessages,
    concurrency: headToHeadConcurrency,
  });
  printTable(
    `Harness ceiling: the same load (${headToHeadConcurrency} keep-alive HTTP connections) against ${systemLabel.null} (bench/null-system.ts: no SMPP, no store), ${receiptMessages.toLocaleString('en-US')} messages`,
    [
      'system',
      'round trips/s (request → callback)',
      'its CPU µs / msg',
      `cores busy, of ${availableParallelism()}`,
    ],
    [
      [
        'null system',
        formatRate(harness.messagesPerSecond),
        (harness.cpuSecondsPer1k * 1000).toFixed(1),
        harness.machineCoresBusy.toFixed(2),
      ],
    ],
  );

  const wanted = headToHeadRows.filter(
    (r) => (kannelInstalled || !r.system.startsWith('kannel')) && (abInstalled || r.loadTool !== 'ab'),
  );
  if (!kannelInstalled)
    process.stdout.write('\nKannel is not installed (apt-get install kannel): smsgw rows only.\n');
  if (!abInstalled)
    process.stdout.write('\nApacheBench is not installed (apt-get install apache2-utils): no `ab` rows.\n');
  const results = new Map<Row, RunResult[]>(wanted.map((r) => [r, []]));
  for (let round = 0; round < rounds; round++) {
    for (const row of wanted) {
      const c: RunCase = {
        system: row.system,
        link: headToHeadLink,
        receipts: row.receipts,
        parts: 1,
        messages: row.receipts ? receiptMessages : messages,
        concurrency: headToHeadConcurrency,
        loadTool: row.loadTool,
      };
      results.get(row)!.push(await runCase(c));
    }
  }
  const summary = new Map<Row, RunResult>([...results].map(([row, rs]) => [row, medianResult(rs)]));
  printTable(
    `Head to head, ${rounds} alternated round(s), median of each figure; ${messages.toLocaleString('en-US')} messages (${receiptMessages.toLocaleString('en-US')} with receipts) per run; SMPP: ${headToHeadLink.binds} binds × window ${headToHeadLink.window}; load: ${headToHeadConcurrency} keep-alive HTTP connections (SMPP: one bind, window ${headToHeadConcurrency}); \`ab -k\` rows: no latency (ab repeats one request, so its text carries no send time); cores busy: the whole machine over the measured span (system, load, sink and callback receiver, kernel)`,
    [
      'path',
      'msgs/s',
      'msgs/s each round',
      'p50 ms',
      'p99 ms',
      'CPU s / 1k msgs',
      `cores busy, of ${availableParallelism()}`,
      'peak MB',
      'refused / lost',
    ],
    wanted.map((row) => {
      const r = summary.get(row)!;
      return [
        rowLabel(row),
        formatRate(r.messagesPerSecond),
        results
          .get(row)!
          .map((x) => formatRate(x.messagesPerSecond))
          .join(', '),
        row.loadTool === 'ab' ? '–' : r.p50Ms.toFixed(1),
        row.loadTool === 'ab' ? '–' : r.p99Ms.toFixed(1),
        r.cpuSecondsPer1k.toFixed(3),
        r.machineCoresBusy.toFixed(2),
        r.peakMemoryMb.toFixed(0),
        `${r.refused} / ${r.lost}`,
      ];
    }),
  );
  const find = (system: SystemKind, receipts: boolean) =>
    wanted.find((r) => r.system === system && r.receipts === receipts && !r.loadTool)!;
  const kannelRate = kannelInstalled ? summary.get(find('kannel', false))!.messagesPerSecond : null;
  printCpuBudgets([
    ...(kannelRate === null
      ? []
      : [
          {
            target: 'REST → SMPP at 3× Kannel (spool store)',
            rate: 3 * kannelRate,
            run: summary.get(find('smsgw-rest', false))!,
          },
        ]),
    {
      target: 'REST + receipt + webhook at 70% of the harness ceiling',
      rate: 0.7 * harness.messagesPerSecond,
      run: summary.get(find('smsgw-rest', true))!,
    },
  ]);
  if (!kannelInstalled) return;
  const byAb = (system: SystemKind) => wanted.find((r) => r.system === system && r.loadTool === 'ab');
  const pairs: Array<[string, Row, Row]> = [
    ['REST → SMPP vs Kannel (spool store)', find('smsgw-rest', false), find('kannel', false)],
    ['REST → SMPP vs Kannel (no store)', find('smsgw-rest', false), find('kannel-nostore', false)],
    ['SMPP → SMPP vs Kannel (spool store)', find('smsgw-smpp', false), find('kannel', false)],
    ['REST + receipts + webhook vs Kannel + dlr-url', find('smsgw-rest', true), find('kannel', true)],
    ['SMPP + receipts vs Kannel + dlr-url', find('smsgw-smpp', true), find('kannel', true)],
  ];
  const [smsgwByAb, kannelByAb] = [byAb('smsgw-rest'), byAb('kannel')];
  if (smsgwByAb && kannelByAb)
    pairs.push(['REST → SMPP vs Kannel (spool store), load: ab -k', smsgwByAb, kannelByAb]);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const best = (row: Row) => Math.max(...results.get(row)!.map((r) => r.messagesPerSecond));
  printTable(
    "Ratios smsgw / Kannel (throughput: above 1 is smsgw faster; latency, CPU and memory: below 1 is smsgw leaner); best rounds: each side's fastest round against the other's, as this VM's speed moves from one run to the next",
    ['smsgw path vs Kannel', 'msgs/s', 'msgs/s, best rounds', 'p50', 'p99', 'CPU per msg', 'peak memory'],
    pairs.map(([label, sRow, kRow]) => {
      const [s, k] = [summary.get(sRow)!, summary.get(kRow)!];
      const noLatency = sRow.loadTool === 'ab';
      return [
        label,
        ratio(s.messagesPerSecond, k.messagesPerSecond),
        ratio(best(sRow), best(kRow)),
        noLatency ? '–' : ratio(s.p50Ms, k.p50Ms),
        noLatency ? '–' : ratio(s.p99Ms, k.p99Ms),
        ratio(s.cpuSecondsPer1k, k.cpuSecondsPer1k),
        ratio(s.peakMemoryMb, k.peakMemoryMb),
      ];
    }),
  );
}

/**
 * What a target rate leaves smsgw per message on this machine, in CPU: the machine's cores
 * over the rate, less what everything else (the load, the sink, the callback receiver, the
 * kernel) took per message in smsgw's own run at that path — assumed to cost the same per
 * message at the target rate — and, for the event loop, one core over the rate. Beside it,
 * what smsgw spent, by kind of thread.
 */
function printCpuBudgets(targets: Array<{ target: string; rate: number; run: RunResult }>): void {
  const cores = availableParallelism();
  const us = (value: number) => Math.round(value).toLocaleString('en-US');
  printTable(
    `CPU per message a target leaves smsgw on ${cores} cores (µs), against what it spent (µs, median rounds; V8's helpers: the collector's marking and sweeping, the optimizing compiler; worker threads: the store's writer)`,
    [
      'target',
      'msgs/s',
      'budget, all threads',
      'budget, event loop',
      'spent, all threads',
      'event loop',
      "V8's helpers",
      'worker threads',
      'other',
    ],
    targets.map(({ target, rate, run }) => {
      const othersUs = (run.machineCoresBusy / run.messagesPerSecond) * 1e6 - run.cpuSecondsPer1k * 1000;
      const t = run.threadCpuPer1k;
      return [
        target,
        formatRate(rate),
        us(Math.max(0, (cores / rate) * 1e6 - othersUs)),
        us(1e6 / rate),
        us(run.cpuSecondsPer1k * 1000),
        us(t.main * 1000),
        us(t.v8 * 1000),
        us(t.workers * 1000),
        us((t.other + t.ended) * 1000),
      ];
    }),
  );
}
