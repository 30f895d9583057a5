// `node bench/profile-summary.ts <dir> [top]`: the self time of the V8 CPU profiles in <dir>
// (as BENCH_PROFILE writes them, one file per thread), by function and by file, as a share
// of each thread's busy time ((idle) left out). Threads are told apart by their busiest file.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { printTable } from './report.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [dir, topArg] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: node bench/profile-summary.ts <dir> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const root = process.cwd();

function fileOf(url: string): string {
  if (url === '') return '(native / V8)';
  const path = url.startsWith('file://') ? relative(root, new URL(url).pathname) : url;
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0)
    return path
      .slice(modules)
      .split('/')
      .slice(0, 2)
      .join('/')
      .replace(/^node_modules\//, 'npm:');
  return path;
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

for (const name of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busyUs = 0;
  // A sample's time is the delta to the next one (V8 stores the delta before each sample).
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const us = profile.timeDeltas[i + 1] ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busyUs += us;
    const file = fileOf(url);
    add(byFunction, `${functionName || '(anonymous)'} ${file}${url ? `:${lineNumber + 1}` : ''}`, us);
    add(byFile, file, us);
  }
  const rows = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => [key, `${((us / busyUs) * 100).toFixed(1)}%`, (us / 1000).toFixed(0)]);
  printTable(
    `${name}: busy ${(busyUs / 1e6).toFixed(2)} s, self time by function`,
    ['function', 'share', 'ms'],
    rows(byFunction),
  );
  printTable(`${name}: self time by file`, ['file', 'share', 'ms'], rows(byFile));
}
