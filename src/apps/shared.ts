// What the applications (verify, alerts, contacts, reminders) share: the services they
// run on, request field readers that refuse wrong input by field, and a per-key lock.
import { pageLimit } from '../api/index.ts';
import type { AccountRegistry, CountryCode, Gateway } from '../core/index.ts';
import { GatewayError } from '../core/index.ts';
import type { Store } from '../store/index.ts';

export interface AppContext {
  gateway: Gateway;
  store: Store;
  accounts: AccountRegistry;
  /** Sends an event to the account's webhook (CONTRACT §4 envelope), durably; no-op without one. */
  notify(accountId: string, type: string, data: unknown): Promise<void>;
  now(): number;
}

/** The country an account's numbers written without `+` are read in (null: refused). */
export function countryOf(ctx: AppContext, accountId: string): CountryCode | null {
  return ctx.accounts.get(accountId)?.defaultCountry ?? null;
}

export function iso(t: number | null | undefined): string | null {
  return t === null || t === undefined ? null : new Date(t).toISOString();
}

/** Reads typed fields from a JSON body or query, naming the field in every refusal. */
export class Fields {
  readonly #b: Record<string, unknown>;

  constructor(body: unknown) {
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new GatewayError('invalid_body', 'expected a JSON object');
    this.#b = body as Record<string, unknown>;
  }

  has(field: string): boolean {
    return this.#b[field] !== undefined && this.#b[field] !== null;
  }

  raw(field: string): unknown {
    return this.#b[field];
  }

  string(field: string, max: number): string | undefined {
    const v = this.#b[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new GatewayError('invalid_field', `${field} must be a string`, field);
    if (v.length > max)
      throw new GatewayError('invalid_field', `${field} is longer than ${max} characters`, field);
    return v;
  }

  requiredString(field: string, max: number): string {
    const v = this.string(field, max);
    if (v === undefined || v.length === 0)
      throw new GatewayError('missing_field', `${field} is required`, field);
    return v;
  }

  /** An integer in min..max; numeric strings (query parameters) are accepted. */
  integer(field: string, min: number, max: number): number | undefined {
    const v = this.#b[field];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
      throw new GatewayError('invalid_field', `${field} must be an integer ${min}..${max}`, field);
    return n;
  }

  boolean(field: string): boolean | undefined {
    const v = this.#b[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean')
      throw new GatewayError('invalid_field', `${field} must be true or false`, field);
    return v;
  }

  stringList(field: string, maxItems: number, maxLength: number): string[] | undefined {
    const v = this.#b[field];
    if (v === undefined || v === null) return undefined;
    if (
      !Array.isArray(v) ||
      v.length > maxItems ||
      v.some((s) => typeof s !== 'string' || s.length > maxLength)
    )
      throw new GatewayError(
        'invalid_field',
        `${field} must be a list of at most ${maxItems} strings of at most ${maxLength} characters`,
        field,
      );
    return v as string[];
  }
}

/** `limit` and `cursor` of a list request, as every REST list reads them. */
export function pageOf(query: unknown): { limit: number; cursor: string | null } {
  const q = (query ?? {}) as Record<string, string | undefined>;
  return { limit: pageLimit(q), cursor: q.cursor ?? null };
}

export function notFound(what: string, id: string): GatewayError {
  return new GatewayError('not_found', `no ${what} ${id}`, 'id', 404);
}

/**
 * Runs tasks with the same key one after another (a verification's checks, a reminder's
 * reply), so read-modify-write sequences on one record never interleave in this process.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => {});
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
