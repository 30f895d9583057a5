// Fair refills: how a slice of the dispatch queue is shared between the accounts that have
// messages queued, the same for every store.

/** A due message of one account: its row key and its priority rank. */
export interface DueCandidate {
  seq: number;
  priority: number;
}

/**
 * The order a refill of `limit` takes from several accounts' queues (each in dispatch
 * order): every account gets an equal share (what one cannot use goes to the others),
 * merged priority first, then in turns — an account's nth message of a priority takes the
 * nth turn of that priority, accounts in the order given — so a refill never fills up with
 * one account's backlog. Returns the row keys taken.
 */
export function fairOrder(queues: readonly DueCandidate[][], limit: number): number[] {
  const counts = queues.map(() => 0);
  let room = limit;
  let open = queues.map((_, i) => i).filter((i) => queues[i]!.length > 0);
  while (room > 0 && open.length > 0) {
    const share = Math.max(1, Math.floor(room / open.length));
    for (const i of open) {
      const take = Math.min(share, queues[i]!.length - counts[i]!, room);
      counts[i]! += take;
      room -= take;
    }
    open = open.filter((i) => counts[i]! < queues[i]!.length);
  }
  const turns = queues.flatMap((q, account) => {
    const nth = new Map<number, number>();
    return q.slice(0, counts[account]).map((c) => {
      const turn = nth.get(c.priority) ?? 0;
      nth.set(c.priority, turn + 1);
      return { seq: c.seq, priority: c.priority, turn, account };
    });
  });
  turns.sort((a, b) => a.priority - b.priority || a.turn - b.turn || a.account - b.account);
  return turns.map((t) => t.seq);
}
