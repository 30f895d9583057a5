// Address patterns of routes and rules: `+44*` (prefix), `+15550100` (exact), `*` (any),
// `re:^\+1..` (regular expression). Compiled once; matching is then a cheap test.

export type Matcher = (value: string) => boolean;

export function compilePattern(pattern: string): Matcher {
  if (pattern.startsWith('re:')) {
    const re = new RegExp(pattern.slice(3));
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

/** Any of the patterns; an absent or empty list matches everything. */
export function compilePatterns(patterns: readonly string[] | undefined): Matcher {
  if (!patterns || patterns.length === 0) return () => true;
  const matchers = patterns.map(compilePattern);
  return (value) => matchers.some((m) => m(value));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
