// Routes as plain data evaluated in order (after Jasmin): the first MT rule whose filters
// all match picks the connectors and how to spread over them; the first MO rule picks the
// account that receives an inbound message. Filters are compiled once (route-match.ts).
import type {
  ConnectorCostConfig,
  InterceptorConfig,
  MoRouteConfig,
  MtRouteConfig,
} from '../config/index.ts';
import { countryOfNumber } from './numbers.ts';
import { compilePatterns, compileRanked, type Matcher } from './pattern.ts';
import { type Condition, compileConditions, failedCondition, type RuleInput } from './route-match.ts';
import type { QualityFigures, RouteQuality } from './route-quality.ts';

export interface MtRouteInput {
  to: string;
  from: string;
  accountId: string;
  /** The text (null for a binary message), for `match.text`. */
  text?: string | null;
  /**
   * `meta.via` names a connector the message must leave by (a reply to an inbound one);
   * `meta.tags` are the message's tags, for `match.tags`.
   */
  meta?: Record<string, unknown> | null;
  /** Epoch ms the message is routed for (`match.time`, `match.dates`); default now. */
  at?: number;
}

/** The tags a message carries (kept as `meta.tags`). */
export function tagsOf(meta: Record<string, unknown> | null | undefined): readonly string[] {
  const tags = meta?.tags;
  return Array.isArray(tags) ? (tags as string[]) : [];
}

export type MtStrategy = MtRouteConfig['strategy'];

/** What GET /v1/admin/routes/mt/explain answers. */
export interface MtRouteExplanation {
  /** Index of the matching rule in `routes.mt`; null when none matches. */
  rule: number | null;
  /** Connector ids in the order they would be tried. */
  connectors: string[];
  strategy: MtStrategy | null;
  reason: string;
  /** Each rule before the match (or every rule, when none matched) and the condition it failed. */
  skipped: Array<{ rule: number; condition: string }>;
  /** Per connector of the rule, its cost for the destination (null: it has none). */
  costs: Record<string, number | null>;
  /**
   * A least-cost rule with `quality`: per connector, the cost it is ordered by (weighed by
   * its delivery for the destination's country, null: no cost) and those figures.
   */
  weighted?: Record<string, number | null>;
  quality?: Record<string, QualityFigures | null>;
  /**
   * The destination's network (MCC+MNC) from the online lookup, when some rule matches on
   * `network`; null when the lookup gave none.
   */
  network?: string | null;
  /** The rule's interceptor module, when it has one (it runs when the message is accepted). */
  interceptor?: string;
}

interface CompiledMtRoute {
  index: number;
  conditions: Condition[];
  account: Matcher;
  connectors: string[];
  strategy: MtStrategy;
  /** Least-cost weighed by measured delivery (see #orderingCost). */
  quality: { minReceipts: number; latencyCost: number } | undefined;
  weights: number[];
  /** Round-robin position, and for weighted: smooth weighted round-robin credits. */
  next: number;
  /** Round-robin position of spread picks (emergency traffic), apart from the strategy's. */
  spreadNext: number;
  credits: number[];
  interceptor: InterceptorConfig | undefined;
}

export interface MtRouterOptions {
  /** Each connector's `costs`: a destination's cost is that of the first entry matching it. */
  costs?: Readonly<Record<string, readonly ConnectorCostConfig[] | undefined>>;
  /** Measured delivery per connector and country, for least-cost rules with `quality`. */
  quality?: RouteQuality;
  now?: () => number;
}

export class MtRouter {
  #routes: CompiledMtRoute[] = [];
  /** Per connector, a route of that connector alone, after the configured ones. */
  readonly #pinned = new Map<string, number>();
  /** How many routes came from the config: only those match by filters. */
  #configured = 0;
  /** Per connector: the index of its first `costs` entry matching a destination (-1: none), and the entries. */
  readonly #costs = new Map<
    string,
    { first: (to: string) => number; costs: readonly ConnectorCostConfig[] }
  >();
  readonly #now: () => number;
  readonly #quality: RouteQuality | undefined;

  /** `connectorIds`: the connectors a message may be pinned to (see MtRouteInput.meta). */
  constructor(
    routes: readonly MtRouteConfig[],
    connectorIds: readonly string[] = [],
    options: MtRouterOptions = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#quality = options.quality;
    this.replace(routes, connectorIds, options.costs);
  }

  /** Puts other rules, connectors and costs in force (changed at run time: the admin API, a reload). */
  replace(
    routes: readonly MtRouteConfig[],
    connectorIds: readonly string[],
    costs: MtRouterOptions['costs'] = {},
  ): void {
    this.#configured = routes.length;
    this.#costs.clear();
    for (const [id, entries] of Object.entries(costs)) {
      if (!entries) continue;
      const first = compileRanked(entries.flatMap((c, rank) => c.to.map((pattern) => ({ pattern, rank }))));
      this.#costs.set(id, { first, costs: entries });
    }
    this.#pinned.clear();
    const pinned = connectorIds.map((c): MtRouteConfig => ({ connectors: [c], strategy: 'failover' }));
    connectorIds.forEach((c, i) => {
      this.#pinned.set(c, routes.length + i);
    });
    this.#routes = [...routes, ...pinned].map((r, index) => ({
      index,
      conditions: compileConditions(r.match, ['to', 'from', 'account']),
      account: compilePatterns(r.match?.account),
      connectors: [...r.connectors],
      strategy: r.strategy,
      quality:
        r.strategy === 'least-cost' && r.quality
          ? { minReceipts: r.quality.minReceipts ?? 20, latencyCost: r.quality.latencyCost ?? 0 }
          : undefined,
      weights: r.connectors.map((c) => r.weights?.[c] ?? 1),
      next: 0,
      spreadNext: 0,
      credits: r.connectors.map(() => 0),
      interceptor: r.interceptor,
    }));
    this.intercepts = routes.some((r) => r.interceptor !== undefined);
  }

  /** Whether some rule has an interceptor. */
  intercepts = false;

  /** The rule's interceptor, if it has one. */
  interceptorOf(route: number): InterceptorConfig | undefined {
    return this.#routes[route]?.interceptor;
  }

  /** Index of the matching rule, or -1 when no rule matches (the message cannot be routed). */
  match(input: MtRouteInput): number {
    const via = input.meta?.via;
    if (typeof via === 'string') return this.#pinned.get(via) ?? -1;
    const rule = this.#ruleInput(input);
    for (let i = 0; i < this.#configured; i++) {
      const r = this.#routes[i]!;
      if (failedCondition(r.conditions, rule) === undefined) return r.index;
    }
    return -1;
  }

  /** Which rule a message would take, the connectors in the order they would be tried, and why. */
  explain(input: MtRouteInput): MtRouteExplanation {
    const rule = this.#ruleInput(input);
    const skipped: MtRouteExplanation['skipped'] = [];
    for (let i = 0; i < this.#configured; i++) {
      const r = this.#routes[i]!;
      const failed = failedCondition(r.conditions, rule);
      if (failed) {
        skipped.push({ rule: i, condition: failed.written });
        continue;
      }
      const connectors = this.order(i, input.to);
      const costs = Object.fromEntries(r.connectors.map((c) => [c, this.costOf(c, input.to) ?? null]));
      const country = countryOfNumber(input.to) ?? '';
      const weighted = r.quality
        ? Object.fromEntries(
            r.connectors.map((c) => {
              const cost = this.#orderingCost(r, c, input.to, country);
              return [c, cost === undefined ? null : round(cost)];
            }),
          )
        : undefined;
      const quality = r.quality
        ? Object.fromEntries(r.connectors.map((c) => [c, this.#quality?.of(c, country) ?? null]))
        : undefined;
      const priced = (c: string) =>
        costs[c] === null
          ? `${c} no cost`
          : weighted && weighted[c] !== costs[c]
            ? `${c} ${costs[c]} (weighed ${weighted[c]}: ${describeQuality(quality![c]!)})`
            : `${c} ${costs[c]}`;
      const conditions = r.conditions.map((c) => c.written).join('; ');
      const reason = [
        conditions
          ? `routes.mt[${i}] matches: ${conditions}`
          : `routes.mt[${i}] has no conditions: it takes every message`,
        ...skipped.map((s) => `routes.mt[${s.rule}] does not (${s.condition})`),
        r.strategy === 'least-cost'
          ? `least-cost order for ${input.to}: ${connectors.map(priced).join(', ')}`
          : `strategy ${r.strategy}`,
      ].join('; ');
      return {
        rule: i,
        connectors,
        strategy: r.strategy,
        reason,
        skipped,
        costs,
        ...(weighted ? { weighted, quality } : {}),
        ...(r.interceptor ? { interceptor: r.interceptor.module } : {}),
      };
    }
    const reason =
      this.#configured === 0
        ? 'no rule matches: routes.mt is empty'
        : `no rule matches: ${skipped.map((s) => `routes.mt[${s.rule}] does not (${s.condition})`).join('; ')}`;
    return { rule: null, connectors: [], strategy: null, reason, skipped, costs: {} };
  }

  #ruleInput(input: MtRouteInput): RuleInput {
    return {
      to: input.to,
      from: input.from,
      accountId: input.accountId,
      text: input.text ?? null,
      tags: tagsOf(input.meta),
      at: input.at ?? this.#now(),
      lookup: 'to',
      // The destination's network, looked up online when the message was accepted.
      network: typeof input.meta?.network === 'string' ? input.meta.network : null,
    };
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

  /** A rule's strategy (undefined for no rule). */
  strategyOf(route: number): MtStrategy | undefined {
    return this.#routes[route]?.strategy;
  }

  /** Every connector a rule may use, in its order. */
  connectorsOf(route: number): readonly string[] {
    return this.#routes[route]?.connectors ?? [];
  }

  /** The connector's cost (per part) for a destination: its first `costs` entry matching it. */
  costOf(connectorId: string, to: string): number | undefined {
    const table = this.#costs.get(connectorId);
    const entry = table?.first(to) ?? -1;
    return entry < 0 ? undefined : table!.costs[entry]!.cost;
  }

  /**
   * The rule's connectors in the order they would be tried for a message to `to`: failover
   * and least-cost as `pick` tries them, round-robin from its next turn, weighted without
   * those of weight 0.
   */
  order(route: number, to: string): string[] {
    const r = this.#routes[route];
    if (!r) return [];
    switch (r.strategy) {
      case 'least-cost':
        return this.#byCost(r, to);
      case 'roundrobin':
        return r.connectors.map((_, i) => r.connectors[(r.next + i) % r.connectors.length]!);
      case 'weighted':
        return r.connectors.filter((_, i) => r.weights[i] !== 0);
      default:
        return [...r.connectors];
    }
  }

  /**
   * Cheapest first for `to`; equal costs keep the rule's order; those without a cost come
   * last. With `quality`, by the cost weighed by measured delivery (#orderingCost).
   */
  #byCost(r: CompiledMtRoute, to: string): string[] {
    const country = r.quality ? (countryOfNumber(to) ?? '') : '';
    const priced = r.connectors.map((id, i) => ({
      id,
      i,
      cost: this.#orderingCost(r, id, to, country) ?? Number.POSITIVE_INFINITY,
    }));
    return priced.sort((a, b) => a.cost - b.cost || a.i - b.i).map((p) => p.id);
  }

  /**
   * The cost a least-cost rule orders a connector by. With `quality`, once the connector
   * has `minReceipts` receipts for the country: the cost per delivered message (cost ÷
   * delivery ratio, the ratio floored at 1%) plus `latencyCost` per second of its mean
   * receipt latency. Before that, or without `quality`: its cost.
   */
  #orderingCost(r: CompiledMtRoute, connectorId: string, to: string, country: string): number | undefined {
    const cost = this.costOf(connectorId, to);
    if (cost === undefined || !r.quality) return cost;
    const q = this.#quality?.of(connectorId, country);
    if (!q || q.receipts < r.quality.minReceipts) return cost;
    return (
      cost / Math.max(q.deliveryRatio, 0.01) + (r.quality.latencyCost * (q.receiptLatencyMs ?? 0)) / 1000
    );
  }

  /**
   * The connector to use now under the rule's strategy, among those `usable` says can take
   * a message (up, capacity free, not already failed for this message). Undefined: none.
   * `spread` (emergency traffic) ignores the strategy and takes turns over every connector
   * the rule allows (a weight of 0 still excludes one), so an alert uses all their capacity.
   * `to`: the destination, which least-cost orders the connectors by.
   */
  pick(route: number, usable: (connectorId: string) => boolean, spread = false, to = ''): string | undefined {
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
      case 'least-cost':
        return this.#byCost(r, to).find(usable);
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

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function describeQuality(q: QualityFigures): string {
  const latency = q.receiptLatencyMs === null ? '' : `, receipts in ${q.receiptLatencyMs} ms`;
  return `${Math.round(q.deliveryRatio * 100)}% of ${q.receipts} delivered${latency}`;
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
  /** Epoch ms the message came in (`match.time`, `match.dates`); default now. */
  at?: number;
  /** The sender's network from the online lookup (MCC+MNC digits), for `match.network`. */
  network?: string | null;
}

export class MoRouter {
  readonly #routes: Array<{ rule: MoRouteConfig; conditions: Condition[]; keyword: Matcher | null }>;
  readonly #now: () => number;

  constructor(routes: readonly MoRouteConfig[], now: () => number = Date.now) {
    this.#now = now;
    this.#routes = routes.map((rule) => ({
      rule,
      conditions: compileConditions(rule.match, ['to', 'from', 'connector']),
      keyword: rule.match?.keyword?.length ? compilePatterns(rule.match.keyword.map(keywordPattern)) : null,
    }));
  }

  /** The first rule that takes an inbound message, or undefined when none does. */
  match(input: MoRouteInput): MoRouteConfig | undefined {
    const keyword = foldKeyword(firstWord(input.text));
    // `country` and `lineType` of an inbound message are the sender's: the mobile that wrote it.
    const rule: RuleInput = { ...input, tags: [], at: input.at ?? this.#now(), lookup: 'from' };
    for (const r of this.#routes) {
      if (r.keyword && !r.keyword(keyword)) continue;
      if (failedCondition(r.conditions, rule) !== undefined) continue;
      return r.rule;
    }
    return undefined;
  }
}

/**
 * A keyword pattern as compared with the folded first word: folded itself, except a `re:`
 * one (folding would turn `\d` into `\D`), which is made case-insensitive instead.
 */
function keywordPattern(pattern: string): string {
  if (!pattern.startsWith('re:')) return foldKeyword(pattern);
  return pattern.startsWith('re:(?i)') ? pattern : `re:(?i)${pattern.slice(3)}`;
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
