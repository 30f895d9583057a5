// data_coding values (SMPP 3.4 5.2.19, TS 23.038 4) both ways.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dataCodingFor, ENCODINGS, encodingFromDataCoding, SmsError } from '../../src/sms/index.ts';

describe('encodingFromDataCoding', () => {
  test("SMPP's own values", () => {
    assert.deepEqual(encodingFromDataCoding(0x00), { encoding: 'gsm7' });
    assert.deepEqual(encodingFromDataCoding(0x01), { encoding: 'ascii' });
    assert.deepEqual(encodingFromDataCoding(0x02), { encoding: 'binary' });
    assert.deepEqual(encodingFromDataCoding(0x03), { encoding: 'latin1' });
    assert.deepEqual(encodingFromDataCoding(0x04), { encoding: 'binary' });
    assert.deepEqual(encodingFromDataCoding(0x08), { encoding: 'ucs2' });
    assert.deepEqual(encodingFromDataCoding(0x06), { encoding: 'binary', charset: 'iso-8859-5' });
    assert.deepEqual(encodingFromDataCoding(0x0e), { encoding: 'binary', charset: 'ks-c-5601' });
  });

  test('SMSC default alphabet as configured for the link', () => {
    assert.deepEqual(encodingFromDataCoding(0x00, { smscDefault: 'latin1' }), { encoding: 'latin1' });
  });

  test('GSM general data coding group with class and compression bits', () => {
    assert.deepEqual(encodingFromDataCoding(0x10), { encoding: 'gsm7', messageClass: 0 });
    assert.deepEqual(encodingFromDataCoding(0x11), { encoding: 'gsm7', messageClass: 1 });
    assert.deepEqual(encodingFromDataCoding(0x15), { encoding: 'binary', messageClass: 1 });
    assert.deepEqual(encodingFromDataCoding(0x18), { encoding: 'ucs2', messageClass: 0 });
    assert.deepEqual(encodingFromDataCoding(0x1c), { encoding: 'gsm7', messageClass: 0 }); // reserved alphabet
    assert.deepEqual(encodingFromDataCoding(0x28), { encoding: 'ucs2', compressed: true });
    assert.deepEqual(encodingFromDataCoding(0x48), { encoding: 'ucs2' }); // automatic deletion group
  });

  test('message waiting indication groups', () => {
    assert.deepEqual(encodingFromDataCoding(0xc8), {
      encoding: 'gsm7',
      waitingIndication: { store: false, active: true, type: 'voicemail' },
    });
    assert.deepEqual(encodingFromDataCoding(0xd2), {
      encoding: 'gsm7',
      waitingIndication: { store: true, active: false, type: 'email' },
    });
    assert.deepEqual(encodingFromDataCoding(0xe9), {
      encoding: 'ucs2',
      waitingIndication: { store: true, active: true, type: 'fax' },
    });
  });

  test('message class control group 0xF0-0xFF', () => {
    assert.deepEqual(encodingFromDataCoding(0xf0), { encoding: 'gsm7', messageClass: 0 });
    assert.deepEqual(encodingFromDataCoding(0xf3), { encoding: 'gsm7', messageClass: 3 });
    assert.deepEqual(encodingFromDataCoding(0xf5), { encoding: 'binary', messageClass: 1 });
  });

  test('every octet value has an answer', () => {
    for (let dc = 0; dc < 256; dc++) assert.ok(ENCODINGS.includes(encodingFromDataCoding(dc).encoding));
  });
});

describe('dataCodingFor', () => {
  test('plain values', () => {
    assert.equal(dataCodingFor('gsm7'), 0x00);
    assert.equal(dataCodingFor('ascii'), 0x01);
    assert.equal(dataCodingFor('latin1'), 0x03);
    assert.equal(dataCodingFor('binary'), 0x04);
    assert.equal(dataCodingFor('ucs2'), 0x08);
  });

  test('with a message class or flash', () => {
    assert.equal(dataCodingFor('gsm7', { flash: true }), 0xf0);
    assert.equal(dataCodingFor('gsm7', { messageClass: 2 }), 0xf2);
    assert.equal(dataCodingFor('binary', { messageClass: 1 }), 0xf5);
    assert.equal(dataCodingFor('ucs2', { flash: true }), 0x18);
    assert.equal(dataCodingFor('ucs2', { messageClass: 3 }), 0x1b);
  });

  test('round trip through encodingFromDataCoding', () => {
    for (const encoding of ENCODINGS) {
      assert.equal(encodingFromDataCoding(dataCodingFor(encoding)).encoding, encoding);
      if (encoding === 'latin1' || encoding === 'ascii') continue;
      for (const messageClass of [0, 1, 2, 3] as const) {
        assert.deepEqual(encodingFromDataCoding(dataCodingFor(encoding, { messageClass })), {
          encoding,
          messageClass,
        });
      }
    }
  });

  test('impossible combinations are argument errors', () => {
    const invalid = (err: unknown) => err instanceof SmsError && err.code === 'invalid_argument';
    assert.throws(() => dataCodingFor('latin1', { flash: true }), invalid);
    assert.throws(() => dataCodingFor('ascii', { messageClass: 1 }), invalid);
    assert.throws(() => dataCodingFor('gsm7', { messageClass: 4 as never }), invalid);
    assert.throws(() => dataCodingFor('gsm7', { flash: true, messageClass: 1 }), invalid);
  });
});
