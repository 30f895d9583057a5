// The `smsgw` command: one entry point, a subcommand per job. Each subcommand's modules are
// loaded when it runs: `serve` does not hold the simulators, nor `send` the gateway.

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
      return (await import('./serve.ts')).serveCommand(rest);
    case 'config':
      return (await import('./config.ts')).configCommand(rest);
    case 'keys':
      return (await import('./keys.ts')).keysCommand(rest);
    case 'send':
      return (await import('./send.ts')).sendCommand(rest);
    case 'simulate':
      return (await import('./simulate.ts')).simulateCommand(rest);
    case 'backup':
      return (await import('./backup.ts')).backupCommand(rest);
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
