// Live management: accounts, their keys and SMPP credentials, connectors and the MT routes
// changed at run time through the admin API, validated as the config file is, kept in the
// store and put in force on every gateway of the store without a restart; the config file
// re-read on demand (reload, SIGHUP); every change written to an audit log. (MO routes keep
// their own record, src/twoway, and are audited here too.)
//
// Precedence: an object created, changed or deleted through the API is kept in the store as
// a `managed` record and wins over the file from then on, at every start and reload; the
// file goes on deciding every object the API never touched. API keys are apart: the
// file's keys of an account stay its keys (unless revoked through the API), beside those
// issued through the API or `smsgw keys create`.
import type { AccountConfig, ConnectorConfig, GatewayConfig, MtRouteConfig } from '../config/index.ts';
import { ConfigError, isCredentialHeader, validateConfig } from '../config/index.ts';
import type { AccountRegistry, ApiKeyInfo } from '../core/index.ts';
import { GatewayError, hashPassword, newId } from '../core/index.ts';
import type { Store, StoredRecord } from '../store/index.ts';
import { StoreConflictError } from '../store/index.ts';

/** An account as kept when the API made or changed it: no API keys, the SMPP password hashed. */
export type ManagedAccount = Omit<AccountConfig, 'apiKeys' | 'smpp'> & {
  smpp?: { systemId: string; passwordHash: string; maxBinds: number; allowIps?: string[] };
};

/** What is in force: the file's objects with the API's over them. */
export interface EffectiveConfig {
  config: GatewayConfig;
  /** SMPP password hashes of the accounts the API made or changed (they have no plain password). */
  passwordHashes: Map<string, string>;
  /** Accounts to take away: deleted through the API, or gone from the file at a reload. */
  removed: string[];
}

export type AuditObject = 'account' | 'apiKey' | 'connector' | 'routes' | 'config';
type ManagedObject = 'account' | 'connector' | 'routes';

export interface AuditEntry {
  id: string;
  at: string;
  /** `admin:<key id>` (the admin key's id, as API keys are listed), `config` (a reload) or `cli`. */
  actor: string;
  /** `credit`: a billed account's balance topped up or corrected (`after`: amount, reference, balance). */
  action: 'create' | 'update' | 'delete' | 'reset' | 'reload' | 'credit';
  object: AuditObject;
  objectId: string;
  /** The object as admins see it, secrets left out; null when it did not exist. */
  before: unknown;
  after: unknown;
}

const managedKind = 'managed';
const auditKind = 'audit';
const mtRoutesId = 'routes:mt';
/** Stands in for a hashed SMPP password while an account is validated (the schema wants one). */
const passwordPlaceholder = 'x';

export interface ManagementOptions {
  store: Store;
  /** The config file as read at start. */
  file: GatewayConfig;
  /** Reads the config file again (reload); absent when the gateway runs without one. */
  readFile?: () => GatewayConfig;
  accounts: AccountRegistry;
  /** MO rules in force name accounts: such an account cannot be deleted. */
  moRouteAccounts: () => ReadonlySet<string>;
  /** Whether an admin set the MO rules (PUT /v1/admin/routes/mo): the file's then do not apply. */
  moRoutesSetByAdmin?: () => Promise<boolean>;
  onError?: (err: Error) => void;
}

export class Management {
  readonly #o: ManagementOptions;
  #file: GatewayConfig;
  /** `account:<id>`, `connector:<id>`, `routes:mt`: the value, or null for one deleted through the API. */
  #records = new Map<string, { value: unknown }>();
  #effective: EffectiveConfig;
  #apply: (effective: EffectiveConfig) => Promise<void> = async () => {};
  /** When the last audit entry was written here (entries get distinct times, in order). */
  #auditedAt = 0;
  /** Changes one at a time: each validates against what the one before it put in force. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ManagementOptions) {
    this.#o = options;
    this.#file = options.file;
    this.#effective = this.#merge(this.#file);
  }

  /**
   * Reads what the API stored; resolves with what is in force (before anything is built on
   * it) and what does not hold together: MT rules set through the API that name a connector
   * the file no longer has (messages for them wait until it is back or the rules change).
   */
  async load(): Promise<EffectiveConfig & { problems: string[] }> {
    await this.#readRecords();
    this.#effective = this.#merge(this.#file);
    return {
      ...this.#effective,
      problems: danglingConnectors(this.#effective.config).map((p) => p.message),
    };
  }

  /**
   * From now on changes are put in force with `apply`, and those another gateway on the
   * store makes are heard and put in force here too.
   */
  async follow(apply: (effective: EffectiveConfig) => Promise<void>): Promise<void> {
    this.#apply = apply;
    await this.#o.store.onNotice((notice) => {
      if (notice.kind !== 'managed') return;
      this.#serial(async () => {
        await this.#readRecords();
        await this.#putInForce(this.#merge(this.#file));
      }).catch((err) => this.#o.onError?.(err as Error));
    });
  }

  get effective(): GatewayConfig {
    return this.#effective.config;
  }

  /** The config file as last read. */
  get file(): GatewayConfig {
    return this.#file;
  }

  /** Whether the API made or changed the object (it then wins over the file). */
  source(object: ManagedObject, id: string): 'admin' | 'config' {
    return this.#records.has(`${object}:${id}`) ? 'admin' : 'config';
  }

  accountView(id: string): Record<string, unknown> | undefined {
    const a = this.#find(id);
    return a ? { ...accountView(a), source: this.source('account', id) } : undefined;
  }

  createAccount(body: Record<string, unknown>, actor: string) {
    return this.#serial(async () => {
      refuseFields(body);
      const id = body.id;
      if (typeof id === 'string' && (this.#find(id) || this.#o.accounts.get(id)))
        throw new GatewayError('account_exists', `account ${id} exists already`, 'id', 409);
      const account = await this.#validAccount(body, undefined);
      await this.#change(actor, 'create', 'account', account.id, account, undefined);
      return this.accountView(account.id)!;
    });
  }

  /**
   * Changes the fields given (null removes one); `smpp` given whole (with its password)
   * replaces the credentials. The account is the API's from then on.
   */
  updateAccount(id: string, patch: Record<string, unknown>, actor: string) {
    return this.#serial(async () => {
      refuseFields(patch);
      const current = this.#find(id);
      if (!current) throw new GatewayError('not_found', `no account ${id}`, 'id', 404);
      if (patch.id !== undefined && patch.id !== id)
        throw new GatewayError('invalid_field', 'an account id cannot be changed', 'id');
      const merged: Record<string, unknown> = { ...this.#managedOf(current) };
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      const account = await this.#validAccount(merged, this.#managedOf(current).smpp);
      // One only the store had: its keys are no file's to give back at the next load.
      if (!this.#effective.config.accounts.some((a) => a.id === id)) await this.#o.accounts.adoptKeys(id);
      await this.#change(actor, 'update', 'account', id, account, current);
      return this.accountView(id)!;
    });
  }

  deleteAccount(id: string, actor: string) {
    return this.#serial(async () => {
      const current = this.#find(id);
      if (!current) throw new GatewayError('not_found', `no account ${id}`, 'id', 404);
      if (this.#o.moRouteAccounts().has(id))
        throw new GatewayError('account_in_use', `MO routes send inbound messages to ${id}`, 'id', 409);
      await this.#change(actor, 'delete', 'account', id, null, current);
    });
  }

  /** A new API key, returned this once; stored as its hash. */
  issueKey(accountId: string, actor: string) {
    return this.#serial(async () => {
      if (!this.#find(accountId)) throw new GatewayError('not_found', `no account ${accountId}`, 'id', 404);
      const key = await this.#o.accounts.issueKey(accountId, actor);
      if (key === null) throw new GatewayError('not_found', `no account ${accountId}`, 'id', 404);
      const info = (await this.#o.accounts.listKeys(accountId))!.at(-1)!;
      await this.audit(actor, 'create', 'apiKey', `${accountId}/${info.id}`, null, info);
      await this.#o.store.announce({ kind: 'managed' });
      return { ...info, key };
    });
  }

  async listKeys(accountId: string): Promise<ApiKeyInfo[]> {
    const keys = this.#find(accountId) ? await this.#o.accounts.listKeys(accountId) : null;
    if (!keys) throw new GatewayError('not_found', `no account ${accountId}`, 'id', 404);
    return keys;
  }

  revokeKey(accountId: string, keyId: string, actor: string) {
    return this.#serial(async () => {
      const keys = await this.listKeys(accountId);
      const info = keys.find((k) => k.id === keyId);
      if (!info || !(await this.#o.accounts.revokeKey(accountId, keyId)))
        throw new GatewayError('not_found', `no key ${keyId} on account ${accountId}`, 'keyId', 404);
      await this.audit(actor, 'delete', 'apiKey', `${accountId}/${keyId}`, info, null);
      await this.#o.store.announce({ kind: 'managed' });
    });
  }

  /** A connector's settings in force, secrets left out. */
  connectorView(id: string): Record<string, unknown> | undefined {
    const c = this.#connector(id);
    return c ? { source: this.source('connector', id), settings: redacted(c) } : undefined;
  }

  createConnector(body: Record<string, unknown>, actor: string) {
    return this.#serial(async () => {
      if (typeof body.id === 'string' && this.#connector(body.id))
        throw new GatewayError('connector_exists', `connector ${body.id} exists already`, 'id', 409);
      const connector = validConnector(body);
      await this.#change(actor, 'create', 'connector', connector.id, connector, undefined);
      return this.connectorView(connector.id)!;
    });
  }

  /** Changes the fields given (null removes one; secrets not given are kept); its binds restart. */
  updateConnector(id: string, patch: Record<string, unknown>, actor: string) {
    return this.#serial(async () => {
      const current = this.#connector(id);
      if (!current) throw new GatewayError('not_found', `no connector ${id}`, 'id', 404);
      if (patch.id !== undefined && patch.id !== id)
        throw new GatewayError('invalid_field', 'a connector id cannot be changed', 'id');
      const merged: Record<string, unknown> = structuredClone(current) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete merged[k];
        else merged[k] = keptSecrets(v, merged[k], k);
      }
      const connector = validConnector(merged);
      await this.#change(actor, 'update', 'connector', id, connector, current);
      return this.connectorView(id)!;
    });
  }

  /** Stops and removes a connector; refused while MT routes name it. */
  deleteConnector(id: string, actor: string) {
    return this.#serial(async () => {
      const current = this.#connector(id);
      if (!current) throw new GatewayError('not_found', `no connector ${id}`, 'id', 404);
      const rule = this.#effective.config.routes.mt.findIndex((r) => r.connectors.includes(id));
      if (rule >= 0)
        throw new GatewayError(
          'connector_in_use',
          `routes.mt[${rule}] sends through ${id}: change the routes first`,
          'id',
          409,
        );
      await this.#change(actor, 'delete', 'connector', id, null, current);
    });
  }

  mtRoutes(): { source: 'admin' | 'config'; routes: readonly MtRouteConfig[] } {
    return { source: this.source('routes', 'mt'), routes: this.#effective.config.routes.mt };
  }

  /** Replaces the MT rules (null: back to the file's). */
  setMtRoutes(routes: unknown, actor: string) {
    return this.#serial(async () => {
      const before = this.#effective.config.routes.mt;
      if (routes === null) {
        if (this.#records.has(mtRoutesId))
          await this.#change(actor, 'reset', 'routes', 'mt', undefined, before);
        return this.mtRoutes();
      }
      // An interceptor runs code from the gateway's disk: the API may keep the file's, never name another.
      const fileModules = new Set(
        [...this.#file.routes.mt, ...this.#file.routes.mo].flatMap((r) =>
          r.interceptor ? [r.interceptor.module] : [],
        ),
      );
      if (Array.isArray(routes))
        routes.forEach((r, i) => {
          const module = (r as { interceptor?: { module?: unknown } } | null)?.interceptor?.module;
          if (module !== undefined && !fileModules.has(module as string))
            throw new GatewayError(
              'invalid_routes',
              `routes.mt[${i}].interceptor: only the config file may name an interceptor module`,
              `routes.mt[${i}].interceptor`,
            );
        });
      let valid: MtRouteConfig[];
      try {
        valid = validateConfig({
          // Stand-ins for the connectors in force: the rules may name those.
          connectors: this.#effective.config.connectors.map((c) => ({ id: c.id, type: 'simulator' })),
          routes: { mt: routes },
        }).routes.mt;
      } catch (err) {
        throw invalid(err, 'invalid_routes', 'routes');
      }
      await this.#change(actor, 'update', 'routes', 'mt', valid, before);
      return this.mtRoutes();
    });
  }

  /**
   * Reads the config file again and puts in force what changed in it for the objects the
   * API never touched; a file with a problem is refused and nothing changes.
   */
  reload(actor: string) {
    return this.#serial(async () => {
      if (!this.#o.readFile)
        throw new GatewayError('no_config_file', 'the gateway runs without a config file', undefined, 409);
      let next: GatewayConfig;
      try {
        next = this.#o.readFile();
      } catch (err) {
        throw invalid(err, 'invalid_config', undefined);
      }
      await this.#readRecords();
      const before = this.#effective.config;
      const merged = this.#merge(next);
      const [dangling] = danglingConnectors(merged.config);
      if (dangling) throw new GatewayError('invalid_config', dangling.message, dangling.path);
      const kept = new Set(merged.config.accounts.map((a) => a.id));
      // Accounts the file no longer has (and the API never took) go.
      for (const a of this.#file.accounts)
        if (!kept.has(a.id) && !this.#records.has(`account:${a.id}`)) merged.removed.push(a.id);
      const changes: Array<Parameters<Management['audit']>> = [];
      const views = (list: readonly AccountConfig[]) =>
        new Map(list.map((a) => [a.id, JSON.stringify(accountView(a))]));
      const old = views(before.accounts);
      const now = views(merged.config.accounts);
      for (const [id, view] of now) {
        if (old.get(id) === view) continue;
        changes.push([
          actor,
          old.has(id) ? 'update' : 'create',
          'account',
          id,
          old.has(id) ? JSON.parse(old.get(id)!) : null,
          JSON.parse(view),
        ]);
      }
      for (const [id, view] of old)
        if (!now.has(id)) changes.push([actor, 'delete', 'account', id, JSON.parse(view), null]);
      const connectorViews = (list: readonly ConnectorConfig[]) =>
        new Map(list.map((c) => [c.id, JSON.stringify(redacted(c))]));
      const oldConnectors = connectorViews(before.connectors);
      const newConnectors = connectorViews(merged.config.connectors);
      for (const [id, view] of newConnectors) {
        if (oldConnectors.get(id) === view) continue;
        const was = oldConnectors.get(id);
        changes.push([
          actor,
          was ? 'update' : 'create',
          'connector',
          id,
          was ? JSON.parse(was) : null,
          JSON.parse(view),
        ]);
      }
      for (const [id, view] of oldConnectors)
        if (!newConnectors.has(id)) changes.push([actor, 'delete', 'connector', id, JSON.parse(view), null]);
      if (JSON.stringify(before.routes.mt) !== JSON.stringify(merged.config.routes.mt))
        changes.push([actor, 'update', 'routes', 'mt', before.routes.mt, merged.config.routes.mt]);
      if (
        JSON.stringify(this.#file.routes.mo) !== JSON.stringify(next.routes.mo) &&
        !(await this.#o.moRoutesSetByAdmin?.())
      )
        changes.push([actor, 'update', 'routes', 'mo', this.#file.routes.mo, next.routes.mo]);
      this.#file = next;
      await this.#putInForce(merged);
      for (const change of changes) await this.audit(...change);
      await this.audit(actor, 'reload', 'config', 'file', null, { changes: changes.length });
      return { changes: changes.map(([, action, object, objectId]) => ({ action, object, id: objectId })) };
    });
  }

  async listAudit(object: string | undefined, cursor: string | null, limit: number) {
    const page = await this.#o.store.listRecords<AuditEntry>(
      auditKind,
      object ? { ref: object } : {},
      cursor,
      limit,
    );
    return { data: page.data.map((r) => r.data), nextCursor: page.nextCursor };
  }

  /** Writes an audit entry (secrets must already be left out of `before` and `after`). */
  async audit(
    actor: string,
    action: AuditEntry['action'],
    object: AuditObject,
    objectId: string,
    before: unknown,
    after: unknown,
  ): Promise<void> {
    // Each entry later than the one before: the log lists them in the order they were made.
    const now = Math.max(Date.now(), this.#auditedAt + 1);
    this.#auditedAt = now;
    const id = newId(now);
    const entry: AuditEntry = {
      id,
      at: new Date(now).toISOString(),
      actor,
      action,
      object,
      objectId,
      before: before ?? null,
      after: after ?? null,
    };
    await this.#o.store.putRecord({
      kind: auditKind,
      id,
      accountId: '',
      ref: object,
      status: action,
      dueAt: null,
      createdAt: now,
      updatedAt: now,
      data: entry,
    });
  }

  /**
   * Stores the object's new value (null: deleted; undefined: back to the file's), writes
   * the audit entry, puts it in force here and tells the other gateways.
   */
  async #change(
    actor: string,
    action: AuditEntry['action'],
    object: ManagedObject,
    id: string,
    value: unknown,
    before: unknown,
  ): Promise<void> {
    const key = `${object}:${id}`;
    const now = Date.now();
    // A create is a compare-and-set: another gateway making the same id at once gets a 409.
    const made = () =>
      new GatewayError(`${object}_exists`, `${object} ${id} was just made on another gateway`, 'id', 409);
    const existing =
      action === 'create' ? await this.#o.store.getRecord<{ value: unknown }>(managedKind, key) : null;
    if (existing && existing.data.value !== null) throw made();
    const expectedVersion = action === 'create' ? (existing?.version ?? 0) : undefined;
    if (value === undefined) await this.#o.store.deleteRecord(managedKind, key);
    else
      await this.#o.store
        .putRecord(
          {
            kind: managedKind,
            id: key,
            accountId: '',
            ref: object,
            status: value === null ? 'deleted' : null,
            dueAt: null,
            createdAt: now,
            updatedAt: now,
            data: { value },
          },
          expectedVersion,
        )
        .catch((err) => {
          throw err instanceof StoreConflictError ? made() : err;
        });
    await this.#readRecords();
    const effective = this.#merge(this.#file);
    await this.#putInForce(effective);
    const view = (v: unknown) =>
      !v
        ? null
        : object === 'account'
          ? accountView(v as AccountConfig | ManagedAccount)
          : object === 'connector'
            ? redacted(v as ConnectorConfig)
            : v;
    const after =
      object === 'account'
        ? this.#find(id)
        : object === 'connector'
          ? this.#connector(id)
          : effective.config.routes.mt;
    await this.audit(actor, action, object, id, view(before), view(after));
    await this.#o.store.announce({ kind: 'managed' });
  }

  async #putInForce(effective: EffectiveConfig): Promise<void> {
    this.#effective = effective;
    await this.#apply(effective);
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  #connector(id: string): ConnectorConfig | undefined {
    return this.#effective.config.connectors.find((c) => c.id === id);
  }

  #find(id: string): AccountConfig | undefined {
    return this.#effective.config.accounts.find((a) => a.id === id) ?? this.#storedOnly(id);
  }

  /**
   * An account the store has but neither the file nor the API names: the no-config demo
   * account, or one a former config file had (its keys still work). Its settings are those
   * the store keeps; a change through the API makes it the API's.
   */
  #storedOnly(id: string): AccountConfig | undefined {
    const a = this.#o.accounts.get(id);
    if (!a) return undefined;
    return {
      id: a.id,
      apiKeys: [],
      mps: a.mps,
      ...(a.defaultFrom ? { defaultFrom: a.defaultFrom } : {}),
      ...(a.defaultCountry ? { defaultCountry: a.defaultCountry } : {}),
      ...(a.twilio ? { twilio: a.twilio } : {}),
      ...(a.webhook
        ? {
            webhook: {
              url: a.webhook.url,
              ...(a.webhook.secret ? { secret: a.webhook.secret } : {}),
              ...(a.webhook.statuses ? { statuses: a.webhook.statuses } : {}),
            },
          }
        : {}),
      // The password is kept as its hash (see #managedOf).
      ...(a.smpp ? { smpp: { systemId: a.smpp.systemId, password: '', maxBinds: a.smpp.maxBinds } } : {}),
    };
  }

  /** The account in force as the API keeps it (no keys; the SMPP password as its hash). */
  #managedOf(a: AccountConfig): ManagedAccount {
    const { apiKeys: _keys, smpp, policy, ...rest } = a;
    const { keyAllowIps: _perKey, ...ownPolicy } = policy ?? {};
    const passwordHash =
      this.#effective.passwordHashes.get(a.id) ?? this.#o.accounts.get(a.id)?.smpp?.passwordHash;
    return {
      ...rest,
      ...(policy ? { policy: ownPolicy } : {}),
      ...(smpp && passwordHash
        ? {
            smpp: {
              systemId: smpp.systemId,
              passwordHash,
              maxBinds: smpp.maxBinds,
              ...(smpp.allowIps ? { allowIps: smpp.allowIps } : {}),
            },
          }
        : {}),
    };
  }

  /**
   * Validates an account as the file's `accounts[0]` would be (problems name that path)
   * and checks it against the others; `keptSmpp`: credentials kept when `smpp` comes
   * without a password (it was not changed).
   */
  async #validAccount(
    raw: Record<string, unknown>,
    keptSmpp: ManagedAccount['smpp'],
  ): Promise<ManagedAccount> {
    const candidate = structuredClone(raw);
    const smpp = candidate.smpp;
    const keepsPassword =
      typeof smpp === 'object' && smpp !== null && keptSmpp !== undefined && 'passwordHash' in smpp;
    if (keepsPassword) {
      const kept = smpp as Record<string, unknown>;
      delete kept.passwordHash;
      kept.password = passwordPlaceholder;
    }
    let account: AccountConfig;
    try {
      account = validateConfig({ accounts: [candidate] }).accounts[0]!;
    } catch (err) {
      throw invalid(err, 'invalid_account', 'accounts[0]');
    }
    if (account.smpp) {
      const owner = this.#o.accounts.bySystemId(account.smpp.systemId);
      const other = this.#effective.config.accounts.find(
        (a) => a.id !== account.id && a.smpp?.systemId === account.smpp!.systemId,
      );
      if ((owner && owner.id !== account.id) || other)
        throw new GatewayError(
          'invalid_account',
          `accounts[0].smpp.systemId: '${account.smpp.systemId}' is another account's`,
          'accounts[0].smpp.systemId',
        );
    }
    const { apiKeys: _none, smpp: given, ...rest } = account;
    return {
      ...rest,
      ...(given
        ? {
            smpp: {
              systemId: given.systemId,
              passwordHash:
                keepsPassword && keptSmpp ? keptSmpp.passwordHash : await hashPassword(given.password),
              maxBinds: given.maxBinds,
              ...(given.allowIps ? { allowIps: given.allowIps } : {}),
            },
          }
        : {}),
    };
  }

  async #readRecords(): Promise<void> {
    const records = new Map<string, { value: unknown }>();
    let cursor: string | null = null;
    do {
      const page: { data: StoredRecord<{ value: unknown }>[]; nextCursor: string | null } =
        await this.#o.store.listRecords<{ value: unknown }>(managedKind, {}, cursor, 500);
      for (const r of page.data) records.set(r.id, { value: r.data.value });
      cursor = page.nextCursor;
    } while (cursor);
    // Oldest first (pages are newest first): objects the API made come after the file's, in the order made.
    this.#records = new Map([...records].reverse());
  }

  /** The file's objects, with those the API made, changed or deleted over them. */
  #merge(file: GatewayConfig): EffectiveConfig {
    const passwordHashes = new Map<string, string>();
    const removed: string[] = [];
    const accounts: AccountConfig[] = [];
    const fromFile = new Map(file.accounts.map((a) => [a.id, a]));
    const put = (managed: ManagedAccount, fileAccount: AccountConfig | undefined) => {
      const { smpp, policy, ...rest } = managed;
      const perKey = fileAccount?.policy?.keyAllowIps;
      if (smpp) passwordHashes.set(managed.id, smpp.passwordHash);
      accounts.push({
        ...rest,
        // The file's keys stay the account's keys (see the head of this file).
        apiKeys: fileAccount?.apiKeys ?? [],
        ...(policy || perKey ? { policy: { ...policy, ...(perKey ? { keyAllowIps: perKey } : {}) } } : {}),
        ...(smpp
          ? {
              smpp: {
                systemId: smpp.systemId,
                // Never read: the registry takes the hash (passwordHashes).
                password: '',
                maxBinds: smpp.maxBinds,
                ...(smpp.allowIps ? { allowIps: smpp.allowIps } : {}),
              },
            }
          : {}),
      });
    };
    for (const a of file.accounts) {
      const record = this.#records.get(`account:${a.id}`);
      if (!record) accounts.push(a);
      else if (record.value === null) removed.push(a.id);
      else put(record.value as ManagedAccount, a);
    }
    for (const [key, record] of this.#records) {
      if (!key.startsWith('account:')) continue;
      const id = key.slice('account:'.length);
      if (fromFile.has(id)) continue;
      if (record.value === null) removed.push(id);
      else put(record.value as ManagedAccount, undefined);
    }
    const connectors: ConnectorConfig[] = [];
    for (const c of file.connectors) {
      const record = this.#records.get(`connector:${c.id}`);
      if (!record) connectors.push(c);
      else if (record.value !== null) connectors.push(record.value as ConnectorConfig);
    }
    for (const [key, record] of this.#records) {
      if (!key.startsWith('connector:') || record.value === null) continue;
      const value = record.value as ConnectorConfig;
      if (!file.connectors.some((c) => c.id === value.id)) connectors.push(value);
    }
    const mt = (this.#records.get(mtRoutesId)?.value as MtRouteConfig[] | undefined) ?? file.routes.mt;
    return {
      config: { ...file, accounts, connectors, routes: { ...file.routes, mt } },
      passwordHashes,
      removed,
    };
  }
}

/** An account as admins see it: every setting, no secret (keys are listed apart). */
export function accountView(a: AccountConfig | ManagedAccount): Record<string, unknown> {
  const { smpp, webhook, policy, ...rest } = a as AccountConfig;
  delete (rest as Partial<AccountConfig>).apiKeys;
  const { keyAllowIps: _perKey, ...ownPolicy } = policy ?? {};
  return {
    ...rest,
    webhook: webhook
      ? {
          url: webhook.url,
          ...(webhook.statuses ? { statuses: webhook.statuses } : {}),
          secretSet: Boolean(webhook.secret),
        }
      : null,
    smpp: smpp
      ? {
          systemId: smpp.systemId,
          maxBinds: smpp.maxBinds,
          ...(smpp.allowIps ? { allowIps: smpp.allowIps } : {}),
        }
      : null,
    policy: policy ? ownPolicy : null,
  };
}

/** MT rules naming a connector that is not there (the API's rules, the file's connectors). */
function danglingConnectors(config: GatewayConfig): Array<{ path: string; message: string }> {
  const ids = new Set(config.connectors.map((c) => c.id));
  return config.routes.mt.flatMap((r, i) =>
    r.connectors.flatMap((c, j) =>
      ids.has(c)
        ? []
        : [
            {
              path: `routes.mt[${i}].connectors[${j}]`,
              message: `routes.mt[${i}].connectors[${j}]: no connector '${c}' (the MT rules set through the admin API name it)`,
            },
          ],
    ),
  );
}

/** A connector as the file's `connectors[0]` would be checked (problems name that path). */
function validConnector(raw: Record<string, unknown>): ConnectorConfig {
  try {
    return validateConfig({ connectors: [structuredClone(raw)] }).connectors[0]!;
  } catch (err) {
    throw invalid(err, 'invalid_connector', 'connectors[0]');
  }
}

/** Settings with their secrets (passwords, tokens, keys, credential headers) left out. */
export function redacted(settings: ConnectorConfig): Record<string, unknown> {
  const walk = (value: unknown, name: string, inHeaders: boolean): unknown => {
    if (isSecret(name, inHeaders) && value !== undefined) return hiddenSecret;
    if (Array.isArray(value)) return value.map((v) => walk(v, '', false));
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k, name === 'headers')]));
    return value;
  };
  return walk(settings, '', false) as Record<string, unknown>;
}

/** What a secret setting shows instead of its value. */
const hiddenSecret = '(set)';

/** Whether a setting by this name holds a secret (a password, token, key, credential header). */
function isSecret(name: string, inHeaders: boolean): boolean {
  return /password|secret|token|apikey|^pin$/i.test(name) || (inHeaders && isCredentialHeader(name));
}

/**
 * `value` with each secret given back as shown (`"(set)"`, from the settings an admin
 * read) replaced by the one in force: saving what was read keeps the secrets.
 */
function keptSecrets(value: unknown, current: unknown, name = '', inHeaders = false): unknown {
  if (value === hiddenSecret && isSecret(name, inHeaders)) return current;
  if (Array.isArray(value))
    return value.map((v, i) => keptSecrets(v, Array.isArray(current) ? current[i] : undefined));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        keptSecrets(v, (current as Record<string, unknown> | undefined)?.[k], k, name === 'headers'),
      ]),
    );
  return value;
}

/** Keys are not account settings here: they are issued apart, and shown once. */
function refuseFields(body: Record<string, unknown>): void {
  if ('apiKeys' in body)
    throw new GatewayError(
      'unknown_field',
      'API keys are issued with POST /v1/admin/accounts/{id}/keys',
      'apiKeys',
    );
}

/**
 * A config problem as a 400 naming the path of the first problem; a field of the body
 * itself that the file does not take either is `unknown_field` (CONTRACT §8).
 */
function invalid(err: unknown, code: string, fallbackField: string | undefined): unknown {
  if (!(err instanceof ConfigError)) return err;
  const first = err.problems[0] ?? '';
  const unknown = /^(?:accounts|connectors)\[0\]\.(\w+): unknown field$/.exec(first);
  if (unknown) return new GatewayError('unknown_field', `unknown field '${unknown[1]}'`, unknown[1]);
  const at = first.indexOf(': ');
  const field = at > 0 && !first.startsWith('line ') ? first.slice(0, at) : fallbackField;
  return new GatewayError(code, err.problems.join('; '), field);
}
