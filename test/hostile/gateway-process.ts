// A gateway under attack runs as its own process (`bin/smsgw serve`), so its memory can be
// read apart from the test's: RSS from /proc. Hostile clients connect from 127.0.0.2 and
// legitimate ones from 127.0.0.1, so limits per remote address fall on the hostile ones.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const hostileAddress = '127.0.0.2';

export interface GatewayProcess {
  httpPort: number;
  smppPort: number;
  /** Resident set size of the gateway process now, in MB. */
  rssMb(): number;
  /** True while the process runs. */
  alive(): boolean;
  close(): Promise<void>;
}

/** Starts `smsgw serve` on a config (`DIR` in it becomes a fresh temp dir). */
export async function startGatewayProcess(yaml: string): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-hostile-'));
  const configFile = join(dir, 'smsgw.yaml');
  writeFileSync(configFile, yaml.replaceAll('DIR', dir));
  // As operators start it (bin/smsgw: its V8 heap and malloc settings for serve, the same
  // process id), so the memory read is what a deployed gateway's would be: started bare,
  // V8's default young generation alone let the heap's churn under a flood reach +100 MB.
  const child: ChildProcess = spawn(process.execPath, ['bin/smsgw', 'serve', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  // Started from a config, stdout holds the JSON log and the banner is on stderr.
  const banner = createInterface({ input: child.stderr! });
  const ports = await new Promise<{ http: number; smpp: number }>((resolve, reject) => {
    let http = 0;
    let smpp = 0;
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
    banner.on('line', (line) => {
      http ||= Number(/listening: HTTP http:\/\/[^\s]+:(\d+)/.exec(line)?.[1] ?? 0);
      smpp ||= Number(/listening: SMPP [^\s]+:(\d+)/.exec(line)?.[1] ?? 0);
      if (http && smpp) resolve({ http, smpp });
    });
  });
  // Both kept draining, so the gateway never waits on a full pipe.
  banner.on('line', () => {});
  child.stdout!.resume();
  return {
    httpPort: ports.http,
    smppPort: ports.smpp,
    rssMb: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
    },
    alive: () => !exited,
    async close() {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Samples the process's RSS every 100 ms; `stop` gives the first sample and the highest. */
export function watchRss(gw: GatewayProcess): { stop(): { startMb: number; peakMb: number } } {
  const startMb = gw.rssMb();
  let peakMb = startMb;
  const timer = setInterval(() => {
    if (gw.alive()) peakMb = Math.max(peakMb, gw.rssMb());
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      if (gw.alive()) peakMb = Math.max(peakMb, gw.rssMb());
      return { startMb, peakMb };
    },
  };
}

/** A connection from the hostile address. */
export function connectHostile(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: hostileAddress }, () =>
      resolve(socket),
    );
    socket.once('error', reject);
  });
}

/**
 * Writes `chunk` again and again as fast as the socket takes it, reading nothing, until
 * the other end closes the connection or `stop()` holds (the connection is left open).
 * Resolves with the octets written.
 */
export async function writeWithoutReading(
  socket: net.Socket,
  chunk: Buffer,
  stop: () => boolean,
): Promise<number> {
  socket.pause();
  socket.on('error', () => {});
  let written = 0;
  while (!socket.destroyed && !stop()) {
    written += chunk.length;
    if (socket.write(chunk)) {
      // Let the rest of the test (and its RSS sampler) run between writes.
      await new Promise((r) => setImmediate(r));
      continue;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearInterval(check);
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      const check = setInterval(() => stop() && done(), 100);
      socket.on('drain', done);
      socket.on('close', done);
    });
  }
  return written;
}

/**
 * Resolves once the other end has closed the connection; meanwhile `poke` is written every
 * 200 ms (a socket that is not read learns of the close only on writing). Rejects after
 * `timeoutMs`, destroying the socket.
 */
export async function closedByPeer(socket: net.Socket, poke: Buffer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!socket.destroyed) {
    if (Date.now() > deadline) {
      socket.destroy();
      throw new Error(`the gateway kept a connection that does not read open for ${timeoutMs} ms`);
    }
    socket.write(poke);
    await new Promise((r) => setTimeout(r, 200));
  }
}
