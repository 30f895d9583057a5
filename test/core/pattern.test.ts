// Patterns: `(?i)` on regular expressions, and long lists and cost tables looked up through
// an index that must answer exactly as testing every pattern in order would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePattern, compilePatterns, compileRanked, patternProblem } from '../../src/core/pattern.ts';

test('re: patterns are JavaScript regular expressions; a leading (?i) ignores case', () => {
  assert.equal(compilePattern('re:(?i)^promo')('PROMO now'), true);
  assert.equal(compilePattern('re:^promo')('PROMO now'), false);
  assert.equal(patternProblem('re:(?i)(unclosed')?.startsWith('bad regular expression'), true);
  assert.equal(patternProblem('re:(?i)^ok$'), undefined);
});

/** A small pseudo-random generator, so a failure repeats. */
function random(seed: number) {
  let x = seed;
  return (n: number) => {
    // xorshift32: every bit varies (a linear congruential one's low bits cycle).
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

test('indexed lists and ranked tables answer as testing each pattern in order does', () => {
  const next = random(7);
  const digits = (n: number) => Array.from({ length: n }, () => String(next(4))).join('');
  const patternOf = () => {
    switch (next(6)) {
      case 0:
        return `re:^\\+${digits(2)}`;
      case 1:
        return `+${digits(1 + next(3))}*${digits(1)}`;
      case 2:
        return `+${digits(6)}`;
      case 3:
        return next(10) === 0 ? '*' : `+${digits(next(4))}*`;
      default:
        return `+${digits(1 + next(5))}*`;
    }
  };
  for (let round = 0; round < 50; round++) {
    const entries = Array.from({ length: 5 + next(60) }, () => ({ pattern: patternOf(), rank: next(20) }));
    const ranked = compileRanked(entries);
    const any = compilePatterns(entries.map((e) => e.pattern));
    const naive = entries.map((e) => ({ rank: e.rank, test: compilePattern(e.pattern) }));
    for (let i = 0; i < 200; i++) {
      const value = `+${digits(next(8))}`;
      const hits = naive.filter((e) => e.test(value)).map((e) => e.rank);
      const expected = hits.length ? Math.min(...hits) : -1;
      assert.equal(ranked(value), expected, `${value} in ${JSON.stringify(entries)}`);
      assert.equal(any(value), hits.length > 0, value);
    }
  }
});
