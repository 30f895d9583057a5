// A free TCP port on 127.0.0.1, for peers and processes that must be told theirs before
// they start. No test hooks here: the benchmarks import it too.
import net from 'node:net';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
