// An account's `mps` holds across front doors: REST answers 429 with Retry-After, SMPP
// answers ESME_RTHROTTLED; both draw on one budget per account (src/core/account-limits.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandStatus, type Pdu } from '../../src/smpp/index.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom } from './helpers.ts';

test('account mps: 429 with Retry-After over REST, ESME_RTHROTTLED over SMPP', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: slow, apiKeys: [slow-key-1], defaultFrom: SLOW, mps: 5, smpp: { systemId: slow, password: secret } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
`);
  t.after(() => gw.close());
  const call = api(gw.base, 'slow-key-1');
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 8; i++) {
    const res = await call('POST', '/v1/messages', { to: '+447700900900', text: `n ${i}` });
    statuses.push(res.status);
    if (res.status === 429) {
      retryAfter = res.headers.get('retry-after');
      assert.equal(res.body.error.code, 'rate_limited');
    }
  }
  // A second's burst of 5, then refusals (8 requests take far less than a second).
  assert.deepEqual(statuses.slice(0, 5), [202, 202, 202, 202, 202]);
  assert.ok(statuses.slice(5).includes(429), statuses.join(','));
  assert.equal(retryAfter, '1');

  // The same account over SMPP: over its limit too, answered ESME_RTHROTTLED.
  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'slow', password: 'secret' });
  client.start();
  t.after(() => client.stop());
  await client.waitBound();
  const answers = await Promise.all(
    Array.from({ length: 8 }, () => client.request(submitSm({ destinationAddr: '447700900901' }))),
  );
  const smppStatuses = answers.map((a) => a.commandStatus);
  assert.ok(smppStatuses.includes(CommandStatus.ESME_RTHROTTLED), smppStatuses.join(','));
  assert.ok(smppStatuses.filter((st) => st === 0).length <= 5, smppStatuses.join(','));
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await client.request(submitSm({ destinationAddr: '447700900901' }))).commandStatus, 0);
});

test('account maxBinds: a bind over the limit is refused with ESME_RBINDFAIL, and allowed again once one unbinds', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: one, apiKeys: [one-key-123], smpp: { systemId: one, password: secret, maxBinds: 1 } }
connectors:
  - { id: sim, type: simulator }
routes:
  mt: [{ connectors: [sim] }]
`);
  t.after(() => gw.close());
  const first = esme(gw.app.smppAddress!.port, { systemId: 'one', password: 'secret' }).client;
  first.start();
  await first.waitBound();
  const second = esme(gw.app.smppAddress!.port, { systemId: 'one', password: 'secret' }).client;
  const refused = new Promise<number>((r) => second.once('bindFailed', r));
  second.start();
  assert.equal(await refused, CommandStatus.ESME_RBINDFAIL);
  await second.stop();
  await first.stop();
  const third = esme(gw.app.smppAddress!.port, { systemId: 'one', password: 'secret' }).client;
  third.start();
  t.after(() => third.stop());
  await third.waitBound();
});

test('account mps: only accepted messages use it up — refused requests give their share back', async (t) => {
  // Budgets of 1 and 2 a second: without the give-back the second refusal in a row would
  // already be throttled, however fast or slow the machine (the budget only ever fills up).
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: rest, apiKeys: [rest-key-1], defaultFrom: REST, mps: 1, twilio: { accountSid: AC00000000000000000000000000000009 } }
  - { id: esme, apiKeys: [esme-key-1], defaultFrom: ESME, mps: 2, smpp: { systemId: esme, password: secret } }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
`);
  t.after(() => gw.close());
  const call = api(gw.base, 'rest-key-1');
  for (let i = 0; i < 4; i++) {
    const refused = await call('POST', '/v1/messages', { to: 'not a number', text: `n ${i}` });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'invalid_number');
  }
  // So does Jasmin's, for a number the gateway refuses (opted out) once it took the share.
  assert.equal((await call('POST', '/v1/suppressions', { to: '+447700900999' })).status, 201);
  const jasmin = `${gw.base}/send?${new URLSearchParams({ username: 'rest', password: 'rest-key-1', to: '+447700900999', content: 'j' })}`;
  for (let i = 0; i < 3; i++) assert.equal((await fetch(jasmin)).status, 400);
  // And Twilio's.
  const sid = 'AC00000000000000000000000000000009';
  const twilio = () =>
    fetch(`${gw.base}/2010-04-01/Accounts/${sid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${sid}:rest-key-1`).toString('base64')}` },
      body: new URLSearchParams({ To: '+447700900999', From: 'REST', Body: 't' }),
    });
  for (let i = 0; i < 3; i++) assert.equal((await twilio()).status, 400);
  assert.equal((await call('POST', '/v1/messages', { to: '+447700900900', text: 'ok' })).status, 202);
  // Kannel's door draws on the same budget: a denied receiver gives its share back.
  const kannel = (to: string) =>
    fetch(
      `${gw.base}/cgi-bin/sendsms?${new URLSearchParams({ username: 'esme', password: 'esme-key-1', to, text: 'k' })}`,
    );
  for (let i = 0; i < 3; i++) assert.equal((await kannel('nonsense')).status, 400);

  const { client } = esme(gw.app.smppAddress!.port, { systemId: 'esme', password: 'secret' });
  client.start();
  t.after(() => client.stop());
  await client.waitBound();
  for (let i = 0; i < 4; i++) {
    const answer = await client.request(submitSm({ destinationAddr: 'not-a-number' }));
    assert.equal(answer.commandStatus, CommandStatus.ESME_RINVDSTADR);
  }
  const multi = (addresses: string[]) =>
    client.request({
      ...submitSm({ sourceAddr: 'ESME', sourceAddrTon: 5 }),
      command: 'submit_multi',
      destinations: addresses.map((address) => ({ kind: 'sme', ton: 1, npi: 1, address })),
    } as unknown as Pdu);
  assert.equal((await multi(['nope', 'nada'])).commandStatus, CommandStatus.ESME_RINVDSTADR);
  // One of two accepted: one share is kept, the other given back, so one more fits.
  assert.equal((await multi(['447700900901', 'nada'])).commandStatus, 0);
  assert.equal((await client.request(submitSm({ destinationAddr: '447700900902' }))).commandStatus, 0);
});
