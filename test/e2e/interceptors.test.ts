// Interceptors end to end (issue #20 point 4): a rule's module changes or refuses each
// message it takes, through REST and SMPP, and on inbound; a module that throws, loops or
// answers wrongly is counted in /metrics and its rule's onError applied; the examples load.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/app/index.ts';
import { Interceptors } from '../../src/core/index.ts';
import { SmscSimulator } from '../../src/simulator/index.ts';
import { CommandStatus } from '../../src/smpp/index.ts';
import { submitSm } from '../smpp/raw-peer.ts';
import { api, esme, gatewayFrom, waitFor } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'smsgw-interceptors-'));
const module = (name: string, source: string) => {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
};
const throws = module('throws.js', "export default () => { throw new Error('broken on purpose'); };");
const loops = module('loops.js', 'export default () => { for (;;) {} };');
const wrongShape = module('wrong.js', "export default () => ({ recipient: '+1' });");
const slowThenTags = module(
  'slow.js',
  "export default async (m) => { if (m.text === 'slow') await new Promise((r) => setTimeout(r, 5000)); return { tags: ['seen'] }; };",
);
const inbound = module(
  'inbound.js',
  "export default (m) => m.text.includes('spam') ? { refuse: 'spam' } : { text: m.text.toUpperCase(), tags: ['mo'] };",
);
// What a module can see of the gateway's environment (secrets given as ${ENV_VAR}): nothing.
const environment = module(
  'environment.js',
  'export default () => ({ tags: ["env-" + Object.keys(process.env).length] });',
);
const hog = module(
  'hog.js',
  'const kept = []; export default () => { for (;;) kept.push(new Array(1e6).fill(Math.random())); };',
);
const examples = join(import.meta.dirname, '../../examples/interceptors');

after(() => rmSync(dir, { recursive: true, force: true }));

describe('interceptors', () => {
  const sim = new SmscSimulator({ deliveryDelayMs: 10 });
  let gw: Awaited<ReturnType<typeof gatewayFrom>>;
  let admin: ReturnType<typeof api>;
  const logLines: string[] = [];
  const as = (account: string) => api(gw.base, `${account}-key-1`);
  const textAtSmsc = (to: string) =>
    [...sim.messages.values()].find((m) => m.to === to.slice(1))?.shortMessage.toString('latin1');

  before(async () => {
    const smsc = await sim.listen(0);
    gw = await gatewayFrom(
      `
http: { listen: 127.0.0.1:0 }
smppServer: { listen: 127.0.0.1:0 }
store: sqlite:DIR/gw.db
admin: { apiKeys: [admin-key-1] }
accounts:
  - { id: signer, apiKeys: [signer-key-1], defaultFrom: ACME, smpp: { systemId: signer, password: pw } }
  - { id: blocker, apiKeys: [blocker-key-1], defaultFrom: ACME, smpp: { systemId: blocker, password: pw } }
  - { id: mover, apiKeys: [mover-key-1], defaultFrom: ACME }
  - { id: thrower, apiKeys: [thrower-key-1], defaultFrom: ACME }
  - { id: looper, apiKeys: [looper-key-1], defaultFrom: ACME }
  - { id: wrong, apiKeys: [wrong-key-1], defaultFrom: ACME }
  - { id: slow, apiKeys: [slow-key-1], defaultFrom: ACME }
  - { id: inbox, apiKeys: [inbox-key-1] }
connectors:
  - { id: smsc, type: smpp, host: 127.0.0.1, port: ${smsc.port}, systemId: gw, password: pw }
  - { id: moved, type: simulator, deliveryDelayMs: 10 }
  - { id: sim, type: simulator, deliveryDelayMs: 10 }
routes:
  mt:
    - { match: { to: ['+447700900999'] }, connectors: [moved] }
    - match: { account: [signer] }
      connectors: [smsc]
      interceptor: { module: ${join(examples, 'signature.js')}, timeoutMs: 5000 }
    - match: { account: [blocker] }
      connectors: [smsc]
      interceptor: { module: ${join(examples, 'block-keywords.js')}, timeoutMs: 5000, onError: refuse }
    - match: { account: [mover] }
      connectors: [smsc]
      interceptor: { module: ${join(examples, 'rewrite-numbers.js')}, timeoutMs: 5000 }
    - { match: { account: [thrower] }, connectors: [smsc], interceptor: { module: ${throws}, timeoutMs: 5000 } }
    - match: { account: [looper] }
      connectors: [smsc]
      interceptor: { module: ${loops}, timeoutMs: 1000, onError: refuse }
    - { match: { account: [wrong] }, connectors: [smsc], interceptor: { module: ${wrongShape}, timeoutMs: 5000, onError: refuse } }
    - { match: { account: [slow] }, connectors: [smsc], interceptor: { module: ${slowThenTags}, timeoutMs: 1000 } }
    - { connectors: [smsc] }
  mo:
    - { match: { to: ['+15550111'] }, account: inbox, interceptor: { module: ${inbound}, timeoutMs: 5000 } }
`,
      { log: createLogger('info', { write: (line: string) => void logLines.push(line) }) },
    );
    admin = api(gw.base, 'admin-key-1');
  });
  after(async () => {
    await gw?.close();
    await sim.close();
  });

  test('a change is stored, priced, routed and sent as changed', async () => {
    const sent = await as('signer')('POST', '/v1/messages', {
      to: '+15551230001',
      text: 'Your code is 1234',
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const got = await as('signer')('GET', `/v1/messages/${sent.body.id}`);
    assert.equal(got.body.text, 'Your code is 1234 -- ACME Ltd');
    assert.deepEqual(got.body.tags, ['signed']);
    await waitFor(() => textAtSmsc('+15551230001'), 10_000, 'the SMSC to get the message');
    assert.equal(textAtSmsc('+15551230001'), 'Your code is 1234 -- ACME Ltd');

    // Explain names the rule's module (without running it).
    const explained = await admin('GET', '/v1/admin/routes/mt/explain?to=%2B15551230001&account=signer');
    assert.equal(explained.body.rule, 1);
    assert.equal(explained.body.interceptor, join(examples, 'signature.js'));

    // A changed `to` takes the rule of the new number (its own connector).
    const moved = await as('mover')('POST', '/v1/messages', { to: '+447700900001', text: 'hello' });
    assert.equal(moved.status, 202, JSON.stringify(moved.body));
    assert.equal(moved.body.to, '+447700900999');
    const done = await waitFor(
      async () => {
        const m = await as('mover')('GET', `/v1/messages/${moved.body.id}`);
        return m.body.status === 'delivered' && m.body;
      },
      10_000,
      'the moved message to be delivered',
    );
    assert.equal(done.connector, 'moved');
    // And the sender a US number cannot take is replaced.
    const us = await as('mover')('POST', '/v1/messages', { to: '+15551230002', text: 'hello' });
    assert.equal(us.body.from, '+15550100', JSON.stringify(us.body));
  });

  test('a refusal answers 403 with the module code over REST, ESME_RSUBMITFAIL over SMPP', async () => {
    const refused = await as('blocker')('POST', '/v1/messages', {
      to: '+15551230003',
      text: 'Win at the Casino!',
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'blocked_content');
    const fine = await as('blocker')('POST', '/v1/messages', { to: '+15551230003', text: 'Lunch at noon' });
    assert.equal(fine.status, 202);

    const { client } = esme(gw.app.smppAddress!.port, { systemId: 'blocker', password: 'pw' });
    client.start();
    try {
      await client.waitBound();
      const submit = (text: string) =>
        client.request(
          submitSm({
            sourceAddr: '15550199',
            destinationAddr: '15551230004',
            shortMessage: Buffer.from(text),
          }),
        );
      assert.equal((await submit('cheap lottery tickets')).commandStatus, CommandStatus.ESME_RSUBMITFAIL);
      assert.equal((await submit('see you soon')).commandStatus, CommandStatus.ESME_ROK);
    } finally {
      await client.stop();
    }
  });

  test('failures are counted and onError applied: accept lets the message through, refuse answers 503', async () => {
    const thrown = await as('thrower')('POST', '/v1/messages', { to: '+15551230005', text: 'as it is' });
    assert.equal(thrown.status, 202, JSON.stringify(thrown.body));
    assert.equal((await as('thrower')('GET', `/v1/messages/${thrown.body.id}`)).body.text, 'as it is');

    const wrong = await as('wrong')('POST', '/v1/messages', { to: '+15551230006', text: 'x' });
    assert.equal(wrong.status, 503);
    assert.equal(wrong.body.error.code, 'interceptor_failed');

    // A module that holds its worker in a loop: timed out, and the worker replaced, so the
    // other rules' modules still answer (a pool of two: both get a looping call).
    for (let i = 0; i < 2; i++) {
      const looped = await as('looper')('POST', '/v1/messages', { to: '+15551230007', text: 'x' });
      assert.equal(looped.status, 503);
      assert.equal(looped.body.error.code, 'interceptor_failed');
    }
    // Until it is replaced, a worker held by the loop times the other modules' calls out
    // too (the signer's rule fails open): a message sent after that is signed again.
    await waitFor(
      async () => {
        const r = await as('signer')('POST', '/v1/messages', { to: '+15551230008', text: 'still there' });
        const m = await as('signer')('GET', `/v1/messages/${r.body.id}`);
        return m.body.text === 'still there -- ACME Ltd';
      },
      10_000,
      'the signer interceptor to answer again',
    );

    // A slow answer is a timeout (fail-open here); the next message gets its answer.
    const slow = await as('slow')('POST', '/v1/messages', { to: '+15551230009', text: 'slow' });
    assert.equal(slow.status, 202);
    assert.equal((await as('slow')('GET', `/v1/messages/${slow.body.id}`)).body.tags, undefined);
    const quick = await as('slow')('POST', '/v1/messages', { to: '+15551230009', text: 'quick' });
    assert.deepEqual((await as('slow')('GET', `/v1/messages/${quick.body.id}`)).body.tags, ['seen']);

    const metrics = await (await fetch(`${gw.base}/metrics`)).text();
    const count = (rule: string, outcome: string) =>
      Number(
        metrics.match(
          new RegExp(
            `smsgw_interceptor_calls_total\\{[^}]*rule="routes\\.mt\\[${rule}\\]"[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`,
          ),
        )?.[1] ?? 0,
      );
    assert.equal(count('4', 'error'), 1);
    assert.equal(count('5', 'timeout'), 2);
    assert.equal(count('6', 'error'), 1);
    assert.equal(count('7', 'timeout'), 1);
    assert.ok(count('1', 'changed') >= 2);
    assert.equal(count('2', 'refused'), 2, 'one over REST, one over SMPP');
    assert.match(metrics, /smsgw_interceptor_failures_total\{[^}]*rule="routes\.mt\[5\]"[^}]*\} 2/);

    // Failures are logged (once a minute per rule), with the reason and never the text.
    const failures = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'interceptor failed');
    const thrower = failures.find((l) => l.rule === 'routes.mt[4]');
    assert.equal(thrower?.level, 'warn');
    assert.equal(thrower.outcome, 'error');
    assert.match(thrower.reason, /broken on purpose/);
    assert.equal(thrower.messageId, thrown.body.id);
    assert.equal(failures.filter((l) => l.rule === 'routes.mt[5]').length, 1);
    assert.ok(!logLines.some((l) => l.includes('as it is')), 'no message text in the log');
  });

  test('an MO rule intercepts inbound: a change is stored, a refusal keeps it from the account', async () => {
    const inject = (text: string) =>
      admin('POST', '/v1/admin/connectors/sim/inbound', { from: '+15557770001', to: '+15550111', text });
    assert.equal((await inject('hello there')).status, 202);
    assert.equal((await inject('buy spam now')).status, 202);
    const inbox = api(gw.base, 'inbox-key-1');
    const received = await waitFor(
      async () =>
        (await inbox('GET', '/v1/messages?direction=mo')).body.data.find(
          (m: { text: string }) => m.text === 'HELLO THERE',
        ),
      10_000,
      'the changed inbound message',
    );
    assert.deepEqual(received.tags, ['mo']);
    const listed = (await inbox('GET', '/v1/messages?direction=mo')).body.data;
    assert.equal(listed.length, 1, 'the refused message is not given to the account');
    const unrouted = (await admin('GET', '/v1/admin/inbound/unrouted')).body.data;
    const refused = unrouted.find((m: { text: string }) => m.text === 'buy spam now');
    assert.equal(refused?.error?.code, 'spam', JSON.stringify(unrouted));
  });
});

test('each example loads and answers as its comment says; a module sees no environment', async () => {
  const pool = new Interceptors({ workers: 1 });
  try {
    const run = (file: string, message: Record<string, unknown>) =>
      pool.run({ module: join(examples, file), timeoutMs: 5000, onError: 'refuse' }, 'test', {
        direction: 'mt',
        accountId: 'a',
        to: '+447700900123',
        from: 'ACME',
        text: 'hello',
        tags: [],
        ...message,
      });
    assert.deepEqual(await run('signature.js', {}), { text: 'hello -- ACME Ltd', tags: ['signed'] });
    assert.equal(await run('signature.js', { text: 'hello -- ACME Ltd' }), null);
    await assert.rejects(run('block-keywords.js', { text: 'BITCOIN offer' }), { code: 'blocked_content' });
    assert.equal(await run('block-keywords.js', { text: 'bitcoins are fine' }), null);
    assert.deepEqual(await run('rewrite-numbers.js', { to: '+447700900001' }), { to: '+447700900999' });
    assert.deepEqual(await run('rewrite-numbers.js', { to: '+15551230000' }), { from: '+15550100' });
    assert.equal(await run('rewrite-numbers.js', {}), null);
    process.env.SMSGW_TEST_SECRET = 'not for modules';
    assert.deepEqual(
      await pool.run({ module: environment, timeoutMs: 5000, onError: 'refuse' }, 'test', {
        direction: 'mt',
        accountId: 'a',
        to: '+447700900123',
        from: 'ACME',
        text: 'hello',
        tags: [],
      }),
      { tags: ['env-0'] },
    );
  } finally {
    await pool.close();
  }
});

test('a module that runs out of memory ends its worker, not the gateway; the next call gets a new one', async () => {
  const pool = new Interceptors({ workers: 1 });
  try {
    const message = {
      direction: 'mt' as const,
      accountId: 'a',
      to: '+447700900123',
      from: 'ACME',
      text: 'hello',
      tags: [],
    };
    await assert.rejects(pool.run({ module: hog, timeoutMs: 60_000, onError: 'refuse' }, 'test', message), {
      code: 'interceptor_failed',
    });
    assert.deepEqual(
      await pool.run(
        { module: join(examples, 'signature.js'), timeoutMs: 5000, onError: 'refuse' },
        'test',
        message,
      ),
      { text: 'hello -- ACME Ltd', tags: ['signed'] },
    );
  } finally {
    await pool.close();
  }
});
