// Public surface of the carrier connectors: the interface the core sees, the drivers behind
// it (SMPP, UCP/EMI, CIMD2, http for upstream providers over HTTP with their push routes, GSM
// modems, and the simulator), and the factory that picks one from the config.
import { createRequire } from 'node:module';
import type { ConnectorConfig } from '../config/index.ts';
import type * as Cimd2 from './cimd2.ts';
import { HttpConnector, type HttpConnectorOptions } from './http/index.ts';
import type { ConnectorLogger } from './logger.ts';
import type * as Modem from './modem.ts';
import { SimulatorConnector } from './simulator.ts';
import { SmppConnector } from './smpp.ts';
import type { Connector, ConnectorSink } from './types.ts';
import type * as Ucp from './ucp.ts';

// The UCP/EMI, CIMD2 and modem drivers (and their protocol code under src/) are loaded by
// the first connector that needs one: most gateways never do, and what a module loads
// stays on the heap for the life of the process. Their tests import the files themselves.
const require = createRequire(import.meta.url);

export type { Cimd2Connector, Cimd2ConnectorOptions } from './cimd2.ts';
export type { HttpConnectorOptions } from './http/index.ts';
export { HttpConnector, HttpNumberLookup, httpPushRoutes, type Push } from './http/index.ts';
export type { ConnectorLogger } from './logger.ts';
export { silentLogger } from './logger.ts';
export type { ModemConnector, ModemConnectorOptions } from './modem.ts';
export type { SimulatedInbound } from './simulator.ts';
export { SimulatorConnector } from './simulator.ts';
export type { SmppConnectorOptions } from './smpp.ts';
export { SmppConnector } from './smpp.ts';
export type * from './types.ts';
export type { UcpConnector, UcpConnectorOptions } from './ucp.ts';

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
      return new (require('./cimd2.ts') as typeof Cimd2).Cimd2Connector(config, sink, logger);
    case 'ucp':
      return new (require('./ucp.ts') as typeof Ucp).UcpConnector(config, sink, logger);
    case 'http':
      return new HttpConnector(config, sink, logger, http);
    case 'modem':
      return new (require('./modem.ts') as typeof Modem).ModemConnector(config, sink, logger);
  }
}
