// `npm run bench`: prints throughput and latency figures, with independent peers measured
// side by side in the same run. Nothing here passes or fails. `npm run bench -- codec`
// runs one part.
import { benchBatch } from './batch.ts';
import { benchCodec } from './codec.ts';
import { benchGateway } from './gateway.ts';
import { benchSession } from './session.ts';
import { benchSms } from './sms.ts';
import { benchStore } from './store.ts';

const parts: Record<string, () => Promise<void>> = {
  sms: benchSms,
  codec: benchCodec,
  session: benchSession,
  store: benchStore,
  gateway: benchGateway,
  batch: benchBatch,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in parts));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown bench part(s): ${unknown.join(', ')}; parts: ${Object.keys(parts).join(', ')}\n`,
  );
  process.exit(2);
}
const os = await import('node:os');
process.stdout.write(
  `smsgw bench — ${new Date().toISOString()} — node ${process.version} — ${os.cpus()[0]?.model ?? '?'} × ${os.availableParallelism()}\n`,
);
for (const name of wanted.length > 0 ? wanted : Object.keys(parts)) await parts[name]!();
