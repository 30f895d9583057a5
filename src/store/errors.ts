// Errors every Store implementation raises the same way, so callers can tell a collision
// (answer 409 or re-read the stored answer) from a broken database (answer 503).

/** A write collided with what is already stored: a message id, or a live Idempotency-Key. */
export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

/** A write named a row that does not exist (a bug in the caller: nothing deletes messages). */
export class StoreNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreNotFoundError';
  }
}

/**
 * A charge the account cannot take (insertMessages with a charge): its balance would go
 * below its floor, or a quota would be passed. Nothing of the write is stored.
 */
export class StoreLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreLimitError';
  }

  /** Which limit refused the charge, from the message's first word. */
  get limit(): 'balance' | 'quota' {
    return this.message.startsWith('quota') ? 'quota' : 'balance';
  }
}
