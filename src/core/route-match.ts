// The conditions of a routing rule (`match`), compiled once at config load into a list of
// tests. Sending and GET /v1/admin/routes/mt/explain both run `failedCondition`, so what
// explain says is what a message gets. A condition that cannot compile throws a
// RuleProblem naming its field; config check reports it at its path.
import { isTimeZone, localTime, minuteOfDay, startOfLocalDay, type Weekday, weekdays } from './local-time.ts';
import { countryOfNumber, isCountryCode, lookupNumber, type NumberLookup } from './numbers.ts';
import { compilePatterns, patternProblem } from './pattern.ts';

/** What a condition looks at. `country` is worked out once per evaluation, when asked. */
export interface RuleInput {
  to: string;
  from: string;
  /** The account (MT), or the connector the message came in on (MO). */
  accountId?: string;
  connectorId?: string;
  text: string | null;
  tags: readonly string[];
  /** Epoch ms the rule is evaluated for. */
  at: number;
  /** The number `country` and `lineType` look up: the recipient (MT) or the sender (MO). */
  lookup: 'to' | 'from';
  /**
   * That number's network (MCC+MNC digits, `23415`) as the online lookup gave it, for
   * `network`; absent when it was not asked or gave none.
   */
  network?: string | null;
}

export interface Condition {
  /** The `match` field it comes from (`to`, `time`...). */
  field: string;
  /** The condition as written, for explanations (`to +44*`). */
  written: string;
  holds(input: RuleInput, memo: EvaluationMemo): boolean;
}

/** Lookups shared by the conditions of one evaluation (a number is looked up once). */
export interface EvaluationMemo {
  country?: string | null;
  lookup?: NumberLookup;
}

/** A rule's `match` that cannot be used; `field` the path below `match` (`time.tz`). */
export class RuleProblem extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

export interface TimeWindow {
  days?: readonly string[];
  hours?: string;
  tz?: string;
}

export interface DateRange {
  from?: string;
  to?: string;
}

/** The fields of `match` every rule kind has beyond its address patterns. */
export interface CommonMatch {
  time?: TimeWindow;
  dates?: readonly DateRange[];
  tags?: readonly string[];
  text?: string | readonly string[];
  country?: readonly string[];
  lineType?: readonly string[];
  network?: readonly string[];
}

/**
 * Compiles `match`: `patternFields` (`to`, `from`, `account`...) are pattern lists on the
 * input field of the same name (`account` reads accountId, `connector` connectorId); the
 * common fields follow. Absent fields are no condition at all.
 */
export function compileConditions(
  rule: CommonMatch | undefined,
  patternFields: readonly string[],
): Condition[] {
  if (!rule) return [];
  const match = rule as CommonMatch & Record<string, unknown>;
  const conditions: Condition[] = [];
  for (const field of patternFields) {
    const patterns = match[field] as readonly string[] | undefined;
    if (!patterns || patterns.length === 0) continue;
    patterns.forEach((p, i) => {
      const problem = patternProblem(p);
      if (problem) throw new RuleProblem(`${field}[${i}]`, problem);
    });
    const test = compilePatterns(patterns);
    const read = inputField(field);
    conditions.push({
      field,
      written: `${field} ${patterns.join(' | ')}`,
      holds: (input) => test(read(input)),
    });
  }
  if (match.text !== undefined) conditions.push(textCondition(match.text));
  if (match.tags && match.tags.length > 0) conditions.push(tagsCondition(match.tags));
  if (match.country && match.country.length > 0) conditions.push(countryCondition(match.country));
  if (match.lineType && match.lineType.length > 0) conditions.push(lineTypeCondition(match.lineType));
  if (match.network && match.network.length > 0) conditions.push(networkCondition(match.network));
  if (match.time) conditions.push(timeCondition(match.time));
  if (match.dates && match.dates.length > 0) conditions.push(datesCondition(match.dates, match.time?.tz));
  return conditions;
}

/** The first condition that does not hold for `input`; undefined when all do (the rule matches). */
export function failedCondition(conditions: readonly Condition[], input: RuleInput): Condition | undefined {
  const memo: EvaluationMemo = {};
  for (const c of conditions) if (!c.holds(input, memo)) return c;
  return undefined;
}

/** Every problem of a rule's `match`, each with its field below `match` (for config check). */
export function matchProblems(
  rule: CommonMatch | undefined,
  patternFields: readonly string[],
): Array<{ field: string; message: string }> {
  if (!rule) return [];
  const match = rule as CommonMatch & Record<string, unknown>;
  const problems: Array<{ field: string; message: string }> = [];
  for (const field of patternFields) {
    (match[field] as readonly string[] | undefined)?.forEach((p, i) => {
      const problem = patternProblem(p);
      if (problem) problems.push({ field: `${field}[${i}]`, message: problem });
    });
  }
  // One part at a time (each setting of `time`, each range of `dates`), so every problem is
  // found, not only the first.
  const parts: Array<{ match: CommonMatch; rename?: (field: string) => string }> = [];
  if (match.text !== undefined) parts.push({ match: { text: match.text } });
  if (match.tags !== undefined) parts.push({ match: { tags: match.tags } });
  if (match.country !== undefined) parts.push({ match: { country: match.country } });
  if (match.lineType !== undefined) parts.push({ match: { lineType: match.lineType } });
  if (match.network !== undefined) parts.push({ match: { network: match.network } });
  for (const [key, value] of Object.entries(match.time ?? {}))
    parts.push({ match: { time: { [key]: value } } });
  match.dates?.forEach((range, i) => {
    // A bad tz is the time field's problem, reported there once.
    const tz = match.time?.tz !== undefined && isTimeZone(match.time.tz) ? match.time.tz : undefined;
    parts.push({
      match: { dates: [range], time: { tz } },
      rename: (field) => field.replace(/^dates\[0\]/, `dates[${i}]`),
    });
  });
  for (const part of parts) {
    try {
      compileConditions(part.match, []);
    } catch (err) {
      if (!(err instanceof RuleProblem)) throw err;
      problems.push({ field: part.rename?.(err.field) ?? err.field, message: err.message });
    }
  }
  return problems;
}

function inputField(field: string): (input: RuleInput) => string {
  switch (field) {
    case 'to':
      return (input) => input.to;
    case 'from':
      return (input) => input.from;
    case 'account':
      return (input) => input.accountId ?? '';
    case 'connector':
      return (input) => input.connectorId ?? '';
    default:
      throw new Error(`no input field for match.${field}`);
  }
}

function textCondition(text: string | readonly string[]): Condition {
  const patterns = typeof text === 'string' ? [text] : text;
  patterns.forEach((p, i) => {
    const problem = patternProblem(p);
    if (problem) throw new RuleProblem(typeof text === 'string' ? 'text' : `text[${i}]`, problem);
  });
  const test = compilePatterns(patterns);
  return {
    field: 'text',
    written: `text ${patterns.join(' | ')}`,
    // A binary message has no text to match.
    holds: (input) => input.text !== null && test(input.text),
  };
}

function tagsCondition(tags: readonly string[]): Condition {
  tags.forEach((p, i) => {
    const problem = patternProblem(p);
    if (problem) throw new RuleProblem(`tags[${i}]`, problem);
  });
  const test = compilePatterns(tags);
  return {
    field: 'tags',
    written: `tags ${tags.join(' | ')}`,
    holds: (input) => input.tags.some(test),
  };
}

function countryCondition(countries: readonly string[]): Condition {
  countries.forEach((c, i) => {
    if (!isCountryCode(c))
      throw new RuleProblem(
        `country[${i}]`,
        `expected an ISO 3166 alpha-2 country code in capitals (GB, US...), got '${c}'`,
      );
  });
  const wanted = new Set(countries);
  return {
    field: 'country',
    written: `country ${countries.join(' | ')}`,
    holds: (input, memo) => {
      if (memo.country === undefined) memo.country = countryOfNumber(input[input.lookup]) ?? null;
      return memo.country !== null && wanted.has(memo.country);
    },
  };
}

function lineTypeCondition(types: readonly string[]): Condition {
  const wanted = new Set(types);
  return {
    field: 'lineType',
    written: `lineType ${types.join(' | ')}`,
    holds: (input, memo) => {
      memo.lookup ??= lookupNumber(input[input.lookup]);
      return memo.lookup.lineType !== null && wanted.has(memo.lookup.lineType);
    },
  };
}

/** Whether a rule's `match` asks the online lookup (then the number is looked up before routing). */
export function needsNetwork(rule: CommonMatch | undefined): boolean {
  return (rule?.network?.length ?? 0) > 0;
}

/** `234-15` → `23415`: MCC and MNC as the lookup's digits are compared. */
export function networkDigits(written: string): string {
  return written.replace('-', '');
}

function networkCondition(networks: readonly string[]): Condition {
  networks.forEach((n, i) => {
    if (!/^\d{3}(-?\d{2,3})?$/.test(n))
      throw new RuleProblem(
        `network[${i}]`,
        `expected MCC+MNC (23415, 234-15, 310260) or an MCC (234), got '${n}'`,
      );
  });
  // Whole networks, and MCCs standing for every network of theirs.
  const wanted = new Set(networks.map(networkDigits));
  return {
    field: 'network',
    written: `network ${networks.join(' | ')}`,
    holds: (input) =>
      typeof input.network === 'string' &&
      (wanted.has(input.network) || wanted.has(input.network.slice(0, 3))),
  };
}

function timeCondition(time: TimeWindow): Condition {
  const zone = time.tz ?? 'UTC';
  if (!isTimeZone(zone))
    throw new RuleProblem('time.tz', `unknown time zone '${zone}' (an IANA name such as Europe/London)`);
  let window: { start: number; end: number } | undefined;
  if (time.hours !== undefined) {
    const parts = time.hours.split('-').map((s) => s.trim());
    const start = minuteOfDay(parts[0]);
    // `24:00` may end a window: to the end of the day.
    const end = parts[1] === '24:00' ? 1440 : minuteOfDay(parts[1]);
    if (parts.length !== 2 || start === undefined || end === undefined || start === end)
      throw new RuleProblem(
        'time.hours',
        `expected "HH:MM-HH:MM", two different times (got '${time.hours}')`,
      );
    window = { start, end };
  }
  const days = time.days ? new Set(time.days) : undefined;
  time.days?.forEach((d, i) => {
    if (!weekdays.includes(d as Weekday))
      throw new RuleProblem(`time.days[${i}]`, `expected one of ${weekdays.join(', ')} (got '${d}')`);
  });
  const inWindow = (minute: number) =>
    !window ||
    (window.start < window.end
      ? minute >= window.start && minute < window.end
      : minute >= window.start || minute < window.end);
  // Most evaluations fall in the minute of the one before: the zone is read once a minute.
  let lastMinute = Number.NaN;
  let lastHolds = false;
  return {
    field: 'time',
    written: `time${time.days ? ` ${time.days.join(',')}` : ''}${time.hours ? ` ${time.hours}` : ''} ${zone}`,
    holds: (input) => {
      const minute = Math.floor(input.at / 60_000);
      if (minute !== lastMinute) {
        const local = localTime(zone, minute * 60_000);
        lastHolds = (!days || days.has(local.weekday)) && inWindow(local.minute);
        lastMinute = minute;
      }
      return lastHolds;
    },
  };
}

const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;
const isoTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * `from`/`to` each a date (YYYY-MM-DD: whole days, inclusive, in `zone`) or a timestamp with
 * its offset (an instant; `to` exclusive). Either may be left out (open-ended).
 */
function datesCondition(ranges: readonly DateRange[], tz: string | undefined): Condition {
  const zone = tz ?? 'UTC';
  if (!isTimeZone(zone)) throw new RuleProblem('time.tz', `unknown time zone '${zone}'`);
  const bound = (value: string | undefined, path: string, end: boolean): number | undefined => {
    if (value === undefined) return undefined;
    const date = isoDate.exec(value);
    if (date) {
      const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
      const check = new Date(Date.UTC(y, m - 1, d));
      if (check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d)
        throw new RuleProblem(path, `no such date '${value}'`);
      // The end of a date is the start of the next day.
      return end ? startOfLocalDay(zone, y, m, d + 1) : startOfLocalDay(zone, y, m, d);
    }
    const t = isoTimestamp.test(value) ? Date.parse(value) : Number.NaN;
    if (!Number.isFinite(t))
      throw new RuleProblem(
        path,
        `expected a date YYYY-MM-DD or a timestamp with its offset (2026-12-24T18:00:00Z), got '${value}'`,
      );
    return t;
  };
  const compiled = ranges.map((r, i) => {
    if (r.from === undefined && r.to === undefined)
      throw new RuleProblem(`dates[${i}]`, 'give from, to or both');
    const from = bound(r.from, `dates[${i}].from`, false) ?? Number.NEGATIVE_INFINITY;
    const to = bound(r.to, `dates[${i}].to`, true) ?? Number.POSITIVE_INFINITY;
    if (to <= from) throw new RuleProblem(`dates[${i}].to`, 'ends before it starts');
    return { from, to };
  });
  return {
    field: 'dates',
    written: `dates ${ranges.map((r) => `${r.from ?? '…'}..${r.to ?? '…'}`).join(', ')}${tz ? ` ${tz}` : ''}`,
    holds: (input) => compiled.some((r) => input.at >= r.from && input.at < r.to),
  };
}
