// Finding messages over REST (issue #22): GET /v1/messages?q= by number (with or without
// `+`, national), id and client reference, either direction; status, direction and date
// range; the whole search as CSV (streamed across store pages); an account sees only its
// own, an admin every account's (GET /v1/admin/messages); bad parameters are 400s.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gatewayFrom, waitFor } from './helpers.ts';

interface Listed {
  id: string;
  direction: string;
  to: string;
  from: string;
  status: string;
  text: string;
  account?: string;
}

test('messages are found by number, id, client reference, status and date range, and exported as CSV', async (t) => {
  const gw = await gatewayFrom(`
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-1] }
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME, defaultCountry: GB }
  - { id: other, apiKeys: [other-key-1], defaultFrom: OTHER }
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt: [{ connectors: [sim] }]
  mo: [{ match: { to: ["+447700900500"] }, account: acme }]
`);
  t.after(() => gw.close());
  const acme = api(gw.base, 'acme-key-1');
  const other = api(gw.base, 'other-key-1');
  const admin = api(gw.base, 'admin-key-1');
  const send = async (as: typeof acme, body: Record<string, unknown>) => {
    const res = await as('POST', '/v1/messages', body);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body as Listed;
  };
  const search = async (query: string, as = acme) => {
    const res = await as('GET', `/v1/messages?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body.data as Listed[]).map((m) => m.id);
  };

  const first = await send(acme, { to: '+447700900123', text: 'first', clientRef: 'order-42' });
  const second = await send(acme, { to: '+447700900999', text: 'second' });
  const theirs = await send(other, { to: '+447700900123', text: 'theirs', clientRef: 'order-42' });
  assert.equal(
    (
      await admin('POST', '/v1/admin/connectors/sim/inbound', {
        from: '+447700900123',
        to: '+447700900500',
        text: 'a reply',
      })
    ).status,
    202,
  );
  const inbound = await waitFor(async () => {
    const data = (await acme('GET', '/v1/messages?direction=inbound')).body.data as Listed[];
    return data[0];
  });

  await t.test('a number finds messages either way, with or without +, or national', async () => {
    const both = [inbound.id, first.id];
    assert.deepEqual(await search('q=%2B447700900123'), both);
    assert.deepEqual(await search('q=447700900123'), both);
    assert.deepEqual(await search(`q=${encodeURIComponent('07700 900123')}`), both);
    assert.deepEqual(await search('q=447700900123&direction=outbound'), [first.id]);
    assert.deepEqual(await search('q=447700900123&direction=inbound'), [inbound.id]);
  });

  await t.test('an id or a client reference finds its message, in the account only', async () => {
    assert.deepEqual(await search(`q=${first.id}`), [first.id]);
    assert.deepEqual(await search('q=order-42'), [first.id]);
    assert.deepEqual(await search('q=order-42', other), [theirs.id]);
    assert.deepEqual(await search(`q=${theirs.id}`), []);
    assert.deepEqual(await search('q=nothing-like-this'), []);
  });

  await t.test('status and a date range narrow it', async () => {
    await waitFor(async () => (await search('status=delivered')).length === 2);
    assert.deepEqual(await search('q=447700900123&status=delivered'), [first.id]);
    const created = Date.parse((await acme('GET', `/v1/messages/${second.id}`)).body.createdAt);
    assert.deepEqual(await search(`q=447700900999&since=${new Date(created).toISOString()}`), [second.id]);
    assert.deepEqual(await search(`q=447700900999&until=${new Date(created).toISOString()}`), []);
    assert.deepEqual(await search(`q=447700900999&until=${new Date(created + 1).toISOString()}`), [
      second.id,
    ]);
    const today = new Date(created).toISOString().slice(0, 10);
    assert.deepEqual(await search(`q=447700900999&since=${today}&until=${today}`), [second.id]);
  });

  await t.test('an admin searches every account, or one', async () => {
    const res = await admin('GET', '/v1/admin/messages?q=order-42');
    assert.equal(res.status, 200);
    assert.deepEqual(
      (res.body.data as Listed[]).map((m) => [m.id, m.account]),
      [
        [theirs.id, 'other'],
        [first.id, 'acme'],
      ],
    );
    const one = await admin('GET', '/v1/admin/messages?q=order-42&account=other');
    assert.deepEqual(
      (one.body.data as Listed[]).map((m) => m.id),
      [theirs.id],
    );
    // Not every account's messages whole: a search or an account.
    const whole = await admin('GET', '/v1/admin/messages?status=delivered');
    assert.deepEqual(
      [whole.status, whole.body.error.code, whole.body.error.field],
      [400, 'missing_field', 'q'],
    );
    const acmeOnly = await admin('GET', '/v1/admin/messages?account=acme&direction=outbound');
    assert.deepEqual(
      (acmeOnly.body.data as Listed[]).map((m) => m.id),
      [second.id, first.id],
    );
    const none = await admin('GET', '/v1/admin/messages?account=nobody');
    assert.equal(none.status, 404);
    assert.equal(none.body.error.field, 'account');
    assert.equal((await acme('GET', '/v1/admin/messages')).status, 401);
  });

  await t.test('bad search parameters are refused naming them', async () => {
    for (const [query, code, field] of [
      ['since=yesterday', 'invalid_time', 'since'],
      ['until=2026-13-45', 'invalid_time', 'until'],
      ['since=2026-12-02&until=2026-12-01', 'invalid_range', 'until'],
      ['status=lost', 'invalid_status', 'status'],
      ['direction=sideways', 'invalid_direction', 'direction'],
      ['format=xml', 'invalid_format', 'format'],
      [`q=${'x'.repeat(300)}`, 'invalid_query', 'q'],
    ]) {
      const res = await acme('GET', `/v1/messages?${query}`);
      assert.equal(res.status, 400, query);
      assert.deepEqual([res.body.error.code, res.body.error.field], [code, field], query);
    }
  });

  await t.test('a search exports as CSV: every match across store pages, values quoted', async () => {
    // More than one store page (500) of matches, so the export pages internally.
    const res = await acme('POST', '/v1/batches', {
      text: 'Hello, "friend"\nsee you',
      recipients: Array.from({ length: 520 }, (_, i) => `+44770091${String(i).padStart(4, '0')}`),
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    // A batch's rows become messages as it sends: the search is over messages.
    await waitFor(
      async () =>
        (await acme('GET', `/v1/batches/${res.body.id}/messages?limit=1`)).status === 200 &&
        (await gw.app.store.listMessages({ accountId: 'acme', groupId: res.body.id }, null, 600)).data
          .length === 520,
      30_000,
      'the batch made its 520 messages',
    );
    const csv = async (query: string, headers: Record<string, string> = {}) => {
      const r = await fetch(`${gw.base}/v1/messages?${query}`, {
        headers: { authorization: 'Bearer acme-key-1', ...headers },
      });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
      return (await r.text()).split(/\r\n(?=(?:[^"]*"[^"]*")*[^"]*$)/).filter(Boolean);
    };
    const lines = await csv('format=csv');
    assert.equal(
      lines[0],
      'id,createdAt,direction,status,from,to,text,segments,encoding,clientRef,connector,price,currency,errorCode,submittedAt,doneAt',
    );
    // The batch, the three sent through /v1/messages and the inbound, newest first.
    assert.equal(lines.length, 1 + 520 + 3);
    assert.equal(new Set(lines.slice(1).map((l) => l.split(',')[0])).size, 523);
    assert.match(lines[1]!, /,"Hello, ""friend""\nsee you",/);
    assert.ok(lines.at(-1)!.startsWith(`${first.id},`));
    const byAccept = await csv('q=order-42', { accept: 'text/csv' });
    assert.equal(byAccept.length, 2);
    assert.match(
      byAccept[1]!,
      new RegExp(`^${first.id},.*,outbound,\\w+,ACME,\\+447700900123,first,1,gsm7,order-42,`),
    );
    // The other account's messages are not in it.
    assert.ok(!(await csv('format=csv&q=%2B447700900123')).some((l) => l.startsWith(theirs.id)));
  });
});
