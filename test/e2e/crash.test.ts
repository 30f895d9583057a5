// `kill -9` of the gateway in the middle of a 10k-message run, then a restart: every
// message that got a 202 reaches the SMSC, and resends (at-least-once) stay within the
// in-flight bound (binds × window).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { waitFor } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'smsgw-crash-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `smsgw serve` as a child and resolves with its HTTP port once it listens. */
async function startGateway(configFile: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['src/cli/main.ts', 'serve', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
    lines.on('line', (line) => {
      const m = /HTTP http:\/\/[^:]+:(\d+)/.exec(line);
      if (m) resolve(Number(m[1]));
    });
  });
  return { child, port };
}

test('kill -9 during a 10k run loses no accepted message', async (t) => {
  const sim = new SmscSimulator({ deliveryDelayMs: 10, maxMessages: 100_000 });
  const { port: smscPort } = await sim.listen(0);
  t.after(() => sim.close());
  const seen = new Map<string, number>();
  sim.on('submit', (m) => {
    const text = m.shortMessage.toString('latin1');
    seen.set(text, (seen.get(text) ?? 0) + 1);
  });
  const binds = 2;
  const window = 32;
  const configFile = join(dir, 'smsgw.yaml');
  writeFileSync(
    configFile,
    `
http: { listen: 127.0.0.1:0 }
store: sqlite:${dir}/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: carrier, type: smpp, host: 127.0.0.1, port: ${smscPort}, systemId: gw, password: pw, binds: ${binds}, window: ${window}, enquireLinkSeconds: 5 }
routes:
  mt: [{ connectors: [carrier] }]
`,
  );

  let gateway = await startGateway(configFile);
  const total = 10_000;
  const accepted = new Set<string>();
  let next = 0;
  let killed = false;
  let killedOnce = false;
  const post = async (port: number, n: number) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer acme-key-1', 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+447700900123', text: `crash-test-${n}` }),
    });
    await res.text();
    if (res.status === 202) accepted.add(`crash-test-${n}`);
  };
  // 64 concurrent clients; the gateway is killed once a third is accepted, mid-stream.
  const worker = async () => {
    while (next < total && !killed) {
      const n = next++;
      try {
        await post(gateway.port, n);
      } catch {
        // the connection died with the process: that message was never acknowledged
      }
      if (!killedOnce && accepted.size >= total / 3) {
        killed = true;
        killedOnce = true;
        gateway.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  await new Promise((r) =>
    gateway.child.exitCode !== null || gateway.child.signalCode !== null
      ? r(null)
      : gateway.child.once('exit', r),
  );
  const acceptedBeforeKill = accepted.size;

  gateway = await startGateway(configFile);
  // The rest of the run goes to the restarted gateway.
  killed = false;
  await Promise.all(Array.from({ length: 64 }, worker));
  assert.equal(next, total);

  await waitFor(() => [...accepted].every((t) => seen.has(t)), 60_000, 'every accepted message at the SMSC');
  const duplicates = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0);
  process.stdout.write(
    `# accepted ${accepted.size} (${acceptedBeforeKill} before the kill), at SMSC ${seen.size}, duplicates ${duplicates}\n`,
  );
  assert.ok(acceptedBeforeKill > 0 && acceptedBeforeKill < total);
  // Resent after the restart: at most what was in flight (plus sent and not yet marked).
  assert.ok(duplicates <= binds * window, `${duplicates} duplicates > ${binds * window}`);
  gateway.child.kill('SIGTERM');
});
