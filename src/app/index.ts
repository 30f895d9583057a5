export {
  defaultConfig,
  type GatewayApp,
  type StartOptions,
  splitListen,
  startGateway,
} from './gateway-app.ts';
