// Jasmin's HTTP API driven as its documented clients do: /send by GET and POST answering
// `Success "<id>"`, DLRs at level 1, 2 and 3 by GET and POST through the simulator carrier
// (delivered and undelivered), and /balance, /rate, /ping.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gatewayFrom, waitFor } from '../e2e/helpers.ts';
import { callbackReceiver } from './helpers.ts';

let gw: Awaited<ReturnType<typeof gatewayFrom>>;
let dlr: Awaited<ReturnType<typeof callbackReceiver>>;

before(async () => {
  dlr = await callbackReceiver(() => ({ body: 'ACK/Jasmin' }));
  gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
callbacks: { allow: ["127.0.0.0/8"] }   # the callback receivers of these tests listen on loopback
accounts:
  - { id: foo, apiKeys: [jasmin-key-01] }
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

const idOf = async (res: Response) => {
  assert.equal(res.status, 200);
  const text = await res.text();
  const match = /^Success "([^"]+)"$/.exec(text);
  assert.ok(match, text);
  return match[1]!;
};

test('GET /send with dlr-level 3 by POST: a level-1 (ESME_ROK) and a terminal (DELIVRD) DLR', async () => {
  const id = await idOf(
    await fetch(
      `${gw.base}/send?${new URLSearchParams({
        username: 'foo',
        password: 'jasmin-key-01',
        to: '+447700900001',
        from: 'Jasmin',
        content: 'Hello world !',
        dlr: 'yes',
        'dlr-url': `${dlr.base}/dlr`,
        'dlr-level': '3',
      })}`,
    ),
  );
  const forId = () => dlr.requests.filter((r) => r.form.get('id') === id);
  await waitFor(() => forId().length === 2, 10_000, 'two DLRs');
  const [smsc, terminal] = [
    forId().find((r) => r.form.get('message_status') === 'ESME_ROK')!,
    forId().find((r) => r.form.get('message_status') === 'DELIVRD')!,
  ];
  assert.ok(smsc && terminal);
  for (const r of [smsc, terminal]) {
    assert.equal(r.method, 'POST');
    assert.equal(r.form.get('level'), '3');
    assert.equal(r.form.get('connector'), 'sim');
  }
  assert.ok(terminal.form.get('id_smsc'), 'the SMSC message id');
  assert.equal(terminal.form.get('dlvrd'), '001');
  assert.equal(terminal.form.get('err'), '000');
  assert.match(terminal.form.get('subdate') ?? '', /^\d{10}$/);
  assert.match(terminal.form.get('donedate') ?? '', /^\d{10}$/);
  assert.equal(terminal.form.get('text'), 'Hello world !');
});

test('POST /send (form), dlr-level 2 by GET: an undelivered message reports UNDELIV and its err', async () => {
  const id = await idOf(
    await fetch(`${gw.base}/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        username: 'foo',
        password: 'jasmin-key-01',
        to: '15550001234',
        content: 'bad luck',
        'dlr-url': `${dlr.base}/get-dlr?src=jasmin`,
        'dlr-level': '2',
        'dlr-method': 'GET',
        from: 'Jasmin',
      }),
    }),
  );
  const got = await waitFor(
    () => dlr.requests.find((r) => r.url.searchParams.get('id') === id),
    10_000,
    'level 2 DLR',
  );
  assert.equal(got.method, 'GET');
  const q = got.url.searchParams;
  assert.equal(q.get('src'), 'jasmin');
  assert.equal(q.get('message_status'), 'UNDELIV');
  assert.equal(q.get('level'), '2');
  assert.equal(q.get('err'), '001');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(dlr.requests.filter((r) => r.url.searchParams.get('id') === id).length, 1, 'no level 1 DLR');
});

test('coding 8 content as UCS-2 octets, and hex-content', async () => {
  const ucs2 = Buffer.from('\u0623\u0631\u0646\u0628', 'utf16le').swap16();
  const body = `username=foo&password=jasmin-key-01&to=447700900005&from=X&coding=8&content=${[...ucs2]
    .map((b) => `%${b.toString(16).padStart(2, '0')}`)
    .join('')}`;
  const id = await idOf(await fetch(`${gw.base}/send?${body}`));
  const m = await fetch(`${gw.base}/v1/messages/${id}`, {
    headers: { authorization: 'Bearer jasmin-key-01' },
  }).then((r) => r.json() as Promise<{ text: string; encoding: string }>);
  assert.equal(m.text, '\u0623\u0631\u0646\u0628');
  assert.equal(m.encoding, 'ucs2');
  const hex = await idOf(
    await fetch(
      `${gw.base}/send?username=foo&password=jasmin-key-01&to=447700900006&from=X&coding=4&hex-content=0102ff`,
    ),
  );
  const bin = await fetch(`${gw.base}/v1/messages/${hex}`, {
    headers: { authorization: 'Bearer jasmin-key-01' },
  }).then((r) => r.json() as Promise<{ binaryHex: string }>);
  assert.equal(bin.binaryHex, '0102ff');
});

test("Jasmin's errors, /balance, /rate and /ping", async () => {
  const error = async (query: string, status: number, text: string) => {
    const res = await fetch(`${gw.base}/send?${query}`);
    assert.equal(res.status, status, query);
    assert.equal(await res.text(), text);
  };
  await error(
    'username=foo&password=nope&to=123&content=x',
    403,
    'Error "Authentication failure for username:foo"',
  );
  await error(
    'password=jasmin-key-01&to=123&content=x',
    400,
    'Error "Mandatory argument [username] is not found."',
  );
  await error(
    'username=foo&password=jasmin-key-01&content=x',
    400,
    'Error "Mandatory argument [to] is not found."',
  );
  await error(
    'username=foo&password=jasmin-key-01&to=abc&content=x',
    400,
    'Error "Argument [to] has an invalid value: [abc]."',
  );
  await error(
    'username=foo&password=jasmin-key-01&to=123456789',
    400,
    'Error "content or hex-content not present."',
  );
  await error(
    'username=foo&password=jasmin-key-01&to=123456789&content=x&dlr-level=5',
    400,
    'Error "Argument [dlr-level] has an invalid value: [5]."',
  );
  await error(
    `username=foo&password=jasmin-key-01&to=123456789&content=x&dlr-url=http://x/${'a'.repeat(2040)}`,
    400,
    'Error "Argument [dlr-url] is longer than 2048 characters."',
  );

  const balance = await fetch(`${gw.base}/balance?username=foo&password=jasmin-key-01`);
  assert.equal(balance.status, 200);
  assert.deepEqual(await balance.json(), { balance: 'ND', sms_count: 'ND' });
  const rate = await fetch(
    `${gw.base}/rate?username=foo&password=jasmin-key-01&to=447700900001&content=${'a'.repeat(200)}`,
  );
  assert.deepEqual(await rate.json(), { submit_sm_count: 2, unit_rate: 0 });
  const ping = await fetch(`${gw.base}/ping`);
  assert.equal(await ping.text(), 'Jasmin/PONG');
});
