// Which account may send from which sender. A sender that belongs to another account — its
// `defaultFrom`, its `policy.senders`, its sender pools' senders, a number its MO rules route to it — is refused, so
// one account cannot pass itself off as another's number or brand. An account with
// `policy.senders` sends only from those. Alphanumeric senders compare in any case.
import type { AccountConfig, MoRouteConfig } from '../config/index.ts';
import { GatewayError } from './errors.ts';
import { normaliseSender } from './numbers.ts';
import { compilePattern, type Matcher } from './pattern.ts';
import { SenderPools } from './sender-pools.ts';

export class SenderOwnership {
  /** Exact senders (upper case) → the accounts they belong to. */
  readonly #exact = new Map<string, Set<string>>();
  readonly #patterns: Array<{ accountId: string; match: Matcher }> = [];
  /** Accounts whose `policy.senders` lists every sender they may use. */
  readonly #allowed = new Map<string, Matcher>();

  constructor(accounts: readonly AccountConfig[], moRoutes: readonly MoRouteConfig[]) {
    for (const a of accounts) {
      const own = a.defaultFrom === undefined ? undefined : normaliseSender(a.defaultFrom);
      if (own !== undefined) this.#own(own.toUpperCase(), a.id);
      // The senders of its pools (`services`) are its own, and among those it may use.
      const pooled = new Set(SenderPools.sendersOf(a).map((sender) => sender.toUpperCase()));
      for (const sender of pooled) this.#own(sender, a.id);
      const senders = a.policy?.senders;
      if (senders && senders.length > 0) {
        const matchers = senders.map(senderMatcher);
        const match: Matcher = (from) => pooled.has(from.toUpperCase()) || matchers.some((m) => m(from));
        this.#allowed.set(a.id, match);
        this.#patterns.push({ accountId: a.id, match });
      }
    }
    // A rule that routes a number to an account makes it the account's (a rule without a
    // `to`, or with `*`, takes whatever is left: it names no number).
    for (const r of moRoutes) {
      if (r.account === undefined) continue;
      for (const pattern of r.match?.to ?? []) {
        if (pattern !== '*') this.#patterns.push({ accountId: r.account, match: compilePattern(pattern) });
      }
    }
  }

  /** Throws `400 sender_not_allowed` (field `from`) when the account may not send from `from`. */
  check(accountId: string, from: string): void {
    const allowed = this.#allowed.get(accountId);
    if (allowed) {
      if (!allowed(from)) throw refused(`${from} is not among the senders of account ${accountId}`);
      return;
    }
    const exact = this.#exact.get(from.toUpperCase());
    if (exact?.has(accountId)) return;
    // Claimed by another account, unless this one claims it too (a shared number).
    let claimed = exact !== undefined;
    for (const p of this.#patterns) {
      if (!p.match(from)) continue;
      if (p.accountId === accountId) return;
      claimed = true;
    }
    if (claimed) throw refused(`${from} belongs to another account`);
  }

  #own(sender: string, accountId: string): void {
    const owners = this.#exact.get(sender) ?? new Set<string>();
    owners.add(accountId);
    this.#exact.set(sender, owners);
  }
}

/** A pattern of `policy.senders`; outside `re:` patterns, letters match in any case. */
function senderMatcher(pattern: string): Matcher {
  if (pattern.startsWith('re:')) return compilePattern(pattern);
  const match = compilePattern(pattern.toUpperCase());
  return (from) => match(from.toUpperCase());
}

function refused(message: string): GatewayError {
  return new GatewayError('sender_not_allowed', message, 'from');
}
