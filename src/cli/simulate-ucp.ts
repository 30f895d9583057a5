// `smsgw simulate smsc --protocol ucp`: the UCP/EMI simulator on the SMPP one's options
// (credentials, delivery delay, outcomes) and control API.
import type { SmscSimulatorOptions } from '../simulator/index.ts';
import { UcpSmscSimulator } from '../simulator/index.ts';
import { startControl } from './simulate.ts';
import { closeOnSignal } from './simulator-process.ts';

/** Serves until SIGINT/SIGTERM. */
export async function simulateUcp(
  options: SmscSimulatorOptions,
  port: number,
  host: string,
  control: string | undefined,
): Promise<number> {
  const simulator = new UcpSmscSimulator({
    ...(options.accounts ? { accounts: options.accounts } : {}),
    ...(options.deliveryDelayMs === undefined ? {} : { deliveryDelayMs: options.deliveryDelayMs }),
    ...(options.outcomes ? { outcomes: options.outcomes } : {}),
  });
  const address = await simulator.listen(port, host);
  const credentials = options.accounts ? `login ${options.accounts[0]!.systemId}` : 'any login';
  process.stdout.write(
    `UCP/EMI SMSC simulator listening on ${address.address}:${address.port} (${credentials})\n`,
  );
  const http = await startControl(simulator, control);
  closeOnSignal(
    async () => http?.close(),
    () => simulator.close(),
  );
  return 0;
}
