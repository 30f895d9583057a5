// The online number lookup on its own, against a local HLR provider and a clock of the
// test's: answers kept for ttlSeconds and asked again after; one request for numbers asked
// at once; failures (an error answer, no answer in time) neither kept nor thrown.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HttpNumberLookup } from '../../src/connectors/index.ts';
import { hlrProvider } from '../e2e/hlr-provider.ts';

let hlr: Awaited<ReturnType<typeof hlrProvider>>;
before(async () => {
  hlr = await hlrProvider({
    '+447700900001': { mcc: '234', mnc: '15', ported: true, name: 'Vodafone UK' },
    '+447700900002': { mcc: '234', mnc: '10' },
    '+447700900003': { mcc: '234', mnc: '30' },
    '+447700900004': { mcc: '234', mnc: '20' },
  });
});
after(() => hlr.close());

const lookupWith = (now: () => number, failures: string[] = []) =>
  new HttpNumberLookup(
    {
      url: `${hlr.base}/hlr/{{number}}`,
      method: 'GET',
      response: { mcc: 'result.mcc', mnc: 'result.mnc', ported: 'result.ported', carrier: 'result.network' },
      ttlSeconds: 60,
      timeoutMs: 500,
      cacheSize: 1000,
      onError: 'skip',
    },
    { now, onFailure: (_n, reason) => failures.push(reason) },
  );

test('an answer is kept for ttlSeconds, then asked again', async () => {
  let clock = 1_000_000;
  const lookup = lookupWith(() => clock);
  const first = await lookup.lookup('+447700900001');
  assert.deepEqual(first, {
    info: { mcc: '234', mnc: '15', network: '23415', ported: true, carrier: 'Vodafone UK' },
    cached: false,
  });
  clock += 59_000;
  assert.equal((await lookup.lookup('+447700900001'))?.cached, true);
  assert.equal(hlr.calls('+447700900001'), 1);
  clock += 2_000;
  assert.equal((await lookup.lookup('+447700900001'))?.cached, false);
  assert.equal(hlr.calls('+447700900001'), 2);
  assert.deepEqual(lookup.counts, { hits: 1, misses: 2, failures: 0 });
});

test('numbers asked at once share one request', async () => {
  const lookup = lookupWith(() => 0);
  const answers = await Promise.all([1, 2, 3].map(() => lookup.lookup('+447700900002')));
  assert.deepEqual(
    answers.map((a) => a?.info.network),
    ['23410', '23410', '23410'],
  );
  assert.equal(hlr.calls('+447700900002'), 1);
});

test('failures are counted and reported, not kept: the next lookup asks again', async () => {
  const failures: string[] = [];
  const lookup = lookupWith(() => 0, failures);
  // Not in the provider's table: 404.
  assert.equal(await lookup.lookup('+447700900999'), null);
  assert.match(failures[0]!, /404/);
  hlr.state.down = true;
  try {
    assert.equal(await lookup.lookup('+447700900003'), null);
    assert.match(failures[1]!, /503/);
  } finally {
    hlr.state.down = false;
  }
  assert.equal((await lookup.lookup('+447700900003'))?.info.network, '23430');
  assert.equal(hlr.calls('+447700900003'), 2);
  // Slower than timeoutMs: given up on.
  hlr.state.delayMs = 2_000;
  try {
    assert.equal(await lookup.lookup('+447700900004'), null);
    assert.match(failures[2]!, /no answer within 500 ms/);
  } finally {
    hlr.state.delayMs = 0;
  }
  assert.deepEqual(lookup.counts, { hits: 0, misses: 1, failures: 3 });
});
