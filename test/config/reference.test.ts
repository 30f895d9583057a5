// docs/configuration.md is written from the schema: it must match what the schema says now,
// and a setting with no description must still be listed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configReference } from '../../src/config/index.ts';

test('docs/configuration.md is up to date with the config schema (npm run docs:config rewrites it)', () => {
  const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  assert.ok(
    committed === configReference(),
    'docs/configuration.md differs from the schema: run `npm run docs:config` and commit the result',
  );
});

test('every setting gets a row, described or not; connector types get a table each', () => {
  const text = configReference({
    type: 'object',
    properties: {
      plain: {
        type: 'object',
        properties: { undescribed: { type: 'integer', minimum: 1, maximum: 9, default: 3 } },
      },
      things: {
        type: 'array',
        items: {
          if: { properties: { type: { const: 'a' } } },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, not a thenable
          then: {
            type: 'object',
            required: ['type'],
            properties: { type: { const: 'a' }, size: { type: 'integer' } },
          },
          else: {
            type: 'object',
            properties: { type: { const: 'b' }, name: { type: 'string', description: 'Its name' } },
          },
        },
      },
    },
  });
  assert.match(text, /^\| `plain\.undescribed` \| integer 1\.\.9 \| `3` \| {2}\|$/m);
  assert.match(text, /^### `things\[\]` with `type: a`$/m);
  assert.match(text, /^\| `things\[\]\.type` \| `"a"` \| {2}\| \*\*Required\.\*\* \|$/m);
  assert.match(text, /^### `things\[\]` with `type: b`$/m);
  assert.match(text, /^\| `things\[\]\.name` \| string \| {2}\| Its name\. \|$/m);
});

test('local $refs are followed and allOf branches are variants too', () => {
  const text = configReference({
    type: 'object',
    $defs: { port: { type: 'integer', minimum: 1, maximum: 65535, description: 'A port' } },
    properties: {
      server: { type: 'object', properties: { port: { $ref: '#/$defs/port' } } },
      links: {
        type: 'array',
        items: {
          allOf: [
            {
              if: { properties: { type: { const: 'x' } } },
              // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
              then: { properties: { type: { const: 'x' }, depth: { type: 'integer' } } },
            },
            {
              if: { properties: { type: { const: 'y' } } },
              // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
              then: { properties: { type: { const: 'y' }, width: { type: 'integer' } } },
            },
          ],
        },
      },
    },
  } as Parameters<typeof configReference>[0]);
  assert.match(text, /^\| `server\.port` \| integer 1\.\.65535 \| {2}\| A port\. \|$/m);
  assert.match(text, /^### `links\[\]` with `type: x`$/m);
  assert.match(text, /^\| `links\[\]\.depth` \| integer \|/m);
  assert.match(text, /^### `links\[\]` with `type: y`$/m);
  assert.match(text, /^\| `links\[\]\.width` \| integer \|/m);
});
