// Uploads one account may run at once (batches, contact and suppression imports, alerts) are counted from the
// request's headers, before its body is read: a fifth upload is refused while four bodies are
// still arriving, and a client going mid-body gives its slot back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, gatewayFrom, partialPost, waitFor } from '../e2e/helpers.ts';

const config = `
http: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
accounts:
  - { id: acme, apiKeys: [acme-key-1], defaultFrom: ACME }
  - { id: other, apiKeys: [other-key-1], defaultFrom: OTHER }
connectors:
  - { id: sim, type: simulator }
routes:
  mt: [{ connectors: [sim] }]
`;

/** A POST whose headers promise a megabyte and whose body stops after `first`. */
function heldUpload(base: string, path: string, contentType: string, first: string, key = 'acme-key-1') {
  return partialPost(
    base,
    path,
    { authorization: `Bearer ${key}`, 'content-type': contentType, 'content-length': 1_048_576 },
    first,
  );
}

/** The answer to an unfinished upload, or undefined when none comes within a second. */
async function answerBeforeBody(base: string, path: string, contentType: string, first: string) {
  const upload = heldUpload(base, path, contentType, first);
  const timer = new Promise<undefined>((r) => setTimeout(r, 1_000, undefined));
  const answer = await Promise.race([upload.answer, timer]);
  upload.req.destroy();
  return answer;
}

const routes: Array<{
  path: string;
  type: string;
  first: string;
  whole: unknown;
  headers?: Record<string, string>;
  accepted: number;
}> = [
  {
    path: '/v1/batches',
    type: 'application/json',
    first: '{"text":"hi","recipients":["+447700900001","+4477',
    whole: { text: 'hi', recipients: ['+447700900001'], dryRun: true },
    accepted: 202,
  },
  {
    path: '/v1/contacts/import',
    type: 'text/csv',
    first: 'to,name\n+447700900001,Ann\n+4477',
    whole: { csv: 'to,name\n+447700900001,Ann\n' },
    accepted: 200,
  },
  {
    path: '/v1/suppressions/import',
    type: 'text/csv',
    first: 'to\n+447700900001\n+4477',
    whole: 'to\n+447700900001\n',
    headers: { 'content-type': 'text/csv' },
    accepted: 200,
  },
  {
    path: '/v1/alerts',
    type: 'application/json',
    first: '{"text":"Test alert","recipients":["+447700900001","+4477',
    whole: { text: 'Test alert', recipients: ['+447700900001'] },
    accepted: 202,
  },
];

for (const route of routes) {
  test(`${route.path}: a fifth upload is a 429 before its body is sent; a client gone mid-body frees its slot`, async (t) => {
    const gw = await gatewayFrom(config);
    t.after(() => gw.close());
    const held = Array.from({ length: 4 }, () => heldUpload(gw.base, route.path, route.type, route.first));
    try {
      // The four are counted as their headers arrive; until then a fifth may still get in.
      const refused = await waitFor(
        () => answerBeforeBody(gw.base, route.path, route.type, route.first),
        10_000,
        'a 429 for the fifth upload before its body',
      );
      assert.equal(refused.status, 429, refused.body);
      assert.equal(refused.headers['retry-after'], '5');
      assert.equal(JSON.parse(refused.body).error.code, 'too_many_uploads');
      const call = api(gw.base, 'acme-key-1');
      assert.equal(
        (await call('POST', route.path, route.whole, route.headers)).status,
        429,
        'a whole upload waits too',
      );
      // Another account has slots of its own.
      assert.equal(
        (await api(gw.base, 'other-key-1')('POST', route.path, route.whole, route.headers)).status,
        route.accepted,
      );

      // One client goes mid-body: its slot is given back, and the next upload is taken.
      held.shift()?.req.destroy();
      const next = await waitFor(async () => {
        const res = await call('POST', route.path, route.whole, route.headers);
        return res.status !== 429 && res;
      });
      assert.equal(next.status, route.accepted, JSON.stringify(next.body));
    } finally {
      for (const upload of held) upload.req.destroy();
    }
  });
}

test('http.maxUploads bounds uploads of all accounts and kinds together; a slot given back lets the next in', async (t) => {
  const gw = await gatewayFrom(
    config.replace('http: { listen: 127.0.0.1:0 }', 'http: { listen: 127.0.0.1:0, maxUploads: 3 }'),
  );
  t.after(() => gw.close());
  const [batches, contacts, , alerts] = routes;
  // Three uploads of one account, of three kinds: each within its own limit of 4.
  const held = [batches!, contacts!, alerts!].map((r) => heldUpload(gw.base, r.path, r.type, r.first));
  try {
    const other = api(gw.base, 'other-key-1');
    const refused = await waitFor(
      async () => {
        const res = await other('POST', batches!.path, batches!.whole);
        return res.status === 429 && res;
      },
      10_000,
      "another account's upload refused once the gateway runs 3",
    );
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.equal(refused.body.error.code, 'too_many_uploads');
    assert.match(refused.body.error.message, /gateway is running its 3 uploads/);
    // Requests that upload nothing are not counted.
    assert.equal((await other('GET', '/v1/batches')).status, 200);

    held.shift()?.req.destroy();
    const next = await waitFor(async () => {
      const res = await other('POST', batches!.path, batches!.whole);
      return res.status !== 429 && res;
    });
    assert.equal(next.status, batches!.accepted, JSON.stringify(next.body));
  } finally {
    for (const upload of held) upload.req.destroy();
  }
});

test('an upload refused before its body is read to the end closes its connection', async (t) => {
  const gw = await gatewayFrom(config);
  t.after(() => gw.close());
  // A CSV whose header names no number column is refused at its first line, while the
  // headers still promise a megabyte more: that rest is never read, so the connection could
  // carry no further request (one sent on it waited for the server's timeout).
  const upload = heldUpload(gw.base, '/v1/batches?text=Hi', 'text/csv', 'name,code\nAnn,1\n');
  const answer = await upload.answer;
  assert.equal(answer.status, 400, answer.body);
  assert.equal(JSON.parse(answer.body).error.code, 'invalid_csv');
  assert.equal(answer.headers.connection, 'close');
  await upload.closed; // by the server: the client still has its body to send
  const listed = (await api(gw.base, 'acme-key-1')('GET', '/v1/batches')).body.data;
  assert.deepEqual(
    listed.map((b: { status: string }) => b.status),
    ['failed'],
  );
});
