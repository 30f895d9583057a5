// Routes as plain data evaluated in order (after Jasmin): the first MT rule whose filters
// all match picks the connectors and how to spread over them; the first MO rule picks the
// account that receives an inbound message.
import type { MoRouteConfig, MtRouteConfig } from '../config/index.ts';
import { compilePatterns, type Matcher } from './pattern.ts';

export interface MtRouteInput {
  to: string;
  from: string;
  accountId: string;
  /** `meta.via` names a connector the message must leave by (a reply to an inbound one). */
  meta?: Record<string, unknown> | null;
}

interface CompiledMtRoute {
  index: number;
  to: Matcher;
  from: Matcher;
  account: Matcher;
  connectors: string[];
  strategy: MtRouteConfig['strategy'];
  weights: number[];
  /** Round-robin position, and for weighted: smooth weighted round-robin credits. */
  next: number;
  /** Round-robin position of spread picks (emergency traffic), apart from the strategy's. */
  spreadNext: number;
  credits: number[];
}

export class MtRouter {
  readonly #routes: CompiledMtRoute[];
  /** Per connector, a route of that connector alone, after the configured ones. */
  readonly #pinned = new Map<string, number>();
  /** How many routes came from the config: only those match by filters. */
  readonly #configured: number;

  /** `connectorIds`: the connectors a message may be pinned to (see MtRouteInput.meta). */
  constructor(routes: readonly MtRouteConfig[], connectorIds: readonly string[] = []) {
    this.#configured = routes.length;
    const pinned = connectorIds.map((c): MtRouteConfig => ({ connectors: [c], strategy: 'failover' }));
    connectorIds.forEach((c, i) => {
      this.#pinned.set(c, routes.length + i);
    });
    this.#routes = [...routes, ...pinned].map((r, index) => ({
      index,
      to: compilePatterns(r.match?.to),
      from: compilePatterns(r.match?.from),
      account: compilePatterns(r.match?.account),
      connectors: [...r.connectors],
      strategy: r.strategy,
      weights: r.connectors.map((c) => r.weights?.[c] ?? 1),
      next: 0,
      spreadNext: 0,
      credits: r.connectors.map(() => 0),
    }));
  }

  /** Index of the matching rule, or -1 when no rule matches (the message cannot be routed). */
  match(input: MtRouteInput): number {
    const via = input.meta?.via;
    if (typeof via === 'string') return this.#pinned.get(via) ?? -1;
    for (let i = 0; i < this.#configured; i++) {
      const r = this.#routes[i]!;
      if (r.to(input.to) && r.from(input.from) && r.account(input.accountId)) return r.index;
    }
    return -1;
  }

  /**
   * Whether a message of this account may be pinned to this connector (`meta.via` from a
   * client, as Kannel's `smsc=`): some configured rule that can match the account lists it.
   */
  accountMayUse(accountId: string, connectorId: string): boolean {
    for (let i = 0; i < this.#configured; i++) {
      const r = this.#routes[i]!;
      if (r.account(accountId) && r.connectors.includes(connectorId)) return true;
    }
    return false;
  }

  /** Every connector a rule may use, in its order. */
  connectorsOf(route: number): readonly string[] {
    return this.#routes[route]?.connectors ?? [];
  }

  /**
   * The connector to use now under the rule's strategy, among those `usable` says can take
   * a message (up, capacity free, not already failed for this message). Undefined: none.
   * `spread` (emergency traffic) ignores the strategy and takes turns over every connector
   * the rule allows (a weight of 0 still excludes one), so an alert uses all their capacity.
   */
  pick(route: number, usable: (connectorId: string) => boolean, spread = false): string | undefined {
    const r = this.#routes[route];
    if (!r) return undefined;
    const n = r.connectors.length;
    if (spread) {
      for (let i = 0; i < n; i++) {
        const at = (r.spreadNext + i) % n;
        if (r.weights[at] !== 0 && usable(r.connectors[at]!)) {
          r.spreadNext = (at + 1) % n;
          return r.connectors[at];
        }
      }
      return undefined;
    }
    switch (r.strategy) {
      case 'failover':
        return r.connectors.find(usable);
      case 'roundrobin':
        for (let i = 0; i < n; i++) {
          const c = r.connectors[(r.next + i) % n]!;
          if (usable(c)) {
            r.next = (r.next + i + 1) % n;
            return c;
          }
        }
        return undefined;
      case 'weighted': {
        // Smooth weighted round-robin (as nginx spreads upstreams): each pick adds every
        // usable connector's weight to its credit, takes the largest, charges it the total.
        let best = -1;
        let total = 0;
        for (let i = 0; i < n; i++) {
          const w = r.weights[i]!;
          if (w === 0 || !usable(r.connectors[i]!)) continue;
          r.credits[i]! += w;
          total += w;
          if (best < 0 || r.credits[i]! > r.credits[best]!) best = i;
        }
        if (best < 0) return undefined;
        r.credits[best]! -= total;
        return r.connectors[best];
      }
    }
  }
}

/**
 * The owner of inbound messages taken by a rule that names no account (only a `url` or a
 * `reply`) and of the replies sent for them. Configured ids start with a letter or digit,
 * so this one is never an account's; admins list its messages (`/v1/admin/system/messages`).
 * Inbound that no rule takes is owned by nobody (`''`): that is the unrouted list.
 */
export const systemAccountId = '_system';

/** The owner of an inbound message: its rule's account, the system for a rule without one, none without a rule. */
export function inboundOwner(rule: MoRouteConfig | null): string {
  return rule ? (rule.account ?? systemAccountId) : '';
}

export interface MoRouteInput {
  to: string;
  from: string;
  connectorId: string;
  text: string | null;
}

export class MoRouter {
  readonly #routes: Array<{
    rule: MoRouteConfig;
    to: Matcher;
    from: Matcher;
    connector: Matcher;
    keyword: Matcher | null;
  }>;

  constructor(routes: readonly MoRouteConfig[]) {
    this.#routes = routes.map((rule) => ({
      rule,
      to: compilePatterns(rule.match?.to),
      from: compilePatterns(rule.match?.from),
      connector: compilePatterns(rule.match?.connector),
      keyword: rule.match?.keyword?.length ? compilePatterns(rule.match.keyword.map(foldKeyword)) : null,
    }));
  }

  /** The first rule that takes an inbound message, or undefined when none does. */
  match(input: MoRouteInput): MoRouteConfig | undefined {
    const keyword = foldKeyword(firstWord(input.text));
    for (const r of this.#routes) {
      if (!r.to(input.to) || !r.from(input.from) || !r.connector(input.connectorId)) continue;
      if (r.keyword && !r.keyword(keyword)) continue;
      return r.rule;
    }
    return undefined;
  }
}

/** The first word of a text, as people type keywords: `stop`, ` Stop.`, `STOP please`. */
export function firstWord(text: string | null): string {
  return (text ?? '')
    .trim()
    .split(/\s+/, 1)[0]!
    .replace(/[.!?,;:]+$/, '');
}

/** A keyword as compared: case and accents folded (`Arrêt` and `ARRET` are one word). */
export function foldKeyword(word: string): string {
  return word.normalize('NFD').replace(/\p{M}/gu, '').toUpperCase();
}
