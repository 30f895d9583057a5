// Moves queued messages onto connectors: keeps every connector's window full while its
// capacity() allows, highest priority first, accounts in turn within a priority, one queue
// per route so a busy route never blocks another. The store is the queue; memory holds a
// bounded, ordered prefetch of it.
import type { Connector } from '../connectors/index.ts';
import type { Message } from './message.ts';
import { priorities } from './message.ts';
import type { MtRouter } from './router.ts';

export interface DispatcherOptions {
  router: MtRouter;
  connectors: ReadonlyMap<string, Connector>;
  /** Most messages held in memory; the rest wait in the store until there is room. */
  maxHeld?: number;
  /**
   * Messages a connector answered whose outcome is not yet on disk. They count against its
   * capacity, so what a crash can make us send twice stays within the window.
   */
  unrecorded(connectorId: string): number;
  /** Reads due messages from the store (refill after a restart, a spill or a back-off). */
  loadDue(limit: number, exclude: { has(id: string): boolean }): Promise<Message[]>;
  /** Sends one message on the connector chosen for it; settles on its own. */
  send(message: Message, connector: Connector): void;
  /**
   * False while an outcome could not be recorded (the store refuses writes): nothing is
   * handed to a connector then, and `pump` is called once it is true again.
   */
  sendable?(): boolean;
  /** A message no rule routes. */
  unroutable(message: Message): void;
  /** True for a message that must not go now (its group is paused or canceled): it is dropped. */
  withheld?(message: Message): boolean;
  /**
   * Whether the connector may send from this gateway (in a cluster it may hold none of its
   * binds). A message none of whose route's connectors may is handed over, not queued.
   */
  serves?(connectorId: string): boolean;
  /** Gives a message this gateway cannot send back to the others (see `serves`). */
  handOver?(message: Message): void;
}

const rank = new Map(priorities.map((p, i) => [p, i]));
const noConnectors: ReadonlySet<string> = new Set();
/** Most messages one refill reads from the store. */
const refillSlice = 5_000;

/** A FIFO; shift is O(1) amortised. */
class Fifo {
  #items: Message[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(m: Message): void {
    this.#items.push(m);
  }

  peek(): Message | undefined {
    return this.#items[this.#head];
  }

  shift(): Message | undefined {
    const m = this.#items[this.#head];
    if (m === undefined) return undefined;
    this.#items[this.#head++] = undefined as unknown as Message;
    if (this.#head === this.#items.length || this.#head > 4096) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return m;
  }

  /** Removes the messages that match; returns them. */
  remove(matches: (m: Message) => boolean): Message[] {
    const removed: Message[] = [];
    const kept: Message[] = [];
    for (const m of this.#items.slice(this.#head)) (matches(m) ? removed : kept).push(m);
    this.#items = kept;
    this.#head = 0;
    return removed;
  }
}

/**
 * One priority's messages: a FIFO per account, served in turn, so that one account's
 * million-message batch does not hold back another account's batch of the same priority.
 */
class Lane {
  readonly #flows = new Map<string, Fifo>();
  /** Accounts with messages here, in serving order; #next is whose turn it is. */
  #turns: string[] = [];
  #next = 0;
  size = 0;

  push(m: Message): void {
    let flow = this.#flows.get(m.accountId);
    if (!flow) {
      flow = new Fifo();
      this.#flows.set(m.accountId, flow);
      this.#turns.push(m.accountId);
    }
    flow.push(m);
    this.size++;
  }

  peek(): Message | undefined {
    if (this.size === 0) return undefined;
    return this.#flows.get(this.#turns[this.#next]!)!.peek();
  }

  shift(): Message | undefined {
    if (this.size === 0) return undefined;
    const account = this.#turns[this.#next]!;
    const flow = this.#flows.get(account)!;
    const m = flow.shift()!;
    this.size--;
    if (flow.size === 0) {
      this.#flows.delete(account);
      this.#turns.splice(this.#next, 1);
    } else {
      this.#next++;
    }
    if (this.#next >= this.#turns.length) this.#next = 0;
    return m;
  }

  remove(matches: (m: Message) => boolean): Message[] {
    const removed: Message[] = [];
    for (const [account, flow] of this.#flows) {
      removed.push(...flow.remove(matches));
      if (flow.size === 0) this.#flows.delete(account);
    }
    this.#turns = this.#turns.filter((a) => this.#flows.has(a));
    this.#next = 0;
    this.size -= removed.length;
    return removed;
  }
}

/** The lanes of one route, highest priority first. */
class PriorityQueue {
  readonly #lanes: Lane[] = priorities.map(() => new Lane());
  size = 0;

  push(m: Message): void {
    this.#lanes[rank.get(m.priority) ?? priorities.length - 1]!.push(m);
    this.size++;
  }

  peek(): Message | undefined {
    for (const lane of this.#lanes) if (lane.size > 0) return lane.peek();
    return undefined;
  }

  shift(): Message | undefined {
    for (const lane of this.#lanes) {
      if (lane.size > 0) {
        this.size--;
        return lane.shift();
      }
    }
    return undefined;
  }

  /** Removes the messages that match; returns them. */
  remove(matches: (m: Message) => boolean): Message[] {
    const removed = this.#lanes.flatMap((lane) => lane.remove(matches));
    this.size -= removed.length;
    return removed;
  }
}

export class Dispatcher {
  readonly #o: Required<DispatcherOptions>;
  /** Queues by route index. */
  readonly #queues = new Map<number, PriorityQueue>();
  /** Ids in memory (queued or waiting out a back-off): the store must not hand them out again. */
  readonly #held = new Map<string, Message>();
  /** Connectors a message already failed on, so a retry tries the others first. */
  readonly #failedOn = new Map<string, Set<string>>();
  readonly #canceled = new Set<string>();
  #queued = 0;
  /** The store may hold due messages that memory does not. */
  #spilled = true;
  #refilling = false;
  #pumping = false;
  #pumpAgain = false;
  #stopped = true;
  #readySoon = false;
  /**
   * Capacity came free: pumped once the turn's callbacks have run. A connector announces a
   * send's end before its caller has counted the answer as unrecorded (see `unrecorded`);
   * pumping at once would hand the freed slot out while the answer is counted nowhere, and
   * a packet of answers would let a crash resend that many more than the window.
   */
  readonly #onReady = () => {
    if (this.#readySoon) return;
    this.#readySoon = true;
    setImmediate(() => {
      this.#readySoon = false;
      this.pump();
    });
  };

  constructor(options: DispatcherOptions) {
    this.#o = {
      maxHeld: 20_000,
      withheld: () => false,
      sendable: () => true,
      serves: () => true,
      handOver: () => {},
      ...options,
    };
  }

  get queued(): number {
    return this.#queued;
  }

  start(): void {
    this.#stopped = false;
    for (const c of this.#o.connectors.values()) c.on('ready', this.#onReady);
    this.#spilled = true;
    this.refill();
  }

  stop(): void {
    this.#stopped = true;
    for (const c of this.#o.connectors.values()) c.off('ready', this.#onReady);
  }

  /** A connector put in at run time (the admin API, a reload): its open windows are filled. */
  watch(connector: Connector): void {
    if (!this.#stopped) connector.on('ready', this.#onReady);
  }

  /** A connector taken out at run time. */
  unwatch(connector: Connector): void {
    connector.off('ready', this.#onReady);
  }

  /** The MT rules changed: the messages waiting here are routed again by those in force. */
  reroute(): void {
    const waiting = [...this.#queues.values()].flatMap((q) => q.remove(() => true));
    this.#queues.clear();
    this.#queued -= waiting.length;
    for (const m of waiting) {
      this.#held.delete(m.id);
      this.enqueue(m);
    }
  }

  /** A message became due (accepted, released from schedule, back-off over). */
  enqueue(message: Message): void {
    if (this.#held.has(message.id) || this.#o.withheld(message)) return;
    if (this.#held.size >= this.#o.maxHeld) {
      this.#spilled = true;
      return;
    }
    const route = this.#o.router.match(message);
    if (route < 0) {
      this.#o.unroutable(message);
      return;
    }
    if (!this.#servesRoute(route)) {
      this.#o.handOver(message);
      return;
    }
    this.#held.set(message.id, message);
    let q = this.#queues.get(route);
    if (!q) {
      q = new PriorityQueue();
      this.#queues.set(route, q);
    }
    q.push(message);
    this.#queued++;
    this.pump();
  }

  /** Keeps the id held while it waits out a back-off, then enqueues it again. */
  retryLater(message: Message, failedConnector: string, delayMs: number): void {
    let failed = this.#failedOn.get(message.id);
    if (!failed) {
      failed = new Set();
      this.#failedOn.set(message.id, failed);
    }
    failed.add(failedConnector);
    this.#held.set(message.id, message);
    setTimeout(() => {
      this.#held.delete(message.id);
      if (this.#stopped) return;
      if (this.#canceled.delete(message.id)) return;
      this.enqueue(message);
    }, delayMs).unref();
  }

  /** The connectors that failed this message so far (see retryLater). */
  failedConnectors(id: string): ReadonlySet<string> {
    return this.#failedOn.get(id) ?? noConnectors;
  }

  /** The message is settled one way or another: forget it. */
  done(id: string): void {
    this.#held.delete(id);
    this.#failedOn.delete(id);
  }

  /** Ids held here: queued, waiting out a back-off, or on the wire until their outcome is recorded. */
  heldIds(): string[] {
    return [...this.#held.keys()];
  }

  /** The message object held for this id (queued here or waiting out a back-off). */
  held(id: string): Message | undefined {
    return this.#held.get(id);
  }

  /** Drops a queued message (canceled); true when it was held here. */
  cancel(id: string): boolean {
    if (!this.#held.has(id)) return false;
    this.#canceled.add(id);
    return true;
  }

  /**
   * Forgets the held messages that match (a paused or canceled group): those queued here at
   * once, those waiting out a back-off when it ends. Those on the wire are not touched.
   */
  evict(matches: (m: Message) => boolean): void {
    for (const q of this.#queues.values()) {
      for (const m of q.remove(matches)) {
        this.#queued--;
        this.done(m.id);
      }
    }
    for (const m of this.#held.values()) if (m.status === 'queued' && matches(m)) this.#canceled.add(m.id);
  }

  /** Hands over the queued messages of routes this gateway no longer sends on (see `serves`). */
  handOverUnserved(): void {
    for (const [route, q] of this.#queues) {
      if (this.#servesRoute(route)) continue;
      for (const m of q.remove(() => true)) {
        this.#queued--;
        this.done(m.id);
        this.#o.handOver(m);
      }
    }
  }

  #servesRoute(route: number): boolean {
    return this.#o.router.connectorsOf(route).some((id) => this.#o.serves(id));
  }

  /** Reads more from the store when memory has room and the store may have more. */
  refill(): void {
    if (this.#stopped || this.#refilling || !this.#spilled || this.#held.size > this.#o.maxHeld / 2) return;
    this.#refilling = true;
    this.#spilled = false;
    // In slices: a read runs on the event loop, and an urgent message waits for it to end.
    const limit = Math.min(this.#o.maxHeld - this.#held.size, refillSlice);
    this.#o
      .loadDue(limit, this.#held)
      .then((messages) => {
        if (messages.length >= limit) this.#spilled = true;
        for (const m of messages) this.enqueue(m);
      })
      .catch(() => {
        this.#spilled = true;
      })
      .finally(() => {
        this.#refilling = false;
      });
  }

  /** Note that due messages may be waiting in the store (schedule released, back-off over). */
  markSpilled(): void {
    this.#spilled = true;
    this.refill();
  }

  pump(): void {
    if (this.#stopped || !this.#o.sendable()) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        for (const [route, q] of this.#queues) this.#drain(route, q);
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
    this.refill();
  }

  #drain(route: number, q: PriorityQueue): void {
    const connectors = this.#o.connectors;
    const usable = (id: string) => (connectors.get(id)?.capacity() ?? 0) > this.#o.unrecorded(id);
    for (;;) {
      const message = q.peek();
      if (!message) return;
      if (this.#canceled.delete(message.id) || this.#o.withheld(message)) {
        q.shift();
        this.#queued--;
        this.done(message.id);
        continue;
      }
      const failed = this.#failedOn.get(message.id);
      // Emergency traffic goes out over every connector of its route at once.
      const spread = message.priority === 'emergency';
      let chosen: string | undefined;
      if (failed) {
        chosen = this.#o.router.pick(route, (id) => !failed.has(id) && usable(id), spread, message.to);
        // Every connector failed it once: any of them may try again.
        if (!chosen && this.#o.router.connectorsOf(route).every((id) => failed.has(id))) {
          chosen = this.#o.router.pick(route, usable, spread, message.to);
        }
      } else {
        chosen = this.#o.router.pick(route, usable, spread, message.to);
      }
      if (!chosen) return; // wait for a 'ready'
      q.shift();
      this.#queued--;
      this.#o.send(message, connectors.get(chosen)!);
    }
  }
}
