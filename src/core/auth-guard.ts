// Limits guessing of API keys and SMPP passwords. Failed attempts are counted per remote
// address and per account (system_id, account id or SID when the request names one): after
// a few, each failure is answered after a growing delay; after more, the address or the
// account is locked out for a while (answered 429 / ESME_RBINDFAIL without looking at the
// key). An account's lockout does not shut out the addresses it was recently used from, so
// an attacker guessing at one account does not lock its legitimate clients out. Memory is
// bounded in bytes, not records: the name a request gives is the client's to choose (a
// Basic username can be kilobytes long), and the oldest records are forgotten first.
import { isIP } from 'node:net';
import { BoundedMap, stringBytes } from './bounded-map.ts';

export interface AuthGuardOptions {
  /** Failures (per address or account) answered at once; each further one waits longer. */
  delayAfter?: number;
  /** Failures within `windowMs` that lock the address or account out for `lockMs`. */
  lockAfter?: number;
  windowMs?: number;
  lockMs?: number;
  /** The first delay; each further failure doubles it, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Bytes the records may keep alive, each of the two kinds (failures by address or account;
   * account–address pairs that succeeded): default 16 MiB, some 100,000 records of ordinary
   * names.
   */
  maxBytes?: number;
  now?: () => number;
  /** Told of each lockout (to be logged): what was locked and for how long. */
  onLockout?: (event: {
    address: string;
    account?: string;
    scope: 'address' | 'account';
    seconds: number;
  }) => void;
}

interface FailureRecord {
  failures: number;
  since: number;
  lockedUntil: number;
}
/** What a failure record keeps alive besides its key: the object, its numbers, a map slot. */
const recordBytes = 112;

export class AuthGuard {
  readonly #o: Required<Omit<AuthGuardOptions, 'onLockout'>> & Pick<AuthGuardOptions, 'onLockout'>;
  readonly #records: BoundedMap<string, FailureRecord>;
  /** `account \0 address` → until when that address counts as the account's own. */
  readonly #trusted: BoundedMap<string, number>;

  constructor(options: AuthGuardOptions = {}) {
    this.#o = {
      delayAfter: 3,
      lockAfter: 10,
      windowMs: 15 * 60_000,
      lockMs: 5 * 60_000,
      baseDelayMs: 50,
      maxDelayMs: 500,
      maxBytes: 16 * 2 ** 20,
      now: Date.now,
      ...options,
    };
    this.#records = new BoundedMap(this.#o.maxBytes, (key) => recordBytes + stringBytes(key));
    this.#trusted = new BoundedMap(this.#o.maxBytes, (key) => 64 + stringBytes(key));
  }

  /** Failure records held (bounded by maxBytes). */
  get size(): number {
    return this.#records.size;
  }

  /** Milliseconds the attempt must wait (answered 429 / ESME_RBINDFAIL), or 0 when it may try. */
  lockedFor(address: string, account?: string): number {
    const now = this.#o.now();
    const source = sourceOf(address);
    let wait = Math.max(0, (this.#records.get(`a:${source}`)?.lockedUntil ?? 0) - now);
    if (account !== undefined && !this.#isTrusted(account, source, now))
      wait = Math.max(wait, (this.#records.get(`u:${account}`)?.lockedUntil ?? 0) - now);
    return wait;
  }

  /** Records a failed attempt; returns how long to wait before answering it. */
  failed(address: string, account?: string): number {
    const source = sourceOf(address);
    let failures = this.#count(`a:${source}`, { address: source, scope: 'address' });
    if (account !== undefined && !this.#isTrusted(account, source, this.#o.now()))
      failures = Math.max(
        failures,
        this.#count(`u:${account}`, { address: source, account, scope: 'account' }),
      );
    if (failures <= this.#o.delayAfter) return 0;
    return Math.min(
      this.#o.maxDelayMs,
      this.#o.baseDelayMs * 2 ** Math.min(20, failures - this.#o.delayAfter - 1),
    );
  }

  /**
   * A successful attempt: the address counts as the account's own for a while (the
   * account's lockout does not apply to it). Its failures are not forgiven: a client with a
   * key of its own could otherwise guess others' between its successes.
   */
  succeeded(address: string, account: string): void {
    this.#trusted.set(`${account}\u0000${sourceOf(address)}`, this.#o.now() + this.#o.windowMs * 4);
  }

  #isTrusted(account: string, source: string, now: number): boolean {
    return (this.#trusted.get(`${account}\u0000${source}`) ?? 0) > now;
  }

  #count(key: string, who: { address: string; account?: string; scope: 'address' | 'account' }): number {
    const now = this.#o.now();
    let record = this.#records.get(key);
    if (!record || now - record.since > this.#o.windowMs)
      record = { failures: 0, since: now, lockedUntil: 0 };
    record.failures++;
    if (record.failures >= this.#o.lockAfter && record.lockedUntil <= now) {
      record.lockedUntil = now + this.#o.lockMs;
      // Counted afresh once the lockout ends.
      record.since = record.lockedUntil;
      record.failures = 0;
      this.#o.onLockout?.({ ...who, seconds: Math.ceil(this.#o.lockMs / 1000) });
    }
    this.#records.set(key, record);
    return record.lockedUntil > now ? this.#o.lockAfter : record.failures;
  }
}

/**
 * Whom an address stands for: an IPv4-mapped IPv6 address is its IPv4 address, and an IPv6
 * address its /64 (one host usually holds a whole /64, so counting single addresses would
 * let it try 2^64 times).
 */
function sourceOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
