// The processes a head-to-head run starts, each on its own: the SMPP sink, smsgw
// (`smsgw serve`) and Kannel (bearerbox + smsbox), plus what is read of them from /proc
// (CPU seconds, peak memory) and an HTTP receiver for delivery-report callbacks.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { kannelConf, linksOnline, smppLink } from '../test/peers/kannel.ts';
import { freePort } from '../test/peers/ports.ts';
import type { SinkStats } from './smpp-sink.ts';

export const bearerbox = '/usr/sbin/bearerbox';
export const smsbox = '/usr/sbin/smsbox';
export const kannelInstalled = existsSync(bearerbox) && existsSync(smsbox);
/** ApacheBench (Debian's apache2-utils), the off-the-shelf HTTP load beside our lean client. */
export const abInstalled = spawnSync('ab', ['-V'], { stdio: 'ignore' }).status === 0;

/** The sender's clock, microseconds: CLOCK_MONOTONIC, the same in every process here. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `done` every 20 ms until it holds or `ms` pass; says whether it held. */
export async function until(done: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!(await done())) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Spawns node on `args` and resolves once its stdout printed a line for every pattern. */
export function spawnLines(
  args: string[],
  match: RegExp[],
  within: string[] = [],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; found: string[] }> {
  const [command, ...rest] = [...within, process.execPath, ...args];
  const child = spawn(command!, rest, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout! });
  const found: string[] = [];
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    lines.on('line', (line) => {
      for (let i = 0; i < match.length; i++) {
        const m = match[i]!.exec(line);
        if (m) found[i] = m[1]!;
      }
      if (match.every((_, i) => found[i] !== undefined)) resolve({ child, found });
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// ---- /proc -------------------------------------------------------------------------

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/**
 * A process's /proc/PID/stat (or one thread's, /proc/PID/task/TID/stat) from field 3 on
 * (stat(5) field N is at index N - 3), as numbers.
 */
export function procStat(pid: number, tid?: string): number[] {
  const stat = readFileSync(
    tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`,
    'latin1',
  );
  return stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
}

/** utime + stime of the whole process (all its threads), in seconds; with `children`, also
 * cutime + cstime: the children it has waited for. */
export function cpuSeconds(pid: number, children = false): number {
  const f = procStat(pid);
  // Fields 14 to 17 of stat(5).
  return (f[11]! + f[12]! + (children ? f[13]! + f[14]! : 0)) / ticksPerSecond;
}

/**
 * utime + stime of each of a process's threads now, in seconds, by thread id, with its name
 * (/proc/PID/task/TID: `MainThread`, `V8Worker` for V8's collector and compiler helpers,
 * `WorkerThread` for a worker thread, `libuv-worker` ...). A thread that has ended is not
 * there: its time shows only in cpuSeconds.
 */
export function threadCpuSeconds(pid: number): Map<string, { name: string; seconds: number }> {
  const threads = new Map<string, { name: string; seconds: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'latin1').trim();
      const f = procStat(pid, tid);
      threads.set(tid, { name, seconds: (f[11]! + f[12]!) / ticksPerSecond });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

/**
 * CPU time the whole machine has spent busy since boot, in seconds over all its cores (user,
 * nice, system, irq, softirq and steal of /proc/stat): over a span, divided by the span's
 * length, how many cores were busy — the system's, the load's and the kernel's work together.
 */
export function machineBusySeconds(): number {
  const stat = readFileSync('/proc/stat', 'latin1');
  // The first line: "cpu  user nice system idle iowait irq softirq steal ...".
  const [user, nice, system, , , irq, softirq, steal] = stat
    .slice(4, stat.indexOf('\n'))
    .trim()
    .split(/\s+/)
    .map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / ticksPerSecond;
}

/** VmHWM: the process's peak resident memory, in MB. */
export function peakMemoryMb(pid: number): number {
  return statusMb(pid, 'VmHWM');
}

/** VmRSS: the process's resident memory now, in MB. */
export function residentMemoryMb(pid: number): number {
  return statusMb(pid, 'VmRSS');
}

function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
  return Number(kb ?? 0) / 1024;
}

export interface MemoryLimit {
  /** The command the process runs within (its pid is the process's: each `exec`s the next). */
  within: string[];
  /** How the limit is set: `systemd-run scope`, `cgroup v2 …`, `cgroup v1 …`. */
  how: string;
  /** What the cgroup recorded (peak usage, times the limit was hit, OOM kills), where it can be read. */
  usage(): { peakMb: number; limitHits: number; oomKills: number } | null;
  /** Removes the cgroup made for the run (the process in it must have exited). */
  close(): void;
}

/**
 * The command that runs a process within `mb` MB of memory, or why there is none here:
 * a systemd scope with MemoryMax (the system's or the user's) where systemd runs; else a
 * cgroup made under this process's own (so it stays within whatever limits this process
 * has): v2 with `memory.max`, else v1's memory controller (`memory.limit_in_bytes`; v1
 * also charges the page cache the process fills, e.g. the SQLite files it writes, which
 * the kernel reclaims before it kills).
 */
export function memoryLimit(mb: number): MemoryLimit | { missing: string } {
  const reasons: string[] = [];
  for (const user of [[], ['--user']]) {
    const within = ['systemd-run', ...user, '--scope', '--quiet', '-p', `MemoryMax=${mb}M`];
    const probe = spawnSync(within[0]!, [...within.slice(1), 'true'], { encoding: 'utf8', timeout: 10_000 });
    if (probe.status === 0) return { within, how: within.join(' '), usage: () => null, close: () => {} };
    reasons.push(
      `${within.slice(0, 1 + user.length + 1).join(' ')}: ${(probe.stderr || String(probe.error)).trim().split('\n')[0]}`,
    );
  }
  for (const version of ['v2', 'v1'] as const) {
    const made = cgroupLimit(version, mb);
    if ('within' in made) return made;
    reasons.push(`cgroup ${version}: ${made.missing}`);
  }
  return { missing: reasons.join('; ') };
}

/** A cgroup file's text ('' when it cannot be read). */
function read(dir: string, file: string): string {
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return '';
  }
}

/** A child of this process's own cgroup, limited to `mb` MB (v2: memory.max; v1: memory.limit_in_bytes). */
function cgroupLimit(version: 'v1' | 'v2', mb: number): MemoryLimit | { missing: string } {
  // Where the hierarchy is mounted (mountinfo: the part of the hierarchy mounted is field 4,
  // the mount point field 5, the type after " - ").
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((f) => {
      const type = f[f.indexOf('-') + 1];
      return version === 'v2'
        ? type === 'cgroup2'
        : type === 'cgroup' && (f[f.length - 1] ?? '').split(',').includes('memory');
    });
  const path = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find(([, controllers]) =>
      version === 'v2' ? controllers === '' : controllers!.split(',').includes('memory'),
    )?.[2];
  if (!mounted || path === undefined) return { missing: 'not mounted' };
  const [root, mount] = [mounted[3]!, mounted[4]!];
  if (!path.startsWith(root))
    return { missing: `this process's cgroup ${path} is outside the mounted ${root}` };
  const own = path.slice(root === '/' ? 0 : root.length);
  // v2 gives a child memory.max only where its parent hands the memory controller down.
  if (version === 'v2' && !read(join(mount, own), 'cgroup.subtree_control').split(' ').includes('memory'))
    return { missing: `memory controller not enabled below ${join(mount, own)}` };
  const dir = join(mount, own, `smsgw-bench-${process.pid}`);
  const [limitFile, peakFile] =
    version === 'v2' ? ['memory.max', 'memory.peak'] : ['memory.limit_in_bytes', 'memory.max_usage_in_bytes'];
  try {
    mkdirSync(dir);
  } catch (err) {
    return { missing: `cannot make ${dir}: ${(err as NodeJS.ErrnoException).code}` };
  }
  const remove = () => {
    try {
      rmdirSync(dir);
    } catch {
      // Still holds a process: left for the operator, named in the report.
      process.stderr.write(`memory limit: could not remove ${dir}\n`);
    }
  };
  try {
    writeFileSync(join(dir, limitFile), String(mb * 1024 * 1024));
  } catch (err) {
    remove();
    return { missing: `no ${limitFile} in ${dir} (${(err as NodeJS.ErrnoException).code})` };
  }
  const field = (text: string, name: string) =>
    Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    // The shell joins the cgroup, then becomes the process: nothing is allocated outside it.
    within: ['sh', '-c', `echo $$ > ${join(dir, 'cgroup.procs')} && exec "$@"`, 'sh'],
    how: `cgroup ${version}, ${limitFile}=${mb}M (${dir})`,
    usage: () => ({
      peakMb: Number(read(dir, peakFile)) / 1048576,
      limitHits:
        version === 'v2' ? field(read(dir, 'memory.events'), 'max') : Number(read(dir, 'memory.failcnt')),
      oomKills: field(read(dir, version === 'v2' ? 'memory.events' : 'memory.oom_control'), 'oom_kill'),
    }),
    close: remove,
  };
}

// ---- the sink --------------------------------------------------------------------------

export interface Sink {
  port: number;
  pid: number;
  stats(latencies?: boolean): Promise<SinkStats>;
  close(): Promise<void>;
}

/** The SMPP sink, or with `http` the HTTP provider (bench/http-provider.ts), which counts alike. */
export async function startSink(receipts: boolean, http = false): Promise<Sink> {
  const args = http
    ? ['bench/http-provider.ts']
    : [
        'bench/smpp-sink.ts',
        'smsgw',
        ...(receipts ? ['--receipts'] : []),
        ...(process.env.BENCH_SINK_HEX_IDS === '1' ? ['--hex-ids'] : []),
      ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  return {
    port: (JSON.parse(line) as { port: number }).port,
    pid: child.pid!,
    async stats(latencies = false) {
      const answer = once(child, 'message') as Promise<[SinkStats]>;
      child.send({ latencies });
      return (await answer)[0];
    },
    close: () => stop(child),
  };
}

// ---- systems under test ---------------------------------------------------------------

export interface SystemUnderTest {
  name: string;
  pids: number[];
  httpPort: number;
  /** Every node's HTTP port, when there are several (the load spreads over them). */
  httpPorts?: number[];
  smppPort?: number;
  close(): Promise<void>;
}

export interface SmppLink {
  binds: number;
  window: number;
}

export const account = { id: 'bench', apiKey: 'bench-key-1', systemId: 'bench', password: 'pw' };
/** A second account beside the bench one, whose webhook latency shows whether the other's receiver slows it. */
export const bystander = { id: 'bystander', apiKey: 'bystander-key-1' };

export interface SmsgwOptions {
  webhookUrl?: string;
  /** Send through an `http` connector to bench/http-provider.ts on `sinkPort` (`window`: its concurrency). */
  httpConnector?: boolean;
  /** The store's URL (default: SQLite in `dir`). */
  store?: string;
  /** Gateway processes on that store (more than one: a PostgreSQL cluster). */
  nodes?: number;
  /** An online number lookup at this URL template, and a first MT rule matching on `network`. */
  lookupUrl?: string;
  /** The bench account's webhook takes every status (`submitted` too), not final ones only. */
  everyWebhookStatus?: boolean;
  /** Adds the `bystander` account, its webhook (every status) at this URL. */
  bystanderWebhookUrl?: string;
  /** An interceptor module on the route (`routes.mt[0].interceptor`). */
  interceptor?: string;
  /** A command that runs node in a memory limit (`systemd-run --scope -p MemoryMax=…`), as memoryLimit gives it. */
  within?: string[];
  /** Environment variables set for the gateway besides this process's (NODE_OPTIONS for a heap snapshot). */
  env?: Record<string, string>;
}

export async function startSmsgw(
  dir: string,
  sinkPort: number,
  link: SmppLink,
  {
    webhookUrl,
    httpConnector = false,
    store = `sqlite:${dir}/gw.db`,
    nodes = 1,
    lookupUrl,
    everyWebhookStatus = false,
    bystanderWebhookUrl,
    interceptor,
    within,
    env,
  }: SmsgwOptions = {},
): Promise<SystemUnderTest> {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'smsgw.yaml');
  // Final statuses only, as Kannel's dlr-mask=1 reports only the delivery.
  const statuses = everyWebhookStatus
    ? ''
    : ', statuses: [delivered, undelivered, expired, rejected, failed]';
  const webhook = webhookUrl ? `, webhook: { url: "${webhookUrl}", secret: bench-secret${statuses} }` : '';
  const bystanderAccount = bystanderWebhookUrl
    ? `\n  - { id: ${bystander.id}, apiKeys: [${bystander.apiKey}], defaultFrom: BENCH, webhook: { url: "${bystanderWebhookUrl}", secret: bench-secret } }`
    : '';
  writeFileSync(
    config,
    `http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: ${store}
accounts:
  - { id: ${account.id}, apiKeys: [${account.apiKey}], defaultFrom: BENCH, smpp: { systemId: ${account.systemId}, password: ${account.password}, maxBinds: 8 }${webhook} }${bystanderAccount}
connectors:
  - ${
    httpConnector
      ? `{ id: sink, type: http, url: "http://127.0.0.1:${sinkPort}/sms", body: { to: "{{to}}", text: "{{text}}", ref: "{{id}}" }, accepted: { idPath: id }, concurrency: ${link.window} }`
      : `{ id: sink, type: smpp, host: 127.0.0.1, port: ${sinkPort}, systemId: gw, password: pw, binds: ${link.binds}, window: ${link.window} }`
  }
routes:
  mt: [${lookupUrl ? '{ match: { network: ["23415"] }, connectors: [sink] }, ' : ''}{ connectors: [sink]${interceptor ? `, interceptor: { module: "${interceptor}", timeoutMs: 1000 }` : ''} }]
${lookupUrl ? `lookup: { url: "${lookupUrl}", response: { mcc: mcc, mnc: mnc, ported: ported } }\n` : ''}`,
  );
  const started: Array<{ child: ChildProcess; found: string[] }> = [];
  for (let i = 0; i < nodes; i++)
    started.push(
      // As operators start it (bin/smsgw: the compile cache, the V8 flags of `serve`).
      await spawnLines(
        [...profileFlags(), 'bin/smsgw', 'serve', '--config', config],
        [/HTTP http:\/\/[^:]+:(\d+)/, /SMPP [^:]+:(\d+)/],
        within,
        env,
      ),
    );
  return {
    name: 'smsgw',
    pids: started.map((s) => s.child.pid!),
    httpPort: Number(started[0]!.found[0]),
    httpPorts: started.map((s) => Number(s.found[0])),
    smppPort: Number(started[0]!.found[1]),
    close: async () => {
      for (const s of started) await stop(s.child);
    },
  };
}

/**
 * BENCH_PROFILE=<dir>: each smsgw process writes a V8 CPU profile of each of its threads
 * (main and SQLite writer) into <dir> when it exits; `node bench/profile-summary.ts <dir>`
 * sums their self time by function and by file.
 */
function profileFlags(): string[] {
  const dir = process.env.BENCH_PROFILE;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** bench/null-system.ts: answers at once and calls back at once (the harness's ceiling). */
export async function startNullSystem(callbackUrl?: string): Promise<SystemUnderTest> {
  const child = spawn(
    process.execPath,
    ['bench/null-system.ts', ...(callbackUrl ? ['--callback', callbackUrl] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return {
    name: 'null system',
    pids: [child.pid!],
    httpPort: (JSON.parse(line) as { port: number }).port,
    close: () => stop(child),
  };
}

/**
 * Kannel as operators run it: sendsms on smsbox, bearerbox with `link.binds` SMPP binds
 * (one smsc group each) to the sink, its spool store unless `store` is false, logs at
 * warning level and no access log.
 */
export async function startKannel(
  dir: string,
  sinkPort: number,
  link: SmppLink,
  store: boolean,
): Promise<SystemUnderTest> {
  // Its ports are picked free, then bound by Kannel a moment later: another process may take
  // one meanwhile, and a start that fails for that is tried once more on other ports.
  try {
    return await startKannelOnce(dir, sinkPort, link, store);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}; starting Kannel again\n`);
    return await startKannelOnce(dir, sinkPort, link, store);
  }
}

async function startKannelOnce(
  dir: string,
  sinkPort: number,
  link: SmppLink,
  store: boolean,
): Promise<SystemUnderTest> {
  mkdirSync(join(dir, 'store'), { recursive: true });
  const [admin, box, sendsms] = [await freePort(), await freePort(), await freePort()];
  const smsc = Array.from({ length: link.binds }, () =>
    smppLink({ id: 'sink', port: sinkPort, systemId: 'kannel', password: 'pw', window: link.window }),
  ).join('\n');
  const conf = join(dir, 'kannel.conf');
  writeFileSync(conf, kannelConf({ dir, ports: { admin, box, sendsms }, smsc, logLevel: 2, store }));
  const bb = spawn(bearerbox, ['-v', '2', conf], { stdio: 'ignore' });
  const children = [bb];
  const close = async () => {
    for (const c of children.reverse()) await stop(c);
  };
  try {
    const bound = await until(async () => (await linksOnline(admin)) >= link.binds, 30_000);
    if (!bound) throw new Error(`Kannel did not bind to the sink (see ${dir}/bearerbox.log)`);
    const sb = spawn(smsbox, ['-v', '2', conf], { stdio: 'ignore' });
    children.push(sb);
    // Up once sendsms answers (without parameters it refuses, which is all we need).
    const up = await until(
      () =>
        fetch(`http://127.0.0.1:${sendsms}/cgi-bin/sendsms`).then(
          () => true,
          () => false,
        ),
      30_000,
    );
    if (!up) throw new Error(`Kannel's smsbox did not answer (see ${dir}/smsbox.log)`);
    return { name: 'Kannel', pids: [bb.pid!, sb.pid!], httpPort: sendsms, close };
  } catch (err) {
    await close();
    throw err;
  }
}

// ---- the callback receiver ----------------------------------------------------------------

/**
 * Counts delivery-report callbacks: Kannel's dlr-url (GET /kannel?t=<µs>&s=<%d>) and
 * smsgw's webhook (POST /smsgw, `message.status` with status `delivered`; the text holds
 * the send time). Latency: from the send to the callback. The bystander account's webhook
 * (POST /bystander) counts apart, every status.
 */
export class CallbackReceiver {
  delivered = 0;
  other = 0;
  latenciesUs: number[] = [];
  bystanderEvents = 0;
  bystanderLatenciesUs: number[] = [];
  readonly #server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.end('ok');
      const now = nowUs();
      if (req.url!.startsWith('/kannel')) {
        const q = new URL(req.url!, 'http://x').searchParams;
        if (q.get('s') === '1') this.#count(now, Number(q.get('t')));
        else this.other++;
      } else {
        const event = JSON.parse(Buffer.concat(chunks).toString()) as {
          data: { status: string; text: string };
        };
        if (req.url!.startsWith('/bystander')) {
          this.bystanderEvents++;
          const sentUs = Number(/^T(\d+)/.exec(event.data.text)?.[1]);
          if (sentUs > 0) this.bystanderLatenciesUs.push(now - sentUs);
        } else if (event.data.status === 'delivered')
          this.#count(now, Number(/^T(\d+)/.exec(event.data.text)?.[1]));
        else this.other++;
      }
    });
  });

  #count(now: number, sentUs: number): void {
    this.delivered++;
    if (sentUs > 0) this.latenciesUs.push(now - sentUs);
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return (this.#server.address() as net.AddressInfo).port;
  }

  reset(): void {
    this.delivered = 0;
    this.other = 0;
    this.latenciesUs = [];
    this.bystanderEvents = 0;
    this.bystanderLatenciesUs = [];
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }
}
