// UDH building and parsing (TS 23.040 9.2.3.24): vectors by hand, then malformed input.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildUdh, concatIe, Iei, nationalLanguageIes, parseUdh, SmsError } from '../../src/sms/index.ts';
import { Prng } from './prng.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');

describe('buildUdh', () => {
  test('8-bit and 16-bit reference concatenation', () => {
    assert.equal(hex(buildUdh([concatIe(0xcc, 3, 1)])), '050003cc0301');
    assert.equal(hex(buildUdh([concatIe(0x1234, 3, 2, 16)])), '06080412340302');
    assert.equal(hex(buildUdh([concatIe(0x1ff, 2, 2)])), '050003ff0202'); // reference taken mod 256
  });

  test('national language shift IEs', () => {
    const ies = nationalLanguageIes({ lockingShift: 'tr', singleShift: 'es' });
    assert.equal(hex(buildUdh(ies)), '06250101240102');
    assert.equal(
      hex(buildUdh([concatIe(7, 2, 1), ...nationalLanguageIes({ singleShift: 'hi' })])),
      '080003070201240106',
    );
  });

  test('no IEs is a zero-length header; oversized ones are refused', () => {
    assert.equal(hex(buildUdh([])), '00');
    assert.throws(() => buildUdh([{ id: 0x70, data: new Uint8Array(140) }]), SmsError);
    assert.throws(() => concatIe(1, 2, 3), SmsError);
    assert.throws(() => concatIe(1, 0, 0), SmsError);
  });
});

describe('parseUdh', () => {
  test('8-bit concatenation', () => {
    const parsed = parseUdh(bytes('050003cc0301 41424344'))!;
    assert.equal(parsed.headerLength, 6);
    assert.deepEqual(parsed.concat, { reference: 0xcc, total: 3, sequence: 1, referenceBits: 8 });
    assert.equal(parsed.ies.length, 1);
    assert.equal(parsed.ies[0]!.id, Iei.CONCAT_8);
  });

  test('16-bit concatenation, shift tables and ports together', () => {
    const parsed = parseUdh(bytes('12 0804abcd0502 250101 240103 05040b8423f0 ff'))!;
    assert.equal(parsed.headerLength, 19);
    assert.deepEqual(parsed.concat, { reference: 0xabcd, total: 5, sequence: 2, referenceBits: 16 });
    assert.equal(parsed.lockingShift, 'tr');
    assert.equal(parsed.singleShift, 'pt');
    assert.deepEqual(parsed.ports, { destination: 2948, source: 9200 });
  });

  test('well-framed but malformed IEs are kept and otherwise ignored', () => {
    // Sequence 0, sequence beyond total, wrong length, unknown language.
    for (const h of ['050003cc0300', '050003cc0304', '0600040102030a', '03250163']) {
      const parsed = parseUdh(bytes(h))!;
      assert.ok(parsed, h);
      assert.equal(parsed.concat, undefined, h);
      assert.equal(parsed.lockingShift, undefined, h);
      assert.equal(parsed.ies.length, 1, h);
    }
    // Spanish has no locking-shift table.
    assert.equal(parseUdh(bytes('03250102'))!.lockingShift, undefined);
  });

  test('broken framing gives null', () => {
    assert.equal(parseUdh(new Uint8Array(0)), null);
    assert.equal(parseUdh(bytes('05000301')), null); // UDHL past the end
    assert.equal(parseUdh(bytes('0300050102')), null); // IE longer than the header
    assert.equal(parseUdh(bytes('0100')), null); // IE without its length octet
    assert.equal(parseUdh('not bytes' as never), null);
  });

  test('a zero-length header is valid and empty', () => {
    assert.deepEqual(parseUdh(bytes('00 41')), { ies: [], headerLength: 1 });
  });

  test('random input never throws and never reads past the header', () => {
    const prng = new Prng(0x5eed);
    for (let i = 0; i < 20_000; i++) {
      const input = new Uint8Array(prng.int(40));
      for (let j = 0; j < input.length; j++) input[j] = prng.int(4) === 0 ? prng.int(8) : prng.int(256);
      const parsed = parseUdh(input);
      if (parsed === null) continue;
      assert.ok(parsed.headerLength <= input.length);
      for (const ie of parsed.ies)
        assert.ok(ie.data.byteOffset + ie.data.length <= input.byteOffset + parsed.headerLength);
      // What parses rebuilds to the same header.
      assert.deepEqual(buildUdh(parsed.ies), Buffer.from(input.subarray(0, parsed.headerLength)));
    }
  });
});
