// Accounts and their secrets. API keys are stored as SHA-256 (they are long random
// tokens, so a fast hash is enough and lookup stays O(1)); SMPP passwords, short by the
// protocol's rules, as salted scrypt, compared in constant time.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { isDeepStrictEqual, promisify } from 'node:util';
import type { AccountConfig } from '../config/index.ts';
import type { Store, StoredAccount } from '../store/index.ts';
import { BoundedMap, stringBytes } from './bounded-map.ts';
import { type CountryCode, isCountryCode } from './numbers.ts';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export interface Account {
  id: string;
  /** `statuses`: the message statuses reported to it; null for the default set. */
  webhook: { url: string; secret: string | null; statuses?: string[] | null } | null;
  smpp: { systemId: string; passwordHash: string; maxBinds: number } | null;
  defaultFrom: string | null;
  /** Numbers written without `+` are read in this country; null: they are refused. */
  defaultCountry: CountryCode | null;
  mps: number;
  twilio: { accountSid: string; smsUrl?: string } | null;
}

/**
 * Kept in an account's stored settings: the hashes of keys made by `smsgw keys create` or the
 * admin API (a config load keeps them) and when each was made with its first characters;
 * the configured keys an admin revoked (a config load does not bring them back); whether
 * the account was deleted (its row stays, with no keys, for the messages that name it).
 */
interface IssuedKeys {
  issuedKeyHashes?: string[];
  issuedKeys?: Record<string, { prefix: string; createdAt: number; by: string }>;
  revokedKeyHashes?: string[];
  removed?: boolean;
}

/** An API key as listed to admins: never the key, only its id and, if it was issued, its start. */
export interface ApiKeyInfo {
  /** The first 16 hex digits of its SHA-256. */
  id: string;
  /** `config`: written in the config file; otherwise who issued it (`cli`, `admin:<key id>`). */
  source: string;
  prefix: string | null;
  createdAt: number | null;
}

/** The id an API key is listed and revoked by (never the key itself). */
export function apiKeyId(hash: string): string {
  return hash.slice(0, 16);
}

/** What `load` takes besides the accounts: hashes it keeps, accounts it takes away. */
export interface AccountLoadOptions {
  /** SMPP password hashes by account id (accounts made through the admin API: no plain password). */
  passwordHashes?: ReadonlyMap<string, string>;
  /** Accounts deleted through the admin API: their keys stop working. */
  removed?: readonly string[];
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** AccountRegistry's keys that matched, with their hashes: 64 KB, some 300 keys of 40 characters. */
function newVerifiedKeys(): BoundedMap<string, string> {
  return new BoundedMap(64 * 1024, (key, hash) => 64 + stringBytes(key) + stringBytes(hash));
}

/** `scrypt$<salt hex>$<hash hex>` */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${(await scryptAsync(password, salt, 32)).toString('hex')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, saltHex, hashHex] = stored.split('$');
  if (scheme !== 'scrypt' || !saltHex || !hashHex) return false;
  const expected = Buffer.from(hashHex, 'hex');
  const actual = await scryptAsync(password, Buffer.from(saltHex, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}

/** Equal-time comparison of two secrets of any length. */
export function secretEquals(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** All accounts in memory (few, read on every request), backed by the store. */
export class AccountRegistry {
  readonly #store: Store;
  readonly #byId = new Map<string, Account>();
  readonly #byKeyHash = new Map<string, Account>();
  /**
   * Keys that opened an account lately, with their hash: a client sends the same key on
   * every request, and its SHA-256 was ~1% of a REST message's CPU. Only keys that matched
   * go in (wrong ones cannot fill it), bounded in bytes; emptied whenever an account's keys
   * change, so a revoked key is neither accepted nor kept. A hit still goes through
   * #byKeyHash, so it opens only what the key's hash opens now.
   */
  #verifiedKeys = newVerifiedKeys();
  readonly #bySystemId = new Map<string, Account>();
  readonly #byTwilioSid = new Map<string, Account>();
  /** Per account, what `load` last wrote (see there). */
  readonly #loaded = new Map<string, string>();

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Loads the stored accounts, then writes the given ones over them (the config's, or what
   * the admin API made of them: see src/manage). Issued keys are kept, revoked ones left out.
   */
  async load(configured: readonly AccountConfig[], options: AccountLoadOptions = {}): Promise<void> {
    for (const a of configured) {
      // Loads repeat at every run-time change: an account as this process last wrote it is
      // not read and written again (nor are keys another process issued meanwhile overwritten).
      const fingerprint = JSON.stringify([a, options.passwordHashes?.get(a.id) ?? null]);
      if (this.#loaded.get(a.id) === fingerprint) continue;
      const previous = await this.#store.getAccount(a.id);
      const kept = previous?.settings.removed ? {} : ((previous?.settings ?? {}) as IssuedKeys);
      const issued = kept.issuedKeyHashes ?? [];
      const revoked = new Set(kept.revokedKeyHashes ?? []);
      const previousSmpp = (previous?.settings as Partial<Account> | undefined)?.smpp;
      // Keep the stored hash when the password did not change: scrypt salts differ per run.
      const passwordHash =
        (a.smpp && options.passwordHashes?.get(a.id)) ??
        (a.smpp && previousSmpp && (await verifyPassword(a.smpp.password, previousSmpp.passwordHash))
          ? previousSmpp.passwordHash
          : a.smpp
            ? await hashPassword(a.smpp.password)
            : null);
      const account: Account = {
        id: a.id,
        webhook: a.webhook
          ? { url: a.webhook.url, secret: a.webhook.secret ?? null, statuses: a.webhook.statuses ?? null }
          : null,
        smpp:
          a.smpp && passwordHash
            ? { systemId: a.smpp.systemId, passwordHash, maxBinds: a.smpp.maxBinds }
            : null,
        defaultFrom: a.defaultFrom ?? null,
        defaultCountry: a.defaultCountry && isCountryCode(a.defaultCountry) ? a.defaultCountry : null,
        mps: a.mps,
        twilio: a.twilio ?? null,
      };
      const keys: IssuedKeys = {
        issuedKeyHashes: issued,
        issuedKeys: kept.issuedKeys ?? {},
        revokedKeyHashes: [...revoked],
      };
      const row: StoredAccount = {
        id: a.id,
        apiKeyHashes: [...a.apiKeys.map(hashApiKey).filter((h) => !revoked.has(h)), ...issued],
        settings: JSON.parse(JSON.stringify({ ...account, ...keys })),
      };
      // Unchanged rows are not written again (every gateway loads at every change).
      if (!previous || !isDeepStrictEqual(previous, row)) await this.#store.upsertAccount(row);
      this.#loaded.set(a.id, fingerprint);
    }
    for (const id of options.removed ?? []) await this.remove(id);
    for (const stored of await this.#store.listAccounts()) {
      if (stored.settings.removed) this.#unindex(stored.id);
      else this.#index(stored);
    }
  }

  /**
   * Takes an account away (the admin API): its keys and SMPP credentials stop working at
   * once. Its row stays, without keys, for the messages and balance that name it.
   */
  async remove(id: string): Promise<void> {
    this.#loaded.delete(id);
    const stored = await this.#store.getAccount(id);
    if (stored && !stored.settings.removed)
      await this.#store.upsertAccount({ id, apiKeyHashes: [], settings: { removed: true } });
    this.#unindex(id);
  }

  /** The account's API keys, as admins see them (ids and prefixes, never a key). */
  async listKeys(accountId: string): Promise<ApiKeyInfo[] | null> {
    const stored = await this.#store.getAccount(accountId);
    if (!stored || stored.settings.removed) return null;
    const info = (stored.settings as IssuedKeys).issuedKeys ?? {};
    const issued = new Set((stored.settings as IssuedKeys).issuedKeyHashes ?? []);
    return stored.apiKeyHashes.map((hash) => {
      const made = info[hash];
      return {
        id: apiKeyId(hash),
        source: issued.has(hash) ? (made?.by ?? 'cli') : 'config',
        prefix: made?.prefix ?? null,
        createdAt: made?.createdAt ?? null,
      };
    });
  }

  /**
   * Revokes a key by its id: it stops working at once, and a configured one stays revoked
   * when the config is loaded again. False: no such key.
   */
  async revokeKey(accountId: string, keyId: string): Promise<boolean> {
    const stored = await this.#store.getAccount(accountId);
    const hash = stored?.apiKeyHashes.find((h) => apiKeyId(h) === keyId);
    if (!stored || stored.settings.removed || !hash) return false;
    const settings = stored.settings as IssuedKeys;
    const wasIssued = (settings.issuedKeyHashes ?? []).includes(hash);
    const issuedKeys = { ...settings.issuedKeys };
    delete issuedKeys[hash];
    const updated: StoredAccount = {
      id: stored.id,
      apiKeyHashes: stored.apiKeyHashes.filter((h) => h !== hash),
      settings: {
        ...stored.settings,
        issuedKeyHashes: (settings.issuedKeyHashes ?? []).filter((h) => h !== hash),
        issuedKeys,
        revokedKeyHashes: wasIssued
          ? (settings.revokedKeyHashes ?? [])
          : [...(settings.revokedKeyHashes ?? []), hash],
      },
    };
    await this.#store.upsertAccount(updated);
    this.#index(updated);
    return true;
  }

  /**
   * Keeps the account's keys as issued ones, so a load that names none (an account only
   * the store had, taken over by the admin API) keeps them working.
   */
  async adoptKeys(accountId: string): Promise<void> {
    const stored = await this.#store.getAccount(accountId);
    if (!stored || stored.settings.removed) return;
    const issued = new Set((stored.settings as IssuedKeys).issuedKeyHashes ?? []);
    for (const h of stored.apiKeyHashes) issued.add(h);
    await this.#store.upsertAccount({
      ...stored,
      settings: { ...stored.settings, issuedKeyHashes: [...issued] },
    });
  }

  /** Creates or replaces an account (admin API, the no-config demo account). */
  async save(account: Account, apiKeyHashes: string[]): Promise<void> {
    await this.#store.upsertAccount({ id: account.id, apiKeyHashes, settings: { ...account } });
    const stored = await this.#store.getAccount(account.id);
    if (stored) this.#index(stored);
  }

  /**
   * A new API key for a stored account (`smsgw keys create`): kept as its hash only, beside
   * the configured keys, and kept when the config is loaded again. Null: no such account.
   */
  async issueKey(accountId: string, by = 'cli'): Promise<string | null> {
    const stored = await this.#store.getAccount(accountId);
    if (!stored || stored.settings.removed) return null;
    const key = `sk_${randomBytes(24).toString('base64url')}`;
    const hash = hashApiKey(key);
    const settings = stored.settings as IssuedKeys;
    const issued = [...(settings.issuedKeyHashes ?? []), hash];
    const issuedKeys = {
      ...settings.issuedKeys,
      [hash]: { prefix: key.slice(0, 7), createdAt: Date.now(), by },
    };
    await this.#store.upsertAccount({
      id: stored.id,
      apiKeyHashes: [...stored.apiKeyHashes, hash],
      settings: { ...stored.settings, issuedKeyHashes: issued, issuedKeys },
    });
    this.#index({ ...stored, apiKeyHashes: [...stored.apiKeyHashes, hash] });
    return key;
  }

  /**
   * A key byApiKey does not know, looked up in the store: one made by `smsgw keys create`
   * while this gateway runs works at once. (Repeated wrong keys are the rate limiter's concern.)
   */
  async byStoredApiKey(key: string): Promise<Account | undefined> {
    const stored = await this.#store.findAccountByApiKeyHash(hashApiKey(key));
    if (!stored || stored.settings.removed) return undefined;
    this.#index(stored);
    return this.#byId.get(stored.id);
  }

  get(id: string): Account | undefined {
    return this.#byId.get(id);
  }

  list(): Account[] {
    return [...this.#byId.values()];
  }

  byApiKey(key: string): Account | undefined {
    const known = this.#verifiedKeys.get(key);
    if (known !== undefined) return this.#byKeyHash.get(known);
    const hash = hashApiKey(key);
    const account = this.#byKeyHash.get(hash);
    if (account) this.#verifiedKeys.set(key, hash);
    return account;
  }

  bySystemId(systemId: string): Account | undefined {
    return this.#bySystemId.get(systemId);
  }

  byTwilioSid(sid: string): Account | undefined {
    return this.#byTwilioSid.get(sid);
  }

  #unindex(id: string): void {
    const old = this.#byId.get(id);
    if (!old) return;
    for (const [h, a] of this.#byKeyHash) if (a === old) this.#byKeyHash.delete(h);
    this.#verifiedKeys = newVerifiedKeys();
    if (old.smpp && this.#bySystemId.get(old.smpp.systemId) === old)
      this.#bySystemId.delete(old.smpp.systemId);
    if (old.twilio && this.#byTwilioSid.get(old.twilio.accountSid) === old)
      this.#byTwilioSid.delete(old.twilio.accountSid);
    this.#byId.delete(id);
  }

  #index(stored: StoredAccount): void {
    this.#unindex(stored.id);
    const s = stored.settings as Partial<Account>;
    const account: Account = {
      id: stored.id,
      webhook: s.webhook ?? null,
      smpp: s.smpp ?? null,
      defaultFrom: s.defaultFrom ?? null,
      defaultCountry: s.defaultCountry ?? null,
      mps: s.mps ?? 0,
      twilio: s.twilio ?? null,
    };
    this.#byId.set(account.id, account);
    for (const h of stored.apiKeyHashes) this.#byKeyHash.set(h, account);
    if (account.smpp) this.#bySystemId.set(account.smpp.systemId, account);
    if (account.twilio) this.#byTwilioSid.set(account.twilio.accountSid, account);
  }
}
