// Quiet hours in the recipient's own time: a message that would arrive at night (say
// 21:00–08:00 local) is deferred to the end of the window — deferred, never dropped. The
// recipient's zone comes from the number's country; a country with several zones uses the
// one where most of its people live (the table below), an approximation the README names.
import { createRequire } from 'node:module';
import type ct from 'countries-and-timezones';
import { countryOfNumber, GatewayError, localTime, minuteOfDay } from '../core/index.ts';

// The country table (0.9 MB of heap) is loaded by the first batch with quiet hours.
const require = createRequire(import.meta.url);
let countries: typeof ct | undefined;

/** Multi-zone countries: the zone of most of the population (others use their only zone). */
const mainZone: Record<string, string> = {
  AR: 'America/Argentina/Buenos_Aires',
  AU: 'Australia/Sydney',
  BR: 'America/Sao_Paulo',
  CA: 'America/Toronto',
  CD: 'Africa/Kinshasa',
  CL: 'America/Santiago',
  CN: 'Asia/Shanghai',
  CY: 'Asia/Nicosia',
  DE: 'Europe/Berlin',
  EC: 'America/Guayaquil',
  ES: 'Europe/Madrid',
  FM: 'Pacific/Pohnpei',
  GL: 'America/Nuuk',
  ID: 'Asia/Jakarta',
  KI: 'Pacific/Tarawa',
  KZ: 'Asia/Almaty',
  MH: 'Pacific/Majuro',
  MN: 'Asia/Ulaanbaatar',
  MX: 'America/Mexico_City',
  MY: 'Asia/Kuala_Lumpur',
  NZ: 'Pacific/Auckland',
  PF: 'Pacific/Tahiti',
  PG: 'Pacific/Port_Moresby',
  PS: 'Asia/Gaza',
  PT: 'Europe/Lisbon',
  RU: 'Europe/Moscow',
  UA: 'Europe/Kyiv',
  US: 'America/New_York',
  UZ: 'Asia/Tashkent',
  VN: 'Asia/Ho_Chi_Minh',
};

/** The time zone used for a country's numbers; undefined for an unknown country. */
export function zoneOfCountry(country: string): string | undefined {
  const main = mainZone[country];
  if (main) return main;
  countries ??= require('countries-and-timezones') as typeof ct;
  return countries.getCountry(country)?.timezones[0];
}

export interface QuietHours {
  /** Local times of day, `HH:MM`; the window may span midnight (21:00 → 08:00). */
  start: string;
  end: string;
}

/** Reads `{start, end}` or `"21:00-08:00"`; refuses anything else naming the field. */
export function parseQuietHours(value: unknown, field = 'quietHours'): QuietHours | null {
  if (value === undefined || value === null || value === '') return null;
  let start: unknown;
  let end: unknown;
  if (typeof value === 'string') [start, end] = value.split('-').map((s) => s.trim());
  else if (typeof value === 'object' && !Array.isArray(value))
    ({ start, end } = value as Record<string, unknown>);
  if (minuteOfDay(start) === undefined || minuteOfDay(end) === undefined || start === end)
    throw new GatewayError(
      'invalid_quiet_hours',
      `${field} must be {"start": "HH:MM", "end": "HH:MM"} (or "HH:MM-HH:MM"), two different times`,
      field,
    );
  return { start: start as string, end: end as string };
}

/** Defers send times out of a quiet window, per recipient zone. */
export class QuietWindow {
  readonly #start: number;
  readonly #end: number;
  /** zone and minute → the deferred time's offset: recipients of a batch share a few of each. */
  readonly #cache = new Map<string, number>();

  constructor(hours: QuietHours) {
    this.#start = minuteOfDay(hours.start)!;
    this.#end = minuteOfDay(hours.end)!;
  }

  /**
   * The earliest time at or after `at` outside the window in the zone of `to`'s country
   * (`at` itself for a number whose country or zone is unknown).
   */
  defer(to: string, at: number): number {
    const country = countryOfNumber(to);
    const zone = country === undefined ? undefined : zoneOfCountry(country);
    if (zone === undefined) return at;
    const minute = Math.floor(at / 60_000);
    const key = `${zone}\u0000${minute}`;
    let shift = this.#cache.get(key);
    if (shift === undefined) {
      shift = this.#shift(zone, minute * 60_000);
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(key, shift);
    }
    return shift === 0 ? at : minute * 60_000 + shift;
  }

  /** How far after `at` (a whole minute) the window ends in `zone`; 0 when it is not quiet then. */
  #shift(zone: string, at: number): number {
    let t = at;
    // Twice at most: a daylight-saving change inside the wait moves the end by an hour.
    for (let i = 0; i < 3; i++) {
      const local = localTime(zone, t).minute;
      const quiet =
        this.#start < this.#end
          ? local >= this.#start && local < this.#end
          : local >= this.#start || local < this.#end;
      if (!quiet) return t - at;
      t += ((this.#end - local + 1440) % 1440 || 1440) * 60_000;
    }
    return t - at;
  }
}
