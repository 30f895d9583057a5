// Unknown fields in a JSON body of /v1 are refused `400 unknown_field` naming the field
// (CONTRACT §8), at any depth; every documented field is still taken.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, gatewayFrom } from './helpers.ts';

describe('unknown fields', () => {
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let call: ReturnType<typeof api>;
  let admin: ReturnType<typeof api>;
  before(async () => {
    gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-0001] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
`);
    call = api(gw.base, 'acme-key-1');
    admin = api(gw.base, 'admin-key-0001');
  });
  after(() => gw?.close());

  const refused = (
    res: { status: number; body: { error?: { code: string; field?: string } } },
    field: string,
  ) => {
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error?.code, 'unknown_field');
    assert.equal(res.body.error?.field, field);
  };

  test('a misspelt sendAt is refused, not sent at once; nothing is stored', async () => {
    const later = new Date(Date.now() + 3600_000).toISOString();
    refused(await call('POST', '/v1/messages', { to: '+447700900001', text: 'hi', sendat: later }), 'sendat');
    assert.deepEqual((await call('GET', '/v1/messages')).body.data, []);
  });

  test("a field named as one of every object's own (constructor, toString) is unknown too", async () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const body = `{"to":"+447700900001","text":"hi","${name}":1}`;
      const res = await call('POST', '/v1/messages', body, { 'content-type': 'application/json' });
      assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
    }
    for (const name of ['constructor', 'toString'])
      refused(
        await call('POST', '/v1/batches', { text: 'hi', recipients: [{ to: '+447700900001', [name]: 1 }] }),
        `recipients[0].${name}`,
      );
    assert.deepEqual((await call('GET', '/v1/messages')).body.data, []);
  });

  test('every documented field of POST /v1/messages is taken', async () => {
    const sent = await call('POST', '/v1/messages', {
      to: '07700900002',
      country: 'GB',
      from: 'ACME',
      text: 'hi',
      encoding: 'gsm7',
      callbackUrl: 'https://hooks.example.com/status',
      validitySeconds: 600,
      sendAt: new Date(Date.now() + 3600_000).toISOString(),
      priority: 'otp',
      clientRef: 'r-1',
      flash: false,
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    assert.equal(sent.body.status, 'scheduled');
    assert.equal(
      (await call('POST', '/v1/messages', { to: '+447700900003', binaryHex: '0102' })).status,
      202,
    );
    assert.equal((await call('POST', '/v1/messages/segments', { text: 'hi', encoding: 'auto' })).status, 200);
    refused(await call('POST', '/v1/messages/segments', { text: 'hi', encodign: 'ucs2' }), 'encodign');
  });

  test('nested fields: batch recipients and quiet hours, alert broadcast; free maps take any name', async () => {
    const ok = await call('POST', '/v1/batches', {
      text: 'Hi {{name}}',
      recipients: [{ to: '+447700900011', vars: { name: 'Ann', anything: 'goes' } }, '+447700900012'],
      quietHours: { start: '21:00', end: '08:00' },
      dryRun: true,
    });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    refused(
      await call('POST', '/v1/batches', {
        text: 'Hi',
        recipients: [{ to: '+447700900011' }, { to: '+447700900012', name: 'Bob' }],
      }),
      'recipients[1].name',
    );
    refused(
      await call('POST', '/v1/batches', {
        text: 'Hi',
        recipients: [{ to: '+447700900011' }],
        quietHours: { start: '21:00', end: '08:00', zone: 'UTC' },
      }),
      'quietHours.zone',
    );
    refused(await call('POST', '/v1/batches', { text: 'Hi', recipients: [], senderId: 'X' }), 'senderId');
    refused(
      await call('POST', '/v1/alerts', { text: 'Flood', broadcast: { areas: ['1'], area: '2' } }),
      'broadcast.area',
    );
    const at = new Date(Date.now() + 3600_000).toISOString();
    const reminder = { to: '+447700900013', at, text: 'Visit', replies: { YES: 'confirmed', MAYBE: 'x' } };
    const created = await call('POST', '/v1/reminders', reminder);
    assert.equal(created.status, 201);
    refused(await call('POST', '/v1/reminders', { ...reminder, tz: 'UTC' }), 'tz');
    // A change takes the time, text and replies; the number is the reminder's own.
    refused(await call('PATCH', `/v1/reminders/${created.body.id}`, { to: '+447700900014' }), 'to');
    assert.equal(
      (await call('PATCH', `/v1/reminders/${created.body.id}`, { text: 'Visit at 10' })).status,
      200,
    );
  });

  test('apps, suppressions and conversations; an operation with no body takes no field', async () => {
    refused(await call('POST', '/v1/verify', { to: '+447700900021', length: 6 }), 'length');
    const v = await call('POST', '/v1/verify', { to: '+447700900021', codeLength: 6 });
    assert.equal(v.status, 201);
    refused(await call('POST', `/v1/verify/${v.body.id}/check`, { code: '000000', to: 'x' }), 'to');
    refused(await call('POST', `/v1/verify/${v.body.id}/cancel`, { reason: 'x' }), 'reason');
    assert.equal((await call('POST', `/v1/verify/${v.body.id}/cancel`, {})).status, 200);
    refused(await call('POST', '/v1/suppressions', { to: '+447700900022', note: 'x' }), 'note');
    assert.equal(
      (await call('POST', '/v1/suppressions', { to: '+447700900022', reason: 'asked' })).status,
      201,
    );
    refused(await call('POST', '/v1/contacts', { to: '+447700900023', nmae: 'Ann' }), 'nmae');
    refused(await call('POST', '/v1/groups', { name: 'G', members: [] }), 'members');
    refused(await call('POST', '/v1/conversations/nope/messages', { text: 'hi', from: 'x' }), 'from');
    const inject = await admin('POST', '/v1/admin/connectors/sim/inbound', {
      from: '+447700900024',
      to: '+15550100',
      text: 'hi',
      connector: 'x',
    });
    refused(inject, 'connector');
    refused(await admin('PUT', '/v1/admin/routes/mo', { routes: [], replace: true }), 'replace');
    refused(await admin('POST', '/v1/admin/connectors/sim/stop', { force: true }), 'force');
  });
});
