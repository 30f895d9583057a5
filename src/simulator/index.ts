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
