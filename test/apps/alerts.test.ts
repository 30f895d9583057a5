// Contacts, groups and CSV import; emergency alerts to numbers, groups and CSV, with counts,
// per-minute progress, flash, completion and cancel.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { api, gatewayFrom, waitFor, webhookReceiver } from '../e2e/helpers.ts';

describe('contacts, groups and alerts', () => {
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let call: ReturnType<typeof api>;
  let other: ReturnType<typeof api>;
  let hooks: Awaited<ReturnType<typeof webhookReceiver>>;

  before(async () => {
    hooks = await webhookReceiver();
    gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, webhook: { url: "${hooks.url}" } }
  - { id: other, apiKeys: [other-key-1], defaultFrom: OTHER }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
  - { id: slow, type: simulator, deliveryDelayMs: 10, tps: 20 }
routes:
  mt:
    - match: { to: ["+3*"] }
      connectors: [slow]
    - match: { to: ["+44*", "+1*"] }
      connectors: [sim]
`);
    call = api(gw.base, 'acme-key-1');
    other = api(gw.base, 'other-key-1');
  });

  after(async () => {
    await gw?.close();
    await hooks?.close();
  });

  test('contacts and groups: create, CSV import by number, membership, one account only', async () => {
    const group = await call('POST', '/v1/groups', { name: 'Night shift' });
    assert.equal(group.status, 201);
    const gid = group.body.id as string;
    const ann = await call('POST', '/v1/contacts', { to: '+447700900001', name: 'Ann', groups: [gid] });
    assert.equal(ann.status, 201);
    assert.deepEqual(ann.body.groups, [gid]);
    assert.equal(
      (await call('POST', '/v1/contacts', { to: '+44 7700 900001' })).status,
      409,
      'one contact per number',
    );
    assert.equal((await call('POST', '/v1/contacts', { to: '+447700900009', groups: ['nope'] })).status, 400);

    const csv =
      'To,Name,Site\n+447700900001,Ann B,North\n+447700900002,Bob,South\nnot-a-number,Eve,\n+44 7700 900003,,East\n';
    const imported = await fetch(`${gw.base}/v1/contacts/import?group=${gid}`, {
      method: 'POST',
      headers: { authorization: 'Bearer acme-key-1', 'content-type': 'text/csv' },
      body: csv,
    });
    assert.equal(imported.status, 200);
    const summary = (await imported.json()) as Record<string, unknown>;
    assert.deepEqual(
      { total: summary.total, created: summary.created, updated: summary.updated, invalid: summary.invalid },
      { total: 4, created: 2, updated: 1, invalid: 1 },
    );
    assert.deepEqual(summary.invalidRows, [{ line: 4, value: 'not-a-number' }]);
    const annNow = (await call('GET', `/v1/contacts/${ann.body.id}`)).body;
    assert.equal(annNow.name, 'Ann B');
    assert.deepEqual(annNow.vars, { site: 'North' });
    assert.deepEqual(annNow.groups, [gid], 'not added twice');
    assert.equal((await call('GET', `/v1/groups/${gid}`)).body.size, 3);
    const members = (await call('GET', `/v1/groups/${gid}/contacts?limit=2`)).body;
    assert.equal(members.data.length, 2);
    assert.ok(members.nextCursor);
    const byNumber = (await call('GET', '/v1/contacts?to=%2B447700900003')).body.data;
    assert.equal(byNumber.length, 1);

    const bob = byNumber[0].id as string;
    const out = await call('PATCH', `/v1/contacts/${bob}`, { groups: [] });
    assert.deepEqual(out.body.groups, []);
    assert.equal((await call('GET', `/v1/groups/${gid}`)).body.size, 2);

    assert.equal((await other('GET', `/v1/groups/${gid}`)).status, 404);
    assert.equal((await other('GET', `/v1/contacts/${ann.body.id}`)).status, 404);
    assert.equal((await other('POST', '/v1/alerts', { text: 'x', groups: [gid] })).status, 404);
    assert.equal((await other('GET', '/v1/contacts')).body.data.length, 0);

    assert.equal((await call('DELETE', `/v1/contacts/${bob}`)).status, 204);
    assert.equal((await call('GET', `/v1/contacts/${bob}`)).status, 404);
  });

  test('an imported row is held to the caps of one contact: a row past them is skipped and reported', async () => {
    const vars = Array.from({ length: 51 }, (_, i) => `v${i}`);
    const csv = [
      ['to', 'name', ...vars].join(','),
      ['+447700900701', 'Ann', ...vars.map(() => 'x')].join(','), // 51 variables
      ['+447700900702', 'B'.repeat(201)].join(','), // a name of 201 characters
      ['+447700900703', 'Cy', 'y'.repeat(1001)].join(','), // a variable of 1,001
      ['+447700900704', 'D'.repeat(200), 'z'.repeat(1000), ...vars.slice(1, 50).map(() => 'z')].join(','),
    ].join('\n');
    const imported = await call('POST', '/v1/contacts/import', { csv });
    assert.equal(imported.status, 200, JSON.stringify(imported.body));
    assert.deepEqual(
      { ...imported.body, invalidRows: undefined },
      { total: 4, created: 1, updated: 0, invalid: 3, invalidRows: undefined },
    );
    assert.deepEqual(imported.body.invalidRows, [
      { line: 2, value: '+447700900701' },
      { line: 3, value: '+447700900702' },
      { line: 4, value: '+447700900703' },
    ]);
    assert.deepEqual((await call('GET', '/v1/contacts?to=%2B447700900701')).body.data, []);
    // At the caps: taken, as one made alone would be.
    const kept = (await call('GET', '/v1/contacts?to=%2B447700900704')).body.data[0];
    assert.equal(kept.name.length, 200);
    assert.equal(Object.keys(kept.vars).length, 50);
    const alone = await call('POST', '/v1/contacts', {
      to: '+447700900701',
      vars: Object.fromEntries(vars.map((v) => [v, 'x'])),
    });
    assert.equal(alone.status, 400);
  });

  test('a large import is read as it streams and stored a chunk at a time', async () => {
    const number = (i: number) => `+4477009${50000 + i}`;
    const rows = Array.from({ length: 2500 }, (_, i) => `${number(i === 2199 ? 9 : i)},Name ${i}`);
    const group = (await call('POST', '/v1/groups', { name: 'Everyone' })).body.id as string;
    // Sent in pieces with no Content-Length: the import reads the request as it comes.
    const lines = ['to,name', ...rows];
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < lines.length; i += 100)
          controller.enqueue(new TextEncoder().encode(`${lines.slice(i, i + 100).join('\n')}\n`));
        controller.close();
      },
    });
    const imported = await fetch(`${gw.base}/v1/contacts/import?group=${group}`, {
      method: 'POST',
      headers: { authorization: 'Bearer acme-key-1', 'content-type': 'text/csv' },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(imported.status, 200);
    // Row 2,200 repeats row 10's number, stored two chunks earlier: an update of it.
    assert.deepEqual(await imported.json(), {
      total: 2500,
      created: 2499,
      updated: 1,
      invalid: 0,
      invalidRows: [],
    });
    assert.equal((await call('GET', `/v1/groups/${group}`)).body.size, 2499);
    const tenth = (await call('GET', `/v1/contacts?to=${encodeURIComponent(number(9))}`)).body.data;
    assert.equal(tenth.length, 1, 'one contact per number across chunks');
    assert.equal(tenth[0].name, 'Name 2199');

    // A CSV error part-way: the chunks before it are stored, and the answer says so.
    const broken = [
      'to',
      ...Array.from({ length: 1200 }, (_, i) => `+4477009${60000 + i}`),
      '+447700961300,"open',
    ];
    const refused = await call('POST', '/v1/contacts/import', { csv: broken.join('\n') });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'invalid_csv');
    assert.match(refused.body.error.message, /the 1000 rows before it were imported/);
    assert.equal((await call('GET', '/v1/contacts?to=%2B447700960999')).body.data.length, 1);
    assert.equal((await call('GET', '/v1/contacts?to=%2B447700961000')).body.data.length, 0);

    // A body that says it is too large is refused before anything is read.
    const tooLarge = await new Promise<number>((resolve, reject) => {
      const req = request(`${gw.base}/v1/contacts/import`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer acme-key-1',
          'content-type': 'text/csv',
          'content-length': String(21 * 1_048_576),
        },
      });
      req.on('response', (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.write('to\n+447700962000\n');
    });
    assert.equal(tooLarge, 413);
    assert.equal((await call('GET', '/v1/contacts?to=%2B447700962000')).body.data.length, 0);
  });

  test('two imports of the same new numbers at once make one contact per number', async () => {
    const numbers = Array.from({ length: 2500 }, (_, i) => `+4477009${70000 + i}`);
    const csv = ['to', ...numbers].join('\n');
    const [a, b] = await Promise.all([
      call('POST', '/v1/contacts/import', { csv }),
      call('POST', '/v1/contacts/import', { csv }),
    ]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    for (const to of numbers.filter((_, i) => i % 125 === 0 || i === numbers.length - 1)) {
      const found = (await call('GET', `/v1/contacts?to=${encodeURIComponent(to)}`)).body.data;
      assert.equal(found.length, 1, `one contact for ${to}`);
    }
  });

  test('an alert to numbers, a group and CSV: emergency, flash, deduplicated, counted, completed', async () => {
    const gid = (await call('POST', '/v1/groups', { name: 'Wardens' })).body.id as string;
    for (const to of ['+447700900101', '+447700900102'])
      await call('POST', '/v1/contacts', { to, groups: [gid] });
    // An opted-out number is left out, and counted.
    assert.equal((await call('POST', '/v1/suppressions', { to: '+447700900109' })).status, 201);
    const res = await call('POST', '/v1/alerts', {
      text: 'Flood warning: move to higher ground now.',
      recipients: ['+447700900101', '+447700900103', 'garbage', '+15550001111', '+447700900109'],
      groups: [gid],
      csv: 'phone\n+447700900104\n+447700900103\n',
      flash: true,
    });
    assert.equal(res.status, 202);
    assert.equal(res.body.total, 5);
    assert.deepEqual(res.body.skipped, { invalid: 1, duplicate: 2, opted_out: 1, refused: 0 });
    const id = res.body.id as string;

    // Completion is pushed, not only seen on the next GET: one alert.completed webhook.
    const completed = await waitFor(() =>
      hooks.hooks.find((h) => h.body.type === 'alert.completed' && h.body.data.id === id),
    );
    assert.equal(completed.body.data.status, 'completed');
    const done = await waitFor(async () => {
      const a = (await call('GET', `/v1/alerts/${id}`)).body;
      return a.counts.delivered === 5 && a;
    });
    assert.equal(done.status, 'completed');
    assert.equal(
      hooks.hooks.filter((h) => h.body.type === 'alert.completed' && h.body.data.id === id).length,
      1,
    );
    assert.equal(done.total, 5);
    const messages = (await gw.app.store.listMessages({ accountId: 'acme', groupId: id }, null, 50)).data;
    assert.equal(messages.length, 5);
    assert.ok(messages.every((m) => m.priority === 'emergency' && m.flash));
    const progress = (await call('GET', `/v1/alerts/${id}/progress`)).body;
    const sum = (k: 'sent' | 'delivered' | 'failed') =>
      progress.perMinute.reduce((n: number, b: Record<string, number>) => n + b[k]!, 0);
    assert.deepEqual([sum('sent'), sum('delivered'), sum('failed')], [5, 5, 0]);
    assert.match(progress.perMinute[0].minute, /:00\.000Z$/);
    assert.equal((await call('POST', `/v1/alerts/${id}/cancel`)).status, 409, 'nothing left to cancel');

    for (const body of [
      { text: 'x' },
      { text: 'x', recipients: ['garbage'] },
      { recipients: ['+447700900101'] },
    ]) {
      const bad = await call('POST', '/v1/alerts', body);
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
    assert.equal((await other('GET', `/v1/alerts/${id}`)).status, 404);
  });

  test('cancel stops what has not left yet', async () => {
    const recipients = Array.from({ length: 200 }, (_, i) => `+3361234${String(i).padStart(4, '0')}`);
    const res = await call('POST', '/v1/alerts', { text: 'Test alert', recipients });
    assert.equal(res.status, 202);
    assert.equal(res.body.total, 200);
    const canceled = await call('POST', `/v1/alerts/${res.body.id}/cancel`);
    assert.equal(canceled.status, 200);
    assert.equal(canceled.body.status, 'canceled');
    // At 20/s the slow connector has sent only a few by now.
    assert.ok(canceled.body.canceledMessages > 150, `${canceled.body.canceledMessages} canceled`);
    const after = (await call('GET', `/v1/alerts/${res.body.id}`)).body;
    assert.equal(after.status, 'canceled');
    assert.equal(after.counts.canceled, canceled.body.canceledMessages);
    assert.equal(after.counts.queued ?? 0, 0);
    // The account is told once, with the counts as the cancel left them.
    const told = await waitFor(() =>
      hooks.hooks.find((h) => h.body.type === 'alert.canceled' && h.body.data.id === res.body.id),
    );
    assert.equal(told.body.data.status, 'canceled');
    assert.equal(told.body.data.canceledMessages, canceled.body.canceledMessages);
    assert.equal((told.body.data.counts as { canceled: number }).canceled, canceled.body.canceledMessages);
  });
});

describe('an alert canceled while messages are on the wire', () => {
  test('the cancel answers once they are answered: none reads queued afterwards, each is sent or canceled', async (t) => {
    // The carrier answers each submit_sm after 400 ms, 4 on the wire at a time.
    const smsc = new SmscSimulator({ responseDelayMs: 400, deliveryDelayMs: 10 });
    const { port } = await smsc.listen(0);
    t.after(() => smsc.close());
    const firstSubmit = new Promise((resolve) => smsc.once('submit', resolve));
    const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors: [{ id: carrier, type: smpp, host: 127.0.0.1, port: ${port}, systemId: gw, password: pw, window: 4 }]
routes: { mt: [{ connectors: [carrier] }] }
`);
    t.after(() => gw.close());
    const call = api(gw.base, 'acme-key-1');
    const recipients = Array.from({ length: 50 }, (_, i) => `+4477009${String(i).padStart(5, '0')}`);
    const res = await call('POST', '/v1/alerts', { text: 'Test alert', recipients });
    assert.equal(res.status, 202);
    await firstSubmit;
    const canceled = await call('POST', `/v1/alerts/${res.body.id}/cancel`);
    assert.equal(canceled.status, 200);
    const { counts } = (await call('GET', `/v1/alerts/${res.body.id}`)).body;
    assert.equal(counts.queued ?? 0, 0, JSON.stringify(counts));
    // Those on the wire went on (sent, or delivered by now); the rest was canceled.
    const left = Object.entries(counts as Record<string, number>)
      .filter(([status]) => status !== 'canceled')
      .reduce((sum, [, n]) => sum + n, 0);
    assert.ok(left >= 1 && left <= 8, JSON.stringify(counts));
    assert.equal(counts.canceled, canceled.body.canceledMessages);
    assert.equal(left + counts.canceled, 50, JSON.stringify(counts));
  });
});
