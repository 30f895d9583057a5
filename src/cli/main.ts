// The `smsgw` command: one entry point, a subcommand per job.
import { backupCommand } from './backup.ts';
import { configCommand } from './config.ts';
import { keysCommand } from './keys.ts';
import { sendCommand } from './send.ts';
import { serveCommand } from './serve.ts';
import { simulateCommand } from './simulate.ts';

const usage = `usage: smsgw <command> [options]

commands:
  serve [--config FILE] [--http H:P] [--smpp H:P] [--store URL]
                          run the gateway (no config: embedded default with a demo account)
  send --csv FILE | --to NUMBER --text TEXT
                          send a batch or one message through a running gateway
                          (see: smsgw send --help)
  config check FILE       validate a config file
  keys create --account ID
                          print a new API key for an account (stored hashed)
  simulate smsc           run a standalone SMSC simulator (see: smsgw simulate smsc --help)
  simulate modem --device PATH
                          answer as a GSM modem on a serial port or pty (see: smsgw simulate modem --help)
  backup FILE             copy the SQLite store to FILE while the gateway runs
                          (see: smsgw backup --help)
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serveCommand(rest);
    case 'config':
      return configCommand(rest);
    case 'keys':
      return keysCommand(rest);
    case 'send':
      return sendCommand(rest);
    case 'simulate':
      return simulateCommand(rest);
    case 'backup':
      return backupCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(usage);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`smsgw: unknown command '${command}'\n${usage}`);
      return 2;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
