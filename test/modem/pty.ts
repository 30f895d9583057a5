// A pseudo-terminal pair from socat: the gateway opens one end as its modem's serial port,
// the emulator the other.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingPeer } from '../peers/available.ts';

/** Test options for a test on a pty pair: skipped (locally) when socat is not installed. */
export const needsSocat = { skip: missingPeer('socat') ?? false };

export interface PtyPair {
  /** The end the gateway opens. */
  gateway: string;
  /** The end the emulator answers on. */
  modem: string;
  close(): Promise<void>;
}

export async function ptyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-pty-'));
  const gateway = join(dir, 'gateway');
  const modem = join(dir, 'modem');
  const socat = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${gateway}`, `pty,raw,echo=0,link=${modem}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  socat.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(existsSync(gateway) && existsSync(modem))) {
    if (socat.exitCode !== null || Date.now() > deadline) {
      socat.kill();
      throw new Error(`socat gave no pty pair: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    gateway,
    modem,
    async close() {
      if (socat.exitCode === null) socat.kill();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
