export {
  defaultConfig,
  type GatewayApp,
  ListenError,
  type StartOptions,
  splitListen,
  startGateway,
} from './gateway-app.ts';
export { createLogger, type Logger } from './log.ts';
export { releaseMemory, releaseMemoryWhenQuiet } from './memory.ts';
