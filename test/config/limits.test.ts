// The limits' config options (SECURITY.md#limits): out-of-range values are refused naming
// their path; absent ones stay absent, so the front doors' own defaults apply.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';

test('limit options out of range are refused, one line naming each path', () => {
  assert.throws(
    () =>
      parseConfig(`
http: { maxPipelined: 0, writeStallSeconds: 1.5, maxConnections: 0 }
smppServer: { listen: 127.0.0.1:0, maxConnectionsPerAddress: -1, bindTimeoutSeconds: x, maxConnections: 0, writeStallSeconds: 0 }
`),
    (err: Error & { problems?: string[] }) => {
      assert.deepEqual(err.problems?.toSorted(), [
        'http.maxConnections: expected integer 1..1000000',
        'http.maxPipelined: expected integer 1..1000',
        'http.writeStallSeconds: expected integer 1..3600',
        'smppServer.bindTimeoutSeconds: expected integer 1..3600',
        'smppServer.maxConnections: expected integer 1..1000000',
        'smppServer.maxConnectionsPerAddress: expected integer 1..1000000',
        'smppServer.writeStallSeconds: expected integer 1..3600',
      ]);
      return true;
    },
  );
});

test('limit options in range are kept; absent ones are left to the defaults', () => {
  const config = parseConfig(`
http: { maxPipelined: 4 }
smppServer: { listen: 127.0.0.1:0, bindTimeoutSeconds: 3, maxConnectionsPerAddress: 7 }
`);
  assert.equal(config.http.maxPipelined, 4);
  assert.equal(config.http.writeStallSeconds, undefined);
  assert.equal(config.smppServer?.bindTimeoutSeconds, 3);
  assert.equal(config.smppServer?.maxConnectionsPerAddress, 7);
  assert.equal(config.smppServer?.maxConnections, undefined);
});

test('callbacks: concurrency limits out of range, or one receiver allowed more than all, are refused', () => {
  assert.throws(
    () => parseConfig('callbacks: { concurrency: 0, receiverConcurrency: 2000 }'),
    (err: Error & { problems?: string[] }) => {
      assert.deepEqual(err.problems?.toSorted(), [
        'callbacks.concurrency: expected integer 1..4096',
        'callbacks.receiverConcurrency: expected integer 1..1024',
      ]);
      return true;
    },
  );
  assert.throws(
    () => parseConfig('callbacks: { concurrency: 16, receiverConcurrency: 32 }'),
    (err: Error & { problems?: string[] }) => {
      assert.deepEqual(err.problems, [
        'callbacks.receiverConcurrency: 32 is more than callbacks.concurrency (16)',
      ]);
      return true;
    },
  );
  assert.deepEqual(parseConfig('callbacks: { receiverConcurrency: 4 }').callbacks, {
    allow: [],
    concurrency: 256,
    receiverConcurrency: 4,
  });
});
