// How numbers clients write are read: international ones as they are, national ones only in
// a country (never given a `+` they do not have), short codes as written.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { destinationOf, GatewayError, normaliseNumber, normaliseSender } from '../../src/core/index.ts';

describe('normaliseNumber', () => {
  test('international numbers, written any common way', () => {
    assert.equal(normaliseNumber('+447700900123'), '+447700900123');
    assert.equal(normaliseNumber('+44 (0) 7700 900-123'), '+447700900123');
    assert.equal(normaliseNumber('0044 7700 900123'), '+447700900123');
    assert.equal(normaliseNumber('+447700900123', 'US'), '+447700900123');
  });

  test('a national number without a country is refused, not given a +', () => {
    assert.equal(normaliseNumber('07700900123'), undefined);
    assert.equal(normaliseNumber('07700900123', null), undefined);
    assert.equal(normaliseNumber('447700900123'), undefined);
    assert.equal(normaliseNumber('+07700900123'), undefined);
  });

  test('a number without + is read in the country given', () => {
    assert.equal(normaliseNumber('07700900123', 'GB'), '+447700900123');
    assert.equal(normaliseNumber('07700 900-123', 'GB'), '+447700900123');
    assert.equal(normaliseNumber('447700900123', 'GB'), '+447700900123');
    assert.equal(normaliseNumber('(415) 555-0100', 'US'), '+14155550100');
    assert.equal(normaliseNumber('011 44 7700 900123', 'US'), '+447700900123');
    assert.equal(normaliseNumber('89161234567', 'RU'), '+79161234567');
  });

  test('short codes stay as written, with or without a country', () => {
    assert.equal(normaliseNumber('60060'), '60060');
    assert.equal(normaliseNumber('60060', 'GB'), '60060');
    assert.equal(normaliseNumber('012'), undefined);
  });

  test("'international' reads digits as carriers write them", () => {
    assert.equal(normaliseNumber('447700900123', 'international'), '+447700900123');
    assert.equal(normaliseNumber('12345', 'international'), '12345');
    assert.equal(normaliseNumber('07700900123', 'international'), undefined);
  });
});

describe('destinationOf', () => {
  test('refuses a national number with no country as invalid_number on to, saying why', () => {
    assert.throws(
      () => destinationOf('07700900123', null),
      (err) =>
        err instanceof GatewayError &&
        err.code === 'invalid_number' &&
        err.field === 'to' &&
        /defaultCountry/.test(err.message),
    );
    assert.equal(destinationOf('07700900123', 'GB'), '+447700900123');
    assert.throws(
      () => destinationOf('hello', 'GB'),
      (err) => err instanceof GatewayError && err.field === 'to',
    );
  });
});

describe('normaliseSender', () => {
  test('alphanumeric ids as given; numbers read in the country, else international digits', () => {
    assert.equal(normaliseSender('ACME'), 'ACME');
    assert.equal(normaliseSender('07700900123', 'GB'), '+447700900123');
    assert.equal(normaliseSender('447700900123'), '+447700900123');
    // A national sender with no country is left for the SMSC to read, not given a +.
    assert.equal(normaliseSender('07700900123'), '07700900123');
    assert.equal(normaliseSender('60060'), '60060');
  });
});
