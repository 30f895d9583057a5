// In cluster mode (gateways on one PostgreSQL) what a carrier allows — a connector's binds
// and tps — and an account's mps are totals for the whole cluster: each gateway runs on a
// share. Binds go by slots held in the store (a dead gateway's are free once its lease
// ends); a connector's tps follows the binds held; rates of accounts and numbers are split
// evenly between the live gateways. On SQLite the one gateway's share is everything.
import type { Connector } from '../connectors/index.ts';
import type { Store } from '../store/index.ts';

export class ClusterShares {
  readonly #store: Store;
  readonly #connectors: ReadonlyMap<string, Connector>;
  /** Binds held here, by connector (of those with a budget), as of the last update. */
  readonly #held = new Map<string, number>();
  #live = 1;
  #updating: Promise<void> | null = null;

  constructor(store: Store, connectors: ReadonlyMap<string, Connector>) {
    this.#store = store;
    this.#connectors = connectors;
  }

  /** The part of a cluster-wide rate (an account's mps, a number's limit) this gateway keeps to. */
  get fraction(): number {
    return 1 / this.#live;
  }

  /** Whether messages may go out over the connector here: it holds a bind of it, or it has no budget. */
  serves(connectorId: string): boolean {
    return (this.#held.get(connectorId) ?? 1) > 0;
  }

  /** Takes this gateway's share anew (the live gateways may have changed); one update at a time. */
  update(): Promise<void> {
    this.#updating ??= this.#update().finally(() => {
      this.#updating = null;
    });
    return this.#updating;
  }

  /** A connector taken out at run time: the bind slots held for it are given back. */
  async release(connector: Connector): Promise<void> {
    this.#held.delete(connector.id);
    if (connector.budget) await this.#store.holdBindSlots(connector.id, connector.budget.binds, 0);
  }

  async #update(): Promise<void> {
    const live = await this.#store.liveInstances();
    // Not among them (its lease lapsed while the database was out of reach): it counts itself
    // last, so it takes what nobody else holds.
    const rank = live.includes(this.#store.instanceId) ? live.indexOf(this.#store.instanceId) : live.length;
    const count = Math.max(live.length, rank + 1);
    this.#live = count;
    for (const connector of this.#connectors.values()) {
      const { budget } = connector;
      if (!budget || !connector.share) continue;
      const want = Math.floor(budget.binds / count) + (rank < budget.binds % count ? 1 : 0);
      const before = this.#held.get(connector.id);
      const tps = (held: number) => (budget.binds > 0 ? (budget.tps * held) / budget.binds : 0);
      let held: number;
      if (before !== undefined && want < before) {
        // Closed before the slots are given back, so no other gateway binds while they are open.
        await connector.share(want, tps(want));
        held = await this.#store.holdBindSlots(connector.id, budget.binds, want);
      } else {
        held = await this.#store.holdBindSlots(connector.id, budget.binds, want);
        if (held !== before) await connector.share(held, tps(held));
      }
      this.#held.set(connector.id, held);
    }
  }
}
