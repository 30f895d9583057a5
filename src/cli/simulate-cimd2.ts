// `smsgw simulate smsc --protocol cimd2`: the CIMD2 SMS centre on the SMPP simulator's
// options (credentials, delivery delay, outcomes) and control API.
import type { SmscSimulatorOptions } from '../simulator/index.ts';
import { Cimd2Simulator } from '../simulator/index.ts';
import { startControl } from './simulate.ts';
import { closeOnSignal } from './simulator-process.ts';

/** Serves until SIGINT/SIGTERM. */
export async function simulateCimd2(
  options: SmscSimulatorOptions,
  port: number,
  host: string,
  control: string | undefined,
): Promise<number> {
  const simulator = new Cimd2Simulator(options);
  const address = await simulator.listen(port, host);
  const credentials = options.accounts ? `user ${options.accounts[0]!.systemId}` : 'any user/password';
  process.stdout.write(
    `CIMD2 SMSC simulator listening on ${address.address}:${address.port} (${credentials})\n`,
  );
  const http = await startControl(simulator, control, (m) => ({
    ...m,
    udh: m.udh?.toString('hex') ?? null,
    userData: m.userData.toString('hex'),
  }));
  closeOnSignal(
    async () => http?.close(),
    () => simulator.close(),
  );
  return 0;
}
