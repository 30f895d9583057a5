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
  const matchers = patterns.map(compilePattern);
  return (value) => matchers.some((m) => m(value));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
