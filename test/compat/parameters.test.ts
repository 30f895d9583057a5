// Every parameter the compatibility APIs take is honoured or refused in the API's own way,
// never dropped: Twilio MediaUrl (21620), SmartEncoded, options this gateway does not offer;
// Verify CustomCode and AppHash; Kannel smsc= (only a connector the account's routes may
// use), account/binfo, unsupported PDU options; Jasmin's unknown arguments and dlr=no.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, gatewayFrom, waitFor } from '../e2e/helpers.ts';
import { callbackReceiver } from './helpers.ts';

const sid = 'AC00000000000000000000000000000021';
let gw: Awaited<ReturnType<typeof gatewayFrom>>;
let dlr: Awaited<ReturnType<typeof callbackReceiver>>;
let rest: ReturnType<typeof api>;
let admin: ReturnType<typeof api>;

before(async () => {
  dlr = await callbackReceiver();
  gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
# The DLR receiver is on this machine.
callbacks: { allow: ["127.0.0.0/8"] }
admin: { apiKeys: [admin-key-0001] }
accounts:
  - { id: shop, apiKeys: [shop-key-0001], defaultFrom: SHOP, twilio: { accountSid: ${sid} } }
  - { id: other, apiKeys: [other-key-0001] }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
  - { id: sim2, type: simulator, deliveryDelayMs: 10 }
  - { id: sim3, type: simulator, deliveryDelayMs: 10 }
  - { id: held, type: simulator, deliveryDelayMs: 10 }
routes:
  mt:
    - { match: { account: [other] }, connectors: [sim3] }
    - { match: { to: ["+1555099*"] }, connectors: [held] }
    - { connectors: [sim, sim2] }
`);
  rest = api(gw.base, 'shop-key-0001');
  admin = api(gw.base, 'admin-key-0001');
});
after(async () => {
  await gw?.close();
  await dlr?.close();
});

const messagesTo = async (to: string) =>
  (await rest('GET', `/v1/messages?to=${encodeURIComponent(to)}`)).body.data as Array<{
    id: string;
    text: string;
    encoding: string;
    status: string;
    connector: string | null;
  }>;

describe('Twilio Messaging', () => {
  const auth = `Basic ${Buffer.from(`${sid}:shop-key-0001`).toString('base64')}`;
  const twilio = async (method: string, path: string, params: Record<string, string>) => {
    const query = method === 'GET' ? `?${new URLSearchParams(params)}` : '';
    const res = await fetch(`${gw.base}/2010-04-01/Accounts/${sid}/${path}${query}`, {
      method,
      headers: { authorization: auth },
      ...(method === 'GET' ? {} : { body: new URLSearchParams(params) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const create = (params: Record<string, string>) =>
    twilio('POST', 'Messages.json', { To: '+447700900001', From: 'SHOP', Body: 'hi', ...params });

  test('MediaUrl is refused with 21620 even beside a Body; nothing is sent', async () => {
    const res = await create({ To: '+447700900101', MediaUrl: 'https://example.com/cat.jpg' });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 21620);
    assert.deepEqual(await messagesTo('+447700900101'), []);
  });

  test('options not offered are refused (20001) unless given as what the gateway does', async () => {
    for (const params of [
      { ShortenUrls: 'true' } as Record<string, string>,
      { ContentSid: 'HX123' },
      { Attempt: '2' },
      { MaxPrice: '0.5' },
    ]) {
      const res = await create({ To: '+447700900102', ...params });
      assert.equal(res.status, 400, JSON.stringify(params));
      assert.equal(res.body.code, 20001);
    }
    assert.deepEqual(await messagesTo('+447700900102'), []);
    assert.equal(
      (await create({ To: '+447700900103', ShortenUrls: 'false', RiskCheck: 'disable' })).status,
      201,
    );
    const unscheduled = await create({ To: '+447700900104', ScheduleType: 'fixed' });
    assert.equal(unscheduled.status, 400);
    assert.equal(unscheduled.body.code, 35111);
  });

  test('SmartEncoded replaces look-alike characters so the text stays GSM', async () => {
    const res = await create({
      To: '+447700900105',
      Body: '\u201cHi\u201d \u2014 it\u2019s on',
      SmartEncoded: 'true',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.body, '"Hi" - it\'s on');
    const [m] = await messagesTo('+447700900105');
    assert.equal(m!.encoding, 'gsm7');
    const plain = await create({ To: '+447700900106', Body: '\u201cHi\u201d' });
    assert.equal(plain.body.body, '\u201cHi\u201d');
  });

  test('update and list refuse what they do not act on', async () => {
    const created = await create({ To: '+447700900107' });
    const path = `Messages/${created.body.sid}.json`;
    assert.equal((await twilio('POST', path, { Status: 'canceled', Body: '' })).body.code, 20001);
    assert.equal((await twilio('POST', path, { Price: '1' })).body.code, 20001);
    assert.equal((await twilio('GET', 'Messages.json', { Direction: 'inbound' })).body.code, 20001);
    assert.equal((await twilio('GET', 'Messages.json', { Page: '2' })).body.code, 20001);
    assert.equal((await twilio('GET', 'Messages.json', { To: '+447700900107', PageSize: '5' })).status, 200);
  });
});

describe('Twilio Verify', () => {
  const auth = `Basic ${Buffer.from(`${sid}:shop-key-0001`).toString('base64')}`;
  const verify = async (path: string, params: Record<string, string>) => {
    const res = await fetch(`${gw.base}/v2/${path}`, {
      method: 'POST',
      headers: { authorization: auth },
      body: new URLSearchParams(params),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  let service: string;
  before(async () => {
    service = (await verify('Services', { FriendlyName: 'Shop', CustomCodeEnabled: 'true' })).body
      .sid as string;
  });

  test('CustomCode is the code sent and the one checked; AppHash ends the text', async () => {
    // Held at a stopped connector, the message keeps its text (it is masked once sent).
    assert.equal((await admin('POST', '/v1/admin/connectors/held/stop')).status, 200);
    const started = await verify(`Services/${service}/Verifications`, {
      To: '+15550990001',
      Channel: 'sms',
      CustomCode: 'AB12cd',
      AppHash: 'FA+9qCX9VSu',
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const [m] = await waitFor(async () => {
      const found = await messagesTo('+15550990001');
      return found.length > 0 && found;
    });
    assert.equal(m!.text, 'Your Shop verification code is: AB12cd\nFA+9qCX9VSu');
    const wrong = await verify(`Services/${service}/VerificationCheck`, {
      To: '+15550990001',
      Code: '123456',
    });
    assert.equal(wrong.body.status, 'pending');
    const right = await verify(`Services/${service}/VerificationCheck`, {
      To: '+15550990001',
      Code: 'AB12cd',
    });
    assert.equal(right.body.status, 'approved');
    assert.equal(right.body.valid, true);
  });

  test('a bad CustomCode, an unknown parameter or an option not offered is 60200', async () => {
    for (const params of [
      { CustomCode: '12' } as Record<string, string>,
      { CustomCode: '12345678901' },
      { CustomCode: '12 34' },
      { SendDigits: '1' },
    ]) {
      const res = await verify(`Services/${service}/Verifications`, { To: '+447700900201', ...params });
      assert.equal(res.status, 400, JSON.stringify(params));
      assert.equal(res.body.code, 60200);
    }
    assert.equal((await verify('Services', { FriendlyName: 'X', LookupEnabled: 'true' })).body.code, 60200);
    const named = await verify(`Services/${service}/Verifications`, {
      To: '+447700900202',
      Locale: 'fr',
      CustomFriendlyName: 'Boutique',
    });
    assert.equal(named.body.code, 60200);
    const pageTwo = await fetch(`${gw.base}/v2/Services?Page=2`, { headers: { authorization: auth } });
    assert.equal(((await pageTwo.json()) as { code: number }).code, 60200);
    const check = await verify(`Services/${service}/VerificationCheck`, {
      To: '+447700900201',
      Code: '1234',
      Amount: '1',
    });
    assert.equal(check.body.code, 60200);
  });
});

describe('Kannel sendsms', () => {
  const sendsms = (query: Record<string, string>, user = 'shop') =>
    fetch(
      `${gw.base}/cgi-bin/sendsms?${new URLSearchParams({ username: user, password: `${user}-key-0001`, text: 'hi', from: 'SHOP', ...query })}`,
    );

  test('smsc= sends through that connector, if a route the account may use lists it', async () => {
    const res = await sendsms({ to: '+447700900301', smsc: 'sim2' });
    assert.equal(res.status, 202, await res.text());
    const [m] = await waitFor(async () => {
      const found = await messagesTo('+447700900301');
      return found[0]?.connector ? found : undefined;
    });
    assert.equal(m!.connector, 'sim2');
    // Without smsc= the route's first connector takes it.
    assert.equal((await sendsms({ to: '+447700900302' })).status, 202);
    const [d] = await waitFor(async () => {
      const found = await messagesTo('+447700900302');
      return found[0]?.connector ? found : undefined;
    });
    assert.equal(d!.connector, 'sim');
    for (const smsc of ['sim3', 'nope']) {
      const refused = await sendsms({ to: '+447700900303', smsc });
      assert.equal(refused.status, 403, smsc);
      assert.match(await refused.text(), /not allowed for this user, rejected$/);
    }
    // (from its own sender: SHOP is the other account's.)
    assert.equal((await sendsms({ to: '+447700900304', smsc: 'sim3', from: 'OTHER' }, 'other')).status, 202);
    assert.deepEqual(await messagesTo('+447700900303'), []);
  });

  test('account and binfo come back in the dlr-url; unsupported options and unknown parameters are refused', async () => {
    const res = await sendsms({
      to: '+447700900305',
      account: 'cost-centre-7',
      binfo: 'b-42',
      'dlr-mask': '1',
      'dlr-url': `${dlr.base}/tags?o=%o&b=%B`,
    });
    assert.equal(res.status, 202);
    const hit = await waitFor(() => dlr.requests.find((r) => r.url.pathname === '/tags'));
    assert.equal(hit.url.searchParams.get('o'), 'cost-centre-7');
    assert.equal(hit.url.searchParams.get('b'), 'b-42');

    for (const [query, answer] of [
      [{ mclass: '2' }, 'MClass 2 not supported, rejected'],
      [{ pid: '65' }, 'PID not supported, rejected'],
      [{ compress: '1' }, 'Compress not supported, rejected'],
      [{ 'meta-data': '?smpp?x=1' }, 'Meta-Data not supported, rejected'],
      [{ dlrmsak: '1' }, "Unknown parameter 'dlrmsak', rejected"],
      // Named as a member every JavaScript object has: still only a parameter it does not know.
      [{ constructor: '1' }, "Unknown parameter 'constructor', rejected"],
    ] as const) {
      const refused = await sendsms({ to: '+447700900306', ...query });
      assert.equal(refused.status, 400, JSON.stringify(query));
      assert.equal(await refused.text(), answer);
    }
    assert.deepEqual(await messagesTo('+447700900306'), []);
    assert.equal((await sendsms({ to: '+447700900307', pid: '0', mwi: '-1' })).status, 202);
  });
});

describe('Jasmin /send', () => {
  const send = (params: Record<string, string>) =>
    fetch(
      `${gw.base}/send?${new URLSearchParams({ username: 'shop', password: 'shop-key-0001', content: 'hi', ...params })}`,
    );

  test('unknown arguments, dlr=yes without a URL and list values are refused', async () => {
    const tags = await send({ to: '447700900401', tags: '1,2' });
    assert.equal(tags.status, 400);
    assert.equal(await tags.text(), 'Error "Argument [tags] is unknown."');
    const noUrl = await send({ to: '447700900401', dlr: 'yes' });
    assert.equal(noUrl.status, 400);
    assert.match(await noUrl.text(), /dlr-url/);
    const json = await fetch(`${gw.base}/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'shop',
        password: 'shop-key-0001',
        to: ['447700900401'],
        content: 'hi',
      }),
    });
    assert.equal(json.status, 400);
    assert.deepEqual(await messagesTo('+447700900401'), []);
  });

  test('a national character set is read as text; one that cannot be read is refused', async () => {
    // ISO-8859-5 (data_coding 6) octets of "Привет".
    const cyrillic = await send({
      to: '447700900404',
      coding: '6',
      'hex-content': 'bfe0d8d2d5e2',
      content: '',
    });
    assert.equal(cyrillic.status, 400, 'content and hex-content together are refused');
    const read = await fetch(
      `${gw.base}/send?${new URLSearchParams({ username: 'shop', password: 'shop-key-0001', to: '447700900404', coding: '6', 'hex-content': 'bfe0d8d2d5e2' })}`,
    );
    assert.equal(read.status, 200, await read.text());
    const [m] = await messagesTo('+447700900404');
    assert.equal(m!.text, 'Привет');
    assert.equal(m!.encoding, 'ucs2');
    const jis = await send({ to: '447700900405', coding: '5' });
    assert.equal(jis.status, 400);
    assert.match(await jis.text(), /^Error "coding 5/);
  });

  test('dlr=no is honoured beside a dlr-url', async () => {
    const quiet = await send({
      to: '447700900403',
      dlr: 'no',
      'dlr-url': `${dlr.base}/jasmin-no`,
      'dlr-level': '2',
    });
    assert.equal(quiet.status, 200);
    await waitFor(async () => (await messagesTo('+447700900403'))[0]?.status === 'delivered');
    // A later message that asks for its DLR gets it; the first never does.
    const asked = await send({ to: '447700900402', 'dlr-url': `${dlr.base}/jasmin-yes`, 'dlr-level': '2' });
    assert.equal(asked.status, 200);
    await waitFor(() => dlr.requests.some((r) => r.url.pathname === '/jasmin-yes'));
    assert.equal(dlr.requests.filter((r) => r.url.pathname === '/jasmin-no').length, 0);
  });
});
