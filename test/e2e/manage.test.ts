// Live management (src/manage): accounts, keys, SMPP credentials and MT routes changed
// through the admin API are validated as the file is, put in force at once, kept over a
// restart and over the file; the file is reloaded on demand; every change is audited.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger, type GatewayApp, startGateway } from '../../src/app/index.ts';
import { loadConfigFile, validateConfig } from '../../src/config/index.ts';
import { CommandStatus, type Pdu } from '../../src/smpp/index.ts';
import { bindPdu, RawPeer } from '../smpp/raw-peer.ts';
import { api, waitFor } from './helpers.ts';

const fileText = (extra = '') => `
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-123] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
${extra}
connectors: [{ id: sim, type: simulator }, { id: other, type: simulator }]
routes:
  mt: [{ connectors: [sim] }]
`;

/** A gateway started from a real file, which a reload reads again. */
async function gatewayFromFile(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-manage-'));
  const file = join(dir, 'smsgw.yaml');
  const write = (t: string) => writeFileSync(file, t.replaceAll('DIR', dir));
  write(text);
  /** The gateway's log lines (JSON), of every start. */
  const lines: string[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(line) });
  const start = () => startGateway(loadConfigFile(file), { readConfig: () => loadConfigFile(file), log });
  const gw = {
    lines,
    app: (await start()) as GatewayApp,
    write,
    base: () => `http://127.0.0.1:${gw.app.httpAddress.port}`,
    admin: () => api(gw.base(), 'admin-key-123'),
    as: (key: string) => api(gw.base(), key),
    async restart() {
      await gw.app.close();
      gw.app = await start();
    },
    async close() {
      await gw.app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return gw;
}

const send = { to: '+447700900123', text: 'hello' };

/** A bind_transceiver with these credentials, left open. */
async function boundPeer(port: number, systemId: string, password: string): Promise<RawPeer> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const peer = new RawPeer(socket);
  peer.send({ ...bindPdu('bind_transceiver', 1, password), systemId } as Pdu);
  await peer.until((r) => r.some((p) => p.command === 'bind_transceiver_resp'));
  return peer;
}

/** The status of a bind_transceiver with these credentials. */
async function bindStatus(port: number, systemId: string, password: string): Promise<number> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const peer = new RawPeer(socket);
  try {
    peer.send({ ...bindPdu('bind_transceiver', 1, password), systemId } as Pdu);
    await peer.until((r) => r.some((p) => p.command === 'bind_transceiver_resp'));
    return peer.received.find((p) => p.command === 'bind_transceiver_resp')!.commandStatus;
  } finally {
    peer.close();
  }
}

test('an account made through the admin API sends at once, keeps over a restart, and goes when deleted', async (t) => {
  const gw = await gatewayFromFile(fileText());
  t.after(() => gw.close());
  const admin = gw.admin();

  const bad = await admin('POST', '/v1/admin/accounts', { id: 'beta', policy: { senders: 'BETA' } });
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  assert.equal(bad.body.error.code, 'invalid_account');
  assert.equal(bad.body.error.field, 'accounts[0].policy.senders');
  const unknown = await admin('POST', '/v1/admin/accounts', { id: 'beta', colour: 'red' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.error.code, 'unknown_field');
  assert.equal(unknown.body.error.field, 'colour');
  const taken = await admin('POST', '/v1/admin/accounts', { id: 'acme' });
  assert.equal(taken.status, 409);
  assert.equal(taken.body.error.code, 'account_exists');

  const created = await admin('POST', '/v1/admin/accounts', {
    id: 'beta',
    defaultFrom: 'BETA',
    mps: 50,
    smpp: { systemId: 'beta', password: 'pw1' },
    policy: { destinations: { allow: ['+44*'] } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.source, 'admin');
  assert.deepEqual(created.body.smpp, { systemId: 'beta', maxBinds: 4 });
  assert.ok(!JSON.stringify(created.body).includes('pw1'), 'no password in the answer');

  const key = await admin('POST', '/v1/admin/accounts/beta/keys');
  assert.equal(key.status, 201);
  assert.match(key.body.key, /^sk_/);
  const listed = await admin('GET', '/v1/admin/accounts/beta/keys');
  assert.deepEqual(
    listed.body.data.map((k: { id: string }) => k.id),
    [key.body.id],
  );
  assert.ok(!JSON.stringify(listed.body).includes(key.body.key), 'the key is shown once only');

  const beta = () => gw.as(key.body.key);
  const accepted = await beta()('POST', '/v1/messages', send);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  assert.equal(accepted.body.from, 'BETA');
  // Its policy holds at once.
  const refused = await beta()('POST', '/v1/messages', { ...send, to: '+15550100' });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.code, 'destination_not_allowed');

  // Bad input is a 400 naming the path, never a 500.
  for (const smpp of ['x', 7, ['beta']]) {
    const refused = await admin('PATCH', '/v1/admin/accounts/beta', { smpp });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error.field, 'accounts[0].smpp');
  }
  const changed = await admin('PATCH', '/v1/admin/accounts/beta', { defaultFrom: 'BETA2', policy: null });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal((await beta()('POST', '/v1/messages', { ...send, to: '+15550100' })).body.from, 'BETA2');

  await gw.restart();
  const again = await beta()('POST', '/v1/messages', send);
  assert.equal(again.status, 202, 'the account and its key outlive a restart');
  assert.equal(again.body.from, 'BETA2');
  assert.equal((await gw.admin()('GET', '/v1/admin/accounts/beta')).body.mps, 50);

  const revoked = await gw.admin()('DELETE', `/v1/admin/accounts/beta/keys/${key.body.id}`);
  assert.equal(revoked.status, 204);
  assert.equal((await beta()('POST', '/v1/messages', send)).status, 401);
  const second = await gw.admin()('POST', '/v1/admin/accounts/beta/keys');
  assert.equal((await gw.as(second.body.key)('POST', '/v1/messages', send)).status, 202);

  assert.equal((await gw.admin()('DELETE', '/v1/admin/accounts/beta')).status, 204);
  assert.equal((await gw.as(second.body.key)('POST', '/v1/messages', send)).status, 401);
  assert.equal((await gw.admin()('GET', '/v1/admin/accounts/beta')).status, 404);
  await gw.restart();
  assert.equal((await gw.as(second.body.key)('POST', '/v1/messages', send)).status, 401, 'still deleted');
});

test('what the API changed wins over the file; a reload applies the rest; a bad file changes nothing', async (t) => {
  const gw = await gatewayFromFile(fileText());
  t.after(() => gw.close());
  const admin = gw.admin();
  const acme = () => gw.as('acme-key-1');

  // The API takes acme over; the file's key stays its key.
  const patched = await admin('PATCH', '/v1/admin/accounts/acme', { defaultFrom: 'APIFROM' });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal(patched.body.source, 'admin');
  assert.equal((await acme()('POST', '/v1/messages', send)).body.from, 'APIFROM');

  gw.write(
    fileText('  - { id: gamma, apiKeys: [gamma-key-1], defaultFrom: GAMMA }').replace(
      'defaultFrom: ACME',
      'defaultFrom: FILEFROM',
    ),
  );
  const reloaded = await admin('POST', '/v1/admin/reload');
  assert.equal(reloaded.status, 200, JSON.stringify(reloaded.body));
  assert.deepEqual(reloaded.body.changes, [{ action: 'create', object: 'account', id: 'gamma' }]);
  assert.equal((await gw.as('gamma-key-1')('POST', '/v1/messages', send)).status, 202);
  assert.equal((await acme()('POST', '/v1/messages', send)).body.from, 'APIFROM', 'the API’s change stays');

  gw.write(fileText().replace('mps: 0', '').replace('defaultFrom: ACME', 'mps: -1'));
  const bad = await admin('POST', '/v1/admin/reload');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_config');
  assert.equal(bad.body.error.field, 'accounts[0].mps');
  assert.equal((await gw.as('gamma-key-1')('POST', '/v1/messages', send)).status, 202, 'old config stays');

  // Gone from the file (and never the API's): gone from the gateway.
  gw.write(fileText());
  assert.equal((await admin('POST', '/v1/admin/reload')).status, 200);
  assert.equal((await gw.as('gamma-key-1')('POST', '/v1/messages', send)).status, 401);

  await gw.restart();
  assert.equal((await acme()('POST', '/v1/messages', send)).body.from, 'APIFROM', 'a restart keeps it too');

  const audit = await gw.admin()('GET', '/v1/admin/audit?object=account&limit=10');
  assert.equal(audit.status, 200);
  const entries = audit.body.data as Array<{ actor: string; action: string; objectId: string }>;
  assert.deepEqual(
    entries.map((e) => [e.action, e.objectId, e.actor.split(':')[0]]),
    [
      ['delete', 'gamma', 'admin'],
      ['create', 'gamma', 'admin'],
      ['update', 'acme', 'admin'],
    ],
  );
  const page = await gw.admin()('GET', '/v1/admin/audit?limit=1');
  assert.equal(page.body.data.length, 1);
  assert.ok(page.body.nextCursor);
  assert.equal((await gw.admin()('GET', '/v1/admin/audit?object=nope')).status, 400);
});

test('MT routes replaced through the API route the next messages and are checked like the file', async (t) => {
  const gw = await gatewayFromFile(fileText());
  t.after(() => gw.close());
  const admin = gw.admin();
  const bad = await admin('PUT', '/v1/admin/routes/mt', { routes: [{ connectors: ['nope'] }] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_routes');
  assert.equal(bad.body.error.field, 'routes.mt[0].connectors[0]');

  const put = await admin('PUT', '/v1/admin/routes/mt', { routes: [{ connectors: ['other'] }] });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.source, 'admin');
  const explain = await admin('GET', '/v1/admin/routes/mt/explain?to=%2B447700900123');
  assert.deepEqual(explain.body.connectors, ['other']);
  await gw.restart();
  assert.deepEqual(
    (await gw.admin()('GET', '/v1/admin/routes/mt/explain?to=%2B447700900123')).body.connectors,
    ['other'],
  );
  // A file without the connector the API's rules send through is refused at reload.
  gw.write(fileText().replace(', { id: other, type: simulator }', ''));
  const refused = await gw.admin()('POST', '/v1/admin/reload');
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, 'invalid_config');
  assert.equal(refused.body.error.field, 'routes.mt[0].connectors[0]');
  assert.equal((await gw.admin()('GET', '/v1/admin/connectors/other')).status, 200);
  // Started so all the same: the log says what does not hold together.
  await gw.restart();
  assert.ok(
    gw.lines.some(
      (l) => l.includes('managed settings do not hold together') && l.includes('routes.mt[0].connectors[0]'),
    ),
    gw.lines.join('\n'),
  );
  gw.write(fileText());
  const reset = await gw.admin()('DELETE', '/v1/admin/routes/mt');
  assert.equal(reset.body.source, 'config');
  assert.deepEqual(
    (await gw.admin()('GET', '/v1/admin/routes/mt/explain?to=%2B447700900123')).body.connectors,
    ['sim'],
  );
});

test('connectors added, changed and removed through the API carry the next messages; secrets stay out of sight', async (t) => {
  const gw = await gatewayFromFile(fileText());
  t.after(() => gw.close());
  const admin = gw.admin();
  const acme = gw.as('acme-key-1');
  const finalOf = (id: string) =>
    waitFor(
      async () => {
        const m = await acme('GET', `/v1/messages/${id}`);
        return ['delivered', 'undelivered'].includes(m.body.status) && m.body;
      },
      10_000,
      `message ${id} final`,
    );

  const bad = await admin('POST', '/v1/admin/connectors', {
    id: 'sim2',
    type: 'simulator',
    deliveryDelayMs: -5,
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_connector');
  assert.equal(bad.body.error.field, 'connectors[0].deliveryDelayMs');
  assert.equal((await admin('POST', '/v1/admin/connectors', { id: 'sim', type: 'simulator' })).status, 409);
  const unknown = await admin('POST', '/v1/admin/connectors', {
    id: 'sim3',
    type: 'simulator',
    colour: 'red',
  });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.error.code, 'unknown_field');
  assert.equal(unknown.body.error.field, 'colour');

  const made = await admin('POST', '/v1/admin/connectors', {
    id: 'sim2',
    type: 'simulator',
    deliveryDelayMs: 10,
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal(
    (await admin('PUT', '/v1/admin/routes/mt', { routes: [{ connectors: ['sim2'] }] })).status,
    200,
  );
  const first = await finalOf((await acme('POST', '/v1/messages', send)).body.id);
  assert.equal(first.connector, 'sim2');
  assert.equal(first.status, 'delivered');

  const changed = await admin('PATCH', '/v1/admin/connectors/sim2', {
    outcomes: [{ to: '+44*', status: 'undelivered', error: '001' }],
  });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  const second = await finalOf((await acme('POST', '/v1/messages', send)).body.id);
  assert.equal(second.connector, 'sim2');
  assert.equal(second.status, 'undelivered', 'the changed settings are in force');

  const inUse = await admin('DELETE', '/v1/admin/connectors/sim2');
  assert.equal(inUse.status, 409);
  assert.equal(inUse.body.error.code, 'connector_in_use');
  assert.equal((await admin('DELETE', '/v1/admin/routes/mt')).status, 200);
  assert.equal((await admin('DELETE', '/v1/admin/connectors/sim2')).status, 204);
  assert.equal((await admin('GET', '/v1/admin/connectors/sim2')).status, 404);

  // An SMPP connector's password is kept, never shown, and kept by a change that does not give it.
  const smpp = await admin('POST', '/v1/admin/connectors', {
    id: 'carrier',
    type: 'smpp',
    host: '127.0.0.1',
    port: 9,
    systemId: 'gw',
    password: 'sekrit',
  });
  assert.equal(smpp.status, 201, JSON.stringify(smpp.body));
  assert.equal(smpp.body.settings.password, '(set)');
  const moved = await admin('PATCH', '/v1/admin/connectors/carrier', { port: 10 });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.equal(moved.body.settings.port, 10);
  assert.equal(moved.body.settings.password, '(set)');
  // The settings as read (secrets as "(set)") saved back keep the secrets.
  const read = await admin('GET', '/v1/admin/connectors/carrier/settings');
  const saved = await admin('PATCH', '/v1/admin/connectors/carrier', { ...read.body.settings, port: 11 });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  const inForce = gw.app.management.effective.connectors.find((c) => c.id === 'carrier') as {
    password?: string;
  };
  assert.equal(inForce.password, 'sekrit');
  const audit = await admin('GET', '/v1/admin/audit?object=connector');
  assert.equal(audit.body.data.length, 6);
  assert.ok(!JSON.stringify(audit.body).includes('sekrit'), 'no secret in the audit log');

  await gw.restart();
  const after = gw.admin();
  assert.equal((await after('GET', '/v1/admin/connectors/sim2')).status, 404, 'still removed');
  assert.equal((await after('GET', '/v1/admin/connectors/carrier/settings')).body.settings.port, 11);
  assert.equal((await after('GET', '/v1/admin/connectors/carrier')).status, 200);
});

test('SMPP credentials set through the API bind at once (the password kept hashed); a reload applies the file’s MO rules and connectors', async (t) => {
  const gw = await gatewayFromFile(fileText());
  t.after(() => gw.close());
  const admin = gw.admin();
  const port = () => gw.app.smppAddress!.port;
  assert.equal(await bindStatus(port(), 'acme', 'pw1'), CommandStatus.ESME_RINVPASWD);

  const bad = await admin('POST', '/v1/admin/accounts/acme/smpp', {
    systemId: 'acme',
    password: 'far-too-long',
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, 'accounts[0].smpp.password');
  const set = await admin('POST', '/v1/admin/accounts/acme/smpp', { systemId: 'acme', password: 'pw1' });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual(set.body.smpp, { systemId: 'acme', maxBinds: 4 });
  assert.equal(await bindStatus(port(), 'acme', 'pw1'), CommandStatus.ESME_ROK);
  assert.equal(await bindStatus(port(), 'acme', 'wrong'), CommandStatus.ESME_RINVPASWD);
  // Another change of the account keeps the credentials.
  assert.equal((await admin('PATCH', '/v1/admin/accounts/acme', { mps: 5 })).status, 200);
  await gw.restart();
  assert.equal(await bindStatus(port(), 'acme', 'pw1'), CommandStatus.ESME_ROK, 'kept over a restart');
  // A bind open when the credentials go is unbound by the gateway.
  const open = await boundPeer(port(), 'acme', 'pw1');
  t.after(() => open.close());
  assert.equal(open.received.find((p) => p.command === 'bind_transceiver_resp')!.commandStatus, 0);
  assert.equal((await gw.admin()('DELETE', '/v1/admin/accounts/acme/smpp')).status, 200);
  await open.until((r) => r.some((p) => p.command === 'unbind'), 20_000);
  assert.equal(await bindStatus(port(), 'acme', 'pw1'), CommandStatus.ESME_RINVPASWD);

  // MO rules set through the API are audited like everything else.
  const mo = await gw.admin()('PUT', '/v1/admin/routes/mo', { routes: [{ account: 'acme' }] });
  assert.equal(mo.status, 200, JSON.stringify(mo.body));
  const routesAudit = await gw.admin()('GET', '/v1/admin/audit?object=routes');
  assert.equal(routesAudit.body.data[0].objectId, 'mo');
  assert.deepEqual(routesAudit.body.data[0].after, [{ account: 'acme' }]);
  assert.equal((await gw.admin()('DELETE', '/v1/admin/routes/mo')).status, 200);

  // The file gains a connector and MO rules: a reload puts them in force.
  gw.write(
    `${fileText().replace(
      '{ id: other, type: simulator }]',
      '{ id: other, type: simulator }, { id: third, type: simulator }]',
    )}  mo: [{ match: { to: ["+15550100"] }, account: acme }]\n`,
  );
  const reloaded = await gw.admin()('POST', '/v1/admin/reload');
  assert.equal(reloaded.status, 200, JSON.stringify(reloaded.body));
  assert.deepEqual(reloaded.body.changes, [
    { action: 'create', object: 'connector', id: 'third' },
    { action: 'update', object: 'routes', id: 'mo' },
  ]);
  assert.equal((await gw.admin()('GET', '/v1/admin/connectors/third')).status, 200);
  const moNow = await gw.admin()('GET', '/v1/admin/routes/mo');
  assert.deepEqual(moNow.body.routes, [{ match: { to: ['+15550100'] }, account: 'acme' }]);
});

test('the no-config demo account (in the store only) is managed like the others', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smsgw-manage-demo-'));
  const app = await startGateway(
    validateConfig({
      http: { listen: '127.0.0.1:0' },
      store: `sqlite:${dir}/gw.db`,
      connectors: [{ id: 'sim', type: 'simulator' }],
      routes: { mt: [{ connectors: ['sim'] }] },
    }),
    { demoAccount: true },
  );
  t.after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${app.httpAddress.port}`;
  const admin = api(base, app.created.adminKey!);
  const demo = await admin('GET', '/v1/admin/accounts/demo');
  assert.equal(demo.status, 200, JSON.stringify(demo.body));
  assert.equal(demo.body.defaultFrom, 'smsgw');
  const keys = await admin('GET', '/v1/admin/accounts/demo/keys');
  assert.equal(keys.body.data.length, 1);
  const key = await admin('POST', '/v1/admin/accounts/demo/keys');
  assert.equal(key.status, 201);
  assert.equal((await api(base, key.body.key)('POST', '/v1/messages', send)).status, 202);
  const changed = await admin('PATCH', '/v1/admin/accounts/demo', { defaultFrom: 'DEMO' });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal(changed.body.source, 'admin');
  const sent = await api(base, app.created.apiKey!)('POST', '/v1/messages', send);
  assert.equal(sent.body.from, 'DEMO', JSON.stringify(sent.body));
});

test('messages waiting in memory when the MT rules change go by the new rules', async (t) => {
  const gw = await gatewayFromFile(
    fileText().replace(
      'mt: [{ connectors: [sim] }]',
      'mt: [{ match: { to: ["+1*"] }, connectors: [sim] }, { connectors: [sim] }]',
    ),
  );
  t.after(() => gw.close());
  const admin = gw.admin();
  const acme = gw.as('acme-key-1');
  // sim is down: a message for the second rule waits in memory.
  assert.equal((await admin('POST', '/v1/admin/connectors/sim/stop')).status, 200);
  const sent = await acme('POST', '/v1/messages', send);
  assert.equal(sent.status, 202);
  assert.equal(
    (await admin('PUT', '/v1/admin/routes/mt', { routes: [{ connectors: ['other'] }] })).status,
    200,
  );
  const done = await waitFor(
    async () => {
      const m = await acme('GET', `/v1/messages/${sent.body.id}`);
      return m.body.status === 'delivered' && m.body;
    },
    20_000,
    'the waiting message delivered by the new rule',
  );
  assert.equal(done.connector, 'other');
});

test('a sender pool given to an account through the API picks senders at once', async (t) => {
  const gw = await gatewayFromFile(fileText());
  t.after(() => gw.close());
  const acme = gw.as('acme-key-1');
  const before = await acme('POST', '/v1/messages', { ...send, from: undefined, service: 'alerts' });
  assert.equal(before.status, 400, JSON.stringify(before.body));
  assert.equal(before.body.error.field, 'service');

  const services = [{ id: 'alerts', senders: ['+447700900001', '+12025550001'] }];
  const changed = await gw.admin()('PATCH', '/v1/admin/accounts/acme', { services });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  const sent = await acme('POST', '/v1/messages', { ...send, service: 'alerts' });
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  assert.equal(sent.body.from, '+447700900001', 'the sender of the recipient’s country');
});

test('link shortening turned on through the API applies at once; the API names no interceptor module', async (t) => {
  const gw = await gatewayFromFile(fileText());
  t.after(() => gw.close());
  const acme = gw.as('acme-key-1');
  const text = 'See https://example.com/offer?id=42 today';
  const textOf = async (accepted: { body: { id: string } }) =>
    (await acme('GET', `/v1/messages/${accepted.body.id}`)).body.text;
  assert.equal(await textOf(await acme('POST', '/v1/messages', { ...send, text })), text);
  const changed = await gw.admin()('PATCH', '/v1/admin/accounts/acme', {
    links: { shorten: true, baseUrl: 'https://s.example' },
  });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  const short = await acme('POST', '/v1/messages', { ...send, text });
  assert.equal(short.status, 202, JSON.stringify(short.body));
  assert.match(await textOf(short), /^See https:\/\/s\.example\/l\/\w+ today$/);

  const refused = await gw.admin()('PUT', '/v1/admin/routes/mt', {
    // A module that exists and loads: still not the API's to name.
    routes: [
      {
        connectors: ['sim'],
        interceptor: { module: join(import.meta.dirname, '../../examples/interceptors/signature.js') },
      },
    ],
  });
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, 'invalid_routes');
  assert.equal(refused.body.error.field, 'routes.mt[0].interceptor');
});
