// Brute-force limits (CONTRACT §8): failed API keys (REST, Twilio basic auth, Kannel,
// Jasmin) and failed SMPP binds are delayed, then locked out per address and per account —
// 429 with Retry-After / ESME_RBINDFAIL — while a client from another address is not
// slowed. Real sockets: the attacker connects from 127.0.0.1, the client from 127.0.0.2.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { AuthGuard } from '../../src/core/index.ts';
import { CommandStatus, type Pdu } from '../../src/smpp/index.ts';
import { bindPdu, RawPeer } from '../smpp/raw-peer.ts';
import { gatewayFrom } from './helpers.ts';

let gw: Awaited<ReturnType<typeof gatewayFrom>>;
const accountSid = 'AC00000000000000000000000000000009';

before(async () => {
  gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-0001] }
accounts:
  - id: acme
    apiKeys: [acme-key-0001]
    twilio: { accountSid: ${accountSid} }
    smpp: { systemId: esme, password: pw, maxBinds: 8 }
  - { id: shop, apiKeys: [shop-key-0001], smpp: { systemId: shop, password: pw2, maxBinds: 8 } }
connectors: [{ id: sim, type: simulator }]
routes: { mt: [{ connectors: [sim] }] }
`);
});
after(() => gw.close());

/** An HTTP request from a chosen local address (the "remote address" the gateway sees). */
function request(
  path: string,
  from: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const url = new URL(path, gw.base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, headers, localAddress: from },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

test('REST: wrong keys from one address end in 429 with Retry-After; another address is not slowed', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++)
    statuses.push((await request('/v1/messages', '127.0.0.1', bearer(`guess-${i}`))).status);
  assert.deepEqual(statuses.slice(0, 9), Array(9).fill(401));
  assert.equal(statuses.at(-1), 429);
  const locked = await request('/v1/messages', '127.0.0.1', bearer('acme-key-0001'));
  assert.equal(locked.status, 429, 'even the right key, from the locked-out address');
  assert.ok(Number(locked.headers['retry-after']) >= 1);
  assert.equal(JSON.parse(locked.body).error.code, 'too_many_failed_attempts');
  // The legitimate client elsewhere gets in, and its own first wrong key is answered at once (401).
  assert.equal((await request('/v1/messages', '127.0.0.2', bearer('acme-key-0001'))).status, 200);
  assert.equal((await request('/v1/messages', '127.0.0.2', bearer('typo'))).status, 401);
});

test('compat: Twilio basic auth, Kannel and Jasmin logins are locked out in their own shapes', async () => {
  const twilio = (key: string, from: string) =>
    request(`/2010-04-01/Accounts/${accountSid}/Messages.json`, from, {
      authorization: `Basic ${Buffer.from(`${accountSid}:${key}`).toString('base64')}`,
    });
  // The account's own client has signed in from 127.0.0.2 before the attack.
  assert.equal((await twilio('acme-key-0001', '127.0.0.2')).status, 200);
  let last = await twilio('wrong', '127.0.0.3');
  for (let i = 0; i < 11 && last.status !== 429; i++) last = await twilio(`wrong-${i}`, '127.0.0.3');
  assert.equal(last.status, 429);
  assert.equal(JSON.parse(last.body).code, 20429);
  assert.ok(Number(last.headers['retry-after']) >= 1);
  // It still gets in. (A fresh address is refused while the account is locked: guesses at
  // it from many addresses must not go on.)
  assert.equal((await twilio('acme-key-0001', '127.0.0.8')).status, 429);
  assert.equal((await twilio('acme-key-0001', '127.0.0.2')).status, 200);

  const kannel = (password: string) =>
    request(`/cgi-bin/sendsms?username=shop&password=${password}&to=447700900001&text=hi`, '127.0.0.4');
  let k = await kannel('x');
  for (let i = 0; i < 11 && k.status !== 429; i++) k = await kannel(`x${i}`);
  assert.equal(k.status, 429);
  assert.ok(Number(k.headers['retry-after']) >= 1);

  const jasmin = (password: string) =>
    request(`/send?username=shop&password=${password}&to=447700900001&content=hi`, '127.0.0.5');
  let j = await jasmin('x');
  for (let i = 0; i < 11 && j.status !== 429; i++) j = await jasmin(`x${i}`);
  assert.equal(j.status, 429);
  assert.match(j.body, /^Error "/);
});

test('an admin key tried as an account key (as the console signs in) is no failed attempt', async () => {
  for (let i = 0; i < 12; i++)
    assert.equal((await request('/v1/messages', '127.0.0.9', bearer('admin-key-0001'))).status, 401);
  assert.equal((await request('/v1/messages', '127.0.0.9', bearer('acme-key-0001'))).status, 200);
  assert.equal((await request('/v1/admin/connectors', '127.0.0.9', bearer('admin-key-0001'))).status, 200);
});

async function bind(from: string, systemId: string, password: string): Promise<Pdu> {
  const socket = net.connect({ port: gw.app.smppAddress!.port, host: '127.0.0.1', localAddress: from });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const peer = new RawPeer(socket);
  try {
    peer.send({ ...bindPdu('bind_transceiver', 1, password), systemId } as Pdu);
    await peer.until((r) => r.some((p) => p.command === 'bind_transceiver_resp'));
    return peer.received.find((p) => p.command === 'bind_transceiver_resp')!;
  } finally {
    peer.close();
  }
}

test('SMPP: wrong passwords end in ESME_RBINDFAIL for that address; another address binds', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await bind('127.0.0.6', 'shop', `bad${i}`)).commandStatus);
  assert.equal(statuses[0], CommandStatus.ESME_RINVPASWD);
  assert.equal(statuses.at(-1), CommandStatus.ESME_RBINDFAIL);
  assert.equal((await bind('127.0.0.6', 'esme', 'pw')).commandStatus, CommandStatus.ESME_RBINDFAIL);
  assert.equal((await bind('127.0.0.7', 'esme', 'pw')).commandStatus, CommandStatus.ESME_ROK);
});

test('the guard: delays grow after a few failures, lockouts end, memory stays bounded', () => {
  let now = 0;
  const events: unknown[] = [];
  const guard = new AuthGuard({
    delayAfter: 2,
    lockAfter: 5,
    lockMs: 60_000,
    baseDelayMs: 10,
    maxDelayMs: 40,
    maxBytes: 100 * 150,
    now: () => now,
    onLockout: (e) => events.push(e),
  });
  const delays = [1, 2, 3, 4].map(() => guard.failed('10.0.0.1'));
  assert.deepEqual(delays, [0, 0, 10, 20]);
  assert.equal(guard.lockedFor('10.0.0.1'), 0);
  guard.failed('10.0.0.1');
  assert.equal(guard.lockedFor('10.0.0.1'), 60_000);
  assert.equal(guard.lockedFor('::ffff:10.0.0.1'), 60_000, 'the same address, IPv4-mapped');
  assert.deepEqual(events, [{ address: '10.0.0.1', scope: 'address', seconds: 60 }]);
  now += 60_001;
  assert.equal(guard.lockedFor('10.0.0.1'), 0);

  // An IPv6 host is its /64.
  for (let i = 0; i < 5; i++) guard.failed(`2001:db8:1:2::${i + 1}`);
  assert.ok(guard.lockedFor('2001:db8:1:2:ffff::9') > 0);
  assert.equal(guard.lockedFor('2001:db8:1:3::1'), 0);

  // An account locked by guesses from many addresses: not for an address it was used from.
  guard.succeeded('192.0.2.7', 'acct');
  for (let i = 0; i < 5; i++) guard.failed(`198.51.100.${i}`, 'acct');
  assert.ok(guard.lockedFor('203.0.113.1', 'acct') > 0);
  assert.equal(guard.lockedFor('192.0.2.7', 'acct'), 0);

  // A flood of distinct addresses is remembered up to maxBytes only.
  for (let i = 0; i < 10_000; i++) guard.failed(`172.16.${i >> 8}.${i & 255}`);
  assert.ok(guard.size <= 100, `${guard.size} records`);
});

test('the guard: names a client chooses, however long, keep its memory within maxBytes', () => {
  const guard = new AuthGuard({ maxBytes: 2 ** 20 });
  // A Basic username fills what an HTTP header allows (~12 KB), a new one per attempt: 5,000
  // records of ~24 KB, 120 MB if each were kept. (Through the front doors an address is
  // locked after 10 failures, so this takes many addresses; their records are small.)
  const name = 'x'.repeat(12_000);
  for (let i = 0; i < 5_000; i++) guard.failed('203.0.113.9', `account:${name}${i}`);
  const recordBytes = 2 * `u:account:${name}4999`.length;
  // The address's own record, and the names that fit in maxBytes (plus the one that crossed it).
  assert.ok(guard.size <= 1 + Math.ceil(2 ** 20 / recordBytes) + 1, `${guard.size} records`);
  assert.ok(guard.size > 10, `${guard.size} records: the newest are kept`);
});
