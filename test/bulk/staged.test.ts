// Staged batches (SQLite): rows are staged at upload and made messages as the batch sends, in
// upload order, a bounded number at a time; the counts add up to the total at every look;
// pause and cancel stop the making; a restart picks up where it was (no row sent twice, none
// lost); an upload cut short leaves nothing staged; an OTP goes while a batch uploads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connector, OutboundSms } from '../../src/connectors/index.ts';
import type { Message } from '../../src/core/index.ts';
import { api, gatewayFrom, groupMessages, waitFor } from '../e2e/helpers.ts';

type Gateway = Awaited<ReturnType<typeof gatewayFrom>>;

const config = `
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: sim, type: simulator, deliveryDelayMs: 5 }
routes:
  mt: [{ connectors: [sim] }]
`;
/** Small chunks: a few hundred rows take many of them. */
const chunks = { batches: { chunkSize: 10, stageChunkSize: 25, expandWindow: 20 } };

const numberOf = (i: number) => `+4477009${String(10000 + i)}`;
const rowOf = (to: string) => Number(to.slice(-5)) - 10000;

function messagesOf(gw: Gateway, batchId: string): Promise<Message[]> {
  return groupMessages(gw.app, 'acme', batchId);
}

/** What the carrier is handed, recorded at the connector. */
function recordSent(gw: Gateway): string[] {
  const sent: string[] = [];
  const sim = gw.app.gateway.connectors.get('sim') as Connector;
  const send = sim.send.bind(sim);
  sim.send = (sms: OutboundSms) => {
    sent.push(sms.to);
    return send(sms);
  };
  return sent;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

test('rows become messages in upload order, a bounded number at a time; the counts add up to the total at every look', async (t) => {
  const gw = await gatewayFrom(config, chunks);
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const rows = 300;
  const recipients = Array.from({ length: rows }, (_, i) => ({ to: numberOf(i), vars: { n: String(i) } }));
  const created = await call('POST', '/v1/batches', { text: 'Hi {{n}}', mps: 50, recipients });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  assert.equal(created.body.total, rows);
  let looks = 0;
  let midway = 0;
  for (;;) {
    const batch = (await call('GET', `/v1/batches/${created.body.id}`)).body;
    const made = await messagesOf(gw, created.body.id);
    looks++;
    assert.equal(sum(batch.counts), rows, JSON.stringify(batch.counts));
    // Made in order: the rows that are messages are the first ones.
    const made_rows = made.map((m) => rowOf(m.to)).sort((a, b) => a - b);
    assert.deepEqual(
      made_rows,
      Array.from({ length: made.length }, (_, i) => i),
    );
    for (const m of made) assert.equal(m.text, `Hi ${rowOf(m.to)}`);
    // Bounded: the window, and the chunk being made as the window empties.
    const waiting = made.filter((m) => m.status === 'queued' || m.status === 'scheduled').length;
    assert.ok(waiting <= 20 + 10, `${waiting} messages of the batch waiting`);
    if (made.length > 0 && made.length < rows) midway++;
    if (batch.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(midway >= 3, `looked ${midway} times while the batch was partly made (of ${looks})`);
  assert.deepEqual(await gw.app.store.staging.read(created.body.id, 0, 1), [], 'no row left staged');
  assert.equal((await messagesOf(gw, created.body.id)).length, rows);
});

test('pause stops making messages until resumed; cancel drops the rows left, counted canceled', async (t) => {
  const gw = await gatewayFrom(config, chunks);
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const sent = recordSent(gw);
  const rows = 400;
  const recipients = Array.from({ length: rows }, (_, i) => numberOf(i));
  const { id } = (await call('POST', '/v1/batches', { text: 'Hi', mps: 20, recipients })).body;
  await waitFor(() => sent.length >= 20, 30_000, 'some sent');

  const paused = (await call('POST', `/v1/batches/${id}/pause`)).body;
  assert.equal(paused.status, 'paused');
  assert.equal(sum(paused.counts), rows);
  await waitFor(() => gw.app.gateway.inFlight === 0 || undefined, 10_000, 'the wire settled');
  const madeAtPause = (await messagesOf(gw, id)).length;
  const sentAtPause = sent.length;
  assert.ok(madeAtPause < rows, `${madeAtPause} made before the pause`);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await messagesOf(gw, id)).length, madeAtPause, 'none made while paused');
  assert.equal(sent.length, sentAtPause, 'none sent while paused');
  const held = (await call('GET', `/v1/batches/${id}`)).body;
  assert.equal(held.counts.paused, rows - sentAtPause, JSON.stringify(held.counts));

  assert.equal((await call('POST', `/v1/batches/${id}/resume`)).body.status, 'running');
  await waitFor(async () => (await messagesOf(gw, id)).length > madeAtPause + 20, 30_000, 'made again');

  const canceled = (await call('POST', `/v1/batches/${id}/cancel`)).body;
  assert.equal(canceled.status, 'canceled');
  await waitFor(() => gw.app.gateway.inFlight === 0 || undefined, 10_000, 'the wire settled');
  const madeAtCancel = (await messagesOf(gw, id)).length;
  assert.ok(madeAtCancel < rows, `${madeAtCancel} made before the cancel`);
  assert.deepEqual(await gw.app.store.staging.read(id, 0, 1), [], 'the rows left are dropped');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await messagesOf(gw, id)).length, madeAtCancel, 'none made after the cancel');
  const final = (await call('GET', `/v1/batches/${id}`)).body;
  assert.equal(sum(final.counts), rows);
  assert.equal(final.counts.submitted + final.counts.delivered, sent.length);
  assert.equal(final.counts.canceled, rows - sent.length, JSON.stringify(final.counts));
  assert.equal(new Set(sent).size, sent.length, 'none sent twice');
});

test('a restart mid-sending continues where it was: a chunk stored but not recorded is not stored again', async (t) => {
  const gw = await gatewayFrom(config, chunks);
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const rows = 200;
  const recipients = Array.from({ length: rows }, (_, i) => ({ to: numberOf(i), vars: { n: String(i) } }));
  const { id } = (await call('POST', '/v1/batches', { text: 'Hi {{n}}', mps: 40, recipients })).body;
  await waitFor(async () => (await messagesOf(gw, id)).length >= 40, 30_000, 'some made');
  // Held while the crash is staged: the last chunk's messages stay stored, but the batch
  // forgets it made them and its rows are staged again (as after a crash between the two).
  assert.equal((await call('POST', `/v1/batches/${id}/pause`)).body.status, 'paused');
  const store = gw.app.store;
  // Once the chunk being made at the pause is recorded and its rows dropped.
  const record = await waitFor(
    async () => {
      const r = (await store.getRecord<{ staged: { expanded: number } }>('batch', id))!;
      const [next] = await store.staging.read(id, 0, 1);
      const made = (await messagesOf(gw, id)).length;
      return made === r.data.staged.expanded && next?.seq === made + 1 && r;
    },
    10_000,
    'the expansion settled',
  );
  const { expanded } = record.data.staged;
  assert.ok(expanded >= 10 && expanded < rows, `expanded ${expanded}`);
  const made = new Set((await messagesOf(gw, id)).map((m) => rowOf(m.to)));
  for (let i = 0; i < expanded; i++) assert.ok(made.has(i), `row ${i} made`);
  await store.staging.stage(
    id,
    expanded - 9,
    Array.from({ length: 10 }, (_, k) => ({
      to: numberOf(expanded - 10 + k),
      vars: { n: String(expanded - 10 + k) },
    })),
  );
  await store.putRecord(
    { ...record, data: { ...record.data, staged: { ...record.data.staged, expanded: expanded - 10 } } },
    record.version,
  );
  await gw.restart();
  const again = api(gw.base, 'acme-key-1');
  assert.equal((await again('POST', `/v1/batches/${id}/resume`)).body.status, 'running');
  const done = await waitFor(
    async () => {
      const b = (await again('GET', `/v1/batches/${id}`)).body;
      return b.status === 'completed' && b;
    },
    60_000,
    'completed',
  );
  assert.equal(done.total, rows);
  assert.equal(done.counts.delivered, rows, JSON.stringify(done.counts));
  const all = await messagesOf(gw, id);
  assert.equal(all.length, rows, 'each row one message');
  assert.equal(new Set(all.map((m) => m.to)).size, rows);
  for (const m of all) assert.equal(m.text, `Hi ${rowOf(m.to)}`);
});

test('an upload its gateway did not finish fails at the next start, its staged rows dropped', async (t) => {
  const gw = await gatewayFrom(config, chunks);
  t.after(() => gw.close());
  const store = gw.app.store;
  const now = Date.now();
  // As a gateway that died mid-upload left it: loading, some rows staged.
  await store.putRecord({
    kind: 'batch',
    id: 'cut-short',
    accountId: 'acme',
    ref: null,
    status: 'loading',
    dueAt: now,
    createdAt: now,
    updatedAt: now,
    data: {
      name: null,
      from: 'ACME',
      text: 'Hi',
      priority: 'bulk',
      sendAt: null,
      validitySeconds: null,
      country: null,
      mps: 0,
      quietHours: null,
      callbackUrl: null,
      statusWebhooks: false,
      tags: null,
      source: 'csv',
      rows: 0,
      total: 0,
      skipped: { duplicate: 0, opted_out: 0, invalid: 0 },
      errors: [],
      startedAt: null,
      pausedAt: null,
      completedAt: null,
      canceledAt: null,
      failure: null,
      uploader: 'a-gateway-gone',
      staged: { rows: 0, expanded: 0, paceFrom: now, mps: 0 },
    },
  });
  await store.staging.stage(
    'cut-short',
    1,
    Array.from({ length: 30 }, (_, i) => ({ to: numberOf(i), vars: null })),
  );
  await gw.restart();
  const batch = (await api(gw.base, 'acme-key-1')('GET', '/v1/batches/cut-short')).body;
  assert.equal(batch.status, 'failed');
  assert.equal(batch.failure.code, 'interrupted');
  assert.deepEqual(await gw.app.store.staging.read('cut-short', 0, 1), []);
  assert.deepEqual(await gw.app.store.countByStatus('cut-short'), {});
});

test('an OTP submitted while a batch uploads is sent before the upload ends', async (t) => {
  const gw = await gatewayFrom(config, chunks);
  t.after(() => gw.close());
  const call = api(gw.base, 'acme-key-1');
  const encoder = new TextEncoder();
  let otpSubmitted: () => void;
  const otpGone = new Promise<void>((resolve) => {
    otpSubmitted = resolve;
  });
  let sentRows = 0;
  let midUpload = false;
  // Half the rows, then the upload waits (its request still open) until the OTP has left.
  const csv = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sentRows === 0) controller.enqueue(encoder.encode('to\n'));
      if (sentRows === 1000) {
        midUpload = true;
        await otpGone;
      }
      if (sentRows >= 2000) return controller.close();
      let lines = '';
      for (const end = sentRows + 100; sentRows < end; sentRows++) lines += `${numberOf(sentRows)}\n`;
      controller.enqueue(encoder.encode(lines));
    },
  });
  let uploaded = false;
  const upload = fetch(`${gw.base}/v1/batches?${new URLSearchParams({ text: 'bulk' })}`, {
    method: 'POST',
    headers: { authorization: 'Bearer acme-key-1', 'content-type': 'text/csv' },
    body: csv,
    duplex: 'half',
  } as RequestInit).then((res) => {
    uploaded = true;
    return res;
  });
  await waitFor(() => midUpload, 30_000, 'half the rows uploaded');
  const otp = await call('POST', '/v1/messages', { to: '+447700900999', text: 'code 4711', priority: 'otp' });
  assert.equal(otp.status, 202);
  await waitFor(
    async () => (await call('GET', `/v1/messages/${otp.body.id}`)).body.submittedAt !== null,
    30_000,
    'the OTP submitted',
  );
  assert.equal(uploaded, false, 'the upload is still open');
  otpSubmitted!();
  const res = await upload;
  const created = (await res.json()) as { total: number };
  assert.equal(res.status, 202);
  assert.equal(created.total, 2000);
});
