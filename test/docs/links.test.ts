// The documentation links only inside the repository, and every link finds its file (and
// its heading, for a `#fragment`).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
const pages = [
  'README.md',
  'CHANGELOG.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's heading ids: lower case, punctuation dropped, spaces as dashes. */
function anchors(markdown: string): Set<string> {
  const ids = new Set<string>();
  for (const [, heading] of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    ids.add(
      heading!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
  }
  return ids;
}

test('README, CHANGELOG and docs/ link only to files of the repository that exist', () => {
  const problems: string[] = [];
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) {
        problems.push(`${page}: ${target} leaves the repository`);
        continue;
      }
      const [path, fragment] = target!.split('#') as [string, string | undefined];
      const file = path ? resolve(dirname(join(root, page)), path) : join(root, page);
      if (relative(root, file).startsWith('..') || !existsSync(file)) {
        problems.push(`${page}: ${target} is not a file of the repository`);
        continue;
      }
      if (fragment && statSync(file).isFile() && !anchors(readFileSync(file, 'utf8')).has(fragment))
        problems.push(`${page}: ${target} names no heading`);
    }
  }
  assert.deepEqual(problems, []);
});
