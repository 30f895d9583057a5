// `smsgw simulate smsc`: the SMSC simulator as a standalone process, with an HTTP control
// port to inject inbound messages and read what it received.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import type { SimulatorOutcome, SmscSimulatorOptions } from '../simulator/index.ts';
import { SmscSimulator } from '../simulator/index.ts';
import { simulateCimd2 } from './simulate-cimd2.ts';
import { simulateModemCommand } from './simulate-modem.ts';
import { simulateUcp } from './simulate-ucp.ts';
import { closeOnSignal, parseSimulatorArgs, reportProblems } from './simulator-process.ts';

const help = `usage: smsgw simulate smsc [options]

Runs an SMSC that plays a carrier for ESMEs under test. It binds any credentials unless
--system-id/--password are given, answers every SMPP 3.4 request, and sends delivery
receipts when registered_delivery asks. With --protocol ucp it speaks UCP/EMI instead:
logins (60), submits (51, answered AdC:SCTS), notifications (53) when NRq asks, inbound
as 52, alerts (31). With --protocol cimd2 it speaks CIMD2: logins (01, --system-id and
--password as user identity and password), submits (03), status reports (23) when 056
asks, inbound as 20, alive (40). The options below the misbehaviour line are SMPP only.

options:
  --protocol smpp|ucp|cimd2  the protocol it serves (default smpp)
  --host ADDR                listen address (default 127.0.0.1)
  --port N                   SMPP port (default 2776)
  --system-id ID             accept only this system_id ...
  --password PW              ... with this password
  --delivery-delay-ms N      submit to receipt (default 200)
  --outcome PATTERN=STAT[:ERR]  receipt outcome by destination, first match wins
                             (e.g. "+1555000*=UNDELIV:001"); repeatable
  --message-id hex|decimal   message_id format in submit_sm_resp (default hex)
  --receipt-id hex|decimal   id format inside receipt texts (default hex)
  --tls-port N --tls-cert F --tls-key F   also listen with TLS
  --http ADDR:PORT           control API: POST /inbound {from,to,text,systemId?,longMessages?},
                             GET /stats, GET /messages/:id
misbehaviour:
  --throttle-tps N           answer ESME_RTHROTTLED above N submits/s
  --drop-every N             drop the connection every N PDUs received
  --response-delay-ms N      delay every submit response
  --fail-rate R              answer a share R (0..1) of submits with --fail-status
  --fail-status N            command_status for failed submits (default 0x45 ESME_RSUBMITFAIL)
  --seed N                   seed for --fail-rate (default 1)
`;

export async function simulateCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what === 'modem') return simulateModemCommand(rest);
  if (what !== 'smsc') {
    process.stderr.write(`smsgw simulate: expected 'smsc' or 'modem'\n${help}`);
    return 2;
  }
  const args = parseSimulatorArgs(
    'smsgw simulate smsc',
    rest,
    {
      protocol: { type: 'string', default: 'smpp' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '2776' },
      'system-id': { type: 'string' },
      password: { type: 'string' },
      'delivery-delay-ms': { type: 'string', default: '200' },
      outcome: { type: 'string', multiple: true },
      'message-id': { type: 'string', default: 'hex' },
      'receipt-id': { type: 'string', default: 'hex' },
      'tls-port': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      http: { type: 'string' },
      'throttle-tps': { type: 'string', default: '0' },
      'drop-every': { type: 'string', default: '0' },
      'response-delay-ms': { type: 'string', default: '0' },
      'fail-rate': { type: 'string', default: '0' },
      'fail-status': { type: 'string', default: '0x45' },
      seed: { type: 'string', default: '1' },
    },
    help,
  );
  if ('exitCode' in args) return args.exitCode;
  const { values, int, problems } = args;
  const port = int('port', 0, 65535);
  const options: SmscSimulatorOptions = {
    deliveryDelayMs: int('delivery-delay-ms', 0, 86_400_000),
    throttleTps: int('throttle-tps', 0, 10_000_000),
    dropEveryPdus: int('drop-every', 0, 1_000_000_000),
    responseDelayMs: int('response-delay-ms', 0, 600_000),
    failStatus: int('fail-status', 1, 0xffffffff),
    seed: int('seed', 0, 0xffffffff),
    outcomes: ((values.outcome as string[] | undefined) ?? []).flatMap((spec): SimulatorOutcome[] => {
      const m = /^([^=]+)=([A-Z]+)(?::(\w+))?$/.exec(spec);
      if (!m) {
        problems.push(`--outcome: expected PATTERN=STAT[:ERR], got '${spec}'`);
        return [];
      }
      return [{ to: m[1]!, stat: m[2]!, ...(m[3] ? { err: m[3] } : {}) }];
    }),
  };
  const failRate = Number(values['fail-rate']);
  if (!(failRate >= 0 && failRate <= 1)) problems.push(`--fail-rate: expected a number 0..1`);
  options.failRate = failRate;
  for (const name of ['message-id', 'receipt-id'] as const) {
    const v = values[name];
    if (v !== 'hex' && v !== 'decimal') problems.push(`--${name}: expected hex or decimal`);
  }
  options.messageIdFormat = values['message-id'] as 'hex' | 'decimal';
  options.receiptIdFormat = values['receipt-id'] as 'hex' | 'decimal';
  const systemId = values['system-id'] as string | undefined;
  const password = values.password as string | undefined;
  if ((systemId === undefined) !== (password === undefined))
    problems.push('--system-id and --password go together');
  if (systemId !== undefined && password !== undefined) options.accounts = [{ systemId, password }];
  const tlsPort = values['tls-port'] === undefined ? undefined : int('tls-port', 0, 65535);
  if (tlsPort !== undefined) {
    if (!values['tls-cert'] || !values['tls-key']) problems.push('--tls-port needs --tls-cert and --tls-key');
    else {
      try {
        options.tls = {
          cert: readFileSync(String(values['tls-cert'])),
          key: readFileSync(String(values['tls-key'])),
        };
      } catch (err) {
        problems.push(`--tls-cert/--tls-key: ${(err as Error).message}`);
      }
    }
  }
  const protocol = String(values.protocol);
  if (protocol !== 'smpp' && protocol !== 'ucp' && protocol !== 'cimd2')
    problems.push(`--protocol: expected smpp, ucp or cimd2, got '${protocol}'`);
  if (protocol !== 'smpp' && tlsPort !== undefined) problems.push('--tls-port: only with --protocol smpp');
  if (problems.length > 0) return reportProblems('smsgw simulate smsc', problems);
  if (protocol === 'ucp')
    return simulateUcp(options, port, String(values.host), values.http as string | undefined);
  if (protocol === 'cimd2')
    return simulateCimd2(options, port, String(values.host), values.http as string | undefined);

  const simulator = new SmscSimulator(options);
  const host = String(values.host);
  const address = await simulator.listen(port, host);
  const credentials = systemId ? `system_id ${systemId}` : 'any system_id/password';
  process.stdout.write(`SMSC simulator listening on ${address.address}:${address.port} (${credentials})\n`);
  if (tlsPort !== undefined) {
    const tlsAddress = await simulator.listen(tlsPort, host, true);
    process.stdout.write(`SMSC simulator TLS on ${tlsAddress.address}:${tlsAddress.port}\n`);
  }
  const http = await startControl(simulator, values.http as string | undefined, (m) => ({
    ...m,
    shortMessage: m.shortMessage.toString('hex'),
  }));
  closeOnSignal(
    async () => http?.close(),
    () => simulator.close(),
  );
  return 0;
}

/** What the control API reaches, whichever protocol the simulator speaks. */
export interface ControlledSimulator<Message> {
  readonly stats: object;
  injectInbound(message: {
    from: string;
    to: string;
    text: string;
    systemId?: string;
    longMessages?: 'udh' | 'sar' | 'payload';
  }): number;
  findMessage(id: string): Message | undefined;
}

/**
 * The control API on `listen` (none without it). `json` shows a stored message (its
 * buffers as hex).
 */
export async function startControl<Message extends object>(
  simulator: ControlledSimulator<Message>,
  listen: string | undefined,
  json: (message: Message) => object = (message) => message,
) {
  if (listen === undefined) return undefined;
  const colon = listen.lastIndexOf(':');
  const host = colon > 0 ? listen.slice(0, colon) : '127.0.0.1';
  const port = Number(colon >= 0 ? listen.slice(colon + 1) : listen);
  const app = Fastify();
  app.post<{
    Body: { from?: unknown; to?: unknown; text?: unknown; systemId?: unknown; longMessages?: unknown };
  }>(
    '/inbound',
    {
      schema: {
        body: {
          type: 'object',
          required: ['from', 'to', 'text'],
          properties: {
            from: { type: 'string', minLength: 1, maxLength: 20 },
            to: { type: 'string', minLength: 1, maxLength: 20 },
            text: { type: 'string', maxLength: 40_000 },
            systemId: { type: 'string', maxLength: 15 },
            longMessages: { enum: ['udh', 'sar', 'payload'] },
          },
        },
      },
    },
    async (req, reply) => {
      const b = req.body as {
        from: string;
        to: string;
        text: string;
        systemId?: string;
        longMessages?: 'udh' | 'sar' | 'payload';
      };
      const parts = simulator.injectInbound(b);
      return reply.code(202).send({ parts });
    },
  );
  app.get('/stats', async () => simulator.stats);
  app.get<{ Params: { id: string } }>('/messages/:id', async (req, reply) => {
    const m = simulator.findMessage(req.params.id);
    if (!m) return reply.code(404).send({ error: { code: 'not_found', message: 'no such message' } });
    return json(m);
  });
  const address = await app.listen({ host, port });
  process.stdout.write(`SMSC simulator control API on ${address}\n`);
  return app;
}
