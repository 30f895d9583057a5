// Numbers written without `+` (CONTRACT §8): read in the account's defaultCountry on every
// front door that takes a destination, refused (each API in its own way) when the account
// has none — never sent with a `+` put in front of a national number.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/index.ts';
import { CommandStatus } from '../../src/smpp/index.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom, waitFor } from './helpers.ts';

const config = `
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - id: uk
    apiKeys: [uk-key-0001]
    defaultFrom: UK
    defaultCountry: GB
    smpp: { systemId: uk, password: secret }
    twilio: { accountSid: AC00000000000000000000000000000011 }
  - id: plain
    apiKeys: [plain-key-0001]
    defaultFrom: PLAIN
    smpp: { systemId: plain, password: secret }
    twilio: { accountSid: AC00000000000000000000000000000012 }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
`;

describe('numbers without a country code', () => {
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let uk: ReturnType<typeof api>;
  let plain: ReturnType<typeof api>;
  before(async () => {
    gw = await gatewayFrom(config);
    uk = api(gw.base, 'uk-key-0001');
    plain = api(gw.base, 'plain-key-0001');
  });
  after(() => gw?.close());

  const refusedOnTo = (res: { status: number; body: { error?: { code: string; field?: string } } }) => {
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error?.code, 'invalid_number');
    assert.equal(res.body.error?.field, 'to');
  };

  test('REST: read in the account country; refused with none, never given a +', async () => {
    const sent = await uk('POST', '/v1/messages', { to: '07700 900123', text: 'hi' });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    assert.equal(sent.body.to, '+447700900123');
    // Looked up the same way.
    const found = await uk('GET', `/v1/messages?to=${encodeURIComponent('07700 900123')}`);
    assert.deepEqual(
      found.body.data.map((m: { id: string }) => m.id),
      [sent.body.id],
    );
    refusedOnTo(await plain('POST', '/v1/messages', { to: '07700900123', text: 'hi' }));
    refusedOnTo(await plain('POST', '/v1/messages', { to: '447700900123', text: 'hi' }));
    assert.equal((await plain('GET', '/v1/messages')).body.data.length, 0, 'nothing stored');

    // A request may name the country itself; it overrides the account's.
    const own = await plain('POST', '/v1/messages', { to: '07700900124', text: 'hi', country: 'GB' });
    assert.equal(own.status, 202, JSON.stringify(own.body));
    assert.equal(own.body.to, '+447700900124');
    const us = await uk('POST', '/v1/messages', { to: '415 555 0100', text: 'hi', country: 'US' });
    assert.equal(us.body.to, '+14155550100');
    const bad = await plain('POST', '/v1/messages', { to: '07700900124', text: 'hi', country: 'XX' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'country');
    // International numbers need no country.
    assert.equal((await plain('POST', '/v1/messages', { to: '+447700900123', text: 'hi' })).status, 202);
  });

  test("batches: the batch's country, else the account's; with neither the row is invalid", async () => {
    const toOf = async (body: Record<string, unknown>) => {
      const created = await uk('POST', '/v1/batches', { text: 'hi', ...body });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      // Its one row is made a message as it sends.
      const messages = await waitFor(async () => {
        const listed = await uk('GET', `/v1/batches/${created.body.id}/messages`);
        return listed.body.data.length > 0 && listed;
      });
      return messages.body.data.map((m: { to: string }) => m.to);
    };
    assert.deepEqual(await toOf({ recipients: [{ to: '07700900201' }] }), ['+447700900201']);
    // The batch's country overrides the account's (in GB this would be +444155550100).
    assert.deepEqual(await toOf({ recipients: [{ to: '415 555 0100' }], country: 'US' }), ['+14155550100']);
    const none = await plain('POST', '/v1/batches', {
      text: 'hi',
      recipients: [{ to: '07700900201' }, { to: '447700900202' }],
      dryRun: true,
    });
    assert.equal(none.body.total, 0);
    assert.equal(none.body.skipped.invalid, 2);
  });

  test('verify, reminders, suppressions, contacts and alerts read the same way', async () => {
    const verification = await uk('POST', '/v1/verify', { to: '07700900301' });
    assert.equal(verification.status, 201, JSON.stringify(verification.body));
    assert.equal(verification.body.to, '+447700900301');
    refusedOnTo(await plain('POST', '/v1/verify', { to: '07700900301' }));

    const at = new Date(Date.now() + 3600_000).toISOString();
    const reminder = { at, text: 'Your visit', replies: { YES: 'confirmed' } };
    const remind = await uk('POST', '/v1/reminders', { ...reminder, to: '07700900302' });
    assert.equal(remind.status, 201, JSON.stringify(remind.body));
    assert.equal(remind.body.to, '+447700900302');
    refusedOnTo(await plain('POST', '/v1/reminders', { ...reminder, to: '07700900302' }));

    const listed = await uk('POST', '/v1/suppressions', { to: '07700900303' });
    assert.equal(listed.status, 201);
    assert.equal(listed.body.to, '+447700900303');
    refusedOnTo(await plain('POST', '/v1/suppressions', { to: '07700900303' }));

    const contact = await uk('POST', '/v1/contacts', { to: '07700900304' });
    assert.equal(contact.status, 201);
    assert.equal(contact.body.to, '+447700900304');
    refusedOnTo(await plain('POST', '/v1/contacts', { to: '07700900304' }));

    const alert = await uk('POST', '/v1/alerts', { text: 'Flood', recipients: ['07700900305'] });
    assert.equal(alert.status, 202, JSON.stringify(alert.body));
    assert.equal(alert.body.total, 1);
    assert.equal(
      (await plain('POST', '/v1/alerts', { text: 'Flood', recipients: ['07700900305'] })).status,
      400,
    );
  });

  test('Twilio, Kannel and Jasmin refuse in their own way', async () => {
    const twilio = (sid: string, key: string, to: string) =>
      fetch(`${gw.base}/2010-04-01/Accounts/${sid}/Messages.json`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${sid}:${key}`).toString('base64')}` },
        body: new URLSearchParams({ To: to, From: 'SHOP', Body: 'hi' }),
      });
    const ukTwilio = await twilio('AC00000000000000000000000000000011', 'uk-key-0001', '07700900401');
    assert.equal(ukTwilio.status, 201);
    assert.equal(((await ukTwilio.json()) as { to: string }).to, '+447700900401');
    const plainTwilio = await twilio('AC00000000000000000000000000000012', 'plain-key-0001', '07700900401');
    assert.equal(plainTwilio.status, 400);
    assert.equal(((await plainTwilio.json()) as { code: number }).code, 21211);

    const kannel = (user: string, to: string) =>
      fetch(
        `${gw.base}/cgi-bin/sendsms?${new URLSearchParams({ username: user, password: `${user}-key-0001`, to, text: 'hi' })}`,
      );
    assert.equal((await kannel('uk', '07700900402')).status, 202);
    const plainKannel = await kannel('plain', '07700900402');
    assert.equal(plainKannel.status, 400);
    assert.match(await plainKannel.text(), /no country code/);
    // Kannel clients write international numbers as bare digits: those still go.
    assert.equal((await kannel('plain', '447700900402')).status, 202);

    const jasmin = (user: string, to: string) =>
      fetch(
        `${gw.base}/send?${new URLSearchParams({ username: user, password: `${user}-key-0001`, to, content: 'hi' })}`,
      );
    assert.equal((await jasmin('uk', '07700900403')).status, 200);
    const plainJasmin = await jasmin('plain', '07700900403');
    assert.equal(plainJasmin.status, 400);
    assert.match(await plainJasmin.text(), /^Error "/);

    const sent = (await uk('GET', '/v1/messages')).body.data.map((m: { to: string }) => m.to);
    for (const to of ['+447700900401', '+447700900402', '+447700900403']) assert.ok(sent.includes(to), to);
    const plainSent = (await plain('GET', '/v1/messages')).body.data.map((m: { to: string }) => m.to);
    assert.ok(!plainSent.some((to: string) => to.includes('07700')), 'no national number sent with a +');
  });

  test('SMPP: TON international, national and unknown', async (t) => {
    const bind = async (systemId: string) => {
      const { client } = esme(gw.app.smppAddress!.port, { systemId, password: 'secret' });
      client.start();
      t.after(() => client.stop());
      await client.waitBound();
      return (destAddrTon: number, destinationAddr: string, source: Record<string, unknown> = {}) =>
        client.request(submitSm({ destAddrTon, destinationAddr, ...source })).then((r) => r.commandStatus);
    };
    const ukSubmit = await bind('uk');
    const plainSubmit = await bind('plain');
    // International digits, with TON international or unknown, work with or without a country.
    assert.equal(await plainSubmit(1, '447700900501'), 0);
    assert.equal(await plainSubmit(0, '447700900502'), 0);
    // A national number is read in the account country, refused without one.
    assert.equal(await ukSubmit(2, '07700900503'), 0);
    assert.equal(await plainSubmit(2, '07700900503'), CommandStatus.ESME_RINVDSTADR);
    // International digits under TON national (as Kannel sends them) still go without one.
    assert.equal(await plainSubmit(2, '447700900508'), 0);
    assert.equal(await ukSubmit(0, '07700900504'), 0);
    assert.equal(await plainSubmit(0, '07700900504'), CommandStatus.ESME_RINVDSTADR);
    // A sender's TON is read the same way.
    assert.equal(await ukSubmit(1, '447700900506', { sourceAddrTon: 2, sourceAddr: '07700900600' }), 0);
    assert.equal(await ukSubmit(1, '447700900507', { sourceAddrTon: 1, sourceAddr: '12025550100' }), 0);
    // A leading 0 is no calling code.
    assert.equal(await plainSubmit(1, '07700900505'), CommandStatus.ESME_RINVDSTADR);

    const ukSent = (await uk('GET', '/v1/messages')).body.data.map((m: { to: string }) => m.to);
    assert.ok(ukSent.includes('+447700900503') && ukSent.includes('+447700900504'));
    const fromOf = async (to: string) =>
      (await uk('GET', `/v1/messages?to=${encodeURIComponent(to)}`)).body.data[0]?.from;
    assert.equal(await fromOf('+447700900506'), '+447700900600');
    assert.equal(await fromOf('+447700900507'), '+12025550100');
    const plainSent = (await plain('GET', '/v1/messages')).body.data.map((m: { to: string }) => m.to);
    assert.ok(plainSent.includes('+447700900501') && plainSent.includes('+447700900502'));
    assert.ok(plainSent.includes('+447700900508'));
    assert.ok(!plainSent.some((to: string) => to.startsWith('+0')));
  });
});

test('defaultCountry must be an ISO 3166 alpha-2 code; the error names its path', () => {
  const withCountry = (country: string) => config.replace('defaultCountry: GB', `defaultCountry: ${country}`);
  assert.equal(parseConfig(withCountry('GB')).accounts[0]!.defaultCountry, 'GB');
  for (const bad of ['XX', 'gb', 'GBR']) {
    assert.throws(
      () => parseConfig(withCountry(bad)),
      (err) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p.startsWith('accounts[0].defaultCountry: expected an ISO 3166')),
      bad,
    );
  }
});
