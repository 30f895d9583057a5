export type {
  InboundMessage,
  SimulatedMessage,
  SimulatorOutcome,
  SimulatorStats,
  SmscSimulatorOptions,
} from './smsc.ts';
export { SmscSimulator } from './smsc.ts';
