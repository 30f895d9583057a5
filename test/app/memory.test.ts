// Memory given back once the gateway is quiet after a burst (src/app/memory.ts): V8 by
// itself keeps a burst's pages for up to 100 s. Not while the event loop is busy, and not
// again for a heap that is still live; and once when start-up has settled.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';

/**
 * Runs `body` in a process with gc exposed, as bin/smsgw starts serve, with gc counted
 * (`collections`), a SQLite `store`, `sleep` and `releaseMemoryWhenQuiet` in scope; returns
 * what it writes to stdout, parsed.
 */
function runWithGcCounted(t: TestContext, body: string): unknown {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-memory-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const appUrl = new URL('../../src/app/index.ts', import.meta.url).href;
  const storeUrl = new URL('../../src/store/index.ts', import.meta.url).href;
  const child = `
    import { releaseMemoryWhenQuiet } from ${JSON.stringify(appUrl)};
    import { SqliteStore } from ${JSON.stringify(storeUrl)};
    const collect = globalThis.gc;
    let collections = 0;
    globalThis.gc = (options) => { collections++; return collect(options); };
    const store = new SqliteStore(process.env.STORE_PATH);
    await store.migrate();
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    ${body}
    await store.close();
  `;
  const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '--eval', child], {
    env: { ...process.env, STORE_PATH: join(dir, 'gw.db') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

test('memory is released once quiet after a burst, not while busy, and not again for a live heap', (t) => {
  const seen = runWithGcCounted(
    t,
    `
    const mb = () => Math.round(process.memoryUsage.rss() / 1048576);
    // Keeps the event loop busy for slices of at least 5 ms, each building what work returns.
    const busy = async (slices, work) => {
      const kept = [];
      while (kept.length < slices) {
        kept.push(work());
        for (const sliceEnd = Date.now() + 5; Date.now() < sliceEnd; );
        await new Promise((resolve) => setImmediate(resolve));
      }
      return kept;
    };
    const garbage = () => Array.from({ length: 800 }, (_, i) => ({ i, text: 'x'.repeat(40) + i }));
    const stop = releaseMemoryWhenQuiet(store, { windowMs: 100, quietWindows: 3 });
    const seen = {};
    let burst = await busy(300, garbage);
    seen.busy = { collections, rss: mb() };
    burst = null;
    await sleep(1500);
    seen.quiet = { collections, rss: mb() };
    // A heap that stays live: released once, quiet or not after it, not again.
    const live = await busy(300, garbage);
    await sleep(1500);
    seen.live = { collections, rss: mb() };
    await sleep(1500);
    seen.liveLater = { collections, rss: mb(), kept: live.length > 0 };
    stop();
    process.stdout.write(JSON.stringify(seen));
  `,
  ) as Record<string, { collections: number; rss: number }>;
  const figures = JSON.stringify(seen);
  t.diagnostic(figures);
  assert.equal(seen.busy!.collections, 0, `nothing collected while busy: ${figures}`);
  assert.equal(seen.quiet!.collections, 1, `one collection once quiet: ${figures}`);
  assert.ok(seen.quiet!.rss < seen.busy!.rss - 16, `the burst's memory given back: ${figures}`);
  assert.equal(seen.live!.collections, 2, `grown again: collected again: ${figures}`);
  assert.equal(seen.liveLater!.collections, 2, `a live heap is not collected again: ${figures}`);
});

test('memory is released once when start-up has settled, quiet, grown or not, and not again', (t) => {
  const seen = runWithGcCounted(
    t,
    `
    const stop = releaseMemoryWhenQuiet(store, { windowMs: 100, quietWindows: 2, settleAfterMs: 3_000 });
    const seen = {};
    await sleep(500);
    seen.beforeSettled = collections;
    await sleep(4_500);
    seen.settled = collections;
    await sleep(1_500);
    seen.later = collections;
    stop();
    process.stdout.write(JSON.stringify(seen));
  `,
  );
  assert.deepEqual(seen, { beforeSettled: 0, settled: 1, later: 1 });
});
