// `smsgw serve` as a child process: its stdout lines (JSON log lines, plus the banner with no
// config), its stderr, and its exit.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import { waitFor } from '../e2e/helpers.ts';
import { freePort } from '../peers/ports.ts';

const main = resolve('src/cli/main.ts');
/** Gateways still running when a test file ends (a failed assertion skipped their stop). */
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ServeProcess {
  lines: string[];
  stderr(): string;
  /** The JSON log lines so far. */
  logs(): Array<Record<string, unknown> & { msg?: string; level?: string }>;
  /** Resolves with the first log line whose msg starts with `msg` (waiting for it). */
  logged(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export function serve(
  args: string[],
  /** `entry`: the script that runs the CLI (default src/cli/main.ts; bin/smsgw as operators run it). */
  options: { cwd?: string; env?: Record<string, string>; entry?: string } = {},
): ServeProcess {
  const child = spawn(process.execPath, [options.entry ?? main, 'serve', ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters.splice(0)) w();
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => {
      for (const w of waiters.splice(0)) w();
      r({ code, signal });
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  const logs = () =>
    lines.flatMap((l) => {
      if (!l.startsWith('{')) return [];
      return [JSON.parse(l) as Record<string, unknown> & { msg?: string }];
    });
  return {
    lines,
    stderr: () => stderr,
    logs,
    async logged(msg, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs().find((l) => l.msg?.startsWith(msg));
        if (found) return found;
        if (done) throw new Error(`serve exited before logging '${msg}': ${stderr}\n${lines.join('\n')}`);
        if (Date.now() > deadline) throw new Error(`no '${msg}' within ${timeoutMs} ms: ${lines.join('\n')}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    exited,
    kill: (signal = 'SIGTERM') => child.kill(signal),
  };
}

/** A port nobody listens on right now. */
export { freePort };

export interface ServeNode {
  port: number;
  base: string;
  process: ServeProcess;
}

/**
 * A gateway process of a cluster test, its config (`store`, then `body`) written under `dir`
 * as `<name>.yaml`, once it answers /health. Its HTTP port is fixed, so clients find it again.
 */
export async function startServeNode(
  dir: string,
  name: string,
  store: string,
  body: string,
): Promise<ServeNode> {
  const port = await freePort();
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `
http: { listen: 127.0.0.1:${port} }
store: ${store}
log: { level: warn }
${body}`,
  );
  const node: ServeNode = { port, base: `http://127.0.0.1:${port}`, process: serve(['--config', file]) };
  await waitFor(
    async () => (await fetch(`${node.base}/health`).catch(() => null))?.status === 200,
    30_000,
    `${name} answering`,
  );
  return node;
}
