// Writes of the kinds a message's life is made of (accepted, updated, linked to its SMSC id,
// its webhook queued and finished), gathered from a batch into one write that
// smsgw_apply_bulk (postgres-schema.ts) applies a table at a time: one statement per table
// instead of a function call and a statement per write. A write joins only when its outcome
// that way is the one it has applied alone in call order; one that cannot starts the next
// run, so the batch still applies in call order.
import { StoreNotFoundError } from './errors.ts';

/** One write as smsgw_apply reads it: the operation's name and its arguments as JSON. */
export type PgWrite = { op: string } & Record<string, unknown>;

export type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; name: string; message: string; code?: string };

/**
 * What smsgw_apply_bulk answers: messages not found, webhook deliveries not found, ids given,
 * and each charge's outcome (smsgw_charge's: a refusal, or [balance after]).
 */
export type BulkAnswer = [string[], number[], number[], unknown[]];

type Fields = Record<string, unknown>;

export class BulkWrite {
  /** The writes taken in, in call order. */
  readonly writes: PgWrite[] = [];
  readonly #charges: Fields[] = [];
  readonly #messages: Fields[] = [];
  readonly #idempotency: Fields[] = [];
  /** Each message's patches merged in call order: a later field wins, as applied one by one. */
  readonly #patches = new Map<string, Fields>();
  /** In call order; the events of an insert where it stands. */
  readonly #events: Fields[] = [];
  readonly #released: string[] = [];
  /** Messages updated or released so far: applied after the inserts, so none may be inserted later. */
  readonly #touched = new Set<string>();
  /** The last link named for each SMSC id. */
  readonly #links = new Map<string, Fields>();
  readonly #finished = new Map<number, Fields>();
  readonly #webhooks: PgWrite[] = [];

  /** Takes the write in, or answers false: it cannot go with those taken (or in a bulk at all). */
  add(write: PgWrite): boolean {
    switch (write.op) {
      case 'insertMessages': {
        const messages = write.messages as Fields[];
        if (messages.some((m) => this.#touched.has(m.id as string))) return false;
        // Rows of a write whose charge is refused are left out: they carry the write's place.
        const place = this.writes.length;
        if (write.charge) this.#charges.push({ write: place, charge: write.charge });
        for (const m of messages) {
          this.#messages.push({ ...m, write: place });
          this.#events.push({ messageId: m.id, at: m.createdAt, type: m.status, detail: null, write: place });
        }
        if (write.idempotency) this.#idempotency.push({ ...(write.idempotency as Fields), write: place });
        break;
      }
      case 'updateMessage': {
        const id = write.id as string;
        this.#touched.add(id);
        this.#patches.set(id, { ...this.#patches.get(id), ...(write.patch as Fields) });
        if (write.event) this.#events.push({ messageId: id, ...(write.event as Fields) });
        break;
      }
      case 'releaseMessages':
        for (const id of write.ids as string[]) {
          this.#touched.add(id);
          this.#released.push(id);
        }
        break;
      case 'linkSmscIds':
        for (const link of write.links as Fields[]) {
          const key = `${link.connectorId}\u0000${link.smscId}`;
          // Deleted first, so the map's order stays the order links were last named in.
          this.#links.delete(key);
          this.#links.set(key, link);
        }
        break;
      case 'enqueueWebhook':
        this.#webhooks.push(write);
        break;
      case 'finishWebhook': {
        const id = write.id as number;
        // Applied one by one, the second would find nothing.
        if (this.#finished.has(id)) return false;
        this.#finished.set(id, { id, outcome: write.outcome, at: write.at });
        break;
      }
      default:
        return false;
    }
    this.writes.push(write);
    return true;
  }

  /** The one write that stands for those taken in. */
  write(instance: string): PgWrite {
    return {
      op: 'bulk',
      instance,
      charges: this.#charges,
      messages: this.#messages,
      idempotency: this.#idempotency,
      updates: [...this.#patches].map(([id, patch]) => ({ id, patch })),
      events: this.#events,
      released: this.#released,
      links: [...this.#links.values()],
      finished: [...this.#finished.values()],
      webhooks: this.#webhooks,
    };
  }

  /** Each write's outcome, in call order, from smsgw_apply_bulk's answer. */
  outcomes([missingMessages, missingWebhooks, webhookIds, charges]: BulkAnswer): Outcome[] {
    const unknownMessages = new Set(missingMessages);
    const unknownWebhooks = new Set(missingWebhooks);
    let queued = 0;
    let charged = 0;
    return this.writes.map((write): Outcome => {
      if (write.op === 'insertMessages') {
        const charge = write.charge ? charges[charged++] : null;
        // As smsgw_apply reads a write's value: an object is a refusal.
        return charge !== null && typeof charge === 'object' && !Array.isArray(charge)
          ? (charge as Outcome)
          : { ok: true, value: charge };
      }
      if (write.op === 'updateMessage' && unknownMessages.has(write.id as string))
        return { ok: false, name: StoreNotFoundError.name, message: `no message ${write.id}` };
      if (write.op === 'finishWebhook' && unknownWebhooks.has(write.id as number))
        return { ok: false, name: StoreNotFoundError.name, message: `no webhook delivery ${write.id}` };
      return { ok: true, value: write.op === 'enqueueWebhook' ? webhookIds[queued++] : null };
    });
  }
}

/** The batch with each run of writes a bulk can take (two or more) gathered into one. */
export function gatherBulks(writes: PgWrite[]): Array<PgWrite | BulkWrite> {
  const parts: Array<PgWrite | BulkWrite> = [];
  let bulk: BulkWrite | null = null;
  for (const write of writes) {
    if (bulk?.add(write)) continue;
    bulk = new BulkWrite();
    if (bulk.add(write)) {
      parts.push(bulk);
    } else {
      bulk = null;
      parts.push(write);
    }
  }
  return parts.map((part) =>
    part instanceof BulkWrite && part.writes.length === 1 ? part.writes[0]! : part,
  );
}
