// Address patterns of routes and rules: `+44*` (prefix), `+15550100` (exact), `*` (any),
// `re:^\+1..` (a JavaScript regular expression; a leading `(?i)` makes it case-insensitive).
// Compiled once; matching is then a cheap test.

export type Matcher = (value: string) => boolean;

/** The regular expression of a `re:` pattern. Throws a SyntaxError for a bad one. */
function regExpOf(pattern: string): RegExp {
  const source = pattern.slice(3);
  // JavaScript has no inline flags; `(?i)` at the start is the usual way to ask for one.
  return source.startsWith('(?i)') ? new RegExp(source.slice(4), 'i') : new RegExp(source);
}

export function compilePattern(pattern: string): Matcher {
  if (pattern.startsWith('re:')) {
    const re = regExpOf(pattern);
    return (value) => re.test(value);
  }
  if (pattern === '*') return () => true;
  if (pattern.endsWith('*') && !pattern.slice(0, -1).includes('*')) {
    const prefix = pattern.slice(0, -1);
    return (value) => value.startsWith(prefix);
  }
  if (pattern.includes('*')) {
    const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
    return (value) => re.test(value);
  }
  return (value) => value === pattern;
}

/** Why a pattern cannot be used (a bad regular expression), or undefined when it can. */
export function patternProblem(pattern: string): string | undefined {
  if (!pattern.startsWith('re:')) return undefined;
  try {
    regExpOf(pattern);
    return undefined;
  } catch (err) {
    return `bad regular expression: ${(err as Error).message}`;
  }
}

/** Any of the patterns; an absent or empty list matches everything. */
export function compilePatterns(patterns: readonly string[] | undefined): Matcher {
  if (!patterns || patterns.length === 0) return () => true;
  if (patterns.length <= indexFrom) {
    const matchers = patterns.map(compilePattern);
    return (value) => matchers.some((m) => m(value));
  }
  const first = compileRanked(patterns.map((pattern) => ({ pattern, rank: 0 })));
  return (value) => first(value) >= 0;
}

/** Lists longer than this are indexed (a rate deck or a number list may hold thousands). */
const indexFrom = 8;

/**
 * Patterns with ranks (a cost table's entry index): the lowest rank among the patterns a
 * value matches, or -1. Prefix and exact patterns are looked up by the value's own prefixes
 * (at most 16 map lookups for a number, however many patterns), the others tested in rank
 * order, so a table of thousands of prefixes costs no more per value than a short one.
 */
export function compileRanked(
  entries: ReadonlyArray<{ pattern: string; rank: number }>,
): (value: string) => number {
  const prefixes = new Map<string, number>();
  const exact = new Map<string, number>();
  const others: Array<{ rank: number; test: Matcher }> = [];
  const keep = (map: Map<string, number>, key: string, rank: number) => {
    const known = map.get(key);
    if (known === undefined || rank < known) map.set(key, rank);
  };
  for (const { pattern, rank } of entries) {
    if (pattern.startsWith('re:')) others.push({ rank, test: compilePattern(pattern) });
    else if (pattern.endsWith('*') && !pattern.slice(0, -1).includes('*'))
      keep(prefixes, pattern.slice(0, -1), rank);
    else if (!pattern.includes('*')) keep(exact, pattern, rank);
    else others.push({ rank, test: compilePattern(pattern) });
  }
  others.sort((a, b) => a.rank - b.rank);
  const longest = Math.max(0, ...[...prefixes.keys()].map((p) => p.length));
  return (value) => {
    let best = exact.get(value) ?? Number.POSITIVE_INFINITY;
    for (let length = Math.min(longest, value.length); length >= 0; length--) {
      const rank = prefixes.get(value.slice(0, length));
      if (rank !== undefined && rank < best) best = rank;
    }
    for (const o of others) {
      if (o.rank >= best) break;
      if (o.test(value)) best = o.rank;
    }
    return best === Number.POSITIVE_INFINITY ? -1 : best;
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
