// Public surface of the carrier connectors: the interface the core sees, the SMPP, GSM modem
// and simulator drivers behind it, and the factory that picks one from the config.
import type { ConnectorConfig } from '../config/index.ts';
import type { ConnectorLogger } from './logger.ts';
import { ModemConnector } from './modem.ts';
import { SimulatorConnector } from './simulator.ts';
import { SmppConnector } from './smpp.ts';
import type { Connector, ConnectorSink } from './types.ts';

export type { ConnectorLogger } from './logger.ts';
export { silentLogger } from './logger.ts';
export type { ModemConnectorOptions } from './modem.ts';
export { ModemConnector } from './modem.ts';
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
): Connector {
  switch (config.type) {
    case 'smpp':
      return new SmppConnector(config, sink, logger);
    case 'simulator':
      return new SimulatorConnector(config, sink, logger);
    case 'modem':
      return new ModemConnector(config, sink, logger);
  }
}
