// Billing and account policies at accept time, the same for every front door (REST, SMPP,
// compat APIs, batches): the gateway asks `admit` for each message it builds and `charge`
// for what it stores, which the store takes in the same transaction (src/store: balance,
// ledger, quotas). Refunds follow the message's end (the rule: src/store/billing.ts).
import type { AccountConfig, AccountPolicyConfig, GatewayConfig, PumpingConfig } from '../config/index.ts';
import type { AcceptHooks, Gateway, Message } from '../core/index.ts';
import {
  fromMicros,
  GatewayError,
  hashApiKey,
  lookupNumber,
  RateLimitedError,
  toMicros,
  type VelocityBudget,
  VelocityLimits,
} from '../core/index.ts';
import type {
  AccountCharge,
  ChargeOutcome,
  LedgerEntry,
  Store,
  UsageGrouping,
  UsageRow,
} from '../store/index.ts';
import { refundableStatuses } from '../store/index.ts';
import { AddressAllowList } from './addresses.ts';
import { type DestinationMatcher, destinationMatcher, lazyCountry, PriceList } from './pricing.ts';

export type BillingType = 'prepaid' | 'postpaid';

export interface BalanceView {
  balance: number;
  currency: string | null;
  type: BillingType | null;
}

export interface BillingOptions {
  store: Store;
  config: Pick<GatewayConfig, 'accounts' | 'pricing' | 'pumping'>;
  /** Sends an account event to its webhook (`account.balance_low`). */
  notify?: (accountId: string, type: string, data: unknown) => void;
  now?: () => number;
  /** In a cluster, this gateway's share of each SMS-pumping limit (default 1). */
  share?: () => number;
}

interface AccountRules {
  billing: AccountConfig['billing'];
  destinations: { allow: DestinationMatcher | null; deny: DestinationMatcher | null };
  policy: AccountPolicyConfig;
  apiIps: AddressAllowList | null;
  smppIps: AddressAllowList | null;
  /** Per API key (by its hash), instead of apiIps. */
  keyIps: Map<string, AddressAllowList>;
}

export class Billing implements AcceptHooks {
  readonly prices: PriceList;
  readonly #store: Store;
  readonly #accounts = new Map<string, AccountRules>();
  readonly #velocity: VelocityLimits;
  readonly #notify: BillingOptions['notify'];
  readonly #now: () => number;
  /** The SMS-pumping limits of accounts whose policy sets none. */
  readonly #pumping: PumpingConfig | undefined;

  constructor(options: BillingOptions) {
    this.#store = options.store;
    this.#notify = options.notify;
    this.#now = options.now ?? Date.now;
    this.#velocity = new VelocityLimits(options.share);
    this.prices = new PriceList(options.config.pricing ?? []);
    this.#pumping = options.config.pumping;
    this.setAccounts(options.config.accounts);
  }

  /** The accounts' billing and policies, replacing those known (accounts changed at run time). */
  setAccounts(accounts: readonly AccountConfig[]): void {
    this.#accounts.clear();
    for (const a of accounts) {
      const policy = a.policy ?? {};
      this.#accounts.set(a.id, {
        billing: a.billing,
        destinations: {
          allow: policy.destinations?.allow ? destinationMatcher(policy.destinations.allow) : null,
          deny: policy.destinations?.deny?.length ? destinationMatcher(policy.destinations.deny) : null,
        },
        policy,
        apiIps: policy.allowIps ? new AddressAllowList(policy.allowIps) : null,
        smppIps: a.smpp?.allowIps ? new AddressAllowList(a.smpp.allowIps) : null,
        keyIps: new Map(
          Object.entries(policy.keyAllowIps ?? {}).map(([key, ips]) => [
            hashApiKey(key),
            new AddressAllowList(ips),
          ]),
        ),
      });
    }
  }

  /**
   * Gives back the price of a message that ended without a carrier taking it: issued with
   * the status write, so it is stored in that write's transaction (and issued again if the
   * write is tried again; a message is refunded once).
   */
  follow(gateway: Gateway): void {
    this.#followGroups(gateway);
    gateway.on('statusWrite', (m) => {
      if (m.direction !== 'mt' || !m.priceMicros || m.submittedAt !== null) return;
      if (!(refundableStatuses as readonly string[]).includes(m.status)) return;
      if (!this.#accounts.get(m.accountId)?.billing) return;
      // Refused only as a refund already given (gateways racing), or with its status write.
      this.#store.refundMessage(m.accountId, m.id, this.#now()).catch(() => {});
    });
  }

  /**
   * A group canceled as a whole (a batch) has no status event per message: its unsent
   * messages are refunded together.
   */
  #followGroups(gateway: Gateway): void {
    gateway.on('groupCanceled', (groupId) => {
      this.#store.refundGroup(groupId, this.#now()).catch(() => {}); // the store down: not refunded
    });
  }

  /**
   * Whether an API key (`api`: the key's own list, or else the account's) or an SMPP bind
   * (`smpp`) of the account may come from this address.
   */
  allowsAddress(accountId: string, via: 'api' | 'smpp', address: string | undefined, key?: string): boolean {
    const rules = this.#accounts.get(accountId);
    const own = key === undefined || !rules?.keyIps.size ? undefined : rules.keyIps.get(hashApiKey(key));
    const list = via === 'api' ? (own ?? rules?.apiIps) : rules?.smppIps;
    return !list || (address !== undefined && list.allows(address));
  }

  admit(message: Message): void {
    const rules = this.#accounts.get(message.accountId);
    const { allow, deny } = rules?.destinations ?? { allow: null, deny: null };
    const country = lazyCountry(message.to);
    if ((allow && !allow(message.to, country)) || deny?.(message.to, country))
      throw new GatewayError(
        'destination_not_allowed',
        `account ${message.accountId} may not send to ${message.to}`,
        'to',
      );
    if (rules?.policy.mobileOnly) refuseNotMobile(message);
    const price = this.prices.priceOf(
      message.accountId,
      rules?.billing?.plan,
      message.to,
      rules?.billing?.currency,
      country,
    );
    message.priceMicros = price ? price.perPart * message.segments : null;
    message.currency = price?.currency ?? rules?.billing?.currency ?? null;
  }

  charge(accountId: string, messages: readonly Message[]): AccountCharge | undefined {
    const rules = this.#accounts.get(accountId);
    this.#checkPumping(accountId, rules?.policy.pumping ?? this.#pumping, messages);
    if (!rules) return undefined;
    const { billing, policy } = rules;
    const at = this.#now();
    const quotas = [];
    if (policy.dailyQuota !== undefined)
      quotas.push({ period: `d${new Date(at).toISOString().slice(0, 10)}`, limit: policy.dailyQuota });
    if (policy.monthlyQuota !== undefined)
      quotas.push({ period: `m${new Date(at).toISOString().slice(0, 7)}`, limit: policy.monthlyQuota });
    if (!billing && quotas.length === 0) return undefined;
    return {
      accountId,
      currency: billing?.currency ?? '',
      debits: messages.map((m) => ({ messageId: m.id, amount: billing ? (m.priceMicros ?? 0) : 0 })),
      floor:
        billing?.type === 'prepaid'
          ? 0
          : billing?.creditLimit !== undefined
            ? -toMicros(billing.creditLimit)
            : null,
      quotas,
      at,
    };
  }

  charged(accountId: string, charge: AccountCharge, outcome: ChargeOutcome): void {
    if (outcome.balance === null) return;
    this.#balanceMoved(accountId, outcome.balance, -charge.debits.reduce((sum, d) => sum + d.amount, 0));
  }

  uncharged(accountId: string, messages: readonly Message[]): void {
    const pumping = this.#accounts.get(accountId)?.policy.pumping ?? this.#pumping;
    if (pumping) this.#velocity.giveBack(pumpingBudgets(accountId, pumping, messages));
  }

  /**
   * SMS pumping: messages to numbers sharing a prefix of at least 8 digits, per window;
   * all of them are taken, or none.
   */
  #checkPumping(accountId: string, pumping: PumpingConfig | undefined, messages: readonly Message[]): void {
    if (!pumping) return;
    const spent = this.#velocity.take(pumpingBudgets(accountId, pumping, messages));
    if (spent) {
      const prefix = spent.budget.key.slice(accountId.length + 1);
      throw new RateLimitedError(
        'destination_rate_limited',
        `at most ${pumping.maxPerPrefix} messages per ${pumping.windowSeconds} s to numbers starting +${prefix}`,
        spent.waitMs,
        'to',
      );
    }
  }

  async balance(accountId: string): Promise<BalanceView> {
    const billing = this.#accounts.get(accountId)?.billing;
    const stored = await this.#store.getBalance(accountId);
    return {
      balance: fromMicros(stored?.balance ?? 0),
      currency: billing?.currency ?? stored?.currency ?? null,
      type: billing?.type ?? null,
    };
  }

  /** Jasmin's `unit_rate`: the price of one part to `to` for the account (main unit), 0 when none. */
  unitRate(accountId: string, to: string): number {
    const billing = this.#accounts.get(accountId)?.billing;
    const number = to.startsWith('+') ? to : `+${to}`;
    const price = this.prices.priceOf(accountId, billing?.plan, number, billing?.currency);
    return price ? fromMicros(price.perPart) : 0;
  }

  /** Whether the account is billed (has `billing`), and in which currency. */
  currencyOf(accountId: string): string | null {
    return this.#accounts.get(accountId)?.billing?.currency ?? null;
  }

  hasAccount(accountId: string): boolean {
    return this.#accounts.has(accountId);
  }

  /** Adds `amount` (main unit; negative takes away) with a ledger entry; the balance after. */
  async credit(accountId: string, amount: number, reference: string | null): Promise<BalanceView> {
    const currency = this.currencyOf(accountId);
    if (currency === null)
      throw new GatewayError('billing_not_enabled', `account ${accountId} has no billing`, undefined, 409);
    const micros = toMicros(amount);
    const balance = await this.#store.creditAccount(accountId, micros, currency, this.#now(), reference);
    this.#balanceMoved(accountId, balance, micros);
    return { balance: fromMicros(balance), currency, type: this.#accounts.get(accountId)!.billing!.type };
  }

  /** The account's outbound messages in [from, to), micro-units (src/store UsageRow). */
  usage(accountId: string, from: number, to: number, by: UsageGrouping): Promise<UsageRow[]> {
    return this.#store.usage(accountId, from, to, by);
  }

  async ledger(accountId: string, before: number | null, limit: number): Promise<LedgerEntry[]> {
    return this.#store.listLedger(accountId, before, limit);
  }

  /**
   * `account.balance_low` when a movement takes the balance from the account's `lowBalance`
   * or above to below it: once per crossing, whichever gateway moved it (the store
   * serialises an account's movements, so exactly one sees the crossing).
   */
  #balanceMoved(accountId: string, balance: number, moved: number): void {
    const billing = this.#accounts.get(accountId)?.billing;
    if (billing?.lowBalance === undefined || !this.#notify) return;
    const threshold = toMicros(billing.lowBalance);
    if (!(balance < threshold && balance - moved >= threshold)) return;
    this.#notify(accountId, 'account.balance_low', {
      account: accountId,
      balance: fromMicros(balance),
      currency: billing.currency,
      threshold: billing.lowBalance,
    });
  }
}

/** One budget per destination prefix of the messages, counting the messages that share it. */
function pumpingBudgets(
  accountId: string,
  pumping: PumpingConfig,
  messages: readonly Message[],
): VelocityBudget[] {
  const counts = new Map<string, number>();
  for (const m of messages) {
    const key = `${accountId}\0${m.to.slice(1, 1 + pumping.prefixDigits)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => ({
    key,
    count,
    max: pumping.maxPerPrefix,
    windowSeconds: pumping.windowSeconds,
  }));
}

/** Line types `policy.mobileOnly` lets through: where the numbering plan does not tell (US), a number may be a mobile. */
const mobileLineTypes = new Set(['mobile', 'fixed_line_or_mobile']);

/** `policy.mobileOnly`: refuses a destination the offline lookup does not call mobile (unknown included). */
function refuseNotMobile(message: Message): void {
  const { lineType } = lookupNumber(message.to);
  if (lineType === null || !mobileLineTypes.has(lineType))
    throw new GatewayError(
      'not_mobile',
      `${message.to} is not a mobile number (line type ${lineType ?? 'unknown'}); account ${message.accountId} sends to mobiles only`,
      'to',
    );
}
