// Wall-clock time in an IANA zone (daylight saving included), as routing windows and quiet
// hours read it. Intl does the zone arithmetic; formatters are made once per zone.

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

/** `HH:MM` (00:00–23:59) → minutes since midnight; undefined for anything else. */
export function minuteOfDay(value: unknown): number | undefined {
  const m = typeof value === 'string' ? /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(value) : null;
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** Whether Intl knows this IANA zone (`Europe/London`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export interface LocalTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minute: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();
const weekdayOf: Record<string, Weekday> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

/** The local date, weekday and minute of the day at epoch ms `at` in `zone`. */
export function localTime(zone: string, at: number): LocalTime {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(zone, format);
  }
  const out: LocalTime = { year: 0, month: 0, day: 0, weekday: 'mon', minute: 0 };
  for (const p of format.formatToParts(at)) {
    if (p.type === 'year') out.year = Number(p.value);
    else if (p.type === 'month') out.month = Number(p.value);
    else if (p.type === 'day') out.day = Number(p.value);
    else if (p.type === 'weekday') out.weekday = weekdayOf[p.value] ?? 'mon';
    else if (p.type === 'hour') out.minute += Number(p.value) * 60;
    else if (p.type === 'minute') out.minute += Number(p.value);
  }
  return out;
}

/** Epoch ms of local midnight starting `year-month-day` in `zone` (the first instant of that date). */
export function startOfLocalDay(zone: string, year: number, month: number, day: number): number {
  // Date.UTC carries an overflowing day into the next month (31 + 1 → the 1st).
  const wanted = Date.UTC(year, month - 1, day);
  const date = new Date(wanted).getUTCDate();
  // Guess the zone's offset, then correct by what the guess reads as; twice covers a
  // daylight-saving change near midnight.
  let t = wanted;
  for (let i = 0; i < 3; i++) {
    const l = localTime(zone, t);
    const shown = Date.UTC(l.year, l.month - 1, l.day) + l.minute * 60_000;
    if (shown === wanted) return t;
    t += wanted - shown;
  }
  // Midnight does not exist that day (a change at 00:00): the day starts at the first minute it has.
  while (localTime(zone, t).day !== date) t += 60_000;
  return t;
}
