// Public surface of the carrier connectors: the interface the core sees, the SMPP,
// simulator and http (upstream providers over HTTP, with their push routes) drivers behind
// it, and the factory that picks one from the config.
import type { ConnectorConfig } from '../config/index.ts';
import { HttpConnector, type HttpConnectorOptions } from './http/index.ts';
import type { ConnectorLogger } from './logger.ts';
import { SimulatorConnector } from './simulator.ts';
import { SmppConnector } from './smpp.ts';
import type { Connector, ConnectorSink } from './types.ts';

export type { HttpConnectorOptions } from './http/index.ts';
export { HttpConnector, httpPushRoutes, type Push } from './http/index.ts';
export type { ConnectorLogger } from './logger.ts';
export { silentLogger } from './logger.ts';
export type { SimulatedInbound } from './simulator.ts';
export { SimulatorConnector } from './simulator.ts';
export type { SmppConnectorOptions } from './smpp.ts';
export { SmppConnector } from './smpp.ts';
export type * from './types.ts';

/** The connector a config entry describes. */
export function createConnector(
  config: ConnectorConfig,
  sink: ConnectorSink,
  logger?: ConnectorLogger,
  /** What an `http` connector needs of the gateway: where providers reach it. */
  http?: HttpConnectorOptions,
): Connector {
  switch (config.type) {
    case 'smpp':
      return new SmppConnector(config, sink, logger);
    case 'simulator':
      return new SimulatorConnector(config, sink, logger);
    case 'http':
      return new HttpConnector(config, sink, logger, http);
  }
}
