// Conversations: the messages either way between one of the account's numbers and one
// person's, threaded. A conversation begins with the first inbound message (or a reply
// through the API) and remembers the connector the person writes in on, so that replies
// leave the way the inbound came.
import type { Page, Store, StoredRecord } from '../store/index.ts';
import { StoreConflictError } from '../store/index.ts';

const kind = 'conversation';

export interface Conversation {
  id: string;
  /** The account's number (the one they wrote to). */
  ourNumber: string;
  theirNumber: string;
  /** The connector their last inbound message came over; replies go out on it. */
  connectorId: string | null;
  createdAt: number;
  lastMessageAt: number;
}

interface ConversationData {
  ourNumber: string;
  theirNumber: string;
  connectorId: string | null;
  lastMessageAt: number;
}

/** The id clients see: both numbers, readable back without a lookup. */
export function conversationId(ourNumber: string, theirNumber: string): string {
  return Buffer.from(`${ourNumber}\u0000${theirNumber}`).toString('base64url');
}

function numbersOf(id: string): [string, string] | null {
  const parts = Buffer.from(id, 'base64url').toString('utf8').split('\u0000');
  return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : null;
}

export class Conversations {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Records activity between the two numbers; `connectorId` when it came inbound. */
  async touch(
    accountId: string,
    ourNumber: string,
    theirNumber: string,
    at: number,
    connectorId: string | null,
  ): Promise<void> {
    const id = conversationId(ourNumber, theirNumber);
    // Compare-and-set: two messages of one thread arriving together must not lose either.
    for (;;) {
      const current = await this.#store.getRecord<ConversationData>(kind, recordId(accountId, id));
      try {
        await this.#store.putRecord<ConversationData>(
          {
            kind,
            id: recordId(accountId, id),
            accountId,
            ref: theirNumber,
            status: null,
            dueAt: null,
            createdAt: current?.createdAt ?? at,
            updatedAt: at,
            data: {
              ourNumber,
              theirNumber,
              connectorId: connectorId ?? current?.data.connectorId ?? null,
              lastMessageAt: Math.max(at, current?.data.lastMessageAt ?? 0),
            },
          },
          current?.version ?? 0,
        );
        return;
      } catch (err) {
        if (!(err instanceof StoreConflictError)) throw err;
      }
    }
  }

  async get(accountId: string, id: string): Promise<Conversation | null> {
    if (!numbersOf(id)) return null;
    const r = await this.#store.getRecord<ConversationData>(kind, recordId(accountId, id));
    return r ? view(id, r) : null;
  }

  async list(accountId: string, cursor: string | null, limit: number): Promise<Page<Conversation>> {
    const page = await this.#store.listRecords<ConversationData>(kind, { accountId }, cursor, limit);
    return {
      data: page.data.map((r) => view(conversationId(r.data.ourNumber, r.data.theirNumber), r)),
      nextCursor: page.nextCursor,
    };
  }
}

function recordId(accountId: string, id: string): string {
  return `${accountId}\u0000${id}`;
}

function view(id: string, r: StoredRecord<ConversationData>): Conversation {
  return {
    id,
    ourNumber: r.data.ourNumber,
    theirNumber: r.data.theirNumber,
    connectorId: r.data.connectorId,
    createdAt: r.createdAt,
    lastMessageAt: r.data.lastMessageAt,
  };
}
