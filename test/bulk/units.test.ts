// The pieces of a batch on their own: template checks, the compact number set, numbers with a
// default country, quiet hours per zone, the rate meter, CSV recipients.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import {
  csvRecipients,
  NumberSet,
  numberKey,
  parseQuietHours,
  QuietWindow,
  RateMeter,
  templateVariables,
  zoneOfCountry,
} from '../../src/bulk/index.ts';
import { type GatewayError, normaliseNumber } from '../../src/core/index.ts';

describe('templates', () => {
  test('the variables a text uses; a brace that is not a variable is refused', () => {
    assert.deepEqual(templateVariables('Hi {{name}}, {{ code }} / {{name}}!'), ['name', 'code']);
    assert.deepEqual(templateVariables('plain'), []);
    for (const text of ['Hi {{', 'a }} b', '{{ two words }}', '{{}}'])
      assert.throws(
        () => templateVariables(text),
        (e: GatewayError) => e.code === 'invalid_template',
        text,
      );
  });
});

describe('NumberSet', () => {
  test('keys tell numbers, lengths and short codes apart', () => {
    const keys = [
      '+447700900123',
      '+4477009001230',
      '+07700900123',
      '+7700900123',
      '12345',
      '012345',
      '+12345',
    ];
    assert.equal(new Set(keys.map(numberKey)).size, keys.length);
    assert.ok(keys.map(numberKey).every((k) => Number.isSafeInteger(k) && k !== 0));
    assert.equal(numberKey('+999999999999999'), 2 * 10 ** 15 - 1);
    assert.throws(() => numberKey('+44 7700'));
  });
  test('adds and finds through growth, like a Set', () => {
    const set = new NumberSet(4);
    const reference = new Set<number>();
    let seed = 7;
    for (let i = 0; i < 50_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const key = numberKey(`+44${7_000_000_000 + (seed % 30_000)}`);
      assert.equal(set.add(key), !reference.has(key));
      reference.add(key);
    }
    assert.equal(set.size, reference.size);
    for (const key of reference) assert.ok(set.has(key));
    assert.equal(set.has(numberKey('+15550000000')), false);
  });
});

describe('numbers and countries', () => {
  test('national numbers read in the default country; international ones as they are', () => {
    assert.equal(normaliseNumber('07700 900123', 'GB'), '+447700900123');
    assert.equal(normaliseNumber('(212) 555-0123', 'US'), '+12125550123');
    assert.equal(normaliseNumber('+33 6 12 34 56 78', 'GB'), '+33612345678');
    assert.equal(normaliseNumber('0033612345678', 'GB'), '+33612345678');
    assert.equal(normaliseNumber('447700900123', 'GB'), '+447700900123');
    // With no country, digits without `+` are not guessed at.
    assert.equal(normaliseNumber('447700900123', null), undefined);
    assert.equal(normaliseNumber('not a number', 'GB'), undefined);
  });
  test('the zone used for a country', () => {
    assert.equal(zoneOfCountry('GB'), 'Europe/London');
    assert.equal(zoneOfCountry('US'), 'America/New_York');
    assert.equal(zoneOfCountry('RU'), 'Europe/Moscow');
    assert.equal(zoneOfCountry('JP'), 'Asia/Tokyo');
  });
});

describe('quiet hours', () => {
  test('parsed from an object or a string; bad ones refused', () => {
    assert.deepEqual(parseQuietHours('21:00-08:00'), { start: '21:00', end: '08:00' });
    assert.deepEqual(parseQuietHours({ start: '22:30', end: '7:15' }), { start: '22:30', end: '7:15' });
    assert.equal(parseQuietHours(undefined), null);
    for (const bad of ['21-08', { start: '21:00' }, '10:00-10:00', 42])
      assert.throws(
        () => parseQuietHours(bad),
        (e: GatewayError) => e.code === 'invalid_quiet_hours',
      );
  });
  test('a time in the window moves to its end in the recipient zone; others stay', () => {
    const quiet = new QuietWindow({ start: '21:00', end: '08:00' });
    // 2026-01-15 23:30 in London (UTC+0): deferred to 08:00 the next morning.
    const lateLondon = Date.UTC(2026, 0, 15, 23, 30, 12);
    assert.equal(quiet.defer('+447700900123', lateLondon), Date.UTC(2026, 0, 16, 8, 0));
    // The same instant is 18:30 in New York (UTC-5): not quiet.
    assert.equal(quiet.defer('+12125550123', lateLondon), lateLondon);
    // 03:00 in Tokyo (UTC+9) is 18:00 UTC the day before: deferred to 08:00 Tokyo = 23:00 UTC.
    assert.equal(quiet.defer('+81312345678', Date.UTC(2026, 0, 15, 18, 0)), Date.UTC(2026, 0, 15, 23, 0));
    // A window within one day.
    const lunch = new QuietWindow({ start: '12:00', end: '13:30' });
    assert.equal(lunch.defer('+447700900123', Date.UTC(2026, 0, 15, 12, 10)), Date.UTC(2026, 0, 15, 13, 30));
    assert.equal(lunch.defer('+447700900123', Date.UTC(2026, 0, 15, 13, 30)), Date.UTC(2026, 0, 15, 13, 30));
    // Summer time: London is UTC+1 in July, so 07:00 local is 06:00 UTC, deferred to 07:00 UTC.
    assert.equal(quiet.defer('+447700900123', Date.UTC(2026, 6, 1, 6, 0)), Date.UTC(2026, 6, 1, 7, 0));
    // A short code has no country: it goes as asked.
    assert.equal(quiet.defer('12345', lateLondon), lateLondon);
  });
});

describe('RateMeter', () => {
  test('messages a second over the last complete seconds', () => {
    const meter = new RateMeter();
    assert.equal(meter.rate(1_000_000), 0);
    for (let s = 0; s < 5; s++) for (let i = 0; i < 20; i++) meter.add(1_000_000 + s * 1000 + i);
    assert.equal(meter.rate(1_005_000), 20);
    // Quiet for a while: the rate falls to nothing.
    assert.equal(meter.rate(1_030_000), 0);
    assert.equal(meter.idleSince(1_030_000), 30_000 - 4019);
  });
});

describe('CSV recipients', () => {
  test('the header names the number column and the variables; rows stream in', async () => {
    const source = Readable.from([
      '\uFEFFName,Phone,code\n',
      'Ann,+447700900001,1\n"Bob, Jr",+447700900002',
      '\n\n',
    ]);
    const rows = [];
    for await (const row of csvRecipients(source, ['Name'])) rows.push(row);
    assert.deepEqual(rows, [
      { to: '+447700900001', vars: { Name: 'Ann', Phone: '+447700900001', code: '1' } },
      { to: '+447700900002', vars: { Name: 'Bob, Jr', Phone: '+447700900002', code: '' } },
    ]);
  });
  test('a missing variable column, a missing number column, an empty file', async () => {
    const codeOf = async (csv: string, vars: string[]) => {
      try {
        for await (const _ of csvRecipients(csv, vars));
        return 'ok';
      } catch (err) {
        return (err as GatewayError).code;
      }
    };
    assert.equal(await codeOf('to,name\n+447700900001,A\n', ['first']), 'unknown_variable');
    assert.equal(await codeOf('name\nA\n', []), 'invalid_csv');
    assert.equal(await codeOf('', []), 'invalid_csv');
    assert.equal(await codeOf('to\n"+4477\n', []), 'invalid_csv');
    assert.equal(await codeOf('msisdn\n+447700900001\n', []), 'ok');
  });
});
