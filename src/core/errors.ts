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
