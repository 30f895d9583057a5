// `smsgw simulate smsc` as a user runs it: a child process, for the simulator tests.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/**
 * Starts `smsgw simulate smsc ARGS` (killed by `closers`) and reads the first two lines it
 * prints: where it listens, then where its control API is (with --http).
 */
export async function startSimulateSmsc(args: string[], closers: Array<() => unknown>) {
  const child = spawn(process.execPath, ['src/cli/main.ts', 'simulate', 'smsc', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  closers.push(() => child.kill());
  const lines = createInterface({ input: child.stdout! });
  const [listenLine] = (await once(lines, 'line')) as [string];
  const [httpLine] = (await once(lines, 'line')) as [string];
  return {
    listenLine,
    httpLine,
    port: Number(/:(\d+) /.exec(listenLine)?.[1]),
    control: /(http:\/\/\S+)/.exec(httpLine)?.[1],
  };
}

/** Runs `smsgw simulate smsc ARGS` to its exit: the exit code and what it said on stderr. */
export async function runSimulateSmsc(args: string[]): Promise<{ code: number; stderr: string }> {
  const child = spawn(process.execPath, ['src/cli/main.ts', 'simulate', 'smsc', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stderr };
}
