// Errors of the session layer. Codec errors (SmppEncodeError, SmppDecodeError) live with
// the codec; these describe what happened to a request or a connection.

export type SmppErrorCode =
  | 'not_connected'
  | 'not_bound'
  | 'queue_full'
  | 'timeout'
  | 'dead_peer'
  | 'connection_lost'
  | 'unexpected_response'
  | 'bind_failed'
  | 'slow_peer';

export class SmppError extends Error {
  readonly code: SmppErrorCode;
  /** The command_status that caused it, when a peer answered with one. */
  readonly status: number | undefined;

  constructor(code: SmppErrorCode, message: string, cause?: Error, status?: number) {
    super(message, cause ? { cause } : undefined);
    this.name = 'SmppError';
    this.code = code;
    this.status = status;
  }
}
