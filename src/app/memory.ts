// Giving back the memory the gateway's heaps hold but no longer use. V8's memory reducer
// makes its memory-reducing collection only once it judges the allocation rate low, and it
// measures that rate between collections: after start-up (none yet) and after a burst of
// load it waits for its 100 s watchdog, and RSS stays at the burst's peak meanwhile
// (docs/PERFORMANCE.md, "tenth" and "eleventh"). The collection needs `--expose-gc`
// (bin/smsgw passes it); without it nothing happens here.
import { performance } from 'node:perf_hooks';
import type { Store } from '../store/index.ts';

/** Collects each thread's garbage (main, and the store's writer if one runs) and gives its pages back. */
export function releaseMemory(store: Store): void {
  store.releaseMemory?.();
  globalThis.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

export interface QuietRelease {
  /** How often the event loop's use is looked at. */
  windowMs?: number;
  /** Windows in a row under `quietUtilization` that make the gateway quiet. */
  quietWindows?: number;
  /** The share of a window the event loop may be busy and still be quiet. */
  quietUtilization?: number;
  /** RSS above what it was after the last release that makes one worth its pause. */
  growthBytes?: number;
  /**
   * Once this long after the start, one release at the first quiet window whatever the RSS:
   * start-up's config validators are let go a minute after their last use
   * (src/config/load.ts), and the code only start-up ran is old enough for V8 to drop.
   */
  settleAfterMs?: number;
}

/**
 * Once the gateway has been quiet for a while (its event loop nearly idle) and its RSS has
 * grown since the last release, releases memory: the pause (about 0.1 s) falls where
 * nothing is waiting, and a heap that is live (RSS not lower after) is not collected again
 * until it grows further. Also once when start-up has settled (`settleAfterMs`), grown or
 * not. Returns what stops it.
 */
export function releaseMemoryWhenQuiet(
  store: Store,
  {
    windowMs = 5_000,
    quietWindows = 2,
    quietUtilization = 0.02,
    growthBytes = 16 * 1_048_576,
    settleAfterMs = 70_000,
  }: QuietRelease = {},
): () => void {
  let settleAt = Date.now() + settleAfterMs;
  let baseline = process.memoryUsage.rss();
  let quiet = 0;
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const used = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    quiet = used < quietUtilization ? quiet + 1 : 0;
    // The lowest RSS since the last release: the writer thread's collection, which ends
    // after `releaseMemory` returns, and V8's own show there.
    const rss = process.memoryUsage.rss();
    baseline = Math.min(baseline, rss);
    if (quiet < quietWindows || (rss < baseline + growthBytes && Date.now() < settleAt)) return;
    settleAt = Number.POSITIVE_INFINITY;
    releaseMemory(store);
    baseline = process.memoryUsage.rss();
    quiet = 0;
  }, windowMs);
  timer.unref();
  return () => clearInterval(timer);
}
