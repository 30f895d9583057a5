export type { Cimd2SimulatedMessage, Cimd2SimulatorOptions } from './cimd2.ts';
export { Cimd2Simulator } from './cimd2.ts';
export type {
  EmulatedSubmit,
  ModemEmulatorEvents,
  ModemEmulatorOptions,
  ModemEmulatorStats,
} from './modem.ts';
export { ModemEmulator, readSubmit } from './modem.ts';
export type {
  InboundMessage,
  SimulatedMessage,
  SimulatorOutcome,
  SimulatorStats,
  SmscSimulatorOptions,
} from './smsc.ts';
export { SmscSimulator } from './smsc.ts';
export type { UcpInboundMessage, UcpSimulatedMessage, UcpSimulatorOptions } from './ucp.ts';
export { UcpSmscSimulator } from './ucp.ts';
