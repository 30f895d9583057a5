// The console's files over plain HTTP: what is served, with which headers, and that no
// request path reaches outside the console's folder.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { consoleSecurityHeaders } from '../../src/console/index.ts';
import { gatewayFrom } from '../e2e/helpers.ts';

/** A GET with the path sent exactly as written (fetch would resolve `..` before sending). */
function rawGet(base: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(base);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request({ hostname, port, path, method: 'GET', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('console files', () => {
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  before(async () => {
    gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1] }]
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }
`);
  });
  after(() => gw?.close());

  test('/console answers the page with a strict Content-Security-Policy', async () => {
    for (const path of ['/console', '/console/']) {
      const res = await fetch(gw.base + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      const html = await res.text();
      assert.match(html, /<script type="module" src="\/console\/app\.js"><\/script>/);
      // Nothing inline for the CSP to have to allow.
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>|<style|\son\w+=/i);
    }
  });

  test('scripts and styles are served with their types and the same headers', async () => {
    for (const [path, type] of [
      ['/console/app.js', /^text\/javascript/],
      ['/console/dom.js', /^text\/javascript/],
      ['/console/console.css', /^text\/css/],
    ] as const) {
      const res = await fetch(gw.base + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', type, path);
      assert.equal(
        res.headers.get('content-security-policy'),
        consoleSecurityHeaders['content-security-policy'],
      );
      assert.ok((await res.text()).length > 0, path);
    }
  });

  test('uPlot, the charting library, is served by the gateway from its package (no CDN)', async () => {
    const dist = new URL('./', import.meta.resolve('uplot'));
    for (const [name, type] of [
      ['uPlot.esm.js', /^text\/javascript/],
      ['uPlot.min.css', /^text\/css/],
    ] as const) {
      const res = await fetch(`${gw.base}/console/${name}`);
      assert.equal(res.status, 200, name);
      assert.match(res.headers.get('content-type') ?? '', type, name);
      assert.equal(await res.text(), readFileSync(new URL(name, dist), 'utf8'), name);
    }
    const html = await (await fetch(`${gw.base}/console`)).text();
    assert.doesNotMatch(html, /https?:\/\//, 'the page loads nothing from elsewhere');
  });

  test('a file the browser already has is answered 304 by its ETag', async () => {
    const first = await fetch(`${gw.base}/console/app.js`);
    const etag = first.headers.get('etag');
    assert.ok(etag);
    const again = await rawGet(gw.base, '/console/app.js', { 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
  });

  test('no path escapes the console folder; unknown files are 404', async () => {
    for (const path of [
      '/console/../../package.json',
      '/console/../package.json',
      '/console/..%2f..%2fpackage.json',
      '/console/%2e%2e%2f%2e%2e%2fpackage.json',
      '/console/..%5c..%5cpackage.json',
      '/console/public/index.html',
      '/console/serve.ts',
      '/console/index.ts',
      '/console/nothing.js',
      '/console/%00',
    ]) {
      const res = await rawGet(gw.base, path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /"devDependencies"|consolePlugin/, path);
    }
  });
});
