// A plain HTTP receiver for compat callbacks (Kannel/Jasmin DLR URLs, Twilio webhooks):
// records every request's method, URL, headers and raw body; `answer` decides the reply.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  raw: string;
  form: URLSearchParams;
}

export async function callbackReceiver(
  answer: (r: ReceivedRequest) => { status?: number; type?: string; body?: string } = () => ({}),
) {
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const r: ReceivedRequest = {
        method: req.method!,
        url: new URL(req.url!, base),
        headers: req.headers,
        raw,
        form: new URLSearchParams(raw),
      };
      requests.push(r);
      const a = answer(r);
      res.statusCode = a.status ?? 200;
      if (a.type) res.setHeader('content-type', a.type);
      res.end(a.body ?? 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    requests,
    base,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
