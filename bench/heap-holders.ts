// What holds a V8 heap snapshot's memory: retained size (dominator tree) by module and by
// constructor. `node bench/heap-holders.ts FILE.heapsnapshot [top]` prints both tables;
// bench/memory.ts uses it with BENCH_HEAP=1 on snapshots of the gateway idle and at load.
//
// A module's share is what its functions' contexts (module scope and closures) and its
// functions' own objects dominate, plus its source; objects reached from several modules
// count toward none of them but toward "(shared)", which is why the by-module rows need not
// add up to the heap. Weak edges do not retain (as in DevTools).
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapHolders {
  totalBytes: number;
  byModule: Array<[string, number]>;
  byConstructor: Array<[string, number]>;
}

/** Reads a .heapsnapshot and sums retained sizes by module and by constructor. */
export function heapHolders(file: string): HeapHolders {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { meta } = s.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [typeAt, nameAt, sizeAt, countAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) =>
    meta.node_fields.indexOf(f),
  ) as [number, number, number, number];
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const weak = edgeTypes.indexOf('weak');
  const shortcut = edgeTypes.indexOf('shortcut');
  const { nodes, edges, strings } = s;
  const n = nodes.length / nf;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e;
    e += nodes[i * nf + countAt]! * ef;
    firstEdge[i + 1] = e;
  }
  const typeOf = (i: number) => nodeTypes[nodes[i * nf + typeAt]!]!;
  const nameOf = (i: number) => strings[nodes[i * nf + nameAt]!]!;
  const sizeOf = (i: number) => nodes[i * nf + sizeAt]!;
  const retains = (e: number) => edges[e]! !== weak && edges[e]! !== shortcut;
  const edgeName = (e: number) => {
    const t = edgeTypes[edges[e]!];
    return t === 'element' || t === 'hidden' ? '' : strings[edges[e + 1]!]!;
  };
  const target = (e: number) => edges[e + 2]! / nf;

  // Reverse postorder from the root (node 0), then Cooper-Harvey-Kennedy dominators.
  const order = new Int32Array(n).fill(-1);
  const post: number[] = [];
  const stack: Array<[number, number]> = [[0, firstEdge[0]!]];
  const seen = new Uint8Array(n);
  seen[0] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [v, e] = top;
    if (e < firstEdge[v + 1]!) {
      top[1] = e + ef;
      const w = target(e);
      if (retains(e) && !seen[w]) {
        seen[w] = 1;
        stack.push([w, firstEdge[w]!]);
      }
    } else {
      order[v] = post.length;
      post.push(v);
      stack.pop();
    }
  }
  const preds: number[][] = Array.from({ length: n }, () => []);
  for (let v = 0; v < n; v++) {
    if (!seen[v]) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += ef) if (retains(e)) preds[target(e)]!.push(v);
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = post.length - 2; k >= 0; k--) {
      const v = post[k]!;
      let d = -1;
      for (const p of preds[v]!) if (idom[p] !== -1) d = d === -1 ? p : intersect(p, d);
      if (d !== -1 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(n);
  for (const v of post) {
    retained[v]! += sizeOf(v);
    if (v !== 0) retained[idom[v]!]! += retained[v]!;
  }

  // Modules: a closure's script (closure → shared → script → name), and its context.
  const edgeTo = (v: number, name: string) => {
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += ef) if (edgeName(e) === name) return target(e);
    return -1;
  };
  const moduleOf = new Map<number, string>();
  const label = (url: string) => {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (m) return m[1]!;
    const own = /\/(src\/[^/]+|bin|bench)\//.exec(url);
    if (own) return own[1]!;
    return url.startsWith('node:') ? 'node: (built-in)' : url || '(no script)';
  };
  for (let v = 0; v < n; v++) {
    if (typeOf(v) !== 'closure') continue;
    const shared = edgeTo(v, 'shared');
    const script = shared === -1 ? -1 : edgeTo(shared, 'script');
    if (script === -1) continue;
    const url = edgeTo(script, 'name');
    const module = label(url === -1 ? '' : nameOf(url));
    for (const owned of [v, shared, edgeTo(v, 'context'), script])
      if (owned !== -1) moduleOf.set(owned, module);
  }
  // Each node counts toward the module of its nearest dominator that has one.
  const byModule = new Map<string, number>();
  const moduleFor = new Array<string | undefined>(n);
  for (let k = post.length - 1; k >= 0; k--) {
    const v = post[k]!;
    moduleFor[v] = moduleOf.get(v) ?? (v === 0 ? undefined : moduleFor[idom[v]!]);
    const m = moduleFor[v] ?? '(shared)';
    byModule.set(m, (byModule.get(m) ?? 0) + sizeOf(v));
  }
  // Constructors: the retained size of each object not dominated by one of its own kind.
  const byConstructor = new Map<string, number>();
  for (let v = 1; v < n; v++) {
    if (!seen[v]) continue;
    const kind = typeOf(v) === 'object' || typeOf(v) === 'native' ? nameOf(v) : `(${typeOf(v)})`;
    let d = idom[v]!;
    while (
      d !== 0 &&
      (typeOf(d) === 'object' || typeOf(d) === 'native' ? nameOf(d) : `(${typeOf(d)})`) !== kind
    )
      d = idom[d]!;
    if (d === 0) byConstructor.set(kind, (byConstructor.get(kind) ?? 0) + retained[v]!);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalBytes: retained[0]!, byModule: sorted(byModule), byConstructor: sorted(byConstructor) };
}

/** The top rows of both tables, as text. */
export function formatHeapHolders(h: HeapHolders, top = 15): string {
  const mb = (b: number) => `${(b / 1048576).toFixed(1).padStart(6)} MB`;
  const rows = (list: Array<[string, number]>) =>
    list
      .slice(0, top)
      .map(([name, bytes]) => `  ${mb(bytes)}  ${name.slice(0, 100)}`)
      .join('\n');
  return `heap ${mb(h.totalBytes).trim()}; by module:\n${rows(h.byModule)}\nby constructor (retained):\n${rows(h.byConstructor)}\n`;
}

if (import.meta.main) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/heap-holders.ts FILE.heapsnapshot [top]\n');
    process.exit(2);
  }
  process.stdout.write(formatHeapHolders(heapHolders(file), Number(top ?? 15)));
}
