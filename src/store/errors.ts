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

/** PostgreSQL SQLSTATEs that say the server cannot be used now, not that a statement was wrong. */
const unreachableStates = new Set(['57P01', '57P02', '57P03', '53300']);
const unreachableSocketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/**
 * Whether an error says the database could not be reached (down, restarting, connection cut)
 * rather than that the gateway asked something wrong: such a failure is temporary, and the
 * client is told to try again (503) even when the database is back by the time it is looked at.
 */
export function isStoreUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as Error & { code?: unknown }).code;
  if (typeof code === 'string') {
    // Class 08: connection exception.
    if (code.startsWith('08') || unreachableStates.has(code) || unreachableSocketCodes.has(code)) return true;
  }
  // node-postgres names a dropped connection only in words.
  return /^Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect/i.test(
    err.message,
  );
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
