// SMPP times (3.4 §7.1.1, 5.0 §4.7.23.4): schedule_delivery_time, validity_period,
// final_date, broadcast_end_time. Sixteen characters, 'YYMMDDhhmmsstnnp':
//   absolute: t tenths of a second, nn the offset from UTC in quarter hours (00–48), p '+'
//             when local time is ahead of UTC and '-' when behind;
//   relative: 'YYMMDDhhmmss000R', a span of years, months, days … added to the SMSC's now.
// An empty string means "not set" (immediate delivery, the SMSC's default validity).
// Two-digit years are 2000–2099.

const smppTimePattern = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d)(\d\d)([+\-R])$/;

/**
 * The instant an SMPP time stands for; a relative time counts from `now`. null for ''.
 * Throws RangeError when the text is not an SMPP time.
 */
export function parseSmppTime(text: string, now: Date = new Date()): Date | null {
  if (text === '') return null;
  const m = smppTimePattern.exec(text);
  if (m === null) throw new RangeError(`'${text}' is not an SMPP time (YYMMDDhhmmsstnnp)`);
  const [yy, mo, dd, hh, mi, ss, t, nn] = m.slice(1, 9).map(Number) as number[];
  if (m[9] === 'R') {
    // Calendar arithmetic in UTC: a month is a calendar month, as the SMSC would count it.
    const d = new Date(now.getTime());
    d.setUTCFullYear(d.getUTCFullYear() + yy!, d.getUTCMonth() + mo!, d.getUTCDate() + dd!);
    d.setUTCHours(d.getUTCHours() + hh!, d.getUTCMinutes() + mi!, d.getUTCSeconds() + ss!);
    return d;
  }
  if (mo! < 1 || mo! > 12 || dd! < 1 || hh! > 23 || mi! > 59 || ss! > 59 || nn! > 48) {
    throw new RangeError(`'${text}' is not a valid absolute SMPP time`);
  }
  const local = Date.UTC(2000 + yy!, mo! - 1, dd!, hh!, mi!, ss!, t! * 100);
  if (new Date(local).getUTCDate() !== dd)
    throw new RangeError(`'${text}' names a day its month does not have`);
  const offsetMs = nn! * 15 * 60_000;
  return new Date(m[9] === '+' ? local - offsetMs : local + offsetMs);
}

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * An absolute SMPP time. By default in UTC ('…00+'); with `offsetQuarterHours` (−48…48)
 * in that local time, for SMSCs that want their own zone.
 */
export function formatSmppTime(date: Date, offsetQuarterHours = 0): string {
  if (!Number.isInteger(offsetQuarterHours) || Math.abs(offsetQuarterHours) > 48) {
    throw new RangeError(`offset ${offsetQuarterHours} must be a whole number of quarter hours within ±48`);
  }
  const local = new Date(date.getTime() + offsetQuarterHours * 15 * 60_000);
  const year = local.getUTCFullYear();
  if (Number.isNaN(year) || year < 2000 || year > 2099) throw new RangeError(`${date} is outside 2000–2099`);
  return (
    two(year - 2000) +
    two(local.getUTCMonth() + 1) +
    two(local.getUTCDate()) +
    two(local.getUTCHours()) +
    two(local.getUTCMinutes()) +
    two(local.getUTCSeconds()) +
    Math.floor(local.getUTCMilliseconds() / 100) +
    two(Math.abs(offsetQuarterHours)) +
    (offsetQuarterHours < 0 ? '-' : '+')
  );
}

/**
 * A relative SMPP time for a span, in days, hours, minutes and seconds (years and months
 * are left 00: their length depends on the calendar). Whole seconds; at most 99 days
 * 23:59:59, else RangeError.
 */
export function formatRelativeSmppTime(durationMs: number): string {
  const total = Math.floor(durationMs / 1000);
  if (!Number.isFinite(total) || total < 0 || total >= 100 * 86_400) {
    throw new RangeError(`${durationMs} ms does not fit a relative SMPP time (0 to 99 days 23:59:59)`);
  }
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  return `0000${two(days)}${two(hours)}${two(minutes)}${two(total % 60)}000R`;
}
