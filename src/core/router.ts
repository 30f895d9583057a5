// Routes as plain data evaluated in order (after Jasmin): the first MT rule whose filters
// all match picks the connectors and how to spread over them; the first MO rule picks the
// account that receives an inbound message.
import type { MoRouteConfig, MtRouteConfig } from '../config/index.ts';
import { compilePatterns, type Matcher } from './pattern.ts';

export interface MtRouteInput {
  to: string;
  from: string;
  accountId: string;
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
  credits: number[];
}

export class MtRouter {
  readonly #routes: CompiledMtRoute[];

  constructor(routes: readonly MtRouteConfig[]) {
    this.#routes = routes.map((r, index) => ({
      index,
      to: compilePatterns(r.match?.to),
      from: compilePatterns(r.match?.from),
      account: compilePatterns(r.match?.account),
      connectors: [...r.connectors],
      strategy: r.strategy,
      weights: r.connectors.map((c) => r.weights?.[c] ?? 1),
      next: 0,
      credits: r.connectors.map(() => 0),
    }));
  }

  /** Index of the matching rule, or -1 when no rule matches (the message cannot be routed). */
  match(input: MtRouteInput): number {
    for (const r of this.#routes) {
      if (r.to(input.to) && r.from(input.from) && r.account(input.accountId)) return r.index;
    }
    return -1;
  }

  /** Every connector a rule may use, in its order. */
  connectorsOf(route: number): readonly string[] {
    return this.#routes[route]?.connectors ?? [];
  }

  /**
   * The connector to use now under the rule's strategy, among those `usable` says can take
   * a message (up, capacity free, not already failed for this message). Undefined: none.
   */
  pick(route: number, usable: (connectorId: string) => boolean): string | undefined {
    const r = this.#routes[route];
    if (!r) return undefined;
    const n = r.connectors.length;
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

export interface MoRouteInput {
  to: string;
  from: string;
  connectorId: string;
  text: string | null;
}

export class MoRouter {
  readonly #routes: Array<{
    to: Matcher;
    from: Matcher;
    connector: Matcher;
    keyword: Matcher;
    hasKeyword: boolean;
    account: string;
  }>;

  constructor(routes: readonly MoRouteConfig[]) {
    this.#routes = routes.map((r) => ({
      to: compilePatterns(r.match?.to),
      from: compilePatterns(r.match?.from),
      connector: compilePatterns(r.match?.connector),
      keyword: compilePatterns(r.match?.keyword?.map((k) => k.toUpperCase())),
      hasKeyword: (r.match?.keyword?.length ?? 0) > 0,
      account: r.account,
    }));
  }

  /** The account an inbound message belongs to, or undefined when no rule claims it. */
  accountFor(input: MoRouteInput): string | undefined {
    const keyword = firstWord(input.text);
    for (const r of this.#routes) {
      if (!r.to(input.to) || !r.from(input.from) || !r.connector(input.connectorId)) continue;
      if (r.hasKeyword && !r.keyword(keyword)) continue;
      return r.account;
    }
    return undefined;
  }
}

function firstWord(text: string | null): string {
  return (text ?? '').trim().split(/\s+/, 1)[0]!.toUpperCase();
}
