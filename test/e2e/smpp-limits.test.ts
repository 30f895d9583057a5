// The SMPP server's limits as configured (smppServer.*): connections per address and the
// time a connection may stay unbound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandStatus } from '../../src/smpp/index.ts';
import { bindPdu, RawPeer } from '../smpp/raw-peer.ts';
import { gatewayFrom } from './helpers.ts';

test('smppServer.maxConnectionsPerAddress and bindTimeoutSeconds are applied', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0, maxConnectionsPerAddress: 2, bindTimeoutSeconds: 1 }
accounts: [{ id: acme, apiKeys: [acme-key-1], smpp: { systemId: esme, password: pw, maxBinds: 4 } }]
`);
  t.after(() => gw.close());
  const port = gw.app.smppAddress!.port;
  const bound = await RawPeer.connect(port);
  t.after(() => bound.close());
  bound.send(bindPdu('bind_transceiver'));
  await bound.until((r) => r.length === 1);
  assert.equal(bound.received[0]!.commandStatus, CommandStatus.ESME_ROK);

  // Never binds: closed after a second.
  const idle = await RawPeer.connect(port);
  const third = await RawPeer.connect(port);
  await third.waitClosed(5_000);
  await idle.waitClosed(10_000);
  assert.equal(bound.closed, false);
});
