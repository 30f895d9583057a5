// The online number lookup through the whole gateway, against a local HLR provider:
// `match.network` routes by it (cached: the provider is asked once per number), a provider
// that is down fails open (routing goes on without the network, counted in /metrics),
// explain and GET /v1/lookup show it, Twilio Lookup v2 answers with it through the
// official client, and `onError: refuse` refuses instead.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import twilio from 'twilio';
import { api, gatewayFrom, waitFor } from './helpers.ts';
import { hlrProvider } from './hlr-provider.ts';

const accountSid = 'AC00000000000000000000000000000031';
const config = (hlrBase: string, onError = 'skip') => `
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-0001] }
lookup:
  url: "${hlrBase}/hlr/{{number}}"
  response: { mcc: result.mcc, mnc: result.mnc, ported: result.ported, carrier: result.network }
  ttlSeconds: 3600
  timeoutMs: 2000
  onError: ${onError}
accounts:
  - id: acme
    apiKeys: [acme-key-0001]
    defaultFrom: ACME
    twilio: { accountSid: ${accountSid} }
  - { id: rest, apiKeys: [rest-key-0001] }
connectors:
  - { id: vodafone, type: simulator, deliveryDelayMs: 10 }
  - { id: other, type: simulator, deliveryDelayMs: 10 }
routes:
  mt:
    - match: { network: ["234-15", "23410"] }
      connectors: [vodafone]
    - connectors: [other]
  mo:
    # Inbound from Vodafone subscribers (the sender's network) goes to acme.
    - { match: { network: ["234-15"] }, account: acme }
    - account: rest
`;

const networks = {
  // Ported into Vodafone (234 15) from another network's range.
  '+447400123401': { mcc: '234', mnc: '15', ported: true, name: 'Vodafone UK' },
  '+447400123402': { mcc: '234', mnc: '30', name: 'EE' },
  '+447400123403': { mcc: '234', mnc: '15', name: 'Vodafone UK' },
  '+447400123404': { mcc: '234', mnc: '10', name: 'O2' },
  '+447400123405': { mcc: '234', mnc: '15', name: 'Vodafone UK' },
};

describe('online lookup, failing open', () => {
  let hlr: Awaited<ReturnType<typeof hlrProvider>>;
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let acme: ReturnType<typeof api>;
  let admin: ReturnType<typeof api>;
  before(async () => {
    hlr = await hlrProvider(networks);
    gw = await gatewayFrom(config(hlr.base));
    acme = api(gw.base, 'acme-key-0001');
    admin = api(gw.base, 'admin-key-0001');
  });
  after(async () => {
    await gw?.close();
    await hlr?.close();
  });

  const sentThrough = async (id: string) =>
    (
      await waitFor(async () => {
        const m = await acme('GET', `/v1/messages/${id}`);
        return m.body.connector ? m : undefined;
      })
    ).body.connector;

  test('messages are routed by the network the provider gives, asked once per number', async () => {
    const first = await acme('POST', '/v1/messages', { to: '+447400123401', text: 'one' });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.equal((await acme('GET', `/v1/messages/${first.body.id}`)).body.network, '23415');
    const second = await acme('POST', '/v1/messages', { to: '+447400123401', text: 'two' });
    const elsewhere = await acme('POST', '/v1/messages', { to: '+447400123402', text: 'three' });
    const o2 = await acme('POST', '/v1/messages', { to: '+447400123404', text: 'four' });
    assert.equal(await sentThrough(first.body.id), 'vodafone');
    assert.equal(await sentThrough(second.body.id), 'vodafone');
    assert.equal(await sentThrough(elsewhere.body.id), 'other');
    assert.equal(await sentThrough(o2.body.id), 'vodafone');
    assert.equal(hlr.calls('+447400123401'), 1, 'the second message took the cached answer');
  });

  test('MO rules route by the sender network', async () => {
    for (const from of ['+447400123403', '+447400123404'])
      assert.equal(
        (await admin('POST', '/v1/admin/connectors/other/inbound', { from, to: '+447400999999', text: from }))
          .status,
        202,
      );
    const inboundOf = async (key: string) =>
      (
        (await api(gw.base, key)('GET', '/v1/messages?direction=inbound')).body.data as { from: string }[]
      ).map((m) => m.from);
    assert.deepEqual(
      await waitFor(async () =>
        (await inboundOf('acme-key-0001')).length > 0 ? inboundOf('acme-key-0001') : undefined,
      ),
      ['+447400123403'],
    );
    assert.deepEqual(
      await waitFor(async () =>
        (await inboundOf('rest-key-0001')).length > 0 ? inboundOf('rest-key-0001') : undefined,
      ),
      ['+447400123404'],
    );
  });

  test('explain looks the number up and names the network condition', async () => {
    const explained = await admin(
      'GET',
      `/v1/admin/routes/mt/explain?to=${encodeURIComponent('+447400123403')}&account=acme`,
    );
    assert.equal(explained.status, 200, JSON.stringify(explained.body));
    assert.equal(explained.body.rule, 0);
    assert.equal(explained.body.network, '23415');
    assert.deepEqual(explained.body.connectors, ['vodafone']);
    assert.match(explained.body.reason, /routes\.mt\[0\] matches: network 234-15 \| 23410/);
    const skipped = await admin(
      'GET',
      `/v1/admin/routes/mt/explain?to=${encodeURIComponent('+447400123402')}&account=acme`,
    );
    assert.deepEqual(skipped.body.skipped, [{ rule: 0, condition: 'network 234-15 | 23410' }]);
  });

  test('GET /v1/lookup/{number} shows the online fields beside the offline ones', async () => {
    const found = await acme('GET', `/v1/lookup/${encodeURIComponent('+447400123401')}`);
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal(found.body.country, 'GB');
    assert.equal(found.body.lineType, 'mobile');
    assert.deepEqual(found.body.online, {
      mcc: '234',
      mnc: '15',
      network: '23415',
      ported: true,
      carrier: 'Vodafone UK',
      cached: true,
    });
    const unknown = await acme('GET', `/v1/lookup/${encodeURIComponent('+447400123499')}`);
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.online, null, 'the provider did not know it');
  });

  test('Twilio Lookup v2 with line_type_intelligence, through the official client', async () => {
    const base = new twilio.RequestClient();
    const client = twilio(accountSid, 'acme-key-0001', {
      httpClient: {
        request: (opts: Parameters<typeof base.request>[0]) =>
          base.request({ ...opts, uri: opts.uri.replace('https://lookups.twilio.com', gw.base) }),
      } as unknown as typeof base,
    });
    const found = await client.lookups.v2
      .phoneNumbers('+447400123404')
      .fetch({ fields: 'line_type_intelligence' });
    assert.equal(found.phoneNumber, '+447400123404');
    assert.equal(found.countryCode, 'GB');
    assert.equal(found.callingCountryCode, '44');
    assert.equal(found.valid, true);
    assert.equal(found.nationalFormat, '07400 123404');
    assert.deepEqual(
      { ...found.lineTypeIntelligence },
      {
        mobileCountryCode: '234',
        mobileNetworkCode: '10',
        carrierName: 'O2',
        type: 'mobile',
        errorCode: null,
      },
    );
    const basic = await client.lookups.v2.phoneNumbers('+447400123404').fetch();
    assert.equal(basic.lineTypeIntelligence, null);
    await assert.rejects(
      client.lookups.v2.phoneNumbers('+447400123404').fetch({ fields: 'caller_name' }),
      (err: { status: number; code: number }) => err.status === 400 && err.code === 60200,
    );
  });

  test('a provider that is down fails open: the message takes the next rule; the failure is counted', async () => {
    hlr.state.down = true;
    try {
      const sent = await acme('POST', '/v1/messages', { to: '+447400123405', text: 'down' });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      assert.equal((await acme('GET', `/v1/messages/${sent.body.id}`)).body.network, undefined);
      assert.equal(await sentThrough(sent.body.id), 'other');
    } finally {
      hlr.state.down = false;
    }
    const metrics = await (
      await fetch(`${gw.base}/metrics`, { headers: { authorization: 'Bearer admin-key-0001' } })
    ).text();
    assert.match(metrics, /smsgw_number_lookups_total\{outcome="failure"[^}]*\} [1-9]/);
    assert.match(metrics, /smsgw_number_lookups_total\{outcome="hit"[^}]*\} [1-9]/);
    // Not kept: once the provider is back, the number is asked again and routed by it.
    const back = await acme('POST', '/v1/messages', { to: '+447400123405', text: 'back' });
    assert.equal(await sentThrough(back.body.id), 'vodafone');
  });
});

describe('online lookup with onError: refuse', () => {
  test('a message is refused 503 lookup_unavailable while the provider is down', async () => {
    const hlr = await hlrProvider(networks);
    const gw = await gatewayFrom(config(hlr.base, 'refuse'));
    try {
      hlr.state.down = true;
      const acme = api(gw.base, 'acme-key-0001');
      const refused = await acme('POST', '/v1/messages', { to: '+447400123401', text: 'x' });
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'lookup_unavailable');
      assert.equal(refused.body.error.field, 'to');
      hlr.state.down = false;
      const sent = await acme('POST', '/v1/messages', { to: '+447400123401', text: 'x' });
      assert.equal(sent.status, 202);
    } finally {
      await gw.close();
      await hlr.close();
    }
  });
});

describe('policy.mobileOnly', () => {
  test('numbers the offline lookup does not call mobile are refused not_mobile, on REST and Twilio', async () => {
    const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - id: mobiles
    apiKeys: [mobiles-key-0001]
    defaultFrom: ACME
    policy: { mobileOnly: true }
    twilio: { accountSid: AC00000000000000000000000000000032 }
  - { id: any, apiKeys: [any-key-0001], defaultFrom: ANY }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
`);
    try {
      const mobiles = api(gw.base, 'mobiles-key-0001');
      // A UK landline, a UK freephone number, a number in no allocated range.
      for (const to of ['+442079460000', '+448001111111', '+447700900101']) {
        const refused = await mobiles('POST', '/v1/messages', { to, text: 'x' });
        assert.equal(refused.status, 400, `${to}: ${JSON.stringify(refused.body)}`);
        assert.deepEqual([refused.body.error.code, refused.body.error.field], ['not_mobile', 'to']);
      }
      // A UK mobile; a US number (the plan does not tell mobiles from landlines).
      for (const to of ['+447400123401', '+12025550123'])
        assert.equal((await mobiles('POST', '/v1/messages', { to, text: 'x' })).status, 202, to);
      // Other accounts are not held to it.
      assert.equal(
        (await api(gw.base, 'any-key-0001')('POST', '/v1/messages', { to: '+442079460000', text: 'x' }))
          .status,
        202,
      );
      const twilioRefusal = await fetch(
        `${gw.base}/2010-04-01/Accounts/AC00000000000000000000000000000032/Messages.json`,
        {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from('AC00000000000000000000000000000032:mobiles-key-0001').toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ To: '+442079460000', Body: 'x' }).toString(),
        },
      );
      assert.equal(twilioRefusal.status, 400);
      assert.equal(((await twilioRefusal.json()) as { code: number }).code, 21614);
    } finally {
      await gw.close();
    }
  });
});
