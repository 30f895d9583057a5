// A small HLR / number-portability provider for the online lookup's tests: answers
// GET /hlr/{number} with the network its table gives the number (404 for one it lacks),
// counts requests per number, and can be taken down (503) or made slow.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function hlrProvider(
  networks: Record<string, { mcc: string; mnc: string; ported?: boolean; name?: string }>,
) {
  const calls = new Map<string, number>();
  const state = { down: false, delayMs: 0 };
  const server = http.createServer((req, res) => {
    const number = decodeURIComponent(new URL(req.url!, 'http://x').pathname.replace(/^\/hlr\//, ''));
    calls.set(number, (calls.get(number) ?? 0) + 1);
    const answer = () => {
      if (state.down) {
        res.statusCode = 503;
        res.end('down');
        return;
      }
      const n = networks[number];
      res.statusCode = n ? 200 : 404;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify(
          n
            ? {
                result: {
                  msisdn: number,
                  mcc: n.mcc,
                  mnc: n.mnc,
                  ported: n.ported ?? false,
                  network: n.name ?? null,
                },
              }
            : { error: 'unknown number' },
        ),
      );
    };
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    state,
    calls: (number: string) => calls.get(number) ?? 0,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
