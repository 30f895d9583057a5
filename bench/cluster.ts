// `npm run bench -- cluster`: what a message costs on PostgreSQL against SQLite, and so what
// one PostgreSQL primary carries. REST → SMPP with a receipt and a webhook per message (a
// message's whole life: accepted, claimed, submitted, its receipt applied, its webhook sent),
// the same load for every row, both stores durable (SQLite synchronous=FULL; PostgreSQL with
// fsync and synchronous_commit on). Per message: the gateways' CPU, PostgreSQL's CPU (the
// postmaster and all its sessions), statements sent (pg_stat_statements, top level: the
// round trips), rows written and commits (pg_stat_database), WAL bytes (pg_current_wal_lsn).
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { startPostgres } from '../test/peers/postgres.ts';
import { formatRate, printTable } from './report.ts';
import { type Measure, runCase } from './runs.ts';
import { cpuSeconds, procStat, sleep } from './systems.ts';
import { headToHeadConcurrency } from './vs-kannel.ts';

const smoke = process.env.BENCH_SMOKE === '1';
const messages = Number(process.env.BENCH_CLUSTER_MESSAGES ?? (smoke ? 200 : 10_000));
/** PostgreSQL's CPU so far: the postmaster, its sessions that ended (cutime) and those running. */
function postgresCpuSeconds(postmaster: number): number {
  let total = cpuSeconds(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // stat(5) field 4: the parent.
      if (procStat(Number(entry))[1] === postmaster) total += cpuSeconds(Number(entry));
    } catch {
      // It ended meanwhile: its time is in the postmaster's cutime now.
    }
  }
  return total;
}

/** PostgreSQL's figures over the measured span, per message. */
function postgresMeasure(url: string, postmaster: number): Measure {
  const db = new pg.Client({ connectionString: url });
  let connected: Promise<void> | null = null;
  let before: {
    cpu: number;
    wal: string;
    commits: number;
    rows: number;
    tables: Map<string, number[]>;
  } | null = null;
  const database = new URL(url).pathname.slice(1);
  const counters = async () => {
    const { rows } = await db.query(
      `SELECT pg_current_wal_lsn() AS wal, xact_commit AS commits,
              tup_inserted + tup_updated + tup_deleted AS rows
         FROM pg_stat_database WHERE datname = $1`,
      [database],
    );
    const { rows: perTable } = await db.query(
      'SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables',
    );
    const tables = new Map<string, number[]>(
      perTable.map((r) => [
        r.relname as string,
        [Number(r.n_tup_ins), Number(r.n_tup_upd), Number(r.n_tup_del)],
      ]),
    );
    return {
      wal: rows[0].wal as string,
      commits: Number(rows[0].commits),
      rows: Number(rows[0].rows),
      tables,
    };
  };
  return {
    async start() {
      connected ??= db
        .connect()
        .then(() => db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements'))
        .then(() => {});
      await connected;
      await db.query('SELECT pg_stat_statements_reset()');
      before = { ...(await counters()), cpu: postgresCpuSeconds(postmaster) };
    },
    async end(count) {
      const cpu = postgresCpuSeconds(postmaster) - before!.cpu;
      const { rows } = await db.query(
        `SELECT coalesce(sum(calls), 0) AS calls FROM pg_stat_statements s
           JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1`,
        [database],
      );
      // Idle sessions report their table and commit counts within 10 s (PGSTAT_IDLE_INTERVAL).
      await sleep(11_000);
      const after = await counters();
      const { rows: wal } = await db.query('SELECT pg_wal_lsn_diff($1, $2) AS bytes', [
        after.wal,
        before!.wal,
      ]);
      await db.end();
      // Rows inserted, updated and deleted per message, by table (`rows <table> ins|upd|del`).
      const byTable: Record<string, number> = {};
      for (const [table, counts] of after.tables) {
        const was = before!.tables.get(table) ?? [0, 0, 0];
        counts.forEach((n, i) => {
          const change = (n - was[i]!) / count;
          if (change > 0.005) byTable[`rows ${table} ${['ins', 'upd', 'del'][i]}`] = change;
        });
      }
      return {
        ...byTable,
        postgresCpuUs: (cpu / count) * 1e6,
        statements: Number(rows[0].calls) / count,
        rows: (after.rows - before!.rows) / count,
        commits: (after.commits - before!.commits) / count,
        walBytes: Number(wal[0].bytes) / count,
      };
    },
  };
}

export async function benchCluster(): Promise<void> {
  // Durable as SQLite's synchronous=FULL: the throwaway server's fsync=off is put back on.
  const server = await startPostgres({
    settings: ['fsync=on', 'synchronous_commit=on', 'shared_preload_libraries=pg_stat_statements'],
  });
  const rows: string[][] = [];
  let sqliteCpuUs = 0;
  let breakdown: Record<string, number> = {};
  try {
    for (const row of [
      { store: 'sqlite', nodes: 1 },
      { store: 'postgres', nodes: 1 },
      { store: 'postgres', nodes: 3 },
    ]) {
      const url = row.store === 'postgres' ? await server.createDatabase() : undefined;
      const r = await runCase({
        system: 'smsgw-rest',
        link: { binds: 2, window: 64 },
        receipts: true,
        parts: 1,
        messages,
        concurrency: headToHeadConcurrency,
        store: url,
        nodes: row.nodes,
        measure: url ? postgresMeasure(url, server.pid()) : undefined,
      });
      const m = r.measured;
      const gatewayUs = r.cpuSecondsPer1k * 1000;
      const totalUs = gatewayUs + (m.postgresCpuUs ?? 0);
      if (row.store === 'sqlite') sqliteCpuUs = totalUs;
      if (row.store === 'postgres' && row.nodes === 1) breakdown = m;
      const figure = (v: number | undefined, digits = 1) => (v === undefined ? '–' : v.toFixed(digits));
      rows.push([
        row.store === 'sqlite' ? 'SQLite' : 'PostgreSQL',
        String(row.nodes),
        formatRate(r.messagesPerSecond),
        r.p50Ms.toFixed(1),
        gatewayUs.toFixed(0),
        figure(m.postgresCpuUs, 0),
        totalUs.toFixed(0),
        `${(totalUs / sqliteCpuUs).toFixed(2)}×`,
        figure(m.statements),
        figure(m.rows),
        figure(m.commits, 2),
        figure(m.walBytes, 0),
        m.postgresCpuUs ? formatRate(1e6 / m.postgresCpuUs) : '–',
      ]);
    }
  } finally {
    await server.stop();
  }
  printTable(
    `Cluster store: REST → SMPP with a receipt and a webhook per message, ${messages.toLocaleString('en-US')} messages, ${headToHeadConcurrency} HTTP connections spread over the nodes, 2 binds × window 64 (a cluster-wide budget); both stores durable; figures per message`,
    [
      'store',
      'nodes',
      'msgs/s',
      'p50 ms',
      'gateway CPU µs',
      'PostgreSQL CPU µs',
      'total CPU µs',
      '× SQLite',
      'statements',
      'rows written',
      'commits',
      'WAL bytes',
      'msgs/s per PostgreSQL core',
    ],
    rows,
  );
  printTable(
    'Cluster store: where the rows written go (PostgreSQL, 1 node), per message',
    ['table', 'inserted', 'updated', 'deleted'],
    [
      ...new Set(
        Object.keys(breakdown)
          .filter((k) => k.startsWith('rows '))
          .map((k) => k.split(' ')[1]!),
      ),
    ].map((table) => [
      table,
      ...['ins', 'upd', 'del'].map((op) => (breakdown[`rows ${table} ${op}`] ?? 0).toFixed(2)),
    ]),
  );
}
