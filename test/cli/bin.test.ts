// bin/smsgw, as operators start the gateway: `serve` in the same process with V8's young
// generation held small and its old generation's growth bounded (unless the operator
// chose), gc exposed, and Node's compile cache on.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { serve } from './serve-helpers.ts';

const bin = resolve('bin/smsgw');
const cache = mkdtempSync(join(tmpdir(), 'smsgw-compile-cache-'));
after(() => rmSync(cache, { recursive: true, force: true }));

const args = ['--http', '127.0.0.1:0', '--smpp', '127.0.0.1:0', '--store', 'sqlite::memory:'];

/** The gateway's command line, as /proc shows it (after bin/smsgw replaced itself). */
function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

// Its default place is in the temporary directory: here, this test's own.
delete process.env.NODE_COMPILE_CACHE;
delete process.env.MALLOC_ARENA_MAX;

test('bin/smsgw serve runs with 8 MB semi-spaces, 30% old generation growth, gc exposed and two malloc arenas, and fills the compile cache', async () => {
  const gateway = serve(args, { entry: bin, env: { NODE_OPTIONS: '', TMPDIR: cache } });
  const started = await gateway.logged('gateway started');
  assert.ok(commandLine(started.pid as number).includes('--max-semi-space-size=8'));
  assert.ok(commandLine(started.pid as number).includes('--heap-growing-percent=30'));
  // For serve's collection of start-up's garbage, once started.
  assert.ok(commandLine(started.pid as number).includes('--expose-gc'));
  const environment = readFileSync(`/proc/${started.pid}/environ`, 'utf8').split('\0');
  assert.ok(environment.includes('MALLOC_ARENA_MAX=2'));
  gateway.kill();
  assert.deepEqual(await gateway.exited, { code: 0, signal: null });
  // Node writes what it stripped and compiled when the process ends.
  assert.ok(
    readdirSync(join(cache, 'node-compile-cache'), { recursive: true }).length > 1,
    'compile cache written',
  );
});

test("bin/smsgw serve keeps the operator's own young generation size", async () => {
  const gateway = serve(args, {
    entry: bin,
    env: { NODE_OPTIONS: '--max-semi-space-size=2', NODE_COMPILE_CACHE: cache },
  });
  const started = await gateway.logged('gateway started');
  assert.ok(!commandLine(started.pid as number).some((flag) => flag.startsWith('--max-semi-space-size')));
  // The other flag is still bin/smsgw's.
  assert.ok(commandLine(started.pid as number).includes('--heap-growing-percent=30'));
  gateway.kill();
  assert.deepEqual(await gateway.exited, { code: 0, signal: null });
});
