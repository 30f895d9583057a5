// `npm run bench`: prints throughput and latency figures, with independent peers measured
// side by side in the same run. No figure passes or fails (a lost message does). `npm run bench -- codec`
// runs one part; `npm run bench -- --vs kannel` runs smsgw head to head with Kannel (and
// adds Kannel to `scaling` when that part runs too).
import { parseArgs } from 'node:util';
import { benchBatch } from './batch.ts';
import { benchCluster } from './cluster.ts';
import { benchCodec } from './codec.ts';
import { benchGateway } from './gateway.ts';
import { benchMemory } from './memory.ts';
import { benchHttpConnector, benchInterceptor, benchLookup, benchScaling } from './scaling.ts';
import { benchSession } from './session.ts';
import { benchSms } from './sms.ts';
import { benchSoak } from './soak.ts';
import { benchStore } from './store.ts';
import { benchVsKannel } from './vs-kannel.ts';
import { benchWebhooks } from './webhooks.ts';

interface BenchOptions {
  vsKannel: boolean;
}

const parts: Record<string, (options: BenchOptions) => Promise<void>> = {
  sms: benchSms,
  codec: benchCodec,
  session: benchSession,
  store: benchStore,
  gateway: benchGateway,
  batch: benchBatch,
  scaling: benchScaling,
  cluster: benchCluster,
  'scaling-http': benchHttpConnector,
  'scaling-lookup': benchLookup,
  'scaling-interceptor': benchInterceptor,
  memory: benchMemory,
  soak: benchSoak,
  'vs-kannel': benchVsKannel,
  webhooks: benchWebhooks,
};

function usage(problem: string): never {
  process.stderr.write(
    `${problem}\nusage: npm run bench -- [--vs kannel] [part ...]; parts: ${Object.keys(parts).join(', ')}\n`,
  );
  process.exit(2);
}

let args: { values: { vs?: string }; positionals: string[] };
try {
  args = parseArgs({ options: { vs: { type: 'string' } }, allowPositionals: true });
} catch (err) {
  usage((err as Error).message);
}
if (args.values.vs !== undefined && args.values.vs !== 'kannel')
  usage(`--vs ${args.values.vs}: the only peer is kannel`);
const options: BenchOptions = { vsKannel: args.values.vs === 'kannel' };
const unknown = args.positionals.filter((w) => !(w in parts));
if (unknown.length > 0) usage(`unknown bench part(s): ${unknown.join(', ')}`);
// With no part named: everything but the Kannel head-to-head, which `--vs kannel` asks for,
// and scaling's http, lookup and interceptor rows alone (scaling runs them).
const alsoInScaling = ['scaling-http', 'scaling-lookup', 'scaling-interceptor'];
const wanted =
  args.positionals.length > 0 || options.vsKannel
    ? [...new Set([...(options.vsKannel ? ['vs-kannel'] : []), ...args.positionals])]
    : Object.keys(parts).filter((p) => p !== 'vs-kannel' && !alsoInScaling.includes(p));

const os = await import('node:os');
process.stdout.write(
  `smsgw bench — ${new Date().toISOString()} — node ${process.version} — ${os.cpus()[0]?.model ?? '?'} × ${os.availableParallelism()}\n`,
);
for (const name of wanted) await parts[name]!(options);
