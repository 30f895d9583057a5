// A system under test that does nothing: `POST /v1/messages` is answered 202 at once and,
// with `--callback URL`, the webhook smsgw would send for its delivery is posted at once
// (keep-alive, up to 32 in flight, as smsgw's sender). No SMPP, no store. Measured like the
// real systems, it shows what the load generator and callback receiver take on their own
// on this machine: no system can be measured faster. Prints {"port": N} once listening.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const at = process.argv.indexOf('--callback');
const callback = at > 0 ? new URL(process.argv[at + 1]!) : null;
const pool = callback ? new Pool(callback.origin, { connections: 32 }) : null;
const waiting: string[] = [];
let inFlight = 0;

function post(): void {
  while (pool && inFlight < 32 && waiting.length > 0) {
    const body = waiting.shift()!;
    inFlight++;
    pool
      .request({
        path: callback!.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      .then((res) => res.body.dump())
      .catch(() => {})
      .finally(() => {
        inFlight--;
        post();
      });
  }
}

const server = http.createServer((req, res) => {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (raw += chunk));
  req.on('end', () => {
    res.statusCode = 202;
    res.setHeader('content-type', 'application/json');
    res.end('{"status":"queued"}');
    if (!pool) return;
    const { text } = JSON.parse(raw) as { text: string };
    waiting.push(JSON.stringify({ type: 'message.status', data: { status: 'delivered', text } }));
    post();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
