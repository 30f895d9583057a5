// A JSON batch body over 1 MiB has its recipients read as they arrive, not parsed whole:
// rows are stored while the client is still sending, every row arrives as written (numbers,
// variables, order, skips), and what a body parsed whole would refuse is refused here too
// (bad JSON, an unknown field deep in the list, nesting) with nothing stored. Its settings
// must come before the list; a body of up to 1 MiB takes its fields in any order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
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

/** A body sent in parts; `hold` stops after the part it names until `release` is called. */
function bodyStream(parts: string[], hold = -1): { body: ReadableStream<Uint8Array>; release(): void } {
  const encoder = new TextEncoder();
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let next = 0;
  return {
    body: new ReadableStream({
      async pull(controller) {
        if (next === hold + 1 && hold >= 0) await held;
        if (next >= parts.length) return controller.close();
        controller.enqueue(encoder.encode(parts[next++]));
      },
    }),
    release,
  };
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

test('a JSON batch over 1 MiB is stored while it arrives, every row as written', async (t) => {
  const gw = await gatewayFrom(config);
  t.after(() => gw.close());
  const head = `{"text":${JSON.stringify(settings.text)},"sendAt":"${settings.sendAt}","name":"big","recipients":[`;
  const parts = [head, ...recipientParts(rows), ']}'];
  assert.ok(parts.join('').length > 2 * 1024 * 1024, 'the body is well over 1 MiB');
  // Held after two-thirds of the list: rows are stored before the rest of the body exists.
  const { body, release } = bodyStream(parts, 8);
  const answer = post(gw, body);
  let staged: { id: string; seq: number } | undefined;
  for (const started = Date.now(); staged === undefined && Date.now() - started < 30_000; ) {
    const loading = (await batchesOf(gw)).find((b) => b.status === 'loading');
    const [first] = loading ? await gw.app.store.staging.read(loading.id, 0, 1) : [];
    if (loading && first) staged = { id: loading.id, seq: first.seq };
    else await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(staged, 'rows were stored while the client still held the rest of its body');
  release();
  const created = await answer;
  assert.equal(created.status, 202, JSON.stringify(created.body));
  assert.equal(created.body.id, staged.id);
  const invalid = rows / 1000;
  const duplicate = rows / 1000;
  assert.equal(created.body.rows, rows);
  assert.deepEqual(created.body.skipped, { duplicate, opted_out: 0, invalid });
  assert.equal(created.body.total, rows - invalid - duplicate);

  // Every row kept, in order, with its own variables.
  const expected = Array.from({ length: rows }, (_, i) => i).filter(
    (i) => i % 1000 !== 500 && i % 1000 !== 11,
  );
  const stored = [];
  for (let after = 0; ; ) {
    const page = await gw.app.store.staging.read(staged.id, after, 10_000);
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

test('in a JSON batch over 1 MiB, what a whole parse refuses is refused, and nothing is stored', async (t) => {
  const gw = await gatewayFrom(config);
  t.after(() => gw.close());
  const head = `{"text":"Hi {{name}}","recipients":[`;
  const cases: Array<{ name: string; parts: string[]; status: number; code: string; field?: string }> = [
    {
      name: 'a setting after the list',
      parts: [head, ...recipientParts(rows), '],"name":"late"}'],
      status: 400,
      code: 'invalid_field',
      field: 'name',
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
  // One after another on the client's kept-alive connections: a refusal part-way closes its
  // connection (the rest of its body is not read), so the next request is not sent into it.
  for (const c of cases) {
    const res = await post(gw, bodyStream(c.parts).body);
    assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, c.code, `${c.name}: ${JSON.stringify(res.body)}`);
    if (c.field) assert.equal(res.body.error.field, c.field, c.name);
  }
  const left = await batchesOf(gw);
  // Five were refused once their rows had begun to be stored; the last before any was.
  assert.equal(left.length, 5);
  assert.deepEqual(
    left.map((b) => b.status),
    left.map(() => 'failed'),
    'an upload refused part-way is kept only as failed',
  );
  for (const b of left)
    assert.deepEqual(await gw.app.store.staging.read(b.id, 0, 1), [], `${b.id} has no row staged`);
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
