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
