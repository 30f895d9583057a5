// The floor under smsgw's idle memory: the stack the gateway is built on (Node 24, fastify,
// pino, prom-client's default metrics, node:sqlite in WAL mode, an HMAC) doing what an idle
// gateway's stack does (an HTTP and a TCP listener, a table written), with no gateway code
// at all. bench/memory.ts starts it with bin/smsgw's flags for serve and reads its RSS beside
// the gateway's: what the gateway holds above it is its own.
// `node bench/stack-floor.ts DIR`: prints `ready` once started and collected, then waits.
// Run with NODE_COMPILE_CACHE set, as bin/smsgw runs serve: its first start leaves this
// file's stripped types in the cache, so later ones load no type stripper.
import { createHmac } from 'node:crypto';
import { flushCompileCache } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import Fastify from 'fastify';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/stack-floor.ts DIR');
const log = pino({ level: 'info' });
const registry = new Registry();
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
const db = new DatabaseSync(join(dir, 'floor.db'));
db.exec('PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, body TEXT)');
db.prepare('INSERT OR REPLACE INTO t VALUES (?, ?)').run(
  '1',
  createHmac('sha256', 'key').update('x').digest('hex'),
);
const http = Fastify();
http.get('/metrics', async () => registry.metrics());
await http.listen({ host: '127.0.0.1', port: 0 });
const tcp = createServer((socket) => socket.end());
await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
log.info({ http: http.addresses(), tcp: tcp.address() }, 'floor started');
// As serve does once started (src/app/memory.ts): start-up's garbage collected.
globalThis.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
flushCompileCache();
process.stdout.write('ready\n');
