// An SMS provider over HTTP that accepts every request at once, in its own process (as the
// SMPP sink is): what an smsgw `http` connector sends to in the scaling bench. Takes
// `POST /sms {to, text, ref}` and answers `{"id": "h<n>"}` (and, as an HLR for the online
// number lookup, `GET /hlr/{number}` with its network). Prints {"port": N} once
// listening; over IPC answers 'stats' as the SMPP sink does (SinkStats: one request is one
// submit and one message; latencies from the text's `T<µs>` head).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SinkStats } from './smpp-sink.ts';
import { nowUs } from './systems.ts';

const stats: SinkStats = { submits: 0, messages: 0, receipts: 0 };
let latenciesUs: number[] = [];
let n = 0;

const server = http.createServer((req, res) => {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (raw += chunk));
  req.on('end', () => {
    // The online number lookup's provider (the lookup rows of `scaling`): every number is
    // on one network; not counted as a message.
    if (req.url?.startsWith('/hlr/')) {
      const answer = '{"mcc":"234","mnc":"15","ported":false}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
      res.end(answer);
      return;
    }
    stats.submits++;
    stats.messages++;
    const text = (JSON.parse(raw) as { text?: string }).text ?? '';
    if (text.startsWith('T')) {
      const sentUs = Number(text.slice(1, text.indexOf(' ')));
      if (sentUs > 0) latenciesUs.push(nowUs() - sentUs);
    }
    const body = `{"id":"h${(++n).toString(16)}"}`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;

process.on('message', (ask: { latencies?: boolean }) => {
  process.send!({ ...stats, ...(ask.latencies ? { latenciesUs } : {}) } satisfies SinkStats);
  if (ask.latencies) latenciesUs = [];
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
