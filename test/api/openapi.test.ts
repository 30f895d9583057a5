// /openapi.json against the routes the gateway really registers: every route (admin, Twilio
// Verify /v2 and the compat APIs included) is documented, nothing documented is missing,
// and every operation has a unique operationId and declares its path parameters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startGateway } from '../../src/app/index.ts';
import { validateConfig } from '../../src/config/index.ts';

const methods = ['get', 'put', 'post', 'delete', 'patch'];

test('/openapi.json documents every registered route, each with an operationId and its path parameters', async () => {
  const registered = new Set<string>();
  const config = validateConfig({
    http: { listen: '127.0.0.1:0' },
    store: 'sqlite::memory:',
    connectors: [{ id: 'sim', type: 'simulator' }],
    routes: { mt: [{ connectors: ['sim'] }] },
  });
  const app = await startGateway(config, {
    onRoute: (route) => {
      // fastify adds HEAD beside each GET by itself; `:name` is OpenAPI's `{name}`.
      for (const method of [route.method].flat())
        if (method !== 'HEAD')
          registered.add(`${method.toLowerCase()} ${route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    },
  });
  let doc: { paths: Record<string, Record<string, { operationId?: string; parameters?: unknown[] }>> };
  try {
    const res = await fetch(`http://127.0.0.1:${app.httpAddress.port}/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as typeof doc;
  } finally {
    await app.close();
  }
  assert.ok(
    registered.has('get /v1/admin/connectors') && registered.has('post /v2/Services'),
    'routes were seen',
  );

  const documented = new Set<string>();
  const operationIds: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of methods) {
      const operation = item[method];
      if (!operation) continue;
      documented.add(`${method} ${path}`);
      assert.ok(operation.operationId, `${method} ${path}: operationId`);
      operationIds.push(operation.operationId);
      const declared = [...((item.parameters ?? []) as unknown[]), ...(operation.parameters ?? [])] as {
        name: string;
        in: string;
        required?: boolean;
      }[];
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
        const param = declared.find((p) => p.in === 'path' && p.name === name);
        assert.ok(param?.required, `${method} ${path}: path parameter ${name} declared and required`);
      }
    }
  }
  assert.deepEqual(
    [...registered].filter((r) => !documented.has(r)).sort(),
    [],
    'routes missing from /openapi.json',
  );
  assert.deepEqual(
    [...documented].filter((r) => !registered.has(r)).sort(),
    [],
    'documented routes that do not exist',
  );
  assert.equal(
    new Set(operationIds).size,
    operationIds.length,
    `operationIds unique: ${operationIds.join(' ')}`,
  );
});
