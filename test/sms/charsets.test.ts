// encodeText / decodeText for every encoding: bytes on the wire, refusals, tolerant reading.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canEncode, decodeText, encodeText, SmsError } from '../../src/sms/index.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unencodable = (err: unknown) => err instanceof SmsError && err.code === 'unencodable';

describe('encodeText and decodeText', () => {
  test('gsm7 is unpacked septets, one per octet', () => {
    assert.equal(hex(encodeText('A@€', 'gsm7')), '41001b65');
    assert.equal(decodeText(Buffer.from('41001b65', 'hex'), 'gsm7'), 'A@€');
    assert.equal(hex(encodeText('ğ', 'gsm7', { lockingShift: 'tr' })), '0c');
    assert.throws(() => encodeText('ğ', 'gsm7'), unencodable);
  });

  test('ucs2 is UTF-16BE, surrogate pairs included', () => {
    assert.equal(hex(encodeText('aЖ😀', 'ucs2')), '00610416d83dde00');
    assert.equal(decodeText(Buffer.from('00610416d83dde00', 'hex'), 'ucs2'), 'aЖ😀');
    assert.equal(decodeText(Buffer.from('006100', 'hex'), 'ucs2'), 'a\ufffd');
  });

  test('ucs2 decodes a view into a larger buffer without touching it', () => {
    const backing = Buffer.from('ff00620063ff', 'hex');
    assert.equal(decodeText(backing.subarray(1, 5), 'ucs2'), 'bc');
    assert.equal(hex(backing), 'ff00620063ff');
  });

  test('latin1 is ISO-8859-1', () => {
    assert.equal(hex(encodeText('Ça coûte', 'latin1')), 'c76120636ffb7465');
    assert.throws(() => encodeText('5€', 'latin1'), unencodable);
    assert.equal(hex(encodeText('£ÿ', 'latin1')), 'a3ff');
    assert.equal(decodeText(Buffer.from('c7e9ff', 'hex'), 'latin1'), 'Çéÿ');
  });

  test('ascii is IA5: seven bits, anything else refused or read as U+FFFD', () => {
    assert.equal(hex(encodeText('Hi!`', 'ascii')), '48692160');
    assert.throws(() => encodeText('é', 'ascii'), unencodable);
    assert.equal(decodeText(Buffer.from('48e969', 'hex'), 'ascii'), 'H\ufffdi');
  });

  test('binary maps octets to code points 0-255 and back', () => {
    const bytes = Buffer.from([0, 1, 0x7f, 0x80, 0xff]);
    const text = decodeText(bytes, 'binary');
    assert.equal(text, '\x00\x01\x7f\x80\xff');
    assert.deepEqual(encodeText(text, 'binary'), bytes);
  });

  test('canEncode answers without throwing', () => {
    assert.equal(canEncode('é', 'latin1'), true);
    assert.equal(canEncode('é', 'ascii'), false);
    assert.equal(canEncode('é', 'gsm7'), true);
    assert.equal(canEncode('ê', 'gsm7'), false);
    assert.equal(canEncode('😀', 'ucs2'), true);
  });

  test('an unknown encoding is an argument error', () => {
    assert.throws(
      () => encodeText('a', 'utf8' as never),
      (err: unknown) => err instanceof SmsError && err.code === 'invalid_argument',
    );
  });
});
