// `smsgw config check FILE`: validates a config without starting anything. Each problem is
// `FILE:LINE:COL path: message`; warnings (`... path: warning: message`) do not fail it.
import { readFileSync } from 'node:fs';
import { checkConfigText, type GatewayConfig } from '../config/index.ts';
import { Interceptors, interceptorLoadProblems } from '../core/index.ts';
import { storeUrlProblem } from '../store/index.ts';

const usage = `usage: smsgw config check FILE

Validates a config file without starting anything. Each problem is printed as
FILE:LINE:COL path: message (exit code 2); warnings (FILE:LINE:COL path: warning: message)
do not fail the check.
`;

export async function configCommand(argv: string[]): Promise<number> {
  const [what, file] = argv;
  if (what === '--help' || what === '-h' || file === '--help' || file === '-h') {
    process.stdout.write(usage);
    return 0;
  }
  if (what !== 'check' || !file) {
    process.stderr.write(usage);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    process.stderr.write(`${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}\n`);
    return 2;
  }
  const storeUrl = (c: GatewayConfig) => {
    const problem = storeUrlProblem(c.store);
    return problem ? [{ path: 'store', message: problem }] : [];
  };
  let { findings, config } = checkConfigText(text, process.env, [storeUrl]);
  if (config) {
    // Interceptor modules are loaded as serve loads them (in a worker): the file is checked, not just found.
    const interceptors = new Interceptors({ workers: 1 });
    const unloadable = await interceptorLoadProblems(config.routes, interceptors);
    await interceptors.close();
    if (unloadable.length > 0)
      ({ findings, config } = checkConfigText(text, process.env, [() => unloadable]));
  }
  for (const f of findings) {
    const kind = f.severity === 'warning' ? 'warning: ' : '';
    process.stderr.write(`${file}:${f.line}:${f.col} ${f.path}: ${kind}${f.message}\n`);
  }
  if (!config) return 2;
  const warnings = findings.length;
  process.stdout.write(
    `${file}: ok (${config.accounts.length} accounts, ${config.connectors.length} connectors, ${config.routes.mt.length} MT and ${config.routes.mo.length} MO routes${warnings > 0 ? `; ${warnings} warning${warnings === 1 ? '' : 's'}` : ''})\n`,
  );
  return 0;
}
