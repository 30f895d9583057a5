// `smsgw config check FILE`: validates a config without starting anything.
import { ConfigError, loadConfigFile } from '../config/index.ts';

export async function configCommand(argv: string[]): Promise<number> {
  const [what, file] = argv;
  if (what !== 'check' || !file) {
    process.stderr.write('usage: smsgw config check FILE\n');
    return 2;
  }
  try {
    const config = loadConfigFile(file);
    process.stdout.write(
      `${file}: ok (${config.accounts.length} accounts, ${config.connectors.length} connectors, ${config.routes.mt.length} MT and ${config.routes.mo.length} MO routes)\n`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.problems.join('\n')}\n`);
    return 2;
  }
}
