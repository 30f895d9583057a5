// The body bytes the uploads running at once have read are bounded (http.maxUploadMegabytes):
// past it, every upload but the oldest waits, its client held back, until one ends; an
// upload's first MiB never waits, and an import stored as it is read is not counted. An
// upload whose client stops sending is cut (http.bodyIdleSeconds), so that it cannot hold
// the others back for ever; time the gateway itself holds a body back does not count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/app/index.ts';
import { api, gatewayFrom, type PartialPost, partialPost, waitFor } from '../e2e/helpers.ts';

const config = (limits: string) => `
http: { listen: 127.0.0.1:0, ${limits} }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
  - { id: beta, apiKeys: [beta-key-1], defaultFrom: BETA }
connectors:
  - { id: sim, type: simulator }
routes:
  mt: [{ connectors: [sim] }]
`;

const mib = 1_048_576;

/** CSV rows of about 1 KB each (a number and a column the text does not use), from `first`. */
function paddedRows(first: number, count: number): string {
  let rows = '';
  for (let i = first; i < first + count; i++)
    rows += `+4477009${String(i).padStart(5, '0')},${'x'.repeat(1_000)}\n`;
  return rows;
}

const header = 'to,note\n';

/** A streamed CSV batch (a dry run) whose headers promise `length` bytes, `first` of them sent now. */
function csvBatch(base: string, length: number, first: string, key = 'acme-key-1'): PartialPost {
  return partialPost(
    base,
    '/v1/batches?text=Hi&dryRun=true',
    { authorization: `Bearer ${key}`, 'content-type': 'text/csv', 'content-length': length },
    first,
  );
}

/** The recipients a batch's dry run counted. */
async function total(post: PartialPost): Promise<number> {
  const answer = await post.answer;
  assert.equal(answer.status, 202, answer.body);
  return JSON.parse(answer.body).total;
}

/** The gauges of the gateway's uploads, from /metrics. */
async function uploadGauges(base: string) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
  return {
    running: gauge('smsgw_uploads_running'),
    bytes: gauge('smsgw_upload_bytes'),
    waiting: gauge('smsgw_uploads_waiting'),
  };
}

test('past http.maxUploadMegabytes a later upload waits until the oldest ends; small uploads do not', async (t) => {
  const logged: Array<Record<string, unknown>> = [];
  const gw = await gatewayFrom(config('maxUploadMegabytes: 2'), {
    log: createLogger('info', { write: (line: string) => void logged.push(JSON.parse(line)) }),
  });
  t.after(() => gw.close());
  // The oldest: 3,000 rows (3 MiB) sent, then it stops short of its end. Being the oldest,
  // it is read past the limit.
  const oldestRows = paddedRows(0, 3_000);
  const oldestRest = paddedRows(3_000, 10);
  const oldest = csvBatch(gw.base, Buffer.byteLength(header + oldestRows + oldestRest), header + oldestRows);
  const read = await waitFor(
    async () => {
      const g = await uploadGauges(gw.base);
      return g.bytes === Buffer.byteLength(header + oldestRows) && g;
    },
    10_000,
    'the oldest upload read to where its client stopped',
  );
  assert.equal(read.running, 1);
  assert.equal(read.waiting, 0);

  // The next: its whole body is sent, but only its first MiB is read while the oldest runs.
  const laterBody = header + paddedRows(5_000, 3_000);
  const later = csvBatch(gw.base, Buffer.byteLength(laterBody), laterBody);
  const waiting = await waitFor(
    async () => {
      const g = await uploadGauges(gw.base);
      return g.waiting === 1 && g;
    },
    10_000,
    'the later upload waiting',
  );
  assert.equal(waiting.running, 2);
  assert.ok(waiting.bytes >= read.bytes + mib, `its first MiB was read: ${waiting.bytes}`);
  assert.ok(waiting.bytes < read.bytes + 2 * mib, `and not much more: ${waiting.bytes}`);
  const line = logged.find(
    (l) => l.msg === 'upload waits: the uploads running have read http.maxUploadMegabytes',
  );
  assert.ok(line, 'the wait is logged');
  assert.equal(line.uploadsRunning, 2);

  // A small upload is not held back by the two.
  const call = api(gw.base, 'acme-key-1');
  const small = await call('POST', '/v1/batches', {
    text: 'hi',
    recipients: ['+447700900001'],
    dryRun: true,
  });
  assert.equal(small.status, 202, JSON.stringify(small.body));
  assert.equal((await uploadGauges(gw.base)).waiting, 1);
  // Nor is an import stored as it is read (it holds no more as it grows): not counted.
  let numbers = 'to\n';
  for (let i = 0; i < 90_000; i++) numbers += `+4477008${String(i).padStart(5, '0')}\n`;
  assert.ok(numbers.length > 1.2 * mib);
  const imported = await call('POST', '/v1/suppressions/import', numbers, { 'content-type': 'text/csv' });
  assert.equal(imported.status, 200, JSON.stringify(imported.body));
  assert.equal(imported.body.added, 90_000);
  assert.deepEqual(await uploadGauges(gw.base), waiting);
  const unanswered = await Promise.race([later.answer, Promise.resolve('none')]);
  assert.equal(unanswered, 'none', 'the later upload has no answer while it waits');

  // The oldest ends: the later one is read on and both are taken whole.
  oldest.req.end(oldestRest);
  assert.equal(await total(oldest), 3_010);
  assert.equal(await total(later), 3_000);
  assert.deepEqual(await uploadGauges(gw.base), { running: 0, bytes: 0, waiting: 0 });
});

test("past http.maxUploadMegabytes an account below its share reads on: one account's upload does not hold another's back", async (t) => {
  const gw = await gatewayFrom(config('maxUploadMegabytes: 4'));
  t.after(() => gw.close());
  // acme's upload, the oldest, reads 5 MiB, past the limit, and its client stops short.
  const hogRows = paddedRows(0, 5_000);
  const hog = csvBatch(gw.base, Buffer.byteLength(header + hogRows) + 10, header + hogRows);
  t.after(() => hog.req.destroy());
  await waitFor(
    async () => (await uploadGauges(gw.base)).bytes === Buffer.byteLength(header + hogRows),
    10_000,
    'the oldest read past the limit',
  );
  // Another acme upload waits past its first MiB: acme has read more than its share.
  const acmeBody = header + paddedRows(10_000, 1_800);
  const acmeLater = csvBatch(gw.base, Buffer.byteLength(acmeBody), acmeBody);
  await waitFor(
    async () => (await uploadGauges(gw.base)).waiting === 1,
    10_000,
    "acme's later upload waiting",
  );
  // beta's upload of 1.8 MiB is read whole: beta has read less than its half of the 4 MiB.
  const betaBody = header + paddedRows(20_000, 1_800);
  assert.ok(Buffer.byteLength(betaBody) > 1.5 * mib);
  const beta = csvBatch(gw.base, Buffer.byteLength(betaBody), betaBody, 'beta-key-1');
  assert.equal(await total(beta), 1_800);
  assert.equal((await uploadGauges(gw.base)).waiting, 1, "acme's later upload still waits");
  // The hog goes: acme's later upload is read on.
  hog.req.destroy();
  assert.equal(await total(acmeLater), 1_800);
  assert.deepEqual(await uploadGauges(gw.base), { running: 0, bytes: 0, waiting: 0 });
});

test('an upload whose client stops sending is cut after http.bodyIdleSeconds; one held back is not', async (t) => {
  const gw = await gatewayFrom(config('maxUploadMegabytes: 1, bodyIdleSeconds: 2'));
  t.after(() => gw.close());

  // The oldest keeps sending, a row every 200 ms, for five seconds: the idle limit is 2 s.
  const rows = paddedRows(0, 1_100);
  const trickled = paddedRows(2_000, 25);
  const last = paddedRows(3_000, 1);
  const oldest = csvBatch(gw.base, Buffer.byteLength(header + rows + trickled + last), header + rows);
  await waitFor(async () => (await uploadGauges(gw.base)).bytes >= mib, 10_000, 'the oldest past the limit');
  // The later one waits behind it longer than the idle limit, and is not cut for that.
  const laterBody = header + paddedRows(5_000, 2_000);
  const later = csvBatch(gw.base, Buffer.byteLength(laterBody), laterBody);
  await waitFor(async () => (await uploadGauges(gw.base)).waiting === 1, 10_000, 'the later upload waiting');
  for (const row of trickled.split(/(?<=\n)/)) {
    oldest.req.write(row);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal((await uploadGauges(gw.base)).waiting, 1, 'still waiting, five seconds on');
  oldest.req.end(last);
  assert.equal(await total(oldest), 1_126);
  assert.equal(await total(later), 2_000);

  // One that stops sending is cut: 408, its connection closed, its slot given back.
  const stalled = csvBatch(gw.base, 10 * mib, `${header}+447700912345,Ann,x\n`);
  const cut = await stalled.answer;
  assert.equal(cut.status, 408, cut.body);
  assert.equal(JSON.parse(cut.body).error.code, 'body_timeout');
  assert.equal(cut.headers.connection, 'close');
  await stalled.closed;
  await waitFor(
    async () => (await uploadGauges(gw.base)).running === 0,
    10_000,
    'its slot given back as its handler sees the client gone',
  );
  assert.deepEqual(await uploadGauges(gw.base), { running: 0, bytes: 0, waiting: 0 });
});
