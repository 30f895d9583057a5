// SMPP absolute and relative times (3.4 §7.1.1).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatRelativeSmppTime, formatSmppTime, parseSmppTime } from '../../src/smpp/time.ts';

const utc = (iso: string) => new Date(`${iso}Z`);

describe('time: absolute', () => {
  test('UTC, with tenths of a second', () => {
    assert.deepEqual(parseSmppTime('240315123045200+'), new Date('2024-03-15T12:30:45.200Z'));
    assert.deepEqual(parseSmppTime('240315123045000-'), utc('2024-03-15T12:30:45'));
  });

  test('a local time ahead of UTC (+) and behind it (-), in quarter hours', () => {
    // 12:30:45 at UTC+02:00 (08 quarter hours) is 10:30:45 UTC
    assert.deepEqual(parseSmppTime('240315123045008+'), utc('2024-03-15T10:30:45'));
    // 12:30:45 at UTC-05:30 (22 quarter hours) is 18:00:45 UTC
    assert.deepEqual(parseSmppTime('240315123045022-'), utc('2024-03-15T18:00:45'));
    // the offset can move the instant to another day
    assert.deepEqual(parseSmppTime('240101003000048+'), utc('2023-12-31T12:30:00'));
  });

  test('formats UTC by default, or a given local offset', () => {
    const instant = new Date('2024-03-15T10:30:45.678Z');
    assert.equal(formatSmppTime(instant), '240315103045600+');
    assert.equal(formatSmppTime(instant, 8), '240315123045608+');
    assert.equal(formatSmppTime(instant, -22), '240315050045622-');
    for (const offset of [0, 8, -22, 48, -48]) {
      assert.deepEqual(parseSmppTime(formatSmppTime(instant, offset)), new Date('2024-03-15T10:30:45.600Z'));
    }
  });

  test('formatting refuses what the format cannot hold', () => {
    assert.throws(() => formatSmppTime(utc('1999-12-31T23:59:59')), RangeError);
    assert.throws(() => formatSmppTime(utc('2100-01-01T00:00:00')), RangeError);
    assert.throws(() => formatSmppTime(new Date(Number.NaN)), RangeError);
    assert.throws(() => formatSmppTime(new Date(), 49), RangeError);
    assert.throws(() => formatSmppTime(new Date(), 1.5), RangeError);
  });
});

describe('time: relative', () => {
  const now = utc('2024-01-31T22:00:00');

  test('a span added to now', () => {
    assert.deepEqual(parseSmppTime('000001020304000R', now), utc('2024-02-02T00:03:04'));
    assert.deepEqual(parseSmppTime('000000000030000R', now), utc('2024-01-31T22:00:30'));
    assert.deepEqual(parseSmppTime('010000000000000R', now), utc('2025-01-31T22:00:00'));
  });

  test('months are calendar months (31 January + 1 month rolls into March)', () => {
    assert.deepEqual(parseSmppTime('000100000000000R', now), utc('2024-03-02T22:00:00'));
  });

  test('formats a duration as days, hours, minutes, seconds', () => {
    assert.equal(formatRelativeSmppTime(0), '000000000000000R');
    assert.equal(formatRelativeSmppTime(90_061_000), '000001010101000R');
    assert.equal(formatRelativeSmppTime(48 * 3600_000), '000002000000000R');
    assert.equal(formatRelativeSmppTime(1999), '000000000001000R');
    assert.equal(formatRelativeSmppTime(100 * 86_400_000 - 1), '000099235959000R');
    assert.deepEqual(
      parseSmppTime(formatRelativeSmppTime(90_061_000), now),
      new Date(now.getTime() + 90_061_000),
    );
  });

  test('refuses spans it cannot write', () => {
    assert.throws(() => formatRelativeSmppTime(100 * 86_400_000), RangeError);
    assert.throws(() => formatRelativeSmppTime(-1000), RangeError);
    assert.throws(() => formatRelativeSmppTime(Number.NaN), RangeError);
  });
});

describe('time: parsing', () => {
  test("'' is no time", () => {
    assert.equal(parseSmppTime(''), null);
  });

  test('anything else that is not an SMPP time is a RangeError', () => {
    for (const bad of [
      '2403151230', // a receipt date, not an SMPP time
      '24031512304500+', // 15 characters
      '240315123045000+0',
      '240315123045000*',
      '2403151230450a0+',
      '241315123045000+', // month 13
      '240230123045000+', // 30 February
      '240315243045000+', // hour 24
      '240315126045000+', // minute 60
      '240315123060000+', // second 60
      '240315123045049+', // offset beyond 12 hours
      '240300123045000+', // day 0
    ]) {
      assert.throws(() => parseSmppTime(bad), RangeError, bad);
    }
  });
});
