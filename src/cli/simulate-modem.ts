// `smsgw simulate modem`: the GSM modem emulator on a serial port or one end of a
// pseudo-terminal pair, with an HTTP control port to send it messages and read its counts.
import Fastify from 'fastify';
import { ModemEmulator } from '../simulator/index.ts';
import { closeOnSignal, parseSimulatorArgs, reportProblems } from './simulator-process.ts';

const help = `usage: smsgw simulate modem --device PATH [options]

Opens PATH (a serial port, or one end of a pseudo-terminal pair such as
  socat -d -d pty,raw,echo=0,link=/tmp/modem-gw pty,raw,echo=0,link=/tmp/modem-sim
gives) and answers there as a GSM modem: AT commands, PDU mode, +CMGS, +CDS status
reports when the SMS-SUBMIT asks for one and +CNMI routes them, a SIM store read
with +CMGR/+CMGL and cleared with +CMGD.

options:
  --device PATH              the serial device to answer on (required)
  --http ADDR:PORT           control API: POST /inbound {from,text} (delivered as +CMTI),
                             GET /stats {sent, received, reports}; POST /hang makes it
                             stop answering (a hung modem), POST /answer undoes it
  --pin NNNN                 the SIM asks for this PIN
  --number NUMBER            the SIM's own number (+CNUM; default +15550100)
  --baud-rate N              line speed (default 115200)
  --report-delay-ms N        +CMGS to its +CDS (default 200)
  --report-status N          TP-ST of the reports (default 0: delivered; 70 = 0x46 expired)
misbehaviour:
  --response-delay-ms N      delay every answer
  --cms-error N              answer every +CMGS with +CMS ERROR: N
`;

export async function simulateModemCommand(argv: string[]): Promise<number> {
  const args = parseSimulatorArgs(
    'smsgw simulate modem',
    argv,
    {
      device: { type: 'string' },
      http: { type: 'string' },
      pin: { type: 'string' },
      number: { type: 'string', default: '+15550100' },
      'baud-rate': { type: 'string', default: '115200' },
      'report-delay-ms': { type: 'string', default: '200' },
      'report-status': { type: 'string', default: '0' },
      'response-delay-ms': { type: 'string', default: '0' },
      'cms-error': { type: 'string' },
    },
    help,
  );
  if ('exitCode' in args) return args.exitCode;
  const { values, int, problems } = args;
  const device = values.device as string | undefined;
  if (!device) problems.push('--device: required (a serial port or one end of a pty pair)');
  const pin = values.pin as string | undefined;
  if (pin !== undefined && !/^\d{4,8}$/.test(pin)) problems.push('--pin: expected 4 to 8 digits');
  const number = String(values.number);
  if (!/^\+?\d{1,20}$/.test(number)) problems.push('--number: expected digits, with + when international');
  const baudRate = int('baud-rate', 300, 4_000_000);
  const reportDelayMs = int('report-delay-ms', 0, 86_400_000);
  const reportStatus = int('report-status', 0, 255);
  const responseDelayMs = int('response-delay-ms', 0, 600_000);
  const cmsError = values['cms-error'] === undefined ? null : int('cms-error', 0, 999);
  if (problems.length > 0 || !device) return reportProblems('smsgw simulate modem', problems);
  const emulator = new ModemEmulator({
    path: device,
    baudRate,
    number,
    reportDelayMs,
    reportStatus,
    responseDelayMs,
    ...(pin === undefined ? {} : { pin }),
  });
  emulator.failSends = cmsError;
  try {
    await emulator.open();
  } catch (err) {
    process.stderr.write(`smsgw simulate modem: cannot open ${device}: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    `modem emulator answering on ${device} (number ${number}${pin ? ', SIM PIN set' : ''})\n`,
  );
  const http = values.http === undefined ? undefined : await startControl(emulator, String(values.http));
  closeOnSignal(
    async () => http?.close(),
    () => emulator.close(),
  );
  return 0;
}

async function startControl(emulator: ModemEmulator, listen: string) {
  const colon = listen.lastIndexOf(':');
  const host = colon > 0 ? listen.slice(0, colon) : '127.0.0.1';
  const port = Number(colon >= 0 ? listen.slice(colon + 1) : listen);
  const app = Fastify();
  app.post(
    '/inbound',
    {
      schema: {
        body: {
          type: 'object',
          required: ['from', 'text'],
          properties: {
            // A number, or a name of up to 11 GSM characters as networks show senders.
            from: { type: 'string', pattern: '^(\\+?[0-9]{1,20}|[A-Za-z0-9 ._-]{1,11})$' },
            text: { type: 'string', minLength: 1, maxLength: 10_000 },
          },
        },
      },
    },
    async (req, reply) => {
      const parts = emulator.injectInbound(req.body as { from: string; text: string });
      return reply.code(202).send({ parts });
    },
  );
  app.get('/stats', async () => emulator.stats);
  // A hung modem, to watch the gateway reset it: everything written to it is ignored.
  app.post('/hang', async () => {
    emulator.hung = true;
    return { hung: true };
  });
  app.post('/answer', async () => {
    emulator.hung = false;
    return { hung: false };
  });
  const address = await app.listen({ host, port });
  process.stdout.write(`modem emulator control API on ${address}\n`);
  return app;
}
