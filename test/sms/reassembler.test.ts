// Reassembly: any order, duplicates, incomplete sets given up on time or when too many are
// pending, references scoped by key, and decoding of the joined text.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReassembledMessage } from '../../src/sms/index.ts';
import { buildUdh, concatIe, Reassembler, splitMessage } from '../../src/sms/index.ts';

function pdus(
  text: string,
  options: Parameters<typeof splitMessage>[1] = {},
): { shortMessage: Buffer; dataCoding: number }[] {
  const split = splitMessage(text, { maxParts: 255, ...options });
  return split.parts.map((p) => ({
    shortMessage: p.udh ? Buffer.concat([p.udh, p.payload]) : p.payload,
    dataCoding: split.dataCoding,
  }));
}

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const long = 'The quick brown fox jumps over the lazy dog. '.repeat(10);

describe('Reassembler', () => {
  test('parts in order give the text once the last arrives', () => {
    const r = new Reassembler();
    const parts = pdus(long, { reference: 1 });
    assert.equal(parts.length, 3);
    assert.equal(r.addUdhPart('k', parts[0]!.shortMessage, 0), undefined);
    assert.equal(r.addUdhPart('k', parts[1]!.shortMessage, 0), undefined);
    assert.equal(r.pending, 1);
    const done = r.addUdhPart('k', parts[2]!.shortMessage, 0)!;
    assert.equal(done.text, long);
    assert.equal(done.encoding, 'gsm7');
    assert.equal(done.parts, 3);
    assert.equal(done.complete, true);
    assert.deepEqual(done.missing, []);
    assert.equal(done.reference, 1);
    assert.equal(r.pending, 0);
  });

  test('any order, duplicates ignored, late duplicates too', () => {
    const r = new Reassembler();
    const parts = pdus(`Ünïcödé ✓ ${long}`, { reference: 200 });
    assert.equal(parts.length, 7);
    const order = [6, 2, 0, 2, 0, 3, 5, 5, 4, 1];
    const results = order.map((i) => r.addUdhPart('k', parts[i]!.shortMessage, parts[i]!.dataCoding));
    const done = results.filter((x) => x !== undefined);
    assert.equal(done.length, 1);
    assert.equal(done[0]!.text, `Ünïcödé ✓ ${long}`);
    assert.equal(done[0]!.encoding, 'ucs2');
    // A copy of a part of the finished message does not start a new one.
    assert.equal(r.addUdhPart('k', parts[1]!.shortMessage, parts[1]!.dataCoding), undefined);
    assert.equal(r.pending, 0);
  });

  test('a reference that comes round again with new content is a new message', () => {
    const r = new Reassembler();
    const first = pdus(`A ${long}`, { reference: 5 });
    const second = pdus(`B ${long}`, { reference: 5 });
    let text: string | undefined;
    for (const p of first) text = r.addUdhPart('k', p.shortMessage, 0)?.text ?? text;
    assert.equal(text, `A ${long}`);
    for (const p of second) text = r.addUdhPart('k', p.shortMessage, 0)?.text ?? text;
    assert.equal(text, `B ${long}`);
  });

  test('keys keep equal references apart', () => {
    const r = new Reassembler();
    const one = pdus(`one ${long}`, { reference: 9 });
    const two = pdus(`two ${long}`, { reference: 9 });
    const texts: string[] = [];
    for (let i = 0; i < one.length; i++) {
      for (const [key, parts] of [
        ['a', one],
        ['b', two],
      ] as const) {
        const done = r.addUdhPart(key, parts[i]!.shortMessage, 0);
        if (done) texts.push(`${done.key}:${done.text.slice(0, 3)}`);
      }
    }
    assert.deepEqual(texts, ['a:one', 'b:two']);
  });

  test('SAR parts and parts of any origin', () => {
    const r = new Reassembler();
    const split = splitMessage(long, { mode: 'sar', reference: 0x1234 });
    let done: ReassembledMessage | undefined;
    for (const p of [...split.parts].reverse())
      done = r.addSarPart('k', p.payload, split.dataCoding, p.sar!) ?? done;
    assert.equal(done!.text, long);
    assert.equal(done!.reference, 0x1234);

    const r2 = new Reassembler();
    assert.equal(r2.add('k', { reference: 1, total: 2, sequence: 2 }, Buffer.from('lo'), 3), undefined);
    assert.equal(r2.add('k', { reference: 1, total: 2, sequence: 1 }, Buffer.from('hel'), 3)!.text, 'hello');
  });

  test('a message without a concatenation IE, or with a broken one, comes straight back', () => {
    const r = new Reassembler();
    const ported = Buffer.concat([
      buildUdh([{ id: 0x05, data: Uint8Array.of(0x0b, 0x84, 0x23, 0xf0) }]),
      Buffer.from('Hi'),
    ]);
    assert.deepEqual(
      [r.addUdhPart('k', ported, 0)!.text, r.addUdhPart('k', ported, 0)!.complete],
      ['Hi', true],
    );
    assert.equal(r.add('k', { reference: 1, total: 2, sequence: 3 }, Buffer.from('x'), 0)!.text, 'x');
    assert.equal(
      r.addUdhPart('k', Buffer.concat([buildUdh([concatIe(1, 1, 1)]), Buffer.from('One')]), 0)!.text,
      'One',
    );
    const broken = r.addUdhPart('k', Buffer.from([0x09, 0x41, 0x42]), 0)!;
    assert.equal(broken.malformedUdh, true);
    assert.equal(broken.complete, true);
    assert.equal(r.pending, 0);
  });

  test('national language tables from the UDH decode the text', () => {
    const text = `Görüşürüz, iyi günler! Şişli'de buluşalım. ${long}`;
    const parts = pdus(text, { nationalLanguages: ['tr'] });
    const r = new Reassembler();
    let done: ReassembledMessage | undefined;
    for (const p of parts.reverse()) done = r.addUdhPart('k', p.shortMessage, p.dataCoding) ?? done;
    assert.equal(done!.text, text);
    assert.deepEqual(done!.shift, { lockingShift: 'tr' });
  });

  test('a surrogate pair another sender split across parts is mended', () => {
    const bytes = Buffer.from('0041d83dde000042', 'hex'); // "A😀B"
    const r = new Reassembler();
    r.add('k', { reference: 3, total: 2, sequence: 1 }, bytes.subarray(0, 4), 8);
    assert.equal(r.add('k', { reference: 3, total: 2, sequence: 2 }, bytes.subarray(4), 8)!.text, 'A😀B');
  });

  test('parts with different data_coding are decoded one by one', () => {
    const r = new Reassembler();
    r.add('k', { reference: 3, total: 2, sequence: 1 }, Buffer.from('0416', 'hex'), 8);
    assert.equal(
      r.add('k', { reference: 3, total: 2, sequence: 2 }, Buffer.from('41', 'hex'), 0)!.text,
      'ЖA',
    );
  });

  test('an incomplete set is given up after the timeout, with what arrived', () => {
    const c = clock();
    const expired: ReassembledMessage[] = [];
    const r = new Reassembler({ timeoutMs: 60_000, now: c.now, onExpire: (m) => expired.push(m) });
    const parts = pdus(long, { reference: 7 });
    r.addUdhPart('k', parts[0]!.shortMessage, 0);
    r.addUdhPart('k', parts[2]!.shortMessage, 0);
    c.t += 59_999;
    assert.deepEqual(r.expire(), []);
    c.t += 1;
    const [gone] = r.expire();
    assert.equal(gone!.complete, false);
    assert.deepEqual(gone!.missing, [2]);
    assert.equal(gone!.parts, 2);
    assert.equal(gone!.total, 3);
    assert.equal(gone!.text, long.slice(0, 153) + long.slice(306));
    assert.deepEqual(expired, [gone]);
    assert.equal(r.pending, 0);
    // The missing part arriving late starts a new set rather than completing the old one.
    assert.equal(r.addUdhPart('k', parts[1]!.shortMessage, 0), undefined);
  });

  test('adding parts gives up timed-out sets on the way', () => {
    const c = clock();
    const expired: ReassembledMessage[] = [];
    const r = new Reassembler({ timeoutMs: 1000, now: c.now, onExpire: (m) => expired.push(m) });
    r.add('old', { reference: 1, total: 2, sequence: 1 }, Buffer.from('a'), 0);
    c.t += 1000;
    r.add('new', { reference: 1, total: 2, sequence: 1 }, Buffer.from('b'), 0);
    assert.deepEqual(
      expired.map((m) => m.key),
      ['old'],
    );
    assert.equal(r.pending, 1);
  });

  test('past maxPending the oldest set is given up', () => {
    const expired: ReassembledMessage[] = [];
    const r = new Reassembler({ maxPending: 2, onExpire: (m) => expired.push(m) });
    for (const key of ['a', 'b', 'c'])
      r.add(key, { reference: 1, total: 3, sequence: 2 }, Buffer.from(key), 0);
    assert.equal(r.pending, 2);
    assert.deepEqual(
      expired.map((m) => [m.key, m.complete, m.missing, m.text]),
      [['a', false, [1, 3], 'a']],
    );
  });

  test('past maxBytes the oldest sets are given up: parts as large as a peer likes hold no more', () => {
    const expired: ReassembledMessage[] = [];
    const r = new Reassembler({ maxBytes: 2 ** 20, onExpire: (m) => expired.push(m) });
    // SMPP parts may carry a 64 KB message_payload each, in sets of up to 255: 10,000 sets
    // of 254 such parts would be 160 GB. Here 200 sets of one 64 KB part each (13 MB).
    const big = Buffer.alloc(65_535, 0x41);
    for (let i = 0; i < 200; i++) r.add(`k${i}`, { reference: 1, total: 255, sequence: 1 }, big, 4);
    assert.ok(r.pending <= 16, `${r.pending} sets held`);
    assert.equal(expired.length, 200 - r.pending);
    assert.equal(expired[0]!.key, 'k0', 'the oldest first');
    assert.equal(expired[0]!.payload.length, 65_535, 'handed over with what came');

    // Completed sets are remembered within the bound too: once 200 more went through, a
    // late copy of the first one's part is no longer known (it starts a set of its own).
    r.flush();
    const first = { reference: 2, total: 2, sequence: 1 };
    r.add('done0', first, big, 4);
    assert.ok(r.add('done0', { ...first, sequence: 2 }, big, 4));
    assert.equal(r.add('done0', first, big, 4), undefined);
    assert.equal(r.pending, 0, 'a late duplicate is known at first');
    for (let i = 1; i < 200; i++) {
      r.add(`done${i}`, first, big, 4);
      r.add(`done${i}`, { ...first, sequence: 2 }, big, 4);
    }
    r.add('done0', first, big, 4);
    assert.equal(r.pending, 1, 'the oldest completed set was forgotten');
  });

  test('past maxBytes the set a part comes for is not the one given up, even when oldest', () => {
    const expired: string[] = [];
    const r = new Reassembler({ maxBytes: 200_000, onExpire: (m) => expired.push(m.key) });
    const big = Buffer.alloc(60_000, 0x41);
    r.add('old', { reference: 1, total: 3, sequence: 1 }, big, 4);
    r.add('new', { reference: 1, total: 3, sequence: 1 }, big, 4);
    r.add('old', { reference: 1, total: 3, sequence: 2 }, big, 4);
    assert.deepEqual(expired, []);
    r.add('old', { reference: 9, total: 5, sequence: 1 }, big, 4);
    assert.deepEqual(expired, ['old'], 'the oldest set goes for another set');
    r.add('new', { reference: 1, total: 3, sequence: 2 }, big, 4);
    r.add('new', { reference: 1, total: 3, sequence: 3 }, big, 4);
    r.add('old', { reference: 9, total: 5, sequence: 2 }, big, 4);
    r.add('other', { reference: 1, total: 3, sequence: 1 }, big, 4);
    r.add('old', { reference: 9, total: 5, sequence: 3 }, big, 4);
    assert.deepEqual(expired, ['old', 'other'], 'not for its own part');
  });

  test('flush gives up everything; clear forgets everything', () => {
    const r = new Reassembler();
    r.add('a', { reference: 1, total: 2, sequence: 1 }, Buffer.from('x'), 0);
    r.add('b', { reference: 1, total: 2, sequence: 2 }, Buffer.from('y'), 0);
    assert.deepEqual(
      r.flush().map((m) => m.text),
      ['x', 'y'],
    );
    r.add('a', { reference: 1, total: 2, sequence: 1 }, Buffer.from('x'), 0);
    r.clear();
    assert.equal(r.pending, 0);
    assert.deepEqual(r.flush(), []);
  });

  test('with sweepIntervalMs a timer gives sets up without being asked', async () => {
    const c = clock();
    const { promise, resolve } = Promise.withResolvers<ReassembledMessage>();
    const r = new Reassembler({ timeoutMs: 1000, sweepIntervalMs: 5, now: c.now, onExpire: resolve });
    r.add('k', { reference: 1, total: 2, sequence: 1 }, Buffer.from('x'), 0);
    c.t += 1000;
    try {
      const gone = await promise;
      assert.equal(gone.text, 'x');
    } finally {
      r.close();
    }
  });

  test('the part it keeps is a copy: the caller may reuse its buffer', () => {
    const r = new Reassembler();
    const buf = Buffer.from('abc');
    r.add('k', { reference: 1, total: 2, sequence: 1 }, buf, 0);
    buf.write('zzz');
    assert.equal(r.add('k', { reference: 1, total: 2, sequence: 2 }, Buffer.from('d'), 0)!.text, 'abcd');
  });

  test('bad options are refused', () => {
    assert.throws(() => new Reassembler({ maxPending: 0 }));
    assert.throws(() => new Reassembler({ timeoutMs: -1 }));
    assert.throws(() => new Reassembler({ maxBytes: 0 }));
  });
});
