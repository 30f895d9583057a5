// A throwaway PostgreSQL server for tests: initdb in a temp dir, started with pg_ctl on a
// free port (unix socket in the temp dir too), stopped and removed by stop() or at exit.
// PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user
// (or `nobody`), which is given the temp dir.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.ts';

const run = promisify(execFile);

export interface PostgresServer {
  /** A connection URL for a database of this server. */
  url(database: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server as an operator would (fast: open sessions are ended), keeping its data. */
  shutDown(): Promise<void>;
  /** Starts it again after shutDown, on the same port and data. */
  startAgain(): Promise<void>;
  stop(): Promise<void>;
  /** The postmaster's process id (its children are the sessions), for measuring its CPU. */
  pid(): number;
}

export interface PostgresOptions {
  /** More server settings (`name=value`), e.g. to preload pg_stat_statements for a bench. */
  settings?: string[];
}

/** The newest Debian PostgreSQL's binaries (/usr/lib/postgresql/<major>/bin). */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) throw new Error(`no PostgreSQL under ${root}`);
  return join(root, majors[0]!, 'bin');
}

/** Under root: the command prefix and the owner of the server's files. */
function unprivileged(): { prefix: string[]; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const user of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    if (uid.status !== 0) continue;
    const gid = execFileSync('id', ['-g', user], { encoding: 'utf8' });
    return { prefix: ['runuser', '-u', user, '--'], uid: Number(uid.stdout), gid: Number(gid) };
  }
  throw new Error('running as root and there is no postgres or nobody user to run PostgreSQL as');
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-pg-'));
  const data = join(dir, 'data');
  const as = unprivileged();
  if (as) chownSync(dir, as.uid, as.gid);
  const exec = (command: string, args: string[]) => {
    const [file, ...rest] = [...(as?.prefix ?? []), join(bin, command), ...args];
    return run(file!, rest, { cwd: dir });
  };
  const port = await freePort();
  const stopNow = () => {
    const [file, ...rest] = [
      ...(as?.prefix ?? []),
      join(bin, 'pg_ctl'),
      '-D',
      data,
      '-m',
      'immediate',
      'stop',
    ];
    spawnSync(file!, rest, { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopNow);
  // fsync off: a throwaway cluster; what a COMMIT promises is PostgreSQL's, not under test.
  const settings = [
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    ...(options.settings ?? []).map((s) => `-c ${s}`),
  ].join(' ');
  const start = () =>
    exec('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', settings, '-w', 'start']);
  try {
    await exec('initdb', ['-D', data, '-U', 'smsgw', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await start();
  } catch (error) {
    stopNow();
    throw error;
  }
  const url = (database: string) => `postgres://smsgw@127.0.0.1:${port}/${database}`;
  let databases = 0;
  return {
    url,
    async createDatabase() {
      const name = `smsgw_${++databases}`;
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    async shutDown() {
      await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    async startAgain() {
      await start();
    },
    pid() {
      return Number(readFileSync(join(data, 'postmaster.pid'), 'latin1').split('\n')[0]);
    },
    async stop() {
      process.off('exit', stopNow);
      stopNow();
    },
  };
}
