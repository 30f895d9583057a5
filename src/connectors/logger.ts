// What the connectors log through: the subset of a pino logger they call, so the gateway
// passes its own and tests pass nothing.

export interface ConnectorLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const ignore = () => {};

export const silentLogger: ConnectorLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
