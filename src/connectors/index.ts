// Public surface of the carrier connectors: the interface the core sees, the drivers behind
// it (SMPP, UCP/EMI, CIMD2, http for upstream providers over HTTP with their push routes, GSM
// modems, and the simulator), and the factory that picks one from the config.
import type { ConnectorConfig } from '../config/index.ts';
import { Cimd2Connector } from './cimd2.ts';
import { HttpConnector, type HttpConnectorOptions } from './http/index.ts';
import type { ConnectorLogger } from './logger.ts';
import { ModemConnector } from './modem.ts';
import { SimulatorConnector } from './simulator.ts';
import { SmppConnector } from './smpp.ts';
import type { Connector, ConnectorSink } from './types.ts';
import { UcpConnector } from './ucp.ts';

export type { Cimd2ConnectorOptions } from './cimd2.ts';
export { Cimd2Connector, cimd2MessageId } from './cimd2.ts';
export type { HttpConnectorOptions } from './http/index.ts';
export { HttpConnector, HttpNumberLookup, httpPushRoutes, type Push } from './http/index.ts';
export type { ConnectorLogger } from './logger.ts';
export { silentLogger } from './logger.ts';
export type { ModemConnectorOptions } from './modem.ts';
export { ModemConnector } from './modem.ts';
export type { SimulatedInbound } from './simulator.ts';
export { SimulatorConnector } from './simulator.ts';
export type { SmppConnectorOptions } from './smpp.ts';
export { SmppConnector } from './smpp.ts';
export type * from './types.ts';
export type { UcpConnectorOptions } from './ucp.ts';
export { UcpConnector } from './ucp.ts';

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
    case 'cimd2':
      return new Cimd2Connector(config, sink, logger);
    case 'ucp':
      return new UcpConnector(config, sink, logger);
    case 'http':
      return new HttpConnector(config, sink, logger, http);
    case 'modem':
      return new ModemConnector(config, sink, logger);
  }
}
