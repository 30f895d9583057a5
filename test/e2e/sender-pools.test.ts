// Sender pools (accounts[].services, Twilio's Messaging Services) through REST and the
// Twilio compat API: a message naming a service gets a sender from it — the same one for a
// recipient again (sticky, also after a restart), one of the recipient's country
// (geomatch), the alphanumeric id only where the recipient's country allows one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import twilio from 'twilio';
import { api, gatewayFrom } from './helpers.ts';

const accountSid = 'AC00000000000000000000000000000041';
const serviceSid = 'MG00000000000000000000000000000041';
const config = `
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - id: acme
    apiKeys: [acme-key-0001]
    twilio: { accountSid: ${accountSid} }
    services:
      - id: alerts
        sid: ${serviceSid}
        senders: ["+447400000001", "+447400000002", "+12025550101", "+12025550102"]
        alphanumeric: ACME
      - id: brand
        senders: ["+12025550103"]
        alphanumeric: ACME
        alphanumericCountries: [FR]
      - id: spread
        senders: ["+447400000003", "+447400000004"]
        sticky: false
      - id: alpha-only
        alphanumeric: ACME
  - id: other
    apiKeys: [other-key-0001]
    defaultFrom: OTHER
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
`;

describe('sender pools', () => {
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let acme: ReturnType<typeof api>;
  before(async () => {
    gw = await gatewayFrom(config);
    acme = api(gw.base, 'acme-key-0001');
  });
  after(() => gw?.close());

  const send = async (to: string, service: string, by = acme) => {
    const res = await by('POST', '/v1/messages', { to, service, text: 'hi' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body as { id: string; from: string };
  };

  test('geomatch: a sender of the recipient country; sticky: the same one again, after a restart too', async () => {
    const uk = await send('+447400123401', 'alerts');
    assert.match(uk.from, /^\+4474000000(01|02)$/);
    const us = await send('+12025550199', 'alerts');
    assert.match(us.from, /^\+120255501(01|02)$/);
    // Other recipients take turns over the pool; each keeps its own.
    const others = [];
    for (let i = 2; i <= 5; i++) others.push(await send(`+44740012340${i}`, 'alerts'));
    assert.deepEqual(new Set(others.map((m) => m.from)), new Set(['+447400000001', '+447400000002']));
    for (let i = 0; i < 3; i++) assert.equal((await send('+447400123401', 'alerts')).from, uk.from);
    const stored = await acme('GET', `/v1/messages/${uk.id}`);
    assert.equal(stored.body.service, 'alerts');
    await gw.restart();
    acme = api(gw.base, 'acme-key-0001');
    assert.equal((await send('+447400123401', 'alerts')).from, uk.from, 'kept across the restart');
    assert.equal((await send('+12025550199', 'alerts')).from, us.from);
    for (let i = 2; i <= 5; i++)
      assert.equal((await send(`+44740012340${i}`, 'alerts')).from, others[i - 2]!.from);
  });

  test('without sticky, recipients take turns over the pool', async () => {
    const froms = [];
    for (let i = 0; i < 4; i++) froms.push((await send('+447400123409', 'spread')).from);
    assert.deepEqual(froms.toSorted(), ['+447400000003', '+447400000003', '+447400000004', '+447400000004']);
  });

  test('the alphanumeric id only where the recipient country allows one', async () => {
    // No number of France in the pool: France takes alphanumeric ids (the built-in list).
    assert.equal((await send('+33612345678', 'alerts')).from, 'ACME');
    // Not Canada (+1, not in the list): a number of the pool instead.
    assert.match((await send('+14165550123', 'alerts')).from, /^\+/);
    // A service's own list: France yes, Germany (in the built-in list) no.
    assert.equal((await send('+33612345679', 'brand')).from, 'ACME');
    assert.equal((await send('+4915123456789', 'brand')).from, '+12025550103');
    // Nothing the pool may send to the US from.
    const refused = await acme('POST', '/v1/messages', {
      to: '+12025550199',
      service: 'alpha-only',
      text: 'x',
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'no_sender');
    assert.equal(refused.body.error.field, 'to');
  });

  test('refusals: an unknown service, service with from, and another account using a pool sender', async () => {
    const unknown = await acme('POST', '/v1/messages', { to: '+447400123401', service: 'nope', text: 'x' });
    assert.equal(unknown.status, 400);
    assert.deepEqual([unknown.body.error.code, unknown.body.error.field], ['unknown_service', 'service']);
    const both = await acme('POST', '/v1/messages', {
      to: '+447400123401',
      service: 'alerts',
      from: '+447400000001',
      text: 'x',
    });
    assert.equal(both.status, 400);
    assert.equal(both.body.error.field, 'service');
    const other = api(gw.base, 'other-key-0001');
    const taken = await other('POST', '/v1/messages', {
      to: '+447400123401',
      from: '+447400000001',
      text: 'x',
    });
    assert.equal(taken.status, 400);
    assert.equal(taken.body.error.code, 'sender_not_allowed');
  });

  test('Twilio MessagingServiceSid picks from the pool, sticky with REST', async () => {
    const base = new twilio.RequestClient();
    const client = twilio(accountSid, 'acme-key-0001', {
      httpClient: {
        request: (opts: Parameters<typeof base.request>[0]) =>
          base.request({ ...opts, uri: opts.uri.replace('https://api.twilio.com', gw.base) }),
      } as unknown as typeof base,
    });
    const rest = await send('+447400123411', 'alerts');
    const created = await client.messages.create({
      to: '+447400123411',
      messagingServiceSid: serviceSid,
      body: 'through the service',
    });
    assert.equal(created.from, rest.from);
    assert.equal(created.messagingServiceSid, serviceSid);
    const us = await client.messages.create({
      to: '+12025550188',
      messagingServiceSid: serviceSid,
      body: 'us',
    });
    assert.match(us.from, /^\+120255501(01|02)$/);
    await assert.rejects(
      client.messages.create({
        to: '+12025550188',
        messagingServiceSid: 'MG00000000000000000000000000000099',
        body: 'x',
      }),
      (err: { status: number; code: number }) => err.status === 400 && err.code === 21603,
    );
  });
});
