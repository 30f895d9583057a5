// A request the gateway refuses, with a stable code for clients (CONTRACT §3 errors). The
// HTTP front maps it to a 4xx; the SMPP front to a command_status.

export class GatewayError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  readonly httpStatus: number;

  constructor(code: string, message: string, field?: string, httpStatus = 400) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.field = field;
    this.httpStatus = httpStatus;
  }
}

/**
 * Nothing was accepted because the store cannot write now (disk full, database down): a
 * temporary refusal (HTTP 503, SMPP ESME_RMSGQFUL), to be tried again after
 * `retryAfterSeconds`.
 */
export class StoreUnavailableError extends GatewayError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds = 1) {
    super('store_unavailable', 'messages cannot be stored right now; try again later', undefined, 503);
    this.name = 'StoreUnavailableError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Refused for a while (a rate or velocity limit): HTTP 429 with `Retry-After`, SMPP ESME_RTHROTTLED. */
export class RateLimitedError extends GatewayError {
  readonly retryAfterSeconds: number;

  constructor(code: string, message: string, retryAfterMs: number, field?: string) {
    super(code, message, field, 429);
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  }
}
