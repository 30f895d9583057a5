// `npm run bench -- scaling`: smsgw REST → SMPP throughput as one thing varies at a time
// around the head-to-head set-up (2 binds, window 64, 1-part messages, no receipts):
// binds, window, message length in parts, receipts (a receipt and a webhook per message).
// With `--vs kannel` every case also runs on Kannel (spool store; receipts: dlr-url),
// alternated with smsgw.
import { join } from 'node:path';
import { formatRate, printTable } from './report.ts';
import { type RunCase, runCase, type SystemKind } from './runs.ts';
import { kannelInstalled } from './systems.ts';
import { headToHeadConcurrency } from './vs-kannel.ts';

const smoke = process.env.BENCH_SMOKE === '1';
const baseMessages = Number(process.env.BENCH_SCALING_MESSAGES ?? (smoke ? 100 : 20_000));

interface Scale {
  binds: number;
  window: number;
  parts: number;
  receipts: boolean;
}

const base: Scale = { binds: 2, window: 64, parts: 1, receipts: false };
const scales: Scale[] = [
  { ...base, binds: 1 },
  base,
  { ...base, binds: 4 },
  { ...base, window: 1 },
  { ...base, window: 10 },
  { ...base, window: 256 },
  { ...base, parts: 3 },
  { ...base, parts: 10 },
  { ...base, receipts: true },
];
// The smoke runs each code path once.
const smokeScales: Scale[] = [
  { ...base, binds: 1, window: 10 },
  { ...base, parts: 3 },
  { ...base, receipts: true },
];

export async function benchScaling(options: { vsKannel: boolean }): Promise<void> {
  const withKannel = options.vsKannel && kannelInstalled;
  if (options.vsKannel && !kannelInstalled)
    process.stdout.write('\nKannel is not installed (apt-get install kannel): smsgw columns only.\n');
  const systems: SystemKind[] = withKannel ? ['kannel', 'smsgw-rest'] : ['smsgw-rest'];
  const rows: string[][] = [];
  for (const s of smoke ? smokeScales : scales) {
    // Long messages cost their parts: fewer of them, about as many SMPP parts.
    const messages = Math.max(smoke ? 20 : 500, Math.round(baseMessages / s.parts));
    const cells: string[] = [];
    const rates: number[] = [];
    for (const system of systems) {
      const r = await runCase({
        system,
        link: { binds: s.binds, window: s.window },
        receipts: s.receipts,
        parts: s.parts,
        messages,
        concurrency: headToHeadConcurrency,
      });
      rates.push(r.messagesPerSecond);
      const lost = r.refused + r.lost > 0 ? ` (refused ${r.refused}, lost ${r.lost})` : '';
      cells.push(
        `${formatRate(r.messagesPerSecond)}${lost}`,
        formatRate(r.messagesPerSecond * r.pdusPerMessage),
        r.p50Ms.toFixed(1),
      );
    }
    rows.push([
      String(s.binds),
      String(s.window),
      String(s.parts),
      s.receipts ? 'on' : 'off',
      String(messages),
      ...cells,
      ...(withKannel ? [`${(rates[1]! / rates[0]!).toFixed(2)}×`] : []),
    ]);
  }
  const columns = (who: string) => [`${who} msgs/s`, `${who} parts/s`, `${who} p50 ms`];
  printTable(
    `Scaling: REST → SMPP${withKannel ? ' (smsgw) against sendsms → SMPP (Kannel, spool store)' : ''}, one factor at a time around 2 binds × window 64, 1 part, no receipts; ${headToHeadConcurrency} HTTP connections; receipts on: a receipt per message and a callback per receipt, counted when the callback arrives`,
    [
      'binds',
      'window',
      'parts',
      'receipts',
      'messages',
      ...(withKannel ? columns('Kannel') : []),
      ...columns('smsgw'),
      ...(withKannel ? ['smsgw / Kannel'] : []),
    ],
    rows,
  );
  await benchHttpConnector();
  await benchLookup();
  await benchInterceptor();
}

/**
 * The base case (REST → SMPP, no receipts) in turns with each variant of its route, one row
 * each: what a routing feature costs against the plain run beside it.
 */
async function routeVariants(
  title: string,
  column: string,
  variants: Array<[label: string, change: Partial<RunCase>]>,
): Promise<void> {
  const messages = smoke ? 20 : baseMessages;
  const rows: string[][] = [];
  for (const [label, change] of variants) {
    const r = await runCase({
      system: 'smsgw-rest',
      link: { binds: base.binds, window: base.window },
      receipts: false,
      parts: 1,
      messages,
      concurrency: headToHeadConcurrency,
      ...change,
    });
    const lost = r.refused + r.lost > 0 ? ` (refused ${r.refused}, lost ${r.lost})` : '';
    rows.push([
      label,
      String(messages),
      `${formatRate(r.messagesPerSecond)}${lost}`,
      r.p50Ms.toFixed(1),
      r.p99Ms.toFixed(1),
      r.cpuSecondsPer1k.toFixed(3),
    ]);
  }
  printTable(
    `${title}; ${headToHeadConcurrency} HTTP connections`,
    [column, 'messages', 'smsgw msgs/s', 'p50 ms', 'p99 ms', 'CPU s / 1k msgs'],
    rows,
  );
}

/**
 * The base case routed by `match.network` from the online lookup at a local HLR, cached (one
 * number) and uncached (a number per message), beside the same run without a lookup (the
 * last rows of `scaling`; alone: `npm run bench -- scaling-lookup`).
 */
export function benchLookup(): Promise<void> {
  return routeVariants(
    'Scaling: REST → SMPP (2 binds × window 64, 1 part) routed by match.network from the online lookup at a local HTTP HLR',
    'lookup',
    [
      ['none (plain)', {}],
      ['online, cached', { lookup: 'cached' }],
      ['online, uncached', { lookup: 'uncached' }],
    ],
  );
}

/**
 * The base case through an `http` connector to a local HTTP provider instead of SMPP (the
 * last row of `scaling`; alone: `npm run bench -- scaling-http`).
 */
export async function benchHttpConnector(): Promise<void> {
  const messages = smoke ? 20 : baseMessages;
  const r = await runCase({
    system: 'smsgw-http',
    link: { binds: 1, window: base.window },
    receipts: false,
    parts: 1,
    messages,
    concurrency: headToHeadConcurrency,
  });
  const lost = r.refused + r.lost > 0 ? ` (refused ${r.refused}, lost ${r.lost})` : '';
  printTable(
    `Scaling: REST → http connector (concurrency ${base.window}) → a local HTTP provider that accepts at once; ${headToHeadConcurrency} HTTP connections in`,
    ['connector', 'messages', 'smsgw msgs/s', 'smsgw p50 ms'],
    [['http', String(messages), `${formatRate(r.messagesPerSecond)}${lost}`, r.p50Ms.toFixed(1)]],
  );
}

/**
 * The base case plain and with an interceptor on its route that changes every message (it
 * tags it: the message is built again), in turns (a row of `scaling`; alone: `npm run bench
 * -- scaling-interceptor`).
 */
export function benchInterceptor(): Promise<void> {
  return routeVariants(
    'Scaling: REST → SMPP, 2 binds × window 64, 1 part, no receipts, plain and through an interceptor (bench/interceptor.js)',
    'route',
    [
      ['plain', {}],
      ['interceptor (tags each message)', { interceptor: join(import.meta.dirname, 'interceptor.js') }],
    ],
  );
}
