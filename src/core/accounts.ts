// Accounts and their secrets. API keys are stored as SHA-256 (they are long random
// tokens, so a fast hash is enough and lookup stays O(1)); SMPP passwords, short by the
// protocol's rules, as salted scrypt, compared in constant time.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { AccountConfig } from '../config/index.ts';
import type { Store, StoredAccount } from '../store/index.ts';
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

/** Where the hashes of keys made by `smsgw keys create` are kept, so a config load keeps them. */
interface IssuedKeys {
  issuedKeyHashes?: string[];
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
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
  readonly #bySystemId = new Map<string, Account>();
  readonly #byTwilioSid = new Map<string, Account>();

  constructor(store: Store) {
    this.#store = store;
  }

  /** Loads the stored accounts, then writes the config's over them (config wins). */
  async load(configured: readonly AccountConfig[]): Promise<void> {
    for (const a of configured) {
      const previous = await this.#store.getAccount(a.id);
      const issued = (previous?.settings as IssuedKeys | undefined)?.issuedKeyHashes ?? [];
      const previousSmpp = (previous?.settings as Partial<Account> | undefined)?.smpp;
      // Keep the stored hash when the password did not change: scrypt salts differ per run.
      const passwordHash =
        a.smpp && previousSmpp && (await verifyPassword(a.smpp.password, previousSmpp.passwordHash))
          ? previousSmpp.passwordHash
          : a.smpp
            ? await hashPassword(a.smpp.password)
            : null;
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
      await this.#store.upsertAccount({
        id: a.id,
        apiKeyHashes: [...a.apiKeys.map(hashApiKey), ...issued],
        settings: { ...account, issuedKeyHashes: issued },
      });
    }
    for (const stored of await this.#store.listAccounts()) this.#index(stored);
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
  async issueKey(accountId: string): Promise<string | null> {
    const stored = await this.#store.getAccount(accountId);
    if (!stored) return null;
    const key = `sk_${randomBytes(24).toString('base64url')}`;
    const hash = hashApiKey(key);
    const issued = [...((stored.settings as IssuedKeys).issuedKeyHashes ?? []), hash];
    await this.#store.upsertAccount({
      id: stored.id,
      apiKeyHashes: [...stored.apiKeyHashes, hash],
      settings: { ...stored.settings, issuedKeyHashes: issued },
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
    if (!stored) return undefined;
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
    return this.#byKeyHash.get(hashApiKey(key));
  }

  bySystemId(systemId: string): Account | undefined {
    return this.#bySystemId.get(systemId);
  }

  byTwilioSid(sid: string): Account | undefined {
    return this.#byTwilioSid.get(sid);
  }

  #index(stored: StoredAccount): void {
    const old = this.#byId.get(stored.id);
    if (old) {
      for (const [h, a] of this.#byKeyHash) if (a === old) this.#byKeyHash.delete(h);
      if (old.smpp) this.#bySystemId.delete(old.smpp.systemId);
      if (old.twilio) this.#byTwilioSid.delete(old.twilio.accountSid);
    }
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
