// /v1/batches end to end (CONTRACT §3): JSON and CSV recipients with per-recipient
// variables, E.164 with a default country, duplicates, opt-outs and invalid numbers
// skipped and counted, dry runs, pause / resume / cancel, scheduling, one account's
// batches invisible to another, and batch.completed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '../../src/core/index.ts';
import { api, gatewayFrom, groupMessages, waitFor, webhookReceiver } from '../e2e/helpers.ts';

const config = (extra = '', connector = '{ id: sim, type: simulator, deliveryDelayMs: 10 }') => `
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME ${extra} }
  - { id: other, apiKeys: [other-key-1] }
connectors:
  - ${connector}
routes:
  mt: [{ connectors: [sim] }]
`;

/** The batch's messages, once every row it took is one (they are made as it sends). */
async function messagesOf(gw: Awaited<ReturnType<typeof gatewayFrom>>, batchId: string): Promise<Message[]> {
  const batch = await gw.app.store.getRecord<{ total: number }>('batch', batchId);
  return waitFor(
    async () => {
      const all = await groupMessages(gw.app, 'acme', batchId);
      return all.length >= batch!.data.total && all;
    },
    10_000,
    `the ${batch!.data.total} messages of batch ${batchId}`,
  );
}

test('JSON batch: variables, default country, duplicates, opt-outs, invalid; counts and completion', async (t) => {
  const hooks = await webhookReceiver();
  t.after(() => hooks.close());
  const gw = await gatewayFrom(config(`, webhook: { url: "${hooks.url}", secret: s3cret }`));
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  assert.equal((await call('POST', '/v1/suppressions', { to: '+447700900003' })).status, 201);

  const res = await call('POST', '/v1/batches', {
    text: 'Hi {{name}}, your table is {{ table }}',
    country: 'GB',
    recipients: [
      { to: '+447700900001', vars: { name: 'Ann', table: 4 } },
      { to: '07700 900002', vars: { name: 'Bob', table: '7' } },
      { to: '447700900001', vars: { name: 'Ann again', table: 1 } },
      { to: '+447700900003', vars: { name: 'Opted', table: 2 } },
      { to: 'not a number', vars: { name: 'X' } },
      { to: '+447700900004' },
    ],
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.status, 'running');
  assert.equal(res.body.total, 2);
  // The last recipient gives no name and table: skipped, not sent as "Hi , your table is ".
  assert.deepEqual(res.body.skipped, { duplicate: 1, opted_out: 1, invalid: 1, missing_variable: 1 });
  assert.equal(typeof res.body.id, 'string');

  const done = await waitFor(async () => {
    const b = (await call('GET', `/v1/batches/${res.body.id}`)).body;
    return b.status === 'completed' && b.counts.delivered === 2 && b;
  }, 15_000);
  assert.equal(done.total, 2);
  assert.deepEqual(done.skipped, { duplicate: 1, opted_out: 1, invalid: 1, missing_variable: 1 });
  assert.equal(done.counts.queued, 0);
  assert.equal(typeof done.rate, 'number');
  assert.deepEqual(
    done.errors.map((e: { row: number; reason: string }) => [e.row, e.reason]),
    [
      [3, 'duplicate'],
      [4, 'opted_out'],
      [5, 'invalid'],
      [6, 'missing_variable'],
    ],
  );
  assert.equal(done.errors[3].variable, 'name');
  const texts = Object.fromEntries((await messagesOf(gw, res.body.id)).map((m) => [m.to, m.text]));
  assert.deepEqual(texts, {
    '+447700900001': 'Hi Ann, your table is 4',
    '+447700900002': 'Hi Bob, your table is 7',
  });
  const listed = await call('GET', `/v1/batches/${res.body.id}/messages?limit=1`);
  assert.equal(listed.body.data.length, 1);
  assert.ok(listed.body.nextCursor);

  const completed = await waitFor(() => hooks.hooks.find((h) => h.body.type === 'batch.completed'));
  assert.equal(completed.body.data.id, res.body.id);
  assert.equal((completed.body.data.counts as { queued: number }).queued, 0);
  // Per-message status webhooks were not asked for.
  assert.equal(hooks.hooks.filter((h) => h.body.type === 'message.status').length, 0);

  // Another account sees none of it.
  const other = api(gw.base, 'other-key-1');
  assert.equal((await other('GET', `/v1/batches/${res.body.id}`)).status, 404);
  assert.equal((await other('POST', `/v1/batches/${res.body.id}/cancel`)).status, 404);
  assert.equal((await other('GET', `/v1/batches/${res.body.id}/messages`)).status, 404);
  assert.deepEqual((await other('GET', '/v1/batches')).body.data, []);
  assert.equal((await call('GET', '/v1/batches')).body.data[0].id, res.body.id);
});

test('a row without a value for a variable the text uses is skipped as missing_variable, never sent blank', async (t) => {
  const gw = await gatewayFrom(config());
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  // A short row, an empty cell, a blank one; a later full row for the same number still goes.
  const csv = [
    'to,name,code',
    '+447700900401,Ann,A1',
    '+447700900402,Bob',
    '+447700900403,,C3',
    '+447700900404,Di,   ',
    '+447700900402,Bob,B2',
  ].join('\n');
  const text = '{{name}}: {{code}} ({{to}})';
  const dry = await call('POST', '/v1/batches', { text, csv, dryRun: true });
  assert.equal(dry.status, 202, JSON.stringify(dry.body));
  assert.equal(dry.body.total, 2);
  assert.equal(dry.body.skipped.missing_variable, 3);

  const res = await call('POST', '/v1/batches', { text, csv });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.total, 2);
  assert.deepEqual(res.body.skipped, { duplicate: 0, opted_out: 0, invalid: 0, missing_variable: 3 });
  assert.deepEqual(
    res.body.errors.map((e: { row: number; to: string; reason: string; variable: string }) => [
      e.row,
      e.to,
      e.reason,
      e.variable,
    ]),
    [
      [2, '+447700900402', 'missing_variable', 'code'],
      [3, '+447700900403', 'missing_variable', 'name'],
      [4, '+447700900404', 'missing_variable', 'code'],
    ],
  );
  const texts = Object.fromEntries((await messagesOf(gw, res.body.id)).map((m) => [m.to, m.text]));
  assert.deepEqual(texts, {
    '+447700900401': 'Ann: A1 (+447700900401)',
    '+447700900402': 'Bob: B2 (+447700900402)',
  });
  // The batch's own page keeps the count.
  assert.equal((await call('GET', `/v1/batches/${res.body.id}`)).body.skipped.missing_variable, 3);
});

test('CSV batches: as a JSON field and as a streamed text/csv body; dry run', async (t) => {
  const gw = await gatewayFrom(config());
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');

  const csv = 'to,name,code\n+447700900101,Ann,A1\n"+44 7700 900102","Bob, Jr.",B2\n+447700900101,Dup,X\n\n';
  const inJson = await call('POST', '/v1/batches', { from: 'SHOP', text: '{{name}}: {{code}}', csv });
  assert.equal(inJson.status, 202, JSON.stringify(inJson.body));
  assert.equal(inJson.body.total, 2);
  assert.equal(inJson.body.skipped.duplicate, 1);
  const stored = Object.fromEntries(
    (await messagesOf(gw, inJson.body.id)).map((m) => [m.to, [m.from, m.text]]),
  );
  assert.deepEqual(stored, {
    '+447700900101': ['SHOP', 'Ann: A1'],
    '+447700900102': ['SHOP', 'Bob, Jr.: B2'],
  });

  // Numbers without `+` are read in the batch's country (none: they are refused).
  const q = new URLSearchParams({
    from: 'SHOP',
    text: 'Hello {{name}}',
    priority: 'transactional',
    country: 'GB',
  });
  const streamed = await call('POST', `/v1/batches?${q}`, 'number,name\n447700900201,Cy\n07700900202,Di\n', {
    'content-type': 'text/csv',
  });
  assert.equal(streamed.status, 202, JSON.stringify(streamed.body));
  assert.equal(streamed.body.total, 2);
  const messages = await messagesOf(gw, streamed.body.id);
  assert.deepEqual(messages.map((m) => m.text).sort(), ['Hello Cy', 'Hello Di']);
  assert.ok(messages.every((m) => m.priority === 'transactional'));

  // A variable the header does not name, a header without a number column, a broken quote.
  const unknown = await call('POST', '/v1/batches', {
    text: 'Hi {{first}}',
    csv: 'to,name\n+447700900301,A\n',
  });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.error.code, 'unknown_variable');
  const noNumber = await call('POST', '/v1/batches', { text: 'Hi', csv: 'name\nA\n' });
  assert.equal(noNumber.body.error.code, 'invalid_csv');
  // A broken quote after 12,000 good rows, sent in two pieces: the first rows are stored
  // (in chunks of 5,000) before the parser meets it, then dropped with the batch.
  const good = Array.from({ length: 12_000 }, (_, i) => `+447700${String(100000 + i)}`).join('\n');
  const pieces = [`to\n${good}\n`, '"+447700900402\n'];
  const body = new ReadableStream({
    async pull(controller) {
      const piece = pieces.shift();
      if (piece === undefined) return controller.close();
      if (pieces.length === 0) await new Promise((r) => setTimeout(r, 300));
      controller.enqueue(new TextEncoder().encode(piece));
    },
  });
  const broken = await fetch(`${gw.base}/v1/batches?text=Hi`, {
    method: 'POST',
    headers: { authorization: 'Bearer acme-key-1', 'content-type': 'text/csv' },
    body,
    duplex: 'half',
  } as RequestInit);
  assert.equal(broken.status, 400);
  assert.equal(((await broken.json()) as { error: { code: string } }).error.code, 'invalid_csv');
  // What a refused upload stored is canceled; the batch says why and how far it got.
  const failed = (await call('GET', '/v1/batches?status=failed')).body.data;
  assert.deepEqual(failed.map((b: { failure: { code: string } }) => b.failure.code).sort(), [
    'invalid_csv',
    'invalid_csv',
    'unknown_variable',
  ]);
  const cut = failed.find((b: { rows: number }) => b.rows > 0);
  assert.ok(cut.total >= 10_000, `stored before the error: ${cut.total}`);
  // Its rows never became messages, and are not kept.
  assert.deepEqual(await gw.app.store.countByStatus(cut.id), {});
  assert.deepEqual(await gw.app.store.staging.read(cut.id, 0, 1), []);
  // The list carries each batch's counts: every status, its rows canceled.
  assert.equal(cut.counts.canceled, cut.total);
  assert.equal(cut.counts.queued, 0);
  assert.deepEqual(Object.fromEntries(Object.entries(cut.counts).filter(([, n]) => n)), {
    canceled: cut.total,
  });

  const dry = await call('POST', '/v1/batches', {
    text: 'Hi {{name}}',
    dryRun: true,
    recipients: [
      { to: '+447700900501', vars: { name: 'Ann' } },
      { to: '+447700900502', vars: { name: 'Zoë ✓' } },
      { to: '+447700900503', vars: { name: 'x'.repeat(200) } },
      { to: '+447700900501', vars: { name: 'Again' } },
      { to: 'nope' },
    ],
  });
  assert.equal(dry.status, 202, JSON.stringify(dry.body));
  assert.equal(dry.body.dryRun, true);
  assert.equal(dry.body.total, 3);
  assert.deepEqual(dry.body.skipped, { duplicate: 1, opted_out: 0, invalid: 1 });
  assert.deepEqual(dry.body.encodings, { gsm7: 2, ucs2: 1 });
  assert.equal(dry.body.segments, 1 + 1 + 2);
  assert.deepEqual(dry.body.routes, [{ connectors: ['sim'], segments: 4 }]);
  assert.equal((await gw.app.store.countByStatus()).queued ?? 0, 0, 'a dry run stores nothing');

  for (const [body, code] of [
    [{ recipients: [] }, 'missing_field'],
    [{ text: 'x' }, 'missing_field'],
    [{ text: 'x', recipients: [], csv: 'to\n' }, 'invalid_field'],
    [{ text: 'x', recipients: [], priority: 'urgent' }, 'invalid_priority'],
    [{ text: 'x', recipients: [], sendAt: 'tomorrow' }, 'invalid_send_at'],
    [{ text: 'x', recipients: [], country: 'XX' }, 'invalid_country'],
    [{ text: 'x', recipients: [], quietHours: '25:00-08:00' }, 'invalid_quiet_hours'],
    [{ text: 'x {{', recipients: [] }, 'invalid_template'],
    [{ text: 'x', recipients: [], from: 'a sender name too long' }, 'invalid_sender'],
  ] as const) {
    const r = await call('POST', '/v1/batches', body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, code, JSON.stringify(body));
  }
});

test('pause holds every message back until resumed; cancel stops the rest', async (t) => {
  // 50/s: the batch takes seconds, long enough to pause and cancel it midway.
  const gw = await gatewayFrom(config('', '{ id: sim, type: simulator, deliveryDelayMs: 10, tps: 50 }'));
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const recipients = Array.from({ length: 400 }, (_, i) => ({ to: `+4477009${String(i).padStart(5, '0')}` }));
  const batch = (await call('POST', '/v1/batches', { text: 'Sale', recipients })).body;
  assert.equal(batch.total, 400);
  const get = async () => (await call('GET', `/v1/batches/${batch.id}`)).body;
  await waitFor(async () => (await get()).counts.submitted + (await get()).counts.delivered >= 20);

  const paused = await call('POST', `/v1/batches/${batch.id}/pause`);
  assert.equal(paused.status, 200);
  assert.equal(paused.body.status, 'paused');
  // What was on the wire settles; then nothing more leaves.
  await new Promise((r) => setTimeout(r, 500));
  const left = gw.app.gateway.connectors.get('sim')!.state().sent;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(gw.app.gateway.connectors.get('sim')!.state().sent, left, 'nothing sent while paused');
  const whilePaused = await get();
  assert.equal(whilePaused.status, 'paused');
  assert.ok(whilePaused.counts.paused > 300, JSON.stringify(whilePaused.counts));
  assert.equal(whilePaused.counts.queued, 0);
  assert.equal(whilePaused.etaSeconds, null);
  assert.equal(
    (await call('POST', `/v1/batches/${batch.id}/pause`)).status,
    200,
    'pausing twice is harmless',
  );

  const resumed = await call('POST', `/v1/batches/${batch.id}/resume`);
  assert.equal(resumed.body.status, 'running');
  await waitFor(
    () => gw.app.gateway.connectors.get('sim')!.state().sent > left + 20,
    10_000,
    'sending again',
  );
  const running = await get();
  assert.ok(running.rate > 0, `rate ${running.rate}`);
  assert.ok(running.etaSeconds > 0, `eta ${running.etaSeconds}`);

  const canceled = await call('POST', `/v1/batches/${batch.id}/cancel`);
  assert.equal(canceled.body.status, 'canceled');
  await new Promise((r) => setTimeout(r, 500));
  const atCancel = gw.app.gateway.connectors.get('sim')!.state().sent;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(gw.app.gateway.connectors.get('sim')!.state().sent, atCancel, 'nothing sent after cancel');
  const final = await get();
  assert.equal(final.status, 'canceled');
  assert.ok(final.counts.canceled > 100, JSON.stringify(final.counts));
  assert.equal(final.counts.queued + final.counts.paused + final.counts.scheduled, 0);
  const sent = final.counts.submitted + final.counts.delivered;
  assert.equal(sent + final.counts.canceled, 400);
  assert.equal(sent, atCancel, 'every message the carrier got is counted as sent');
  const again = await call('POST', `/v1/batches/${batch.id}/resume`);
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'not_resumable');
  assert.equal((await call('POST', `/v1/batches/${batch.id}/pause`)).body.error.code, 'not_pausable');
  assert.equal(
    (await call('POST', `/v1/batches/${batch.id}/cancel`)).status,
    200,
    'canceling twice is harmless',
  );
  assert.equal((await call('POST', '/v1/batches/nope/pause')).status, 404);
});

test("the list carries each batch's counts, the same as the batch's own page", async (t) => {
  const gw = await gatewayFrom(config());
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const sent = (
    await call('POST', '/v1/batches', { text: 'A', recipients: ['+447700900701', '+447700900702'] })
  ).body;
  const later = new Date(Date.now() + 3600_000).toISOString();
  const held = (
    await call('POST', '/v1/batches', { text: 'B', sendAt: later, recipients: ['+447700900703'] })
  ).body;
  assert.equal((await call('POST', `/v1/batches/${held.id}/cancel`)).status, 200);
  await waitFor(
    async () => (await call('GET', `/v1/batches/${sent.id}`)).body.counts.delivered === 2,
    15_000,
  );
  // Past the second the counts are kept: the list reads them again (or keeps them, once
  // every message of the batch is final).
  await new Promise((r) => setTimeout(r, 1100));

  const listed = (await call('GET', '/v1/batches')).body.data;
  assert.deepEqual(listed.map((b: { id: string }) => b.id).sort(), [held.id, sent.id].sort());
  const heldItem = listed.find((b: { id: string }) => b.id === held.id);
  const sentItem = listed.find((b: { id: string }) => b.id === sent.id);
  assert.equal(sentItem.counts.delivered, 2);
  assert.equal(sentItem.counts.queued, 0);
  assert.equal(heldItem.counts.canceled, 1);
  assert.equal(heldItem.counts.scheduled, 0);
  for (const item of listed) {
    const detail = (await call('GET', `/v1/batches/${item.id}`)).body;
    assert.deepEqual(item.counts, detail.counts, item.id);
  }
  assert.deepEqual((await call('GET', '/v1/batches?status=canceled')).body.data[0].counts, heldItem.counts);

  // Both batches are over, every message final: their counts are not read again.
  const store = gw.app.gateway.store;
  const counted: string[] = [];
  const countByStatus = store.countByStatus.bind(store);
  store.countByStatus = (groupId) => {
    counted.push(String(groupId));
    return countByStatus(groupId);
  };
  await new Promise((r) => setTimeout(r, 1100));
  const again = (await call('GET', '/v1/batches')).body.data;
  assert.deepEqual(
    again.map((b: { counts: unknown }) => b.counts),
    listed.map((b: { counts: unknown }) => b.counts),
  );
  assert.deepEqual(counted, []);
});

test('sendAt schedules a batch; it starts on time, or is canceled before', async (t) => {
  const gw = await gatewayFrom(config());
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const soon = new Date(Date.now() + 1500).toISOString();
  const later = new Date(Date.now() + 3600_000).toISOString();
  const a = (await call('POST', '/v1/batches', { text: 'A', sendAt: soon, recipients: ['+447700900601'] }))
    .body;
  const b = (await call('POST', '/v1/batches', { text: 'B', sendAt: later, recipients: ['+447700900602'] }))
    .body;
  assert.equal(a.status, 'scheduled');
  assert.equal(b.status, 'scheduled');
  assert.equal((await call('GET', `/v1/batches/${a.id}`)).body.counts.scheduled, 1);
  const started = await waitFor(async () => {
    const got = (await call('GET', `/v1/batches/${a.id}`)).body;
    return got.status === 'completed' && got;
  }, 10_000);
  assert.ok(Date.parse(started.completedAt) >= Date.parse(soon));
  const canceled = await call('POST', `/v1/batches/${b.id}/cancel`);
  assert.equal(canceled.body.status, 'canceled');
  assert.deepEqual(canceled.body.counts.canceled, 1);
});

test("a batch cancel counts every message it canceled in /metrics' canceled (rows not yet messages are not messages)", async (t) => {
  const gw = await gatewayFrom(config());
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const canceledTotal = async () => {
    const text = await (await fetch(`${gw.base}/metrics`)).text();
    return [...text.matchAll(/^smsgw_messages_total\{([^}]*)\} (\d+)$/gm)]
      .filter(([, labels]) => /status="canceled"/.test(labels!) && /direction="outbound"/.test(labels!))
      .reduce((sum, [, , n]) => sum + Number(n), 0);
  };
  const later = new Date(Date.now() + 3600_000).toISOString();
  const recipients = ['+447700900801', '+447700900802', '+447700900803'];
  const batch = (await call('POST', '/v1/batches', { text: 'B', sendAt: later, recipients })).body;
  assert.equal(batch.total, 3);
  const single = (await call('POST', '/v1/messages', { to: '+447700900804', text: 'S', sendAt: later })).body;
  assert.equal(await canceledTotal(), 0);
  assert.equal((await call('DELETE', `/v1/messages/${single.id}`)).status, 200);
  // A scheduled batch's rows are not messages yet: the batch counts them canceled, /metrics
  // (which counts messages, accepted ones included) does not.
  assert.equal((await call('POST', `/v1/batches/${batch.id}/cancel`)).body.counts.canceled, 3);
  assert.equal(await canceledTotal(), 1);
  // A running batch's rows are made messages, here held by quiet hours all day but one hour.
  const hourUtc = new Date().getUTCHours();
  const quietHours = {
    start: `${String((hourUtc + 2) % 24).padStart(2, '0')}:00`,
    end: `${String((hourUtc + 1) % 24).padStart(2, '0')}:00`,
  };
  const running = (
    await call('POST', '/v1/batches', {
      text: 'Q',
      quietHours,
      recipients: ['+447700900805', '+447700900806'],
    })
  ).body;
  assert.equal(running.status, 'running');
  await waitFor(async () => (await gw.app.store.countByStatus(running.id)).scheduled === 2);
  assert.equal((await call('POST', `/v1/batches/${running.id}/cancel`)).body.counts.canceled, 2);
  assert.equal(await canceledTotal(), 3);
});

test('mps paces a batch; quiet hours defer recipients in their own time zone', async (t) => {
  const gw = await gatewayFrom(config());
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const paced = (
    await call('POST', '/v1/batches', {
      text: 'paced',
      mps: 2,
      recipients: Array.from({ length: 6 }, (_, i) => `+4477009007${i}0`),
    })
  ).body;
  const sendAts = (await messagesOf(gw, paced.id)).map((m) => m.sendAt ?? null);
  assert.equal(sendAts.length, 6);
  // Two a second: the first pair goes at once, the next pairs one and two seconds after it
  // (planned times, so a slow machine does not move them).
  const planned = sendAts.filter((t) => t !== null).sort();
  assert.equal(planned.length, 4, JSON.stringify(sendAts));
  assert.deepEqual(
    planned.map((t) => t - planned[0]!),
    [0, 0, 1000, 1000],
  );

  // The whole day is quiet except one hour; each recipient waits for it in its own zone.
  const hourUtc = new Date().getUTCHours();
  const start = `${String((hourUtc + 2) % 24).padStart(2, '0')}:00`;
  const end = `${String((hourUtc + 1) % 24).padStart(2, '0')}:00`;
  const quiet = (
    await call('POST', '/v1/batches', {
      text: 'quiet',
      quietHours: { start, end },
      recipients: ['+81312345678', '+12125550123'],
    })
  ).body;
  assert.equal(quiet.total, 2);
  const byTo = Object.fromEntries((await messagesOf(gw, quiet.id)).map((m) => [m.to, m]));
  for (const [to, zone] of [
    ['+81312345678', 'Asia/Tokyo'],
    ['+12125550123', 'America/New_York'],
  ] as const) {
    const m = byTo[to]!;
    assert.equal(m.status, 'scheduled', to);
    const local = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(m.sendAt!);
    assert.equal(local, end, `${to} goes at ${end} in ${zone}`);
    assert.ok(m.sendAt! > Date.now() && m.sendAt! <= Date.now() + 24 * 3600_000);
  }
});

test('Idempotency-Key: the same batch posted again is answered with the first, not sent twice; a refused one frees the key', async (t) => {
  const gw = await gatewayFrom(config());
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const body = {
    text: 'Hello {{n}}',
    recipients: [1, 2, 3].map((n) => ({ to: `+44770090010${n}`, vars: { n } })),
  };
  const first = await call('POST', '/v1/batches', body, { 'idempotency-key': 'newsletter-42' });
  assert.equal(first.status, 202);
  const again = await call('POST', '/v1/batches', body, { 'idempotency-key': 'newsletter-42' });
  assert.equal(again.status, 202);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(again.body.id, first.body.id);
  assert.equal((await messagesOf(gw, first.body.id)).length, 3, 'sent once');
  // Another account's same key is its own.
  const theirs = await api(gw.base, 'other-key-1')(
    'POST',
    '/v1/batches',
    { ...body, from: 'OTHER' },
    {
      'idempotency-key': 'newsletter-42',
    },
  );
  assert.notEqual(theirs.body.id, first.body.id);
  // A refused upload leaves the key free: the corrected retry goes through.
  const refused = await call(
    'POST',
    '/v1/batches',
    { ...body, from: 'a sender far too long' },
    { 'idempotency-key': 'retry-me' },
  );
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error.code, 'invalid_sender');
  const retried = await call('POST', '/v1/batches', body, { 'idempotency-key': 'retry-me' });
  assert.equal(retried.status, 202);
  assert.notEqual(retried.headers.get('idempotent-replayed'), 'true');
  assert.equal(
    (await call('POST', '/v1/batches', body, { 'idempotency-key': 'x'.repeat(256) })).body.error.code,
    'invalid_idempotency_key',
  );
});
