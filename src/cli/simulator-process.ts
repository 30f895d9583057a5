// What every `smsgw simulate` command does alike: read its arguments (with --help and
// integer options checked against their ranges) and serve until SIGINT/SIGTERM.
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';

export type SimulatorArgs =
  | { exitCode: number }
  | {
      values: Record<string, string | string[] | boolean | undefined>;
      /** The integer option `name`, a problem noted when it is not one in min..max. */
      int(name: string, min: number, max: number): number;
      /** What is wrong with the arguments; report them with reportProblems. */
      problems: string[];
    };

/**
 * Parses `argv` for `command` (as in `smsgw simulate modem`). Bad syntax is said on stderr
 * (exit code 2); --help prints `help` (exit code 0).
 */
export function parseSimulatorArgs(
  command: string,
  argv: string[],
  options: ParseArgsOptionsConfig,
  help: string,
): SimulatorArgs {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    process.stderr.write(`${command}: ${(err as Error).message}\n`);
    return { exitCode: 2 };
  }
  if (values.help) {
    process.stdout.write(help);
    return { exitCode: 0 };
  }
  const problems: string[] = [];
  const int = (name: string, min: number, max: number): number => {
    const raw = String(values[name]);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      problems.push(`--${name}: expected integer ${min}..${max}, got '${raw}'`);
    return n;
  };
  return { values, int, problems };
}

/** Says each problem on stderr; the exit code for them (2). */
export function reportProblems(command: string, problems: string[]): number {
  for (const p of problems) process.stderr.write(`${command}: ${p}\n`);
  return 2;
}

/** On SIGINT or SIGTERM: closes `closers` in order, then exits. */
export function closeOnSignal(...closers: Array<() => Promise<unknown>>): void {
  const stop = async () => {
    for (const close of closers) await close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
