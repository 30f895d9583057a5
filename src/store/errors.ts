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
