// A stand-in for an upstream SMS provider over HTTP: records every request and answers as
// `answer` says (status, headers, body; `hang` never answers).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpConnectorConfig } from '../../src/config/types.ts';

export interface StubRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface StubAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (the connector's timeout is what ends it). */
  hang?: boolean;
}

export async function providerStub(answer: (req: StubRequest, n: number) => StubAnswer = () => ({})) {
  const requests: StubRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const recorded = { method: req.method!, url: req.url!, headers: req.headers, body };
      requests.push(recorded);
      const a = answer(recorded, requests.length);
      if (a.hang) {
        hanging.add(res);
        return;
      }
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '{"id":"p-1"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    requests,
    base,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A generic http connector's config with the defaults the schema fills in. */
export function httpConfig(fields: Partial<HttpConnectorConfig> = {}): HttpConnectorConfig {
  return {
    id: 'provider',
    type: 'http',
    method: 'POST',
    format: 'json',
    accepted: {},
    longMessages: 'whole',
    tps: 0,
    concurrency: 8,
    timeoutSeconds: 5,
    ...fields,
  };
}
