// `smsgw config check`: the start-up validation (parseConfig) with each problem placed at
// its line and column in the file (TLS files `serve` could not read among them); and warnings about what
// `serve` would accept but never use: rules after a catch-all, routes naming what the file
// does not define, an empty file.
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigError, parseConfig } from './load.ts';
import type { GatewayConfig } from './types.ts';

export interface ConfigFinding {
  severity: 'error' | 'warning';
  line: number;
  col: number;
  /** As in the start-up messages: `connectors[1].port`, `(root)` for the file as a whole. */
  path: string;
  message: string;
}

export interface ConfigCheck {
  findings: ConfigFinding[];
  /** The validated config, when there was no error. */
  config?: GatewayConfig;
}

/** A check the caller adds (one that needs another module, e.g. the store's URL rules). */
export type ExtraCheck = (config: GatewayConfig) => Array<{ path: string; message: string }>;

export function checkConfigText(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
  extraChecks: readonly ExtraCheck[] = [],
): ConfigCheck {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  if (doc.errors.length > 0) {
    return {
      findings: doc.errors.map((e) => ({
        severity: 'error',
        ...at(e.pos[0]),
        path: pathAt(doc.contents, e.pos[0], '') || '(root)',
        message: e.message.split('\n')[0]!,
      })),
    };
  }
  const place = (path: string) => at(offsetOf(doc.contents, path));
  let config: GatewayConfig;
  try {
    config = parseConfig(text, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const findings = err.problems.map((problem): ConfigFinding => {
      const split = problem.indexOf(': ');
      const path = split > 0 ? problem.slice(0, split) : '(root)';
      return { severity: 'error', ...place(path), path, message: problem.slice(split + 2) };
    });
    return { findings: findings.sort((a, b) => a.line - b.line || a.col - b.col) };
  }
  const errors = extraChecks
    .flatMap((check) => check(config))
    .map(({ path, message }): ConfigFinding => ({ severity: 'error', ...place(path), path, message }));
  if (errors.length > 0) return { findings: errors };
  const raw = doc.toJS() as unknown;
  const findings: ConfigFinding[] = warnings(config, raw)
    .map(({ path, message }) => ({ severity: 'warning' as const, ...place(path), path, message }))
    .sort((a, b) => a.line - b.line || a.col - b.col);
  return { findings, config };
}

function warnings(config: GatewayConfig, raw: unknown): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  if (raw === null || raw === undefined || (typeof raw === 'object' && Object.keys(raw).length === 0)) {
    out.push({
      path: '(root)',
      message: 'the file is empty: no accounts, connectors or routes, so nothing can be sent',
    });
  }
  for (const [kind, rules] of [
    ['mt', config.routes.mt],
    ['mo', config.routes.mo],
  ] as const) {
    const catchAll = rules.findIndex((r) => takesEverything(r.match));
    for (let i = catchAll + 1; catchAll >= 0 && i < rules.length; i++) {
      out.push({
        path: `routes.${kind}[${i}]`,
        message: `never matches: routes.${kind}[${catchAll}] before it takes every message`,
      });
    }
  }
  const accounts = new Set(config.accounts.map((a) => a.id));
  config.routes.mt.forEach((r, i) => {
    r.match?.account?.forEach((p, j) => {
      if (isLiteral(p) && !accounts.has(p))
        out.push({ path: `routes.mt[${i}].match.account[${j}]`, message: `no account '${p}' in this file` });
    });
  });
  const connectors = new Set(config.connectors.map((c) => c.id));
  const priced = new Set(config.connectors.filter((c) => c.costs?.length).map((c) => c.id));
  config.routes.mt.forEach((r, i) => {
    if (r.strategy === 'least-cost' && !r.connectors.some((c) => priced.has(c)))
      out.push({
        path: `routes.mt[${i}].strategy`,
        message: 'least-cost, but none of its connectors has costs: they are tried in the listed order',
      });
  });
  config.accounts.forEach((a, i) => {
    if (a.links?.shorten && !a.links.baseUrl && !config.http.publicUrl)
      out.push({
        path: `accounts[${i}].links`,
        message: `short links will point at http://${config.http.listen}, which phones cannot reach: set http.publicUrl or links.baseUrl`,
      });
  });
  config.routes.mo.forEach((r, i) => {
    r.match?.connector?.forEach((p, j) => {
      if (isLiteral(p) && !connectors.has(p))
        out.push({ path: `routes.mo[${i}].match.connector[${j}]`, message: `no connector '${p}'` });
    });
  });
  return out;
}

/**
 * A rule with no conditions, or only conditions every value meets (empty lists, `*`).
 * A condition this check does not know (added later) counts as a real one.
 */
function takesEverything(match: object | undefined): boolean {
  return Object.entries(match ?? {}).every(
    ([field, patterns]) =>
      Array.isArray(patterns) &&
      // `tags: ['*']` still asks for a tag.
      (patterns.length === 0 || (field !== 'tags' && patterns.includes('*'))),
  );
}

/** A pattern that names one value: no wildcard, no regular expression. */
function isLiteral(pattern: string): boolean {
  return !pattern.includes('*') && !pattern.startsWith('re:');
}

/**
 * Where a problem's path points in the file: the key of its setting, or the nearest
 * setting above it that the file has (a missing required field points at its parent).
 * Keys are matched longest first, so ids holding dots (`weights.a.b`) are found.
 */
function offsetOf(node: unknown, path: string): number {
  let here = node as Node | null | undefined;
  let offset = here?.range?.[0] ?? 0;
  let rest = path === '(root)' ? '' : path;
  while (rest.length > 0 && here) {
    const index = /^\[(\d+)\]/.exec(rest);
    if (index && isSeq(here)) {
      const item = here.items[Number(index[1])] as Node | undefined;
      if (!item?.range) break;
      here = item;
      offset = item.range[0];
      rest = rest.slice(index[0].length);
      continue;
    }
    if (!isMap(here)) break;
    const wanted = rest.startsWith('.') ? rest.slice(1) : rest;
    const pair = here.items
      .filter((p) => isScalar(p.key) && startsWithSegment(wanted, String(p.key.value)))
      .sort(
        (a, b) =>
          String((b.key as { value: unknown }).value).length -
          String((a.key as { value: unknown }).value).length,
      )[0];
    if (!pair || !isScalar(pair.key)) break;
    offset = pair.key.range?.[0] ?? offset;
    here = pair.value as Node | null;
    rest = wanted.slice(String(pair.key.value).length);
  }
  return offset;
}

function startsWithSegment(path: string, key: string): boolean {
  return (
    path.startsWith(key) &&
    (path.length === key.length || path[key.length] === '.' || path[key.length] === '[')
  );
}

/** The path of the deepest setting holding `offset` (for YAML syntax errors). */
function pathAt(node: unknown, offset: number, path: string): string {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const keyPath = path ? `${path}.${String(pair.key.value)}` : String(pair.key.value);
      const [start] = pair.key.range ?? [-1];
      const end = (pair.value as Node | null)?.range?.[2] ?? pair.key.range?.[2] ?? -1;
      if (offset >= start && offset <= end) return pathAt(pair.value, offset, keyPath);
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const range = (item as Node | null)?.range;
      if (range && offset >= range[0] && offset <= range[2]) return pathAt(item, offset, `${path}[${i}]`);
    }
  }
  return path;
}
