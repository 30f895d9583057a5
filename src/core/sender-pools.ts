// Sender pools (Twilio's Messaging Services): an account's named services, each a pool of
// numbers a message that names the service (instead of `from`) is sent from. The sender is
// chosen per recipient: the one it had before (sticky, stored so it survives restarts and
// holds across a cluster), else a number of the recipient's country (geomatch), else the
// service's alphanumeric id where the recipient's country allows one, else any number of
// the pool — taking turns among those that fit.
import type { AccountConfig, SenderServiceConfig } from '../config/index.ts';
import { type Store, StoreConflictError } from '../store/index.ts';
import { BoundedMap } from './bounded-map.ts';
import { GatewayError, StoreUnavailableError } from './errors.ts';
import { countryOfNumber, normaliseNumber } from './numbers.ts';

/**
 * Countries where an alphanumeric sender id reaches mobiles without registering it first
 * (most of Europe, Oceania, much of Africa and Asia); not North America, where only numbers
 * work. A service's `alphanumericCountries` replaces this list.
 */
export const alphanumericCountries: readonly string[] = [
  'AD AL AT AU BA BE BG BW CH CY CZ DE DK EE ES FI FR GB GE GH GR HK HR HU IE IS',
  'IT KE LI LT LU LV MC MD ME MK MT MU MY NG NL NO NZ PL PT RO RS SE SG SI SK TH',
  'UA UG ZA ZM',
].flatMap((line) => line.split(' '));

/** The store record keeping a recipient's sender: kind, and id `<account>/<service>/<recipient>`. */
const stickyKind = 'sticky_sender';

interface CompiledService {
  config: SenderServiceConfig;
  /** The pool's numbers, normalised, with their countries. */
  numbers: Array<{ sender: string; country: string | undefined }>;
  alphanumericCountries: ReadonlySet<string>;
  /** Whose turn it is among the senders that fit. */
  turn: number;
}

export class SenderPools {
  readonly #store: Store;
  readonly #now: () => number;
  /** By account: its services by id and by Twilio sid. */
  readonly #services = new Map<string, Map<string, CompiledService>>();
  /** Senders recipients kept, as stored: most messages need no read. */
  readonly #kept = new BoundedMap<string, string>(100_000);
  /** First choices being stored: a recipient's messages at once get one sender. */
  readonly #choosing = new Map<string, Promise<string>>();

  constructor(accounts: readonly AccountConfig[], store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
    this.setAccounts(accounts);
  }

  /** Compiles the accounts' services (again, when accounts change at run time); kept choices stay. */
  setAccounts(accounts: readonly AccountConfig[]): void {
    this.#services.clear();
    for (const a of accounts) {
      if (!a.services?.length) continue;
      const byName = new Map<string, CompiledService>();
      for (const config of a.services) {
        const compiled: CompiledService = {
          config,
          numbers: config.senders.map((s) => {
            const sender = normaliseNumber(s, 'international') ?? s;
            return { sender, country: countryOfNumber(sender) };
          }),
          alphanumericCountries: new Set(config.alphanumericCountries ?? alphanumericCountries),
          turn: 0,
        };
        byName.set(config.id, compiled);
        if (config.sid) byName.set(config.sid.toUpperCase(), compiled);
      }
      this.#services.set(a.id, byName);
    }
  }

  /** The account's service named by its id or Twilio sid (MG…). */
  find(accountId: string, name: string): SenderServiceConfig | undefined {
    const byName = this.#services.get(accountId);
    return (byName?.get(name) ?? byName?.get(name.toUpperCase()))?.config;
  }

  /** Every sender the account's pools send from (numbers and alphanumeric ids): they are its own. */
  static sendersOf(account: AccountConfig): string[] {
    return (account.services ?? []).flatMap((s) => [
      ...s.senders.map((n) => normaliseNumber(n, 'international') ?? n),
      ...(s.alphanumeric ? [s.alphanumeric] : []),
    ]);
  }

  /**
   * The sender for a message of the account's service to `to` (normalised). Refused
   * `unknown_service` (field `service`) for a service the account does not have, and
   * `no_sender` when none of the pool may send to that recipient.
   */
  async senderFor(accountId: string, name: string, to: string): Promise<string> {
    const byName = this.#services.get(accountId);
    const service = byName?.get(name) ?? byName?.get(name.toUpperCase());
    if (!service)
      throw new GatewayError('unknown_service', `account ${accountId} has no service '${name}'`, 'service');
    const country = countryOfNumber(to);
    const alphanumeric =
      service.config.alphanumeric !== undefined &&
      country !== undefined &&
      service.alphanumericCountries.has(country)
        ? service.config.alphanumeric
        : undefined;
    if (!service.config.sticky) return this.#choose(service, country, alphanumeric, to);
    const key = `${accountId}/${service.config.id}/${to}`;
    const usable = (sender: string | undefined): sender is string =>
      sender !== undefined && (sender === alphanumeric || service.numbers.some((n) => n.sender === sender));
    const remembered = this.#kept.get(key);
    if (usable(remembered)) return remembered;
    let choosing = this.#choosing.get(key);
    if (!choosing) {
      choosing = this.#stick(key, accountId, service, country, alphanumeric, to, usable).finally(() =>
        this.#choosing.delete(key),
      );
      this.#choosing.set(key, choosing);
    }
    return choosing;
  }

  /** The stored sender when it is still usable; else a new choice, stored. */
  async #stick(
    key: string,
    accountId: string,
    service: CompiledService,
    country: string | undefined,
    alphanumeric: string | undefined,
    to: string,
    usable: (sender: string | undefined) => sender is string,
  ): Promise<string> {
    try {
      // A compare-and-set: when another gateway of the cluster chose for this recipient at
      // the same time, its choice stands and is read back.
      for (;;) {
        const stored = await this.#store.getRecord<{ sender: string }>(stickyKind, key);
        if (usable(stored?.data.sender)) {
          this.#kept.set(key, stored.data.sender);
          return stored.data.sender;
        }
        const sender = this.#choose(service, country, alphanumeric, to);
        const now = this.#now();
        try {
          await this.#store.putRecord(
            {
              kind: stickyKind,
              id: key,
              accountId,
              ref: to,
              status: null,
              dueAt: null,
              createdAt: stored?.createdAt ?? now,
              updatedAt: now,
              data: { sender, service: service.config.id },
            },
            stored?.version ?? 0,
          );
        } catch (err) {
          if (err instanceof StoreConflictError) continue;
          throw err;
        }
        this.#kept.set(key, sender);
        return sender;
      }
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw new StoreUnavailableError();
    }
  }

  /**
   * The numbers that fit (with geomatch those of the recipient's country, else all), else
   * the alphanumeric id where allowed, else any number of the pool; in turns.
   */
  #choose(
    service: CompiledService,
    country: string | undefined,
    alphanumeric: string | undefined,
    to: string,
  ): string {
    const numbers = service.numbers.map((n) => n.sender);
    const fitting = service.config.geomatch
      ? service.numbers.filter((n) => n.country === country).map((n) => n.sender)
      : numbers;
    const candidates = fitting.length > 0 ? fitting : alphanumeric !== undefined ? [alphanumeric] : numbers;
    if (candidates.length === 0)
      throw new GatewayError(
        'no_sender',
        `service '${service.config.id}' has no sender for ${to}: no number, and no alphanumeric id allowed in ${country ?? 'its country'}`,
        'to',
      );
    return candidates[service.turn++ % candidates.length]!;
  }
}
