// The suppression (opt-out) list: numbers an account must not message, for all its senders
// or for one sender number. Fed by the API, by STOP-style replies and by hard-failure
// receipts; checked by the gateway on every outbound path, so no front door can forget it.
import type { NewRecord, Page, Store, StoredRecord } from '../store/index.ts';
import { GatewayError } from './errors.ts';
import { type CountryCode, destinationOf, normaliseSender } from './numbers.ts';

const kind = 'suppression';
/** The sender part of the id of an account-wide entry. */
const everySender = '*';

export type SuppressionSource = 'api' | 'import' | 'keyword' | 'receipt';

export interface Suppression {
  to: string;
  /** The sender number this entry is for; null: every sender of the account. */
  from: string | null;
  source: SuppressionSource;
  /** The word that opted out (STOP...), or why (a receipt's error). */
  reason: string | null;
  createdAt: number;
}

interface SuppressionData {
  from: string | null;
  source: SuppressionSource;
  reason: string | null;
}

/**
 * How long an account's "has entries or not" is taken as known. With none, the two lookups
 * per message are skipped; with some, only the check for any is. Entries added here count
 * at once; one added by another gateway on the same store (cluster mode) as soon as its
 * notice is heard, and within this long if it is not.
 */
const knownForMs = 1000;

/** Whether an account had any entry (`found`, once `read` answered), read at `at`. */
interface KnownEntries {
  read: Promise<void>;
  found?: boolean;
  at: number;
}

export class Suppressions {
  readonly #store: Store;
  readonly #now: () => number;
  /**
   * Per account: whether it had any entry when last looked at, and when. The lookup itself
   * is kept: calls made while it runs (a batch's chunk at once) share it; `found` is its
   * answer once it came (for knownEmpty, which cannot wait).
   */
  readonly #known = new Map<string, KnownEntries>();

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
    store
      .onNotice((notice) => {
        if (notice.kind === 'suppressions') this.#known.delete(notice.accountId);
      })
      .catch(() => {}); // unheard: knownForMs bounds how long a change goes unseen
  }

  /** After the commit: a check that read the list before it must not vouch for it, here or elsewhere. */
  #changed(accountId: string): void {
    this.#known.delete(accountId);
    this.#store.announce({ kind: 'suppressions', accountId }).catch(() => {});
  }

  /**
   * Normalises the number (and sender), reading one written without `+` in the account's
   * country; refuses what is not one, naming the field.
   */
  static parse(to: unknown, from: unknown, country: CountryCode | null): { to: string; from: string | null } {
    if (typeof to !== 'string')
      throw new GatewayError('invalid_number', `'${String(to)}' is not a phone number`, 'to');
    const number = destinationOf(to, country);
    if (from === undefined || from === null) return { to: number, from: null };
    const sender = typeof from === 'string' ? normaliseSender(from, country) : null;
    if (!sender) throw new GatewayError('invalid_sender', `'${String(from)}' is not a sender`, 'from');
    return { to: number, from: sender };
  }

  async add(
    accountId: string,
    entry: { to: string; from: string | null; source: SuppressionSource; reason?: string | null },
  ): Promise<Suppression> {
    const stored = await this.#store.putRecord(this.#record(accountId, entry, this.#now()));
    this.#changed(accountId);
    return view(stored);
  }

  /** Many at once, in one transaction (CSV import). */
  async addMany(
    accountId: string,
    entries: Array<{ to: string; from: string | null; source: SuppressionSource; reason?: string | null }>,
  ): Promise<void> {
    const now = this.#now();
    await this.#store.putRecords(entries.map((e) => this.#record(accountId, e, now)));
    this.#changed(accountId);
  }

  /** Removes the entry for this sender (or the account-wide one); true if there was one. */
  remove(accountId: string, to: string, from: string | null = null): Promise<boolean> {
    return this.#store.deleteRecord(kind, recordId(accountId, to, from));
  }

  /** Removes every entry for the number, whatever the sender (START, UNSTOP); how many. */
  async removeAll(accountId: string, to: string): Promise<number> {
    let removed = 0;
    for (;;) {
      const page = await this.#store.listRecords<SuppressionData>(kind, { accountId, ref: to }, null, 500);
      for (const r of page.data) if (await this.#store.deleteRecord(kind, r.id)) removed++;
      if (page.nextCursor === null) return removed;
    }
  }

  async list(
    accountId: string,
    filter: { to?: string },
    cursor: string | null,
    limit: number,
  ): Promise<Page<Suppression>> {
    const page = await this.#store.listRecords<SuppressionData>(
      kind,
      { accountId, ...(filter.to ? { ref: filter.to } : {}) },
      cursor,
      limit,
    );
    return { data: page.data.map(view), nextCursor: page.nextCursor };
  }

  /**
   * True when the account is known, as isSuppressed last read it, to have no entry at all:
   * most accounts, whose messages then skip the asynchronous check.
   */
  knownEmpty(accountId: string): boolean {
    const known = this.#known.get(accountId);
    return known?.found === false && this.#now() - known.at < knownForMs;
  }

  /** Whether the account may not send to `to` from `from` (normalised numbers). */
  async isSuppressed(accountId: string, to: string, from: string): Promise<boolean> {
    if (!(await this.#hasEntries(accountId))) return false;
    const [anySender, thisSender] = await Promise.all([
      this.#store.getRecord(kind, recordId(accountId, to, null)),
      this.#store.getRecord(kind, recordId(accountId, to, from)),
    ]);
    return anySender !== null || thisSender !== null;
  }

  /** Those of `tos` the account may not send to from `from`, in one read (a batch's chunk). */
  async suppressedAmong(accountId: string, tos: readonly string[], from: string): Promise<Set<string>> {
    if (!(await this.#hasEntries(accountId))) return new Set();
    const found = await this.#store.existingRecordIds(
      kind,
      tos.flatMap((to) => [recordId(accountId, to, null), recordId(accountId, to, from)]),
    );
    return new Set(
      tos.filter(
        (to) => found.has(recordId(accountId, to, null)) || found.has(recordId(accountId, to, from)),
      ),
    );
  }

  /** Whether the account has any entry: read at most once per knownForMs, calls meanwhile sharing the read. */
  async #hasEntries(accountId: string): Promise<boolean> {
    const now = this.#now();
    let known = this.#known.get(accountId);
    if (known === undefined || now - known.at >= knownForMs) {
      const lookup = { at: now } as KnownEntries;
      lookup.read = this.#store.listRecords(kind, { accountId }, null, 1).then((page) => {
        lookup.found = page.data.length > 0;
      });
      known = lookup;
      this.#known.set(accountId, lookup);
      // A failed lookup is not kept: the next call tries again.
      lookup.read.catch(() => {
        if (this.#known.get(accountId) === lookup) this.#known.delete(accountId);
      });
    }
    await known.read;
    return known.found === true;
  }

  #record(
    accountId: string,
    e: { to: string; from: string | null; source: SuppressionSource; reason?: string | null },
    now: number,
  ): NewRecord<SuppressionData> {
    return {
      kind,
      id: recordId(accountId, e.to, e.from),
      accountId,
      ref: e.to,
      status: 'active',
      dueAt: null,
      createdAt: now,
      updatedAt: now,
      data: { from: e.from, source: e.source, reason: e.reason ?? null },
    };
  }
}

function recordId(accountId: string, to: string, from: string | null): string {
  return `${accountId}\u0000${from ?? everySender}\u0000${to}`;
}

function view(r: StoredRecord<SuppressionData>): Suppression {
  return {
    to: r.ref!,
    from: r.data.from,
    source: r.data.source,
    reason: r.data.reason,
    createdAt: r.createdAt,
  };
}
