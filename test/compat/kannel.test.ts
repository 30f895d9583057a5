// Kannel's sendsms driven as Kannel clients drive it: GET with query parameters, POST with
// X-Kannel headers, several receivers, and dlr-url called with the escapes filled in, end
// to end through the simulator carrier (a delivered and an undelivered case).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gatewayFrom, waitFor } from '../e2e/helpers.ts';
import { callbackReceiver } from './helpers.ts';

let gw: Awaited<ReturnType<typeof gatewayFrom>>;
let dlr: Awaited<ReturnType<typeof callbackReceiver>>;

before(async () => {
  dlr = await callbackReceiver();
  gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
callbacks: { allow: ["127.0.0.0/8"] }   # the callback receivers of these tests listen on loopback
accounts:
  - { id: shop, apiKeys: [shop-key-0001] }
  - { id: other, apiKeys: [other-key-0001] }
connectors:
  - id: sim
    type: simulator
    deliveryDelayMs: 50
    outcomes: [{ to: "+1555000*", status: undelivered, error: "001" }]
routes:
  mt: [{ connectors: [sim] }]
`);
});
after(async () => {
  await gw.close();
  await dlr.close();
});

const sendsms = (query: Record<string, string>, init?: RequestInit) =>
  fetch(`${gw.base}/cgi-bin/sendsms?${new URLSearchParams(query)}`, init);

test('GET sendsms answers 202 "0: Accepted for delivery" and dlr-url gets every escape filled', async () => {
  const dlrUrl = `${dlr.base}/dlr?type=%d&to=%p&from=%P&q=%q&Q=%Q&time=%T&reply=%A&smsc=%i&id=%I&fid=%F&pct=%%`;
  const res = await sendsms({
    username: 'shop',
    password: 'shop-key-0001',
    from: '0044123',
    to: '447700900001',
    text: 'Hello Kannel',
    'dlr-mask': '31',
    'dlr-url': dlrUrl,
  });
  assert.equal(res.status, 202);
  assert.equal(await res.text(), '0: Accepted for delivery');

  const delivered = await waitFor(
    () => dlr.requests.find((r) => r.url.pathname === '/dlr' && r.url.searchParams.get('type') === '1'),
    10_000,
    'delivered DLR',
  );
  const q = delivered.url.searchParams;
  assert.equal(delivered.method, 'GET');
  assert.equal(q.get('to'), '447700900001');
  assert.equal(q.get('from'), '0044123');
  assert.equal(q.get('Q'), '+44123');
  assert.equal(q.get('q'), '447700900001');
  assert.equal(q.get('smsc'), 'sim');
  assert.match(
    q.get('reply') ?? '',
    /^id:\S+ sub:001 dlvrd:001 submit date:\d{10} done date:\d{10} stat:DELIVRD err:\S+ text:Hello Kannel$/,
  );
  assert.ok(Math.abs(Number(q.get('time')) - Date.now() / 1000) < 60);
  assert.equal(q.get('pct'), '%', '%% is a literal percent sign');
  assert.match(delivered.url.search, /&pct=%$/);
  const id = q.get('id')!;
  const stored = await fetch(`${gw.base}/v1/messages/${id}`, {
    headers: { authorization: 'Bearer shop-key-0001' },
  }).then((r) => r.json() as Promise<{ status: string; to: string; text: string; events: unknown[] }>);
  assert.equal(stored.status, 'delivered');
  assert.equal(stored.to, '+447700900001');
  assert.equal(stored.text, 'Hello Kannel');
  assert.equal(
    q.get('fid'),
    (stored.events as Array<{ type: string; detail?: { smscIds?: string[] } }>).find(
      (e) => e.type === 'submitted',
    )?.detail?.smscIds?.[0],
  );
  assert.ok(q.get('fid'), 'the SMSC message id');

  // The mask asked for 8 (SMSC accepted) and 4 (queued) too.
  const types = dlr.requests
    .filter((r) => r.url.searchParams.get('id') === id)
    .map((r) => r.url.searchParams.get('type'));
  assert.deepEqual([...types].sort(), ['1', '4', '8']);
  const accepted = dlr.requests.find(
    (r) => r.url.searchParams.get('id') === id && r.url.searchParams.get('type') === '8',
  );
  assert.equal(accepted?.url.searchParams.get('reply'), 'ACK/');
});

test('an undelivered message reports 2 with the receipt stat; mask 2 sends nothing else', async () => {
  const res = await sendsms({
    username: 'shop',
    password: 'shop-key-0001',
    from: 'SHOP',
    to: '15550001234',
    text: 'will fail',
    'dlr-mask': '2',
    'dlr-url': `${dlr.base}/fail?s=%d&to=%p&a=%A&id=%I`,
  });
  assert.equal(res.status, 202);
  const failed = await waitFor(
    () => dlr.requests.find((r) => r.url.pathname === '/fail'),
    10_000,
    'undelivered DLR',
  );
  assert.equal(failed.url.searchParams.get('s'), '2');
  assert.equal(failed.url.searchParams.get('to'), '15550001234');
  assert.match(failed.url.searchParams.get('a') ?? '', /stat:UNDELIV err:001/);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(dlr.requests.filter((r) => r.url.pathname === '/fail').length, 1);
});

test('POST text/plain with X-Kannel headers, several receivers, UCS-2 by coding=2', async () => {
  const res = await fetch(`${gw.base}/cgi-bin/sendsms`, {
    method: 'POST',
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'X-Kannel-Username': 'shop',
      'X-Kannel-Password': 'shop-key-0001',
      'X-Kannel-From': '12345',
      'X-Kannel-To': '447700900011 447700900012',
      'X-Kannel-Coding': '2',
      'X-Kannel-DLR-Mask': '1',
      'X-Kannel-DLR-URL': `${dlr.base}/multi?to=%p&s=%d`,
      // Not an X-Kannel header: ignored, as Kannel does, whatever its name.
      constructor: 'x',
    },
    body: 'Привет',
  });
  assert.equal(res.status, 202);
  assert.equal(await res.text(), '0: Accepted for delivery');
  await waitFor(
    () => dlr.requests.filter((r) => r.url.pathname === '/multi').length === 2,
    10_000,
    'two DLRs',
  );
  assert.deepEqual(
    dlr.requests
      .filter((r) => r.url.pathname === '/multi')
      .map((r) => r.url.searchParams.get('to'))
      .sort(),
    ['447700900011', '447700900012'],
  );
  const list = await fetch(`${gw.base}/v1/messages?to=%2B447700900011`, {
    headers: { authorization: 'Bearer shop-key-0001' },
  }).then((r) => r.json() as Promise<{ data: Array<{ text: string; encoding: string; from: string }> }>);
  assert.equal(list.data[0]?.text, 'Привет');
  assert.equal(list.data[0]?.encoding, 'ucs2');
  assert.equal(list.data[0]?.from, '12345');
});

test('charset=ISO-8859-1 text is read in that charset; udh with coding 1 goes as binary', async () => {
  const latin = await fetch(
    `${gw.base}/cgi-bin/sendsms?username=shop&password=shop-key-0001&from=SHOP&to=447700900021&charset=ISO-8859-1&text=Caf%E9`,
  );
  assert.equal(latin.status, 202);
  const binary = await fetch(
    `${gw.base}/cgi-bin/sendsms?username=shop&password=shop-key-0001&from=SHOP&to=447700900022&udh=%06%05%04%15%81%00%00&text=%01%02%FF`,
  );
  assert.equal(binary.status, 202, await binary.text());
  const get = async (to: string) =>
    (
      await fetch(`${gw.base}/v1/messages?to=${encodeURIComponent(to)}`, {
        headers: { authorization: 'Bearer shop-key-0001' },
      }).then((r) => r.json() as Promise<{ data: Array<Record<string, unknown>> }>)
    ).data[0]!;
  assert.equal((await get('+447700900021')).text, 'Café');
  const bin = await get('+447700900022');
  assert.equal(bin.binaryHex, '0102ff');
  assert.equal(bin.udhHex, '06050415810000');
});

test("Kannel's refusals: 403 wrong credentials, 400 missing or empty to, misformed fields", async () => {
  const cases: Array<[Record<string, string>, number, string]> = [
    [
      { username: 'shop', password: 'wrong-key', to: '447700900001', text: 'x' },
      403,
      'Authorization failed for sendsms',
    ],
    [
      { username: 'other', password: 'shop-key-0001', to: '447700900001', text: 'x' },
      403,
      'Authorization failed for sendsms',
    ],
    [{ username: 'shop', password: 'shop-key-0001', text: 'x' }, 400, 'Missing receiver number, rejected'],
    [
      { username: 'shop', password: 'shop-key-0001', to: '', text: 'x' },
      400,
      'Empty receiver number not allowed, rejected',
    ],
    [
      { username: 'shop', password: 'shop-key-0001', to: '447700900001', text: 'x' },
      400,
      'Sender missing and no global set, rejected',
    ],
    [
      { username: 'shop', password: 'shop-key-0001', from: 'A', to: '4477', text: 'x', 'dlr-mask': '99' },
      400,
      'DLR-Mask field misformed, rejected',
    ],
    [
      { username: 'shop', password: 'shop-key-0001', from: 'A', to: '4477', text: 'x', 'dlr-url': 'ftp://x' },
      400,
      'DLR-URL field misformed, rejected',
    ],
    // Kept with each message (and its callbacks), so no longer than REST's callbackUrl.
    [
      {
        username: 'shop',
        password: 'shop-key-0001',
        from: 'A',
        to: '4477',
        text: 'x',
        'dlr-mask': '1',
        'dlr-url': `http://x/${'a'.repeat(2040)}`,
      },
      400,
      'DLR-URL field longer than 2048 characters, rejected',
    ],
    [
      {
        username: 'shop',
        password: 'shop-key-0001',
        from: 'A',
        to: '4477',
        text: 'x',
        account: 'a'.repeat(2049),
        'dlr-mask': '1',
        'dlr-url': 'http://x/',
      },
      400,
      'Account field longer than 2048 characters, rejected',
    ],
    [
      {
        username: 'shop',
        password: 'shop-key-0001',
        from: 'A',
        to: '4477',
        text: 'x',
        binfo: 'b'.repeat(2049),
        'dlr-mask': '1',
        'dlr-url': 'http://x/',
      },
      400,
      'BInfo field longer than 2048 characters, rejected',
    ],
    [
      { username: 'shop', password: 'shop-key-0001', from: 'A', to: '4477', text: 'x', coding: '7' },
      400,
      'Coding field misformed, rejected',
    ],
    [
      { username: 'shop', password: 'shop-key-0001', from: 'A', to: '4477', text: 'x', udh: '\u0005\u0000' },
      400,
      'UDH field misformed, rejected',
    ],
  ];
  for (const [query, status, text] of cases) {
    const res = await sendsms(query);
    assert.equal(res.status, status, JSON.stringify(query));
    assert.equal(await res.text(), text);
  }
  const bad = await sendsms({
    username: 'shop',
    password: 'shop-key-0001',
    from: 'SHOP',
    to: 'notanumber',
    text: 'x',
  });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /not a phone number/);
});
