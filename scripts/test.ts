// `npm test`: makes sure the independent interop peers are installed (Debian packages,
// installed when missing and we are root), then runs every test with node's runner.
// Extra arguments are passed on: `npm test -- test/sms` runs one folder.
import { spawnSync } from 'node:child_process';
import { ensurePeers } from './peers.ts';

ensurePeers();

const args = process.argv.slice(2);
const targets = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const files =
  targets.length > 0
    ? targets.map((t) => (t.endsWith('.ts') ? t : `${t}/**/*.test.ts`))
    : ['test/**/*.test.ts'];
const run = spawnSync(process.execPath, ['--test', '--test-timeout=120000', ...flags, ...files], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
