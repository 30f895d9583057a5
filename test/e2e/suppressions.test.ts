// The suppression list (CONTRACT §3): a listed number is refused on REST (400
// recipient_opted_out) and on SMPP (command_status 0x401), account-wide or for one sender;
// lists and imports are per account.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optedOutStatus } from '../../src/api/smpp.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom } from './helpers.ts';

const config = `
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, smpp: { systemId: acme, password: secret } }
  - { id: other, apiKeys: [other-key-1], defaultFrom: OTHER }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
`;

test('suppressions: add, refuse on REST and SMPP, scope per sender, remove, per account', async (t) => {
  const gw = await gatewayFrom(config);
  t.after(() => gw.close());
  const acme = api(gw.base, 'acme-key-1');
  const other = api(gw.base, 'other-key-1');

  const added = await acme('POST', '/v1/suppressions', { to: '+44 7700 900123', reason: 'asked by phone' });
  assert.equal(added.status, 201);
  assert.deepEqual(
    { ...added.body, createdAt: typeof added.body.createdAt },
    {
      to: '+447700900123',
      scope: 'account',
      from: null,
      source: 'api',
      reason: 'asked by phone',
      createdAt: 'string',
    },
  );

  const refused = await acme('POST', '/v1/messages', { to: '+447700900123', text: 'hi' });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.code, 'recipient_opted_out');
  assert.equal(refused.body.error.field, 'to');
  // Nothing was stored for the refused message.
  assert.deepEqual((await acme('GET', '/v1/messages?to=%2B447700900123')).body.data, []);
  // Another account's list is its own: it may send, and does not see acme's entry.
  assert.equal((await other('POST', '/v1/messages', { to: '+447700900123', text: 'hi' })).status, 202);
  assert.deepEqual((await other('GET', '/v1/suppressions')).body.data, []);

  // SMPP: the same account's ESME gets the documented status.
  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'acme', password: 'secret' });
  client.start();
  t.after(() => client.stop());
  await client.waitBound();
  const smppRefused = await client.request(submitSm({ destinationAddr: '447700900123' }));
  assert.equal(smppRefused.commandStatus, optedOutStatus);
  assert.equal((await client.request(submitSm({ destinationAddr: '447700900124' }))).commandStatus, 0);

  // Sender scope: only messages from that sender are refused.
  const scoped = await acme('POST', '/v1/suppressions', {
    to: '+447700900200',
    scope: 'sender',
    from: 'PROMO',
  });
  assert.equal(scoped.status, 201);
  assert.equal(scoped.body.from, 'PROMO');
  assert.equal(
    (await acme('POST', '/v1/messages', { to: '+447700900200', from: 'PROMO', text: 'sale' })).status,
    400,
  );
  assert.equal((await acme('POST', '/v1/messages', { to: '+447700900200', text: 'your code' })).status, 202);

  // Removal lets messages through again; removing twice is a 404.
  assert.equal((await acme('DELETE', '/v1/suppressions/%2B447700900123')).status, 204);
  assert.equal((await acme('DELETE', '/v1/suppressions/%2B447700900123')).status, 404);
  assert.equal((await acme('POST', '/v1/messages', { to: '+447700900123', text: 'hi' })).status, 202);
  assert.equal((await acme('DELETE', '/v1/suppressions/%2B447700900200?from=PROMO')).status, 204);
});

test('suppressions: bad input is refused by field, CSV import counts what it could not read, paging', async (t) => {
  const gw = await gatewayFrom(config);
  t.after(() => gw.close());
  const acme = api(gw.base, 'acme-key-1');

  assert.equal((await acme('POST', '/v1/suppressions', { to: 'not a number' })).body.error.field, 'to');
  assert.equal(
    (await acme('POST', '/v1/suppressions', { to: '+447700900001', scope: 'x' })).body.error.code,
    'invalid_scope',
  );
  assert.equal(
    (await acme('POST', '/v1/suppressions', { to: '+447700900001', scope: 'sender' })).body.error.field,
    'from',
  );

  const csv =
    'to,from,name\n+447700900301,,Ann\n"+44 7700 900302",PROMO,Bob\nnonsense,,Cy\n+447700900303,,Di\n';
  const imported = await acme('POST', '/v1/suppressions/import', csv, { 'content-type': 'text/csv' });
  assert.equal(imported.status, 200);
  assert.equal(imported.body.added, 3);
  assert.equal(imported.body.invalid, 1);
  assert.deepEqual(imported.body.invalidRows, [{ line: 4, value: 'nonsense' }]);
  // One number a line, without a header, works too.
  const plain = await acme('POST', '/v1/suppressions/import', '+447700900304\n+447700900305\n', {
    'content-type': 'text/plain',
  });
  assert.equal(plain.body.added, 2);

  const first = await acme('GET', '/v1/suppressions?limit=3');
  assert.equal(first.body.data.length, 3);
  assert.ok(first.body.nextCursor);
  const second = await acme('GET', `/v1/suppressions?limit=3&cursor=${first.body.nextCursor}`);
  assert.equal(second.body.data.length, 2);
  assert.equal(second.body.nextCursor, null);
  const all = [...first.body.data, ...second.body.data].map((s: { to: string; from: string | null }) =>
    [s.to, s.from].join('/'),
  );
  assert.deepEqual(all.sort(), [
    '+447700900301/',
    '+447700900302/PROMO',
    '+447700900303/',
    '+447700900304/',
    '+447700900305/',
  ]);
  assert.deepEqual(
    (await acme('GET', '/v1/suppressions?to=%2B447700900302')).body.data.map((s: { from: string }) => s.from),
    ['PROMO'],
  );
  assert.equal((await acme('POST', '/v1/messages', { to: '+447700900303', text: 'x' })).status, 400);
  assert.equal((await acme('POST', '/v1/messages', { to: '+447700900302', text: 'x' })).status, 202);
  assert.equal((await acme('GET', '/v1/suppressions?cursor=garbage')).body.error.code, 'invalid_cursor');
});

test('suppressions: a large import is stored a chunk at a time; an error part-way keeps what came before', async (t) => {
  const gw = await gatewayFrom(config);
  t.after(() => gw.close());
  const acme = api(gw.base, 'acme-key-1');
  const number = (i: number) => `+4477009${String(50000 + i)}`;
  const rows = Array.from({ length: 2500 }, (_, i) => number(i));
  const imported = await acme('POST', '/v1/suppressions/import', `to\n${rows.join('\n')}\n`, {
    'content-type': 'text/csv',
  });
  assert.equal(imported.status, 200);
  assert.deepEqual(imported.body, { added: 2500, invalid: 0, invalidRows: [] });

  const broken = `to\n${Array.from({ length: 1200 }, (_, i) => number(3000 + i)).join('\n')}\n"+447700959999\n`;
  const refused = await acme('POST', '/v1/suppressions/import', broken, { 'content-type': 'text/csv' });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.code, 'invalid_csv');
  assert.match(refused.body.error.message, /the 1000 entries before it were added/);
  const listed = async (to: string) =>
    (await acme('GET', `/v1/suppressions?to=${encodeURIComponent(to)}`)).body.data.length;
  assert.equal(await listed(number(3999)), 1);
  assert.equal(await listed(number(4000)), 0);
});
