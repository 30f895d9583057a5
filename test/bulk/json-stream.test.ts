// A JSON batch body over 1 MiB is not parsed whole: its recipients are built one at a time
// (what that saves: docs/PERFORMANCE.md). Every row arrives as written (numbers, variables,
// order, skips), its settings before or after the list; what a body parsed whole would
// refuse is refused here too (bad JSON, an unknown field deep in the list, nesting), before
// any row is stored.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { readJsonBody, StreamedList } from '../../src/bulk/json.ts';
import { api, gatewayFrom } from '../e2e/helpers.ts';

type Gateway = Awaited<ReturnType<typeof gatewayFrom>>;

const config = `
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts: [{ id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }]
connectors:
  - { id: sim, type: simulator }
routes:
  mt: [{ connectors: [sim] }]
`;

const rows = 60_000;
const numberOf = (i: number) => `+4477009${String(100_000 + i)}`;
/** Each 1000th row (from the 11th) repeats the one before; each 1000th (from the 500th) is not a number. */
const recipientAt = (i: number) => {
  if (i % 1000 === 500) return { to: 'n/a', vars: { name: `R${i}` } };
  return { to: numberOf(i % 1000 === 11 ? i - 1 : i), vars: { name: `R${i}` } };
};
/** Far in the future: the rows stay staged, to be read back as stored. */
const settings = { text: 'Hi {{name}}', sendAt: new Date(Date.now() + 3 * 24 * 3600_000).toISOString() };

/** A body sent in parts, each as the client's fetch asks for it. */
function bodyStream(parts: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      if (next >= parts.length) return controller.close();
      controller.enqueue(encoder.encode(parts[next++]));
    },
  });
}

/** The recipients as JSON text, in parts of 5,000. */
function recipientParts(count: number, item: (i: number) => unknown = recipientAt): string[] {
  const parts: string[] = [];
  for (let from = 0; from < count; from += 5000) {
    const items = [];
    for (let i = from; i < Math.min(count, from + 5000); i++) items.push(JSON.stringify(item(i)));
    parts.push((from === 0 ? '' : ',') + items.join(','));
  }
  return parts;
}

async function post(gw: Gateway, body: ReadableStream<Uint8Array> | string) {
  const res = await fetch(`${gw.base}/v1/batches`, {
    method: 'POST',
    headers: { authorization: 'Bearer acme-key-1', 'content-type': 'application/json' },
    body,
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, body: (await res.json()) as Answer };
}

/** A batch as the API shows it, or a refusal. */
interface Answer {
  id: string;
  status: string;
  rows: number;
  total: number;
  skipped: Record<string, number>;
  error: { code: string; field?: string };
}

async function batchesOf(gw: Gateway): Promise<Answer[]> {
  return (await api(gw.base, 'acme-key-1')('GET', '/v1/batches')).body.data;
}

for (const order of ['before', 'after'] as const) {
  test(`a JSON batch over 1 MiB, its settings ${order} the list: every row as written`, async (t) => {
    const gw = await gatewayFrom(config);
    t.after(() => gw.close());
    const settingsJson = `"text":${JSON.stringify(settings.text)},"sendAt":"${settings.sendAt}","name":"big"`;
    const parts =
      order === 'before'
        ? [`{${settingsJson},"recipients":[`, ...recipientParts(rows), ']}']
        : ['{"recipients":[', ...recipientParts(rows), `],${settingsJson}}`];
    assert.ok(parts.join('').length > 2 * 1024 * 1024, 'the body is well over 1 MiB');
    const created = await post(gw, bodyStream(parts));
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const invalid = rows / 1000;
    const duplicate = rows / 1000;
    assert.equal(created.body.rows, rows);
    assert.deepEqual(created.body.skipped, { duplicate, opted_out: 0, invalid });
    assert.equal(created.body.total, rows - invalid - duplicate);
    const batch = (await api(gw.base, 'acme-key-1')('GET', `/v1/batches/${created.body.id}`)).body;
    assert.equal(batch.name, 'big');
    assert.equal(batch.status, 'scheduled', 'sendAt was read, wherever it came');

    // Every row kept, in order, with its own variables.
    const expected = Array.from({ length: rows }, (_, i) => i).filter(
      (i) => i % 1000 !== 500 && i % 1000 !== 11,
    );
    const stored = [];
    for (let after = 0; ; ) {
      const page = await gw.app.store.staging.read(created.body.id, after, 10_000);
      if (page.length === 0) break;
      stored.push(...page);
      after = page.at(-1)!.seq;
    }
    assert.equal(stored.length, expected.length);
    for (const [k, i] of expected.entries())
      assert.deepEqual(
        { to: stored[k]!.to, vars: stored[k]!.vars },
        { to: numberOf(i), vars: { name: `R${i}` } },
      );
  });
}

test('in a JSON batch over 1 MiB, what a whole parse refuses is refused before anything is stored', async (t) => {
  const gw = await gatewayFrom(config);
  t.after(() => gw.close());
  const head = `{"text":"Hi {{name}}","recipients":[`;
  const cases: Array<{ name: string; parts: string[]; status: number; code: string; field?: string }> = [
    {
      // Refused part-way, the rest not read: the connection is closed, not left to the next request.
      name: 'a body past 64 MiB with no Content-Length',
      parts: [head, ...recipientParts(1_600_000), ']}'],
      status: 413,
      code: 'payload_too_large',
    },
    {
      name: 'the list given twice',
      parts: [head, ...recipientParts(rows), '],"recipients":"+447700900123"}'],
      status: 400,
      code: 'invalid_field',
      field: 'recipients',
    },
    {
      name: 'an unknown field in row 50,001',
      parts: [
        head,
        ...recipientParts(rows, (i) => (i === 50_000 ? { ...recipientAt(i), nmae: 'x' } : recipientAt(i))),
        ']}',
      ],
      status: 400,
      code: 'unknown_field',
      field: 'recipients[50000].nmae',
    },
    {
      name: 'bad JSON after 50,000 rows',
      parts: [head, ...recipientParts(50_000), ',{"to":"+447700900123",}', ']}'],
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a body that stops before its JSON ends',
      parts: [head, ...recipientParts(rows)],
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'a row nested 40 deep',
      parts: [
        head,
        ...recipientParts(rows),
        `,{"to":"+447700900123","vars":${'['.repeat(40)}${']'.repeat(40)}}]}`,
      ],
      status: 400,
      code: 'invalid_body',
    },
    {
      name: 'a number in the settings that is not one',
      parts: [`{"text":"Hi {{name}}","mps":"fast","recipients":[`, ...recipientParts(rows), ']}'],
      status: 400,
      code: 'invalid_field',
      field: 'mps',
    },
  ];
  // One after another on the client's kept-alive connections: one refused part-way (413)
  // leaves none that the next request would wait on.
  for (const c of cases) {
    const res = await post(gw, bodyStream(c.parts));
    assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, c.code, `${c.name}: ${JSON.stringify(res.body)}`);
    if (c.field) assert.equal(res.body.error.field, c.field, c.name);
  }
  assert.deepEqual(await batchesOf(gw), [], 'each was refused before its batch was stored');
});

test('a JSON batch of up to 1 MiB takes its fields in any order', async (t) => {
  const gw = await gatewayFrom(config);
  t.after(() => gw.close());
  const recipients = Array.from({ length: 1000 }, (_, i) => recipientAt(i));
  const body = JSON.stringify({ recipients, ...settings });
  assert.ok(body.length < 1024 * 1024);
  const created = await post(gw, body);
  assert.equal(created.status, 202, JSON.stringify(created.body));
  assert.equal(created.body.rows, 1000);
  assert.equal(created.body.total, 998);
});

test('the list of a body over 1 MiB is read an element at a time, never built whole', async () => {
  const count = 50_000;
  const body = `{"recipients":[${recipientParts(count).join('')}],"text":"Hi"}`;
  assert.ok(body.length > 2 * 1024 * 1024);
  const checked: number[] = [];
  const read = (await readJsonBody(Readable.from([Buffer.from(body)]), {
    list: 'recipients',
    parseWhole: () => assert.fail('a body over 1 MiB is not parsed whole'),
    checkItem: (_item, index) => checked.push(index),
  })) as { text: string; recipients: unknown };
  assert.equal(read.text, 'Hi');
  assert.ok(read.recipients instanceof StreamedList, 'the list is not an array of every element');
  assert.equal(checked.length, count, 'every element was checked as the body was read');
  let i = 0;
  for await (const item of read.recipients) assert.deepEqual(item, recipientAt(i++));
  assert.equal(i, count);
  await assert.rejects(async () => {
    for await (const _ of read.recipients as StreamedList);
  }, /read once/);
});
