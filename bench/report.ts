// Shared formatting for benchmark output: plain tables that paste into PERFORMANCE.md.

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function formatRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US');
}

export function printTable(title: string, header: string[], rows: string[][]): void {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  process.stdout.write(`\n${title}\n\n${line(header)}\n${line(header.map(() => '---'))}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

/** Calls `fn` in a loop for about `ms` milliseconds; returns calls per second. */
export function opsPerSecond(fn: () => void, ms = 1_000): number {
  for (let i = 0; i < 10_000; i++) fn(); // warm up the JIT
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 1_000; i++) fn();
    n += 1_000;
    now = performance.now();
  }
  return (n / (now - start)) * 1000;
}
